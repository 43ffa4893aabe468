using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TacRS.Hil.Interop.Tests.Hamlib;

/// <summary>A real Hamlib daemon (rotctld/rigctld from libhamlib-utils) on a free loopback port, killed on dispose.</summary>
internal sealed class HamlibDaemon : IAsyncDisposable
{
    private readonly Process _process;

    private HamlibDaemon(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static string Require(string exe)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin"))
        {
            var p = Path.Combine(dir, exe);
            if (File.Exists(p))
            {
                return p;
            }
        }

        Assert.Fail($"'{exe}' not found: install the Debian package libhamlib-utils (apt-get install libhamlib-utils)");
        return exe;
    }

    /// <summary><c>rotctld -m 1</c>: Hamlib's dummy rotator.</summary>
    public static Task<HamlibDaemon> StartRotatorAsync(int? port = null) => StartAsync("rotctld", port, "-m", "1");

    /// <summary><c>rigctld -m 1 -P RIG</c>: Hamlib's dummy rig with CAT PTT (without -P, get_ptt answers RIG_ENAVAIL).</summary>
    public static Task<HamlibDaemon> StartRadioAsync(int? port = null) => StartAsync("rigctld", port, "-m", "1", "-P", "RIG");

    /// <summary>The dummy rig with <c>static_data=1</c>: its S-meter always reads -12 dB re S9 instead of jiggling.</summary>
    public static Task<HamlibDaemon> StartStaticRadioAsync() => StartAsync("rigctld", null, "-m", "1", "-P", "RIG", "--set-conf=static_data=1");

    private static async Task<HamlibDaemon> StartAsync(string exe, int? fixedPort, params string[] args)
    {
        var path = Require(exe);
        var port = fixedPort ?? FreePort();
        var psi = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args.Concat(["-T", "127.0.0.1", "-t", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new HamlibDaemon(process, port);
        var started = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                Assert.Fail($"{exe} exited with {process.ExitCode} before listening on port {port}");
            }

            try
            {
                using (var probe = new TcpClient())
                {
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                }

                // rigctld 4.5.4 resets a connection that arrives while it is still closing the probe
                // (25 of 400 at once, 0 of 400 after 50 ms): let it finish, so each test starts clean.
                await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, CancellationToken.None);
                return daemon;
            }
            catch (SocketException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
            }
        }

        await daemon.DisposeAsync();
        Assert.Fail($"{exe} did not listen on 127.0.0.1:{port} within 10 s");
        return daemon;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), TimeProvider.System);
            await _process.WaitForExitAsync(cts.Token);
        }

        _process.Dispose();
    }
}
