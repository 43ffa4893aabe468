using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Avionics.Simulated;

namespace TacRS.Hil.Cli.Tests.Commands;

public class ReplayCommandTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "tacrs-replay-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var obc = new FlightComputerEmulator(new FlightComputerOptions(), new FakeTimeProvider(), new Random(1));
        obc.PowerOn();
        var at = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        using var archive = new PacketArchiveWriter(File.Create(Path.Combine(_dir, "obc.packets.jsonl")), "obc", RepoPaths.Fixture("dictionaries", "payload-obc.yaml"));
        for (var i = 0; i < 3; i++)
        {
            archive.Write(at.AddSeconds(i), PacketDirection.Received, "sim://obc", obc.BuildHousekeeping());
        }

        archive.Write(at.AddSeconds(4), PacketDirection.Sent, "sim://obc", [0x18, 0x90, 0xC0, 0x00, 0x00, 0x01, 0x00, 0x96]);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Run_WithArchiveDictionary_WritesTelemetryRecord()
    {
        var stdout = new StringWriter();
        var code = ReplayCommand.Run(new DirectoryInfo(_dir), null, null, stdout, new StringWriter());
        Assert.That(code, Is.Zero);
        var lines = File.ReadAllLines(Path.Combine(_dir, "obc.telemetry.jsonl"));
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[0], Does.Contain("\"packet\":\"OBC_HK\"").And.Contain("\"mode_label\":\"BOOT\""));
        Assert.That(stdout.ToString(), Does.StartWith("obc: 3 packets received, 3 decoded, 0 unknown, 0 events"));
    }

    [Test]
    public void Run_WithCorrectedDictionary_RecalibratesValues()
    {
        var corrected = Path.Combine(_dir, "corrected.yaml");
        File.WriteAllText(corrected, File.ReadAllText(RepoPaths.Fixture("dictionaries", "payload-obc.yaml"))
            .Replace("calibration: { linear: { scale: 0.001 } }         # millivolts", "calibration: { linear: { scale: 0.002 } }         # corrected", StringComparison.Ordinal));
        var code = ReplayCommand.Run(new DirectoryInfo(_dir), new FileInfo(corrected), null, new StringWriter(), new StringWriter());
        Assert.That(code, Is.Zero);
        var first = File.ReadLines(Path.Combine(_dir, "obc.telemetry.jsonl")).First();
        var v = System.Text.Json.JsonDocument.Parse(first).RootElement.GetProperty("values").GetProperty("bus_voltage").GetDouble();
        Assert.That(v, Is.EqualTo(56.0).Within(0.05));
        Assert.That(first, Does.Contain("\"bus_voltage_limit\":\"red\""));
    }

    [Test]
    public void Run_NoArchive_ConfigError()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        var stderr = new StringWriter();
        Assert.That(ReplayCommand.Run(empty, null, null, new StringWriter(), stderr), Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("no avionics packet archive"));
    }

    [Test]
    public void Build_ParsesArguments()
    {
        var cmd = ReplayCommand.Build();
        var result = cmd.Parse([_dir, "--dictionary", "x.yaml"]);
        Assert.That(result.Errors, Is.Empty);
        Assert.That(cmd.Name, Is.EqualTo("replay"));
    }
}
