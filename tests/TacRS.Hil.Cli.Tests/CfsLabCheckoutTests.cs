using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// The shipped cFS lab checkout (issue 16): the procedure an engineer points at their own cFS build with
/// hil-configs/cfs-lab.yaml, run unchanged against the emulator in simulation and over real UDP through
/// <c>sim serve</c>. Each test copies the rig into a temp directory so the run and its history stay there.
/// </summary>
[NonParallelizable]
public class CfsLabCheckoutTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-cfs-lab-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>hil-configs/<paramref name="rig"/> with its paths made absolute and its history in the temp directory.</summary>
    private string CopyRig(string rig, Func<string, string>? edit = null)
    {
        return RepoPaths.WriteRig(_dir, text => (edit ?? (t => t))(text + $"history: {Path.Combine(_dir, "history.db")}\n"), rig);
    }

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static readonly string[] Steps = ["core-housekeeping", "met-running", "noop-to-lab", "noop-ci-lab", "noop-sample-app", "rejected-command", "reset-counters", "housekeeping-after"];

    [Test]
    public void Validate_CfsLabRigsAndCheckout_Ok()
    {
        var (code, stdout, stderr) = InProcessCli.Run("validate", "--rig", "hil-configs/cfs-lab.yaml",
            "hil-configs/cfs-lab.yaml", "hil-configs/cfs-lab-sim.yaml", "hil-configs/procedures/cfs-lab-checkout.yaml");

        Assert.That(stderr, Is.Empty);
        Assert.That(code, Is.Zero, stdout);
    }

    [Test]
    public void Validate_UnknownCommandName_SaysTheCommandIsUnknown()
    {
        var procedure = Path.Combine(_dir, "typo.yaml");
        File.WriteAllText(procedure, File.ReadAllText(Path.Combine(RepoPaths.HilConfigs, "procedures", "cfs-lab-checkout.yaml"))
            .Replace("with: { command: TO_LAB_NOOP }", "with: { command: TO_LAB_NOP }", StringComparison.Ordinal));

        var (code, _, stderr) = InProcessCli.Run("validate", "--rig", "hil-configs/cfs-lab.yaml", procedure);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo(procedure + ":74:26: unknown command 'TO_LAB_NOP' for 'cfs.send' (one of: TO_LAB_NOOP, TO_LAB_RESET_COUNTERS, "
            + "TO_LAB_OUTPUT_ENABLE, SAMPLE_APP_NOOP, SAMPLE_APP_RESET_COUNTERS, CI_LAB_NOOP, CI_LAB_RESET_COUNTERS)"));
    }

    [Test]
    public void Validate_UnknownDictionaryVersion_NamesTheOnesDeclared()
    {
        var rig = CopyRig("cfs-lab.yaml", t => t.Replace("dictionary-version: equuleus-rc1", "dictionary-version: caelum", StringComparison.Ordinal));

        var (code, _, stderr) = InProcessCli.Run("validate", rig);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo(rig + ":23:25: dictionary 'cfs-lab' has no version 'caelum' (it declares: equuleus-rc1, draco-v7.0.0, main)"));
    }

    [Test]
    public void Run_CheckoutInSimulation_EveryStepPasses()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", CopyRig("cfs-lab-sim.yaml"), "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.Zero, stdout + stderr);
        Assert.That(stdout, Does.Contain("RESULT: PASS"));
        foreach (var step in Steps)
        {
            Assert.That(stdout, Does.Contain($"■ {step} PASS"), step);
        }

        var record = File.ReadAllText(Path.Combine(_dir, "run", "record.jsonl"));
        Assert.That(record, Does.Contain("raw packet (like SAMPLE_APP_NOOP): MID 0x1882, function code 0, 9 bytes (dictionary: 8), checksum valid sent (not a dictionary command)"));
        Assert.That(record, Does.Contain("rejected as expected"));
    }

    [Test]
    public void Run_DictionaryOfAnotherCfsVersion_FailsOnTheSwappedCounters()
    {
        // A Draco v7.0.0 dictionary against an equuleus-rc1 build: CI_LAB's NOOP shows up on what it reads as the error counter.
        var rig = CopyRig("cfs-lab-sim.yaml", t => t
            .Replace("dictionary-version: equuleus-rc1", "dictionary-version: draco-v7.0.0", StringComparison.Ordinal)
            .Replace("sim: { software: cfs-lab, power: always }", "sim: { software: cfs-lab, cfs-version: equuleus-rc1, power: always }", StringComparison.Ordinal));

        var (code, stdout, _) = InProcessCli.Run("run", rig, "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Does.Contain("■ noop-to-lab PASS"));
        Assert.That(stdout, Does.Contain("command CI_LAB_NOOP rejected: error counter ci_lab_err_count went 0 → 1"));
    }

    [Test]
    public void SimServe_CheckoutOverRealUdp_Passes()
    {
        var commandPort = FreeUdpPort();
        var telemetryPort = FreeUdpPort();
        var rig = CopyRig("cfs-lab-sim.yaml", t => t
            .Replace("udp: \"127.0.0.1:1234\", listen: 1235", $"udp: \"127.0.0.1:{commandPort.ToString(CultureInfo.InvariantCulture)}\", listen: {telemetryPort.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal)
            .Replace("sim: { software: cfs-lab, power: always }", "sim: { software: cfs-lab, power: always, housekeeping-period: 250ms }", StringComparison.Ordinal));
        var rehearsal = Path.Combine(_dir, "rehearsal.yaml");

        using var serve = CliProcess.Start("sim", "serve", rig, "--dir", Path.Combine(_dir, "ptys"), "--out", rehearsal);
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "sim serve to start");
        Assert.That(serve.Stderr, Does.Contain($"serving cfs (avionics) on udp 127.0.0.1:{commandPort}"));
        var printed = File.ReadAllText(rehearsal);
        Assert.That(printed, Does.Contain("mode: hardware").And.Contain("dictionary-version: equuleus-rc1").And.Contain($"listen: {telemetryPort}"));

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(2), "run", rehearsal, "--unattended", "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.Zero, $"stdout:\n{stdout}\nstderr:\n{stderr}\nsim serve stderr:\n{serve.Stderr}");
        Assert.That(stdout, Does.Contain("RESULT: PASS"));
        foreach (var step in Steps)
        {
            Assert.That(stdout, Does.Contain($"■ {step} PASS"), step);
        }
    }
}
