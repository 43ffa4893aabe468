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
            Assert.That(stdout, Does.Match(@"isolation = 0\.(29|30|31)\d* MOhm, limits >= 10 MOhm: FAIL"), "the vehicle profile's 10 MOhm minimum");
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
            Assert.That(Measurement("isolation"), Is.EqualTo(0.3).Within(0.02));
        });
    }

    [Test]
    public void Mating_HealthyHarness_IsolationPassesAndIsRecorded()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", Rig(string.Empty), "-p", "payload-vehicle-mating", "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("isolation"), Is.InRange(90.0, 450.0), "the harness's own isolation, per bench from the seed");
    }

    private string Rig(string simulationLines) => DefaultRigCopy.WithSimulation(_dir, simulationLines);

    private double Measurement(string name) => DefaultRigCopy.Measurement(Path.Combine(_dir, "run"), name);
}
