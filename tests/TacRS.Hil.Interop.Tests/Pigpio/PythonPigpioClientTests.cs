using System.Buffers.Binary;
using System.Device.Gpio;
using System.Device.I2c;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Ina219;

namespace TacRS.Hil.Interop.Tests.Pigpio;

/// <summary>
/// Our pigpio server against the real third-party client: pigpio.py from the Debian package
/// python3-pigpio (the library a GSE engineer scripts a Raspberry Pi breakout with). It runs
/// GPIO modes, pulls, reads, writes, bank reads, I2C device/SMBus/zip transfers, a NACK, and edge
/// callbacks (its own writes and a line the simulation drives) over loopback on a free port.
/// A missing peer fails the test with the package to install; it never skips.
/// </summary>
[NonParallelizable]
public class PythonPigpioClientTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private ServedChip _bench = null!;
    private Process? _client;

    private static string Script => Path.Combine(RepoPaths.Root, "tests", "TacRS.Hil.Interop.Tests", "Pigpio", "pigpio_client.py");

    [SetUp]
    public void SetUp()
    {
        _bench = new ServedChip();
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_client is { HasExited: false })
        {
            _client.Kill(entireProcessTree: true);
        }

        _client?.Dispose();
        await _bench.DisposeAsync();
    }

    [Test]
    public async Task PigpioPy_FullSession_AgainstOurServer()
    {
        RequirePigpioPy();

        // GPIO 17: a separation-switch loop closed to ground, released once the client is watching it.
        _bench.Chip.Drive(17, PinValue.Low);
        var lines = Start(Script, "127.0.0.1", _bench.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var armed = await NextAsync(lines);
        Assert.That(armed.GetProperty("step").GetString(), Is.EqualTo("armed"), armed.ToString());
        _bench.Chip.Drive(17, null);
        var r = await NextAsync(lines);
        Assert.That(r.GetProperty("step").GetString(), Is.EqualTo("done"), r.ToString());
        Assert.That(r.TryGetProperty("exception", out var ex), Is.False, ex.ToString());

        Assert.Multiple(() =>
        {
            Assert.That(r.GetProperty("hwver").GetUInt32(), Is.EqualTo(PigpioServer.HardwareRevision));
            Assert.That(r.GetProperty("version").GetUInt32(), Is.EqualTo(PigpioServer.PigpioVersion));

            Assert.That(r.GetProperty("read23").GetInt32(), Is.EqualTo(1));
            Assert.That(r.GetProperty("mode23").GetInt32(), Is.EqualTo(1), "pigpio.OUTPUT");
            Assert.That(_bench.Chip.IsOutput(23) && _bench.Chip.Level(23) == PinValue.High, Is.True, "the client's write reached the chip");

            Assert.That(r.GetProperty("read17").GetInt32(), Is.Zero, "switch closed to ground beats the pull-up");
            Assert.That(r.GetProperty("read27_up").GetInt32(), Is.EqualTo(1));
            Assert.That(r.GetProperty("read27_down").GetInt32(), Is.Zero);
            var bank = r.GetProperty("bank1").GetUInt32();
            Assert.That(bank & ((1u << 23) | (1u << 17) | (1u << 27)), Is.EqualTo(1u << 23));
            Assert.That(r.GetProperty("glitch_filter").GetInt32(), Is.Zero);
            Assert.That(r.GetProperty("tick_delta").GetInt64(), Is.InRange(0, 10_000_000), "µs between two TICKs");
            Assert.That(r.GetProperty("bad_gpio").GetString(), Does.Contain("GPIO not 0-53"), "pigpio.py's own text for PI_BAD_GPIO");

            // INA219 power-on configuration 0x399F, sent MSB first; an SMBus word is LSB first.
            Assert.That(r.GetProperty("config_word").GetInt32(), Is.EqualTo(0x9F39));
            Assert.That(Ints(r, "calibration"), Is.EqualTo(new[] { 0x10, 0x00 }));
            var busBlock = Ints(r, "bus_block");
            Assert.That(Ina219Device.DecodeBusVoltage((ushort)((busBlock[0] << 8) | busBlock[1])), Is.EqualTo(28.0).Within(0.004));
            Assert.That(Ints(r, "bus_zip"), Is.EqualTo(busBlock));
            Assert.That(Ina219Device.DecodeBusVoltage(BinaryPrimitives.ReverseEndianness((ushort)r.GetProperty("bus_word").GetInt32())), Is.EqualTo(28.0).Within(0.004));
            Assert.That(_bench.Rail.Calibration, Is.EqualTo(0x2000), "i2c_write_word_data 0x0020 puts 0x20 then 0x00 on the wire");
            Assert.That(r.GetProperty("calibration_msb").GetInt32(), Is.EqualTo(0x20));
            Assert.That(r.GetProperty("nack").GetString(), Does.Contain("I2C read failed"), "pigpio.py's text for PI_I2C_READ_FAILED");

            Assert.That(r.GetProperty("own_edges_arrived").GetBoolean(), Is.True, r.GetProperty("own_edges").ToString());
            Assert.That(Pairs(r, "own_edges"), Is.EqualTo("22:1 22:0 22:1"));
            Assert.That(r.GetProperty("external_edge_arrived").GetBoolean(), Is.True);
            Assert.That(Pairs(r, "external_edges"), Is.EqualTo("17:1"));
        });

        Assert.That(await ExitAsync(), Is.Zero);
    }

    /// <summary>pigpio.py callback arguments [gpio, level] as "gpio:level ...".</summary>
    private static string Pairs(JsonElement r, string name) =>
        string.Join(' ', r.GetProperty(name).EnumerateArray().Select(e => $"{e[0].GetInt32()}:{e[1].GetInt32()}"));

    private static int[] Ints(JsonElement r, string name) => [.. r.GetProperty(name).EnumerateArray().Select(e => e.GetInt32())];

    private static void RequirePigpioPy()
    {
        if (!File.Exists(Python))
        {
            Assert.Fail($"{Python} is missing: install the Debian package 'python3'");
        }

        using var p = Process.Start(new ProcessStartInfo(Python, ["-c", "import pigpio"]) { RedirectStandardError = true, UseShellExecute = false })!;
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(Bound) || p.ExitCode != 0)
        {
            Assert.Fail($"{Python} cannot import pigpio: install the Debian package 'python3-pigpio' ({err.Trim()})");
        }
    }

    private ChannelReader<string> Start(string script, params string[] args)
    {
        var lines = Channel.CreateUnbounded<string>();
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _client = new Process { StartInfo = psi };
        _client.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lines.Writer.TryComplete();
            }
            else
            {
                lines.Writer.TryWrite(e.Data);
            }
        };
        _client.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                TestContext.Out.WriteLine("pigpio.py: " + e.Data);
            }
        };
        _client.Start();
        _client.BeginOutputReadLine();
        _client.BeginErrorReadLine();
        return lines.Reader;
    }

    private static async Task<JsonElement> NextAsync(ChannelReader<string> lines)
    {
        using var timeout = new CancellationTokenSource(Bound, TimeProvider.System);
        try
        {
            while (true)
            {
                var line = await lines.ReadAsync(timeout.Token);
                if (line.StartsWith('{'))
                {
                    return JsonDocument.Parse(line).RootElement.Clone();
                }

                TestContext.Out.WriteLine("pigpio.py: " + line);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"pigpio.py said nothing within {Bound.TotalSeconds} s");
        }
        catch (ChannelClosedException)
        {
            Assert.Fail("pigpio.py exited before reporting");
        }

        return default;
    }

    private async Task<int> ExitAsync()
    {
        using var timeout = new CancellationTokenSource(Bound, TimeProvider.System);
        await _client!.WaitForExitAsync(timeout.Token);
        return _client.ExitCode;
    }
}
