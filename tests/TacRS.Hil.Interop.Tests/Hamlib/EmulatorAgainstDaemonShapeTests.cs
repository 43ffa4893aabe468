using System.Net.Sockets;
using System.Text;
using TacRS.Hil.Devices.Station.Simulated;

namespace TacRS.Hil.Interop.Tests.Hamlib;

/// <summary>
/// Sends the same commands, over raw sockets, to rotctld/rigctld -m 1 (Hamlib 4.5.4) and to the station
/// emulator, in the same test, and compares the shape of every reply: the header, the keys, the RPRT
/// codes and where lines end (newline or the separator). Values (positions, frequencies) may differ.
/// </summary>
[NonParallelizable]
public class EmulatorAgainstDaemonShapeTests
{
    /// <summary>
    /// Sent after every command: its reply, separated by commas (a mode no command here uses), marks where
    /// the command's reply ends.
    /// </summary>
    private const string Sentinel = ",\\get_info\n";

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private static readonly string[] Modes = ["", "+", ";", "|"];

    private static readonly string[] RotatorCommands =
    [
        "\\get_pos", "\\set_pos 10 20", "\\set_pos 500 20", "\\stop", "\\park", "\\reset 1", "R 1", "\\move 2 50", "\\move 7 50",
        "\\get_info", "\\get_status", "\\get_level SPEED", "\\set_level SPEED 10", "\\get_level FOO", "\\set_level FOO 1",
        "\\dump_state", "p", "P 10 20", "S", "K", "M 2 50", "_", "s", "v SPEED", "V SPEED 20",
    ];

    private static readonly string[] RadioCommands =
    [
        "\\set_vfo VFOA", "V VFOA", "\\get_vfo", "\\get_rit", "\\set_rit 0", "\\get_xit", "\\get_dcd", "\\get_split_freq",
        "\\get_split_vfo", "\\get_split_mode", "\\get_vfo_info VFOA", "\\get_clock", "\\get_level RFPOWER", "\\set_level RFPOWER 0.5",
        "\\get_level STRENGTH", "\\get_level SPEED", "\\set_level SPEED 10", "\\get_freq", "\\set_freq 145000000", "\\get_mode",
        "\\set_mode FM 15000", "\\get_ptt", "\\set_ptt 0", "\\get_info", "\\get_powerstat", "\\get_lock_mode", "\\set_lock_mode 0",
        "\\reset 0", "\\set_vfo VFOX", "f", "F 145000000", "m", "M FM 15000", "t", "T 0", "v", "s", "i", "j", "l RFPOWER", "L RFPOWER 0.5",
        "\\chk_vfo",
    ];

    /// <summary>Free-text replies: only where they start and how they end are compared (the dummies print their own capabilities).</summary>
    private static readonly string[] RotatorText = ["\\dump_caps", "\\foo 1"];

    private static readonly string[] RadioText = ["\\dump_caps", "\\get_modes", "\\get_rig_info", "\\dump_state"];

    [Test]
    public async Task Rotator_EveryCommandInEveryMode_SameShapeAsRotctld()
    {
        await using var daemon = await HamlibDaemon.StartRotatorAsync();
        var differences = await CompareAsync(daemon.Port, new HamlibRotatorServer(new RotatorModel(TimeProvider.System)), RotatorCommands, RotatorText);
        Assert.That(differences, Is.Empty, string.Join("\n", differences));
    }

    [Test]
    public async Task Radio_EveryCommandInEveryMode_SameShapeAsRigctld()
    {
        await using var daemon = await HamlibDaemon.StartRadioAsync();
        var differences = await CompareAsync(daemon.Port, new HamlibRadioServer(new RadioModel(), TimeProvider.System), RadioCommands, RadioText);
        Assert.That(differences, Is.Empty, string.Join("\n", differences));
    }

    [TestCase("rotator")]
    [TestCase("radio")]
    public async Task UnknownCommand_NoReplyConnectionStaysOpen_LikeTheDaemon(string which)
    {
        await using var daemon = which == "rotator" ? await HamlibDaemon.StartRotatorAsync() : await HamlibDaemon.StartRadioAsync();
        HamlibServer server = which == "rotator" ? new HamlibRotatorServer(new RotatorModel(TimeProvider.System)) : new HamlibRadioServer(new RadioModel());
        await using var emulator = await Served.StartAsync(server);
        foreach (var port in new[] { daemon.Port, emulator.Port })
        {
            using var c = await Client.ConnectAsync(port);
            foreach (var unknown in new[] { "\\foo", "+\\bogus_command", "\\get_nothing" })
            {
                Assert.That(await c.ExchangeAsync(unknown), Is.Empty, $"{unknown} on port {port}");
            }

            Assert.That(await c.ExchangeAsync("+\\get_pos"), Does.StartWith(which == "rotator" ? "get_pos:" : string.Empty), $"still open on port {port}");
        }
    }

    [TestCase("rotator", "\\set_pos 10", "20", "RPRT 0\n")]
    [TestCase("radio", "\\set_freq", "145100000", "RPRT 0\n")]
    [TestCase("radio", "+\\set_mode USB", "2400", "set_mode: USB 2400\nRPRT 0\n")]
    public async Task MissingArgument_WaitedForOnTheNextLine_LikeTheDaemon(string which, string first, string second, string reply)
    {
        await using var daemon = which == "rotator" ? await HamlibDaemon.StartRotatorAsync() : await HamlibDaemon.StartRadioAsync();
        HamlibServer server = which == "rotator" ? new HamlibRotatorServer(new RotatorModel(TimeProvider.System)) : new HamlibRadioServer(new RadioModel());
        await using var emulator = await Served.StartAsync(server);
        foreach (var port in new[] { daemon.Port, emulator.Port })
        {
            using var c = await Client.ConnectAsync(port);
            await c.SendAsync(first + "\n");
            Assert.That(await c.ReadQuietAsync(TimeSpan.FromMilliseconds(200)), Is.Empty, $"no reply before the argument on port {port}");
            Assert.That(await c.ExchangeAsync(second), Is.EqualTo(reply), $"port {port}");
        }
    }

    [Test]
    public async Task Quit_RotctldClosesSilently_RigctldAnswersThenCloses()
    {
        await using var rot = await HamlibDaemon.StartRotatorAsync();
        await using var rig = await HamlibDaemon.StartRadioAsync();
        await using var rotEmulator = await Served.StartAsync(new HamlibRotatorServer(new RotatorModel(TimeProvider.System)));
        await using var rigEmulator = await Served.StartAsync(new HamlibRadioServer(new RadioModel()));
        foreach (var (port, expected) in new[] { (rot.Port, ""), (rotEmulator.Port, ""), (rig.Port, "RPRT 0\n"), (rigEmulator.Port, "RPRT 0\n") })
        {
            using var c = await Client.ConnectAsync(port);
            await c.SendAsync("q\n");
            Assert.That(await c.ReadToCloseAsync(), Is.EqualTo(expected), $"port {port}");
        }
    }

    private static async Task<List<string>> CompareAsync(int daemonPort, HamlibServer server, string[] commands, string[] text)
    {
        await using var emulator = await Served.StartAsync(server);
        var differences = new List<string>();
        using var real = await Client.ConnectAsync(daemonPort);
        using var ours = await Client.ConnectAsync(emulator.Port);
        foreach (var mode in Modes)
        {
            foreach (var command in commands.Concat(text))
            {
                var line = mode + command;
                var expected = Shape(await real.ExchangeAsync(line), text.Contains(command));
                var actual = Shape(await ours.ExchangeAsync(line), text.Contains(command));
                if (expected != actual)
                {
                    differences.Add($"'{line}': daemon {expected} | emulator {actual}");
                }
            }
        }

        return differences;
    }

    /// <summary>
    /// A reply's shape: records split where lines end (newline or a separator, which is kept), each reduced
    /// to RPRT n, a header (name: args), a key (Key:) or a value. Free text keeps only its first and last record.
    /// </summary>
    internal static string Shape(string reply, bool envelope)
    {
        // rigctld 4.5.4's get_modes prints NUL and 0x01 bytes and glues its RPRT to the last line.
        var clean = new string(reply.Where(c => c is '\n' or '\t' or >= ' ').ToArray());
        clean = System.Text.RegularExpressions.Regex.Replace(clean, "(?<=[^\\n;|])RPRT (-?\\d+)\\n$", "\nRPRT $1\n");
        var records = new List<string>();
        var start = 0;
        for (var i = 0; i < clean.Length; i++)
        {
            if (clean[i] is '\n' or ';' or '|')
            {
                records.Add(Describe(clean[start..i]) + (clean[i] == '\n' ? "⏎" : clean[i].ToString()));
                start = i + 1;
            }
        }

        if (start < clean.Length)
        {
            records.Add(Describe(clean[start..]) + "…");
        }

        if (envelope && records.Count > 2)
        {
            records = [records[0], "...", records[^1]];
        }

        return records.Count == 0 ? "(nothing)" : string.Join(" ", records);
    }

    private static string Describe(string record)
    {
        if (record.StartsWith("RPRT ", StringComparison.Ordinal))
        {
            return record;
        }

        if (record.StartsWith('\t'))
        {
            return "\tv"; // an indented line of a table (get_modes' bandwidths)
        }

        var colon = record.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && record[..colon].All(c => c is (>= 'a' and <= 'z') or '_' or (>= '0' and <= '9')) && (colon == record.Length - 1 || record[colon + 1] == ' '))
        {
            return "[" + record + "]"; // the header echoes what was sent: compared whole
        }

        var key = record.IndexOf(": ", StringComparison.Ordinal);
        if (key < 0 && record.EndsWith(':'))
        {
            key = record.Length - 1;
        }

        return key > 0 && record[..key].Any(char.IsLetter) ? record[..key] + ":" : "v";
    }

    /// <summary>A server of ours on a free loopback port, stopped on dispose.</summary>
    private sealed class Served : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _serving = Task.CompletedTask;

        public int Port { get; private set; }

        public static async Task<Served> StartAsync(HamlibServer server)
        {
            var s = new Served();
            var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            s._serving = server.ListenAsync(0, s._stop.Token, p => ready.SetResult(p));
            s.Port = await ready.Task.WaitAsync(Bound, TimeProvider.System);
            return s;
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _serving;
            _stop.Dispose();
        }
    }

    /// <summary>A raw socket client: sends a line and the sentinel, and returns what came back before the sentinel's reply.</summary>
    private sealed class Client(Socket socket) : IDisposable
    {
        private readonly StringBuilder _pending = new();

        public static async Task<Client> ConnectAsync(int port)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await s.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return new Client(s);
        }

        public async Task SendAsync(string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

        public async Task<string> ExchangeAsync(string line)
        {
            await SendAsync(line + "\n" + Sentinel);
            using var cts = new CancellationTokenSource(Bound, TimeProvider.System);
            var buffer = new byte[16384];
            while (true)
            {
                var text = _pending.ToString();
                var marker = text.LastIndexOf("get_info:,", StringComparison.Ordinal);
                if (marker >= 0 && text.EndsWith(",RPRT 0\n", StringComparison.Ordinal))
                {
                    _pending.Clear();
                    return text[..marker];
                }

                int n;
                try
                {
                    // The daemons write a reply in several small segments: acknowledge at once (TCP_QUICKACK),
                    // or Nagle on their side waits out our 40 ms delayed ACK on every exchange.
                    socket.SetRawSocketOption(6, 12, BitConverter.GetBytes(1));
                    n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"no reply to '{line}' (then the sentinel) within {Bound.TotalSeconds} s; got '{_pending}'");
                    throw;
                }

                if (n == 0)
                {
                    Assert.Fail($"the server closed the connection after '{line}'; got '{_pending}'");
                }

                _pending.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }

        public async Task<string> ReadQuietAsync(TimeSpan quiet)
        {
            using var cts = new CancellationTokenSource(quiet, TimeProvider.System);
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    _pending.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }
            }
            catch (OperationCanceledException)
            {
            }

            var text = _pending.ToString();
            _pending.Clear();
            return text;
        }

        public async Task<string> ReadToCloseAsync()
        {
            using var cts = new CancellationTokenSource(Bound, TimeProvider.System);
            var buffer = new byte[4096];
            var sb = new StringBuilder();
            try
            {
                int n;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
                {
                    sb.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the connection stayed open after q; got '{sb}'");
            }

            return sb.ToString();
        }

        public void Dispose() => socket.Dispose();
    }
}
