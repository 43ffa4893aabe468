using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Commands;

/// <summary>
/// The real <c>tacrs-hil sim serve</c> serving the flight computer cFS lab style over UDP on loopback (or on a
/// socat pty with the bench serial framing), and a
/// second real <c>tacrs-hil run</c> in hardware mode driving an avionics checkout procedure against it from the
/// rehearsal rig sim serve wrote: output enable on connect, housekeeping, NOOP accepted, mode walk verified,
/// the payload function. The rig has no GSE, so the emulator is powered from the start (<c>sim: { power: always }</c>).
/// </summary>
[NonParallelizable]
public class SimServeAvionicsEndToEndTests
{
    private const string Procedure = """
        procedure: obc-checkout-udp
        title: Flight computer checkout over the avionics link
        safe-state:
          actions:
            - call: obc.send
              with: { command: SET_MODE, mode: SAFE, verify: false }
        steps:
          - id: telemetry-alive
            title: Housekeeping arrives, flight computer in SAFE
            do:
              - call: obc.expect
                with: { channel: mode, value: SAFE, timeout: 20s }
            measure:
              - name: obc_mode
                signal: obc.mode
                expect: 2
            timeout: 30s
          - id: command-acceptance
            title: NOOP accepted
            do:
              - call: obc.send
                with: { command: NOOP }
            measure:
              - name: noop_accept_time
                output: obc.send.accept_time
                unit: s
                limits: { high: 3 }
              - name: err_count
                signal: obc.err_count
                expect: 0
            timeout: 30s
          - id: mode-walk
            title: SAFE → NOMINAL → PAYLOAD_ACTIVE, each verified in telemetry
            do:
              - call: obc.send
                with: { command: SET_MODE, mode: NOMINAL, complete-when: "mode == NOMINAL", complete-within: 10s }
              - call: obc.send
                with: { command: SET_MODE, mode: PAYLOAD_ACTIVE, complete-when: "mode == PAYLOAD_ACTIVE", complete-within: 10s }
            measure:
              - name: mode_payload_active
                signal: obc.mode
                expect: 4
            timeout: 30s
          - id: functional-test
            title: Payload function (image capture)
            do:
              - call: obc.send
                with: { command: TAKE_IMAGE }
              - call: obc.expect
                with: { channel: images_taken, low: 1, timeout: 10s }
            measure:
              - name: frame_size
                signal: obc.last_frame_size
                unit: B
                limits: { low: 1000 }
            timeout: 30s
        """;

    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-serve-obc-e2e-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    [TestCase("udp")]
    [TestCase("serial")]
    public void SimServe_HardwareModeRunOfRehearsalRig_ChecksOutFlightComputer(string link)
    {
        var procedures = Directory.CreateDirectory(Path.Combine(_dir, "procedures")).FullName;
        File.WriteAllText(Path.Combine(procedures, "obc-checkout-udp.yaml"), Procedure);
        var commandPort = FreeUdpPort();
        var telemetryPort = FreeUdpPort();
        var transport = link == "udp"
            ? $"transport: {{ udp: \"127.0.0.1:{commandPort.ToString(CultureInfo.InvariantCulture)}\", listen: {telemetryPort.ToString(CultureInfo.InvariantCulture)} }}\n    to-lab-enable: {{ ip: 127.0.0.1 }}"
            : "transport: { serial: /dev/ttyUSB7, baud: 115200 }";
        var rig = Path.Combine(_dir, "rig.yaml");
        File.WriteAllText(rig, $$"""
            rig: cfs-lab-udp
            procedures: {{procedures}}
            devices:
              obc:
                kind: avionics
                {{transport}}
                dictionary: {{RepoPaths.Fixture("dictionaries", "payload-obc.yaml")}}
                sim: { payload: sda, power: always, housekeeping-period: 250ms }
            simulation: { seed: 11 }
            """);
        var rehearsal = Path.Combine(_dir, "rehearsal.yaml");

        using var serve = CliProcess.Start("sim", "serve", rig, "--dir", Path.Combine(_dir, "ptys"), "--out", rehearsal);
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "sim serve to start");
        if (link == "udp")
        {
            Assert.That(serve.Stderr, Does.Contain($"serving obc (avionics) on udp 127.0.0.1:{commandPort}"));
            Assert.That(File.ReadAllText(rehearsal), Does.Contain($"udp: 127.0.0.1:{commandPort}").And.Contain($"listen: {telemetryPort}"));
        }
        else
        {
            Assert.That(File.ReadAllText(rehearsal), Does.Contain($"serial: {Path.Combine(_dir, "ptys", "obc")}"), "the obc on a socat pty");
        }

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", rehearsal, "--procedure", "obc-checkout-udp", "--out", Path.Combine(_dir, "run"));
        Assert.That(code, Is.Zero, $"stdout:\n{stdout}\nstderr:\n{stderr}\nsim serve stderr:\n{serve.Stderr}");
        Assert.That(stdout, Does.Contain("RESULT: PASS"));
        Assert.That(stdout, Does.Contain("frame_size"));
        // A clean hardware run logs no error: the avionics receive loop once logged ObjectDisposedException at every teardown.
        var errors = File.ReadAllLines(Path.Combine(_dir, "run", "log.clef"))
            .Where(l => l.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"@l\":\"Fatal\"", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal))
            .ToList();
        Assert.That(errors, Is.Empty, "log.clef of a passing hardware run");
    }
}

/// <summary>The real <c>sim serve</c> of the shipped laptop rigs: the printed rig is a valid hardware rig and reaches every served endpoint.</summary>
[NonParallelizable]
public class SimServeRehearsalRigTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-serve-rigs-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase("hil-configs/sim-laptop.yaml", "serial: ")]
    [TestCase("hil-configs/sim-laptop-udp.yaml", "udp: 127.0.0.1:")]
    public void SimServe_ShippedRig_RehearsalRigValidatesFromAnotherFolder(string rig, string obcTransport)
    {
        var rehearsal = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName, "rehearsal.yaml");
        using var serve = CliProcess.Start("sim", "serve", rig, "--dir", Path.Combine(_dir, "ptys"), "--out", rehearsal);
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "sim serve to start");
        var yaml = File.ReadAllText(rehearsal);
        Assert.That(yaml, Does.Contain(obcTransport));

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(1), "validate", rehearsal);
        Assert.That(code, Is.Zero, $"stdout:\n{stdout}\nstderr:\n{stderr}\nrehearsal rig:\n{yaml}");
    }

    [Test]
    public void SimServe_WithoutSocat_SerialRigIsAClearErrorExit2()
    {
        // A PATH that holds only the dotnet host: socat (needed for the serial devices' ptys) is not found.
        var dotnetDir = Path.GetDirectoryName(new FileInfo(Environment.GetEnvironmentVariable("PATH")!.Split(':')
            .Select(d => Path.Combine(d, "dotnet")).First(File.Exists)).ResolveLinkTarget(returnFinalTarget: true)?.FullName
            ?? throw new InvalidOperationException("dotnet not found on PATH"))!;
        var ptys = Path.Combine(_dir, "ptys");
        using var serve = CliProcess.StartWith(new Dictionary<string, string> { ["PATH"] = dotnetDir }, "sim", "serve", "hil-configs/sim-laptop.yaml", "--dir", ptys);
        var code = serve.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.That(code, Is.EqualTo(2), serve.Stderr);
        Assert.That(serve.Stderr, Does.Contain("needs socat").And.Not.Contain("Unhandled exception").And.Not.Contain("   at "));
        Assert.That(Directory.Exists(ptys) && Directory.EnumerateFileSystemEntries(ptys).Any(), Is.False, "nothing left in the pty directory");
    }

    [Test]
    public async Task SimServe_Station_RotatorAndRadioServedAsTheirOwnDaemons()
    {
        using var serve = CliProcess.Start("sim", "serve", "hil-configs/sim-laptop.yaml", "--dir", Path.Combine(_dir, "ptys"));
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "sim serve to start");
        foreach (var (key, expected) in new[] { ("rotator", "TacRS station emulator rotator"), ("radio", "TacRS station emulator radio") })
        {
            var line = serve.Stderr.Split('\n').Single(l => l.StartsWith($"serving station.{key} ", StringComparison.Ordinal));
            var address = line.Split(' ').Last(w => w.StartsWith("127.0.0.1:", StringComparison.Ordinal)).Trim();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), TimeProvider.System);
            using var client = new TcpClient();
            await client.ConnectAsync(IPEndPoint.Parse(address), cts.Token);
            using var stream = client.GetStream();
            await stream.WriteAsync("_\n"u8.ToArray(), cts.Token);
            using var reader = new StreamReader(stream);
            Assert.That(await reader.ReadLineAsync(cts.Token), Is.EqualTo(expected), $"station.{key} at {address}");
        }
    }
}

/// <summary>The shipped cFS-lab-UDP laptop rig runs payload checkout in simulation (in-process datagram link, virtual time).</summary>
public class SimLaptopUdpRigTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-udp-rig-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Run_PayloadCheckoutOnSimLaptopUdp_PassesWithTelemetryAfterToLabEnable()
    {
        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", "hil-configs/sim-laptop-udp.yaml", "--procedure", "payload-checkout", "--out", _dir);
        Assert.That(code, Is.Zero, stdout + stderr);
        Assert.That(stdout, Does.Contain("RESULT: PASS"));
        Assert.That(File.ReadAllText(Path.Combine(_dir, "log.clef")), Does.Contain("TO_LAB output enable"), "telemetry flowed only after the driver's output enable");
    }
}

/// <summary>
/// Issue 14 over real UDP: the flight computer served by a real <c>sim serve</c>, a hardware-mode run of its rehearsal
/// rig waiting in a step, and sim serve stopped during the wait. The run must find the device lost within the avionics
/// bound (housekeeping max age 3 s + one 1 s check) on the wall clock, safe, exit 3, and pass nothing measured after the stop.
/// </summary>
[NonParallelizable]
public class SimServeLostDeviceTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-serve-lost-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    [Test]
    public void SimServeStoppedDuringAWait_LostDeviceWithinTheBoundOfWallTime_NothingAfterTheStopPasses()
    {
        var procedures = Directory.CreateDirectory(Path.Combine(_dir, "procedures")).FullName;
        File.WriteAllText(Path.Combine(procedures, "obc-wait.yaml"), """
            procedure: obc-wait
            safe-state:
              - wait: 100ms
            steps:
              - id: telemetry-alive
                do:
                  - call: obc.expect
                    with: { channel: mode, value: SAFE, timeout: 20s }
                timeout: 30s
              - id: wait
                do:
                  - wait: 15s
                measure:
                  - name: obc_mode_after_wait
                    signal: obc.mode
                    expect: 2
                timeout: 30s
            """);
        var (command, telemetry) = (FreeUdpPort(), FreeUdpPort());
        var rig = Path.Combine(_dir, "rig.yaml");
        File.WriteAllText(rig, $$"""
            rig: serve-lost
            procedures: {{procedures}}
            devices:
              obc:
                kind: avionics
                transport: { udp: "127.0.0.1:{{command.ToString(CultureInfo.InvariantCulture)}}", listen: {{telemetry.ToString(CultureInfo.InvariantCulture)}} }
                to-lab-enable: { ip: 127.0.0.1 }
                dictionary: {{RepoPaths.Fixture("dictionaries", "payload-obc.yaml")}}
                sim: { payload: sda, power: always }
            simulation: { seed: 11 }
            """);
        var rehearsal = Path.Combine(_dir, "rehearsal.yaml");
        var serve = CliProcess.Start("sim", "serve", rig, "--dir", Path.Combine(_dir, "ptys"), "--out", rehearsal);
        try
        {
            serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "sim serve to start");
            using var run = CliProcess.Start("run", rehearsal, "--procedure", "obc-wait", "--out", Path.Combine(_dir, "run"));
            run.WaitUntil(() => run.Stdout.Contains("▶ wait", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the run to reach its wait");
            using (var settle = new ManualResetEventSlim())
            {
                settle.Wait(TimeSpan.FromSeconds(1)); // a real child process on real time: let housekeeping flow into the wait
            }

            var stopped = TimeProvider.System.GetUtcNow();
            serve.Signal("TERM");
            serve.WaitForExit(TimeSpan.FromSeconds(30));

            var code = run.WaitForExit(TimeSpan.FromSeconds(60));
            var detected = TimeProvider.System.GetUtcNow();

            Assert.That(code, Is.EqualTo(3), run.Stdout + run.Stderr);
            var record = Reporting.Html.RunRecord.Load(Path.Combine(_dir, "run", "record.jsonl"));
            var lost = record.Events.OfType<Core.Recording.Note>().Single(n => n.Category == "device-lost");
            Assert.That(lost.Source, Is.EqualTo("obc"));
            Assert.That(lost.Fields!["endpoint"], Does.Contain($"127.0.0.1:{command}"));
            Assert.That(lost.At - stopped, Is.LessThan(TimeSpan.FromSeconds(5)), "the avionics bound (4 s after the last packet) on the wall clock, plus the time sim serve took to stop");
            Assert.That(detected - stopped, Is.LessThan(TimeSpan.FromSeconds(15)), "the run ended well before its 15 s wait would have");
            Assert.That(record.Events.OfType<Core.Recording.MeasurementRecorded>().Where(m => m.At > stopped && m.Outcome == "PASS"), Is.Empty, "nothing measured after the stop passes");
            Assert.That(record.Steps.Single(s => s.Step == "wait").Outcome, Is.EqualTo("LOST-DEVICE"));
        }
        finally
        {
            serve.Dispose();
        }
    }
}
