using System.Diagnostics;
using TacRS.Hil.Devices.Station.Simulated;

namespace TacRS.Hil.Interop.Tests.Hamlib;

/// <summary>The real rotctl/rigctl clients (netrotctl/netrigctl, model 2) against our station emulator's TCP servers.</summary>
[NonParallelizable]
public class EmulatorWithHamlibClientsTests
{
    private static async Task<(string Out, string Err, int Code)> RunAsync(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(HamlibDaemon.Require(exe)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15), TimeProvider.System);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(true);
            Assert.Fail($"{exe} {string.Join(' ', args)} did not finish within 15 s");
        }

        return (await stdout, await stderr, p.ExitCode);
    }

    private static async Task<(int Port, CancellationTokenSource Stop, Task Serving)> ServeAsync(HamlibServer server)
    {
        var stop = new CancellationTokenSource();
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serving = server.ListenAsync(0, stop.Token, port => ready.SetResult(port));
        var port = await ready.Task.WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System);
        return (port, stop, serving);
    }

    [Test]
    public async Task Rotctl_SetAndGetPosition_AgainstEmulator()
    {
        // A fast slew so the position read right after the command is the target.
        var model = new RotatorModel(TimeProvider.System, new RotatorModelOptions { SlewRateDegPerS = 1e6 });
        var (port, stop, serving) = await ServeAsync(new HamlibRotatorServer(model));
        try
        {
            var set = await RunAsync("rotctl", "-m", "2", "-r", $"127.0.0.1:{port}", "P", "123.5", "45.25");
            Assert.That(set.Code, Is.EqualTo(0), set.Err);
            var get = await RunAsync("rotctl", "-m", "2", "-r", $"127.0.0.1:{port}", "p");
            Assert.That(get.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "123.50", "45.25" }), get.Err);
            var refused = await RunAsync("rotctl", "-m", "2", "-r", $"127.0.0.1:{port}", "P", "500", "20");
            Assert.That(model.Target, Is.EqualTo((123.5, 45.25)), "the out-of-range command must not move the rotator: " + refused.Out + refused.Err);
        }
        finally
        {
            stop.Cancel();
            await serving;
            stop.Dispose();
        }
    }

    [Test]
    public async Task Rigctl_TuneModePtt_AgainstEmulator()
    {
        var radio = new RadioModel();
        var (port, stop, serving) = await ServeAsync(new HamlibRadioServer(radio));
        try
        {
            radio.SignalStrength = () => -12;
            var r = await RunAsync("rigctl", "-m", "2", "-r", $"127.0.0.1:{port}", "F", "437525000", "M", "USB", "2400", "T", "1", "f", "m", "t", "l", "STRENGTH");
            Assert.That(r.Code, Is.EqualTo(0), r.Err);
            Assert.Multiple(() =>
            {
                Assert.That(radio.FrequencyHz, Is.EqualTo(437_525_000));
                Assert.That(radio.Mode, Is.EqualTo("USB"));
                Assert.That(radio.PassbandHz, Is.EqualTo(2400));
                Assert.That(radio.Ptt, Is.True);
                Assert.That(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "437525000", "USB", "2400", "1", "-12" }), r.Err);
            });
        }
        finally
        {
            stop.Cancel();
            await serving;
            stop.Dispose();
        }
    }
}
