namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// The kind added as one folder (src/TacRS.Hil.Devices/Lm75) is a kind of the whole tool: a rig naming it validates,
/// a procedure measures it in a simulated run, and its faults reach the run.
/// </summary>
public sealed class Lm75RigTests
{
    private const string Procedure = """
        procedure: board-temperature
        title: Board temperature
        safe-state:
          actions:
            - set: payload_io.payload_enable
              value: 0
        steps:
          - id: read-board-temp
            title: Board temperature within limits
            measure:
              - name: board_temp
                signal: board_temp.temperature
                unit: degC
                limits: { low: 5, high: 45 }
        """;

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-lm75-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Rig_WithAnLm75_ValidatesAndARunMeasuresIt()
    {
        var rig = Rig(string.Empty);

        var (checkCode, checkOut, checkErr) = InProcessCli.Run("validate", rig, ProcedureFile(), "--rig", rig);
        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", ProcedureFile(), "--out", Path.Combine(_dir, "run"));

        Assert.Multiple(() =>
        {
            Assert.That(checkCode, Is.EqualTo(0), checkOut + checkErr);
            Assert.That(code, Is.EqualTo(0), stdout + stderr);
            var t = DefaultRigCopy.Measurement(Path.Combine(_dir, "run"), "board_temp");
            Assert.That(t, Is.InRange(15.0, 35.0), "the bench's thermal model");
            Assert.That(t * 8, Is.EqualTo(Math.Round(t * 8)), "LM75B steps of 0.125 °C");
        });
    }

    [Test]
    public void Run_Lm75Nack_LostDeviceAndSafed()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", Rig("  faults:\n    - { device: board_temp, fault: nack, at: 0s }"), "-p", ProcedureFile(), "--out", Path.Combine(_dir, "run"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.EqualTo(0), stdout + stderr);
            Assert.That(stdout + stderr, Does.Contain("board_temp"));
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
        });
    }

    [Test]
    public void Run_Lm75NackWhileNothingReadsIt_LivenessFindsItLostWithinTwoSeconds()
    {
        // The procedure only waits: the liveness check alone must find the chip gone from the bus.
        var procedure = Path.Combine(_dir, "wait.yaml");
        File.WriteAllText(procedure, """
            procedure: wait-only
            safe-state:
              actions:
                - set: payload_io.payload_enable
                  value: 0
            steps:
              - id: idle
                do:
                  - wait: 30s
            """);
        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = InProcessCli.Run("run", Rig("  faults:\n    - { device: board_temp, fault: nack, at: 10s }"), "-p", procedure, "--out", outDir);

        Assert.That(code, Is.EqualTo(3), stdout + stderr);
        var record = TacRS.Hil.Reporting.Html.RunRecord.Load(Path.Combine(outDir, "record.jsonl"));
        var lost = record.Events.OfType<TacRS.Hil.Core.Recording.Note>().First(n => n.Category == "device-lost" || n.Message.Contains("lost", StringComparison.Ordinal));
        var start = record.Start!.At;
        Assert.That((lost.At - start).TotalSeconds, Is.InRange(10.0, 12.0), lost.Message);
        Assert.That(lost.Message, Does.Contain("board_temp"));
        Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
    }

    [Test]
    public void Check_Lm75WithAGpioFault_FileLineAndField()
    {
        var (code, stdout, stderr) = InProcessCli.Run("validate", Rig("  faults:\n    - { device: board_temp, fault: stuck-high, line: x }"));

        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stdout + stderr, Does.Match(@"rig\.yaml:\d+:\d+.*a 'lm75' device cannot have fault 'stuck-high'"));
    }

    private string Rig(string faultLines) => DefaultRigCopy.Write(_dir, t => t
        .Replace("  payload_temp:\n", "  board_temp: { kind: lm75, description: Avionics board temperature (LM75B), i2c: { bus: 1, address: 0x48 } }\n  payload_temp:\n", StringComparison.Ordinal)
        .Replace("simulation:\n", "simulation:\n" + (faultLines.Length > 0 ? faultLines + "\n" : string.Empty), StringComparison.Ordinal));

    private string ProcedureFile()
    {
        var path = Path.Combine(_dir, "board-temperature.yaml");
        File.WriteAllText(path, Procedure);
        return path;
    }
}
