using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Stale refusal for the I2C and GPIO families, where a read really can be slow: a hardware-mode run against
/// <c>sim serve</c>'s pigpio daemon (wall clock), one device reached through a proxy that holds every reply back.
/// On the simulated bench these reads complete at the instant they are asked, so only the real path can show it.
/// </summary>
[NonParallelizable]
public sealed class StaleOverPigpioTests
{
    private static readonly TimeSpan ReplyDelay = TimeSpan.FromMilliseconds(250);
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-stale-pigpio-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase("rail", "  payload_temp:", "rail.bus_voltage", TestName = "Stale_I2cReadOverPigpioSlowerThanItsMaxAge_IsAnErrorNotAPass")]
    // A line read from the daemon (the enable output read back). A debounced input is the state its edge notifications
    // settled at, kept while the notification stream lives; the pigpio liveness check watches that stream.
    [TestCase("payload_io", "  rail:", "payload_io.payload_enable", TestName = "Stale_GpioReadOverPigpioSlowerThanItsMaxAge_IsAnErrorNotAPass")]
    public async Task StaleOverPigpio(string device, string nextDevice, string signal)
    {
        var rehearsal = Path.Combine(_dir, "rehearsal.yaml");
        using var serve = CliProcess.Start("sim", "serve", "hil-configs/sim-laptop.yaml", "--dir", Path.Combine(_dir, "serve"), "--out", rehearsal);
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal) && File.Exists(rehearsal), TimeSpan.FromSeconds(60), "sim serve to start");
        var yaml = File.ReadAllText(rehearsal);
        var port = int.Parse(Regex.Match(yaml, @"pigpio: 127\.0\.0\.1:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        using var stop = new CancellationTokenSource();
        using var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        var proxyTask = ProxyAsync(proxy, port, stop.Token);

        // Only this device goes through the slow proxy, with a max age shorter than one held-back reply.
        var start = yaml.IndexOf($"  {device}:\n", StringComparison.Ordinal);
        var end = yaml.IndexOf(nextDevice + "\n", start, StringComparison.Ordinal);
        var block = yaml[start..end]
            .Replace($"127.0.0.1:{port}", $"127.0.0.1:{((IPEndPoint)proxy.LocalEndpoint).Port}", StringComparison.Ordinal)
            .Replace($"  {device}:\n", $"  {device}:\n    max-age: 100ms\n", StringComparison.Ordinal);
        var rig = Path.Combine(_dir, "slow.yaml");
        File.WriteAllText(rig, yaml[..start] + block + yaml[end..]);
        var procedure = Path.Combine(_dir, "stale.yaml");
        File.WriteAllText(procedure, $$"""
            procedure: stale-pigpio
            safe-state:
              - set: payload_io.payload_enable
                value: 0
            steps:
              - id: read
                measure:
                  - name: m
                    signal: {{signal}}
                    limits: { low: -1 }
                timeout: 1min
            """);

        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", rig, "-p", procedure, "--unattended", "--out", outDir);
        stop.Cancel();
        proxy.Stop();
        await proxyTask;

        var record = RunRecord.Load(Path.Combine(outDir, "record.jsonl"));
        var reason = record.Steps.Single(s => s.Step == "read").End!.Reason ?? string.Empty;
        Assert.That(code, Is.EqualTo(1), stdout + stderr + "\nsim serve:\n" + serve.Stderr);
        Assert.That(reason, Does.Match($@"stale: {Regex.Escape(signal)} last received 0\.\d+ s ago \(max age 100ms\)"));
        Assert.That(record.Events.OfType<TacRS.Hil.Core.Recording.MeasurementRecorded>().Where(m => m.Name == "m" && m.Outcome == "PASS"), Is.Empty, "a stale value is never a pass");
        serve.Signal("INT");
        Assert.That(serve.WaitForExit(TimeSpan.FromSeconds(30)), Is.Zero, serve.Stderr);
    }

    /// <summary>Forwards every connection to the pigpio daemon; each reply chunk is held back by <see cref="ReplyDelay"/>.</summary>
    private static async Task ProxyAsync(TcpListener listener, int target, CancellationToken ct)
    {
        var pumps = new List<Task>();
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(ct);
                var server = new TcpClient();
                await server.ConnectAsync(IPAddress.Loopback, target, ct);
                pumps.Add(PumpAsync(client.GetStream(), server.GetStream(), TimeSpan.Zero, ct).ContinueWith(_ => server.Dispose(), TaskScheduler.Default));
                pumps.Add(PumpAsync(server.GetStream(), client.GetStream(), ReplyDelay, ct).ContinueWith(_ => client.Dispose(), TaskScheduler.Default));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The test is over.
        }

        await Task.WhenAll(pumps);
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, TimeSpan delay, CancellationToken ct)
    {
        var buffer = new byte[4096];
        try
        {
            while (await from.ReadAsync(buffer, ct) is var n and > 0)
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, TimeProvider.System, ct);
                }

                await to.WriteAsync(buffer.AsMemory(0, n), ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Either side closed.
        }
    }
}
