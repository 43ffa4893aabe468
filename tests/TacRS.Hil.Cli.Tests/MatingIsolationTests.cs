using System.Text.Json;

namespace TacRS.Hil.Cli.Tests;

/// <summary>The mating procedure's isolation check through the umbilical relay box's insulation tester.</summary>
public sealed class MatingIsolationTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-iso-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Mating_IsolationBreakdown_FailsAtConnectorMateWithTheReadingAndSafes()
    {
        var rig = Rig("""
              faults:
                - { device: umbilical, fault: isolation-breakdown, at: 0s, for: 10h }
            """);

        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", "payload-vehicle-mating", "--out", Path.Combine(_dir, "run"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stdout + stderr);
            Assert.That(stdout, Does.Contain("isolation = 0.3 MOhm, limits >= 1 MOhm: FAIL"));
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
            Assert.That(Measurement("isolation"), Is.EqualTo(0.3).Within(1e-6));
        });
    }

    [Test]
    public void Mating_HealthyHarness_IsolationPassesAndIsRecorded()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", Rig(string.Empty), "-p", "payload-vehicle-mating", "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("isolation"), Is.EqualTo(120).Within(1e-3));
    }

    /// <summary>The default rig, copied outside the repository with its paths absolute, plus simulation lines.</summary>
    private string Rig(string simulationLines)
    {
        var path = TacRS.Hil.Testing.RepoPaths.WriteRig(_dir, t => t.Replace("simulation:\n", "simulation:\n" + (simulationLines.Length > 0 ? simulationLines + "\n" : string.Empty), StringComparison.Ordinal), name: "rig.yaml");
        return path;
    }

    private double Measurement(string name)
    {
        foreach (var line in File.ReadLines(Path.Combine(_dir, "run", "record.jsonl")))
        {
            var e = JsonDocument.Parse(line).RootElement;
            if (e.GetProperty("event").GetString() == "measurement" && e.GetProperty("name").GetString() == name)
            {
                return e.GetProperty("value").GetDouble();
            }
        }

        Assert.Fail($"no measurement '{name}' in the record");
        return double.NaN;
    }
}
