using System.Text.Json;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Bench rehearsal, end to end: the real <c>tacrs-hil sim serve</c> serves the default rig's
/// emulators in real time (the flight computer on a socat pty, the GSE over Modbus/TCP, the station
/// over Hamlib/TCP, the GPIO lines and I2C chips over the pigpio socket protocol), and a second
/// <c>tacrs-hil run</c> in hardware mode runs the unchanged procedures against the rig it printed,
/// through the real <c>SerialPort</c>, sockets and the pigpio client drivers.
/// </summary>
[NonParallelizable]
public sealed class RehearsalEndToEndTests
{
    private static readonly TimeSpan ServeStartup = TimeSpan.FromSeconds(60);
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-rehearsal-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Rehearsal_PowerOn_PassesInHardwareModeAgainstServedBench()
    {
        using var serve = Serve(out var rig);

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(3), "run", rig, "-p", "payload-power-on", "--set", "power-on.soak=5s", "--unattended", "--out", Out("power-on"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr + "\nsim serve:\n" + serve.Stderr);
        var record = Record("power-on");
        Assert.Multiple(() =>
        {
            Assert.That(record.Start.GetProperty("mode").GetString(), Is.EqualTo("hardware"));
            Assert.That(record.Start.GetProperty("context").GetProperty("clock").GetString(), Is.EqualTo("system"));
            Assert.That(record.Start.GetProperty("context").GetProperty("parameter.power-on.soak").GetString(), Is.EqualTo("5s"));
            Assert.That(record.Measurements["bus_voltage"], Is.InRange(27.0, 29.0), "rail voltage read through pigpio I2C from the served INA219");
            Assert.That(record.Measurements["bus_current"], Is.InRange(300.0, 1200.0));
            Assert.That(record.Measurements["gse_output_voltage"], Is.InRange(27.5, 28.5), "supply voltage over Modbus/TCP");
            Assert.That(record.Measurements["rail_off"], Is.LessThan(2.0), "the served payload model saw the enable line drop");
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
        });

        serve.Signal("INT");
        Assert.That(serve.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0), serve.Stderr);
    }

    [TestCase("hil-configs/sim-laptop.yaml", "pty")]
    [TestCase("hil-configs/sim-laptop-udp.yaml", "udp")]
    public void Rehearsal_PayloadCheckout_FlightComputerOverPtyOrCfsUdp_PassesEveryStep(string servedRig, string link)
    {
        using var serve = Serve(out var rig, servedRig);
        Assert.That(
            File.ReadAllText(rig),
            link == "pty" ? Does.Contain("serial: " + Path.Combine(_dir, "serve", "obc")) : Does.Contain("udp: 127.0.0.1:").And.Contain("listen: "),
            $"the obc is served over {link}");

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(4), "run", rig, "-p", "payload-checkout", "--unattended", "--out", Out("checkout"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr + "\nsim serve:\n" + serve.Stderr);
        var record = Record("checkout");
        Assert.Multiple(() =>
        {
            Assert.That(record.Steps, Is.EqualTo(new[] { "safe-to-mate", "gse-power", "payload-enable", "steady-state", "telemetry-alive", "command-acceptance", "mode-walk", "functional-test", "power-down" }));
            Assert.That(record.Measurements["images_taken"], Is.GreaterThanOrEqualTo(1), "TAKE_IMAGE ran on the served flight computer");
            Assert.That(record.Measurements["frame_size"], Is.GreaterThanOrEqualTo(1000));
            Assert.That(File.Exists(Path.Combine(Out("checkout"), "obc.packets.jsonl")), Is.True, "every packet archived in the run directory");
            Assert.That(
                File.ReadLines(Path.Combine(Out("checkout"), "log.clef")).Where(l => l.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"@l\":\"Fatal\"", StringComparison.Ordinal)),
                Is.Empty,
                "a clean run logs no error (the avionics receive loop once logged an ObjectDisposedException at every teardown)");
        });
        Assert.That(serve.Stderr, Does.Contain("on pigpio 127.0.0.1:"), "GPIO and I2C served over the pigpio protocol");
    }

    [Test]
    public void Rehearsal_IntegratedCheckout_PromptsActOnTheServedHarness_TwiceInARow_ThenNoConsoleNoRun()
    {
        using var serve = Serve(out var rig);
        Assert.That(File.ReadAllText(rig), Does.Match(@"\nrehearsal:\n  console: 127\.0\.0\.1:\d+\n"));

        // Twice against the same served bench: the restacked payload must boot mated again the second time.
        foreach (var run in new[] { "integrated-1", "integrated-2" })
        {
            var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(3), "run", rig, "-p", "integrated-checkout", "--unattended", "--out", Out(run));

            Assert.That(code, Is.EqualTo(0), run + ": " + stdout + stderr + "\nsim serve:\n" + serve.Stderr);
            var record = Record(run);
            var text = File.ReadAllText(Path.Combine(Out(run), "record.jsonl"));
            Assert.Multiple(() =>
            {
                Assert.That(record.Steps, Is.EqualTo(new[] { "vehicle-power", "umbilical-telemetry", "separation-simulation", "restack" }), run);
                Assert.That(record.Start.GetProperty("context").GetProperty("rehearsal.console").GetString(), Does.StartWith("127.0.0.1:"));
                Assert.That(record.Measurements["sep_loop_a_open"], Is.Zero, "released on the served harness, read back over pigpio");
                Assert.That(record.Measurements["obc_post_separation"], Is.EqualTo(5), "the served flight computer saw the release");
                Assert.That(record.Measurements["sep_loop_a_restacked"], Is.EqualTo(1));
                Assert.That(text, Does.Contain("rehearsal bench did 'separate' (prompt sep-release confirmed)"));
                Assert.That(text, Does.Contain("rehearsal bench did 'restack' (prompt sep-restack confirmed)"));
            });
        }

        serve.Signal("INT");
        Assert.That(serve.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0), serve.Stderr);

        var (after, _, err) = CliProcess.Run(TimeSpan.FromMinutes(1), "run", rig, "-p", "integrated-checkout", "--unattended", "--out", Out("after-stop"));
        Assert.That(after, Is.EqualTo(2));
        Assert.That(err, Does.Match(@"rehearsal\.yaml:\d+:12: rehearsal console 127\.0\.0\.1:\d+: connection refused").And.Contain("is `tacrs-hil sim serve` still running?"));
        Assert.That(Directory.Exists(Out("after-stop")), Is.False, "nothing was run or recorded");
    }

    private CliProcess Serve(out string rig, string servedRig = "hil-configs/sim-laptop.yaml")
    {
        rig = Path.Combine(_dir, "rehearsal.yaml");
        var serve = CliProcess.Start("sim", "serve", servedRig, "--dir", Path.Combine(_dir, "serve"), "--out", rig);
        var written = rig;
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal) && File.Exists(written), ServeStartup, "sim serve to start");
        return serve;
    }

    private string Out(string name) => Path.Combine(_dir, name);

    private (JsonElement Start, Dictionary<string, double> Measurements, List<string> Steps) Record(string name)
    {
        JsonElement start = default;
        var measurements = new Dictionary<string, double>(StringComparer.Ordinal);
        var steps = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(Out(name), "record.jsonl")))
        {
            var e = JsonDocument.Parse(line).RootElement;
            switch (e.GetProperty("event").GetString())
            {
                case "run-start":
                    start = e;
                    break;
                case "measurement" when e.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number:
                    measurements[e.GetProperty("name").GetString()!] = v.GetDouble();
                    break;
                case "step-end" when e.GetProperty("outcome").GetString() == "PASS":
                    steps.Add(e.GetProperty("step").GetString()!);
                    break;
            }
        }

        return (start, measurements, steps);
    }
}
