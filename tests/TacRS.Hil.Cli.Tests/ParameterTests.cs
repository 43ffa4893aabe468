using System.Text.Json;

namespace TacRS.Hil.Cli.Tests;

/// <summary>Procedure parameters (<c>${power-on.soak:-10min}</c>): the default, a rig's value, <c>--set</c>, and the record.</summary>
public sealed class ParameterTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-param-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Run_PowerOnWithoutSet_SoaksTenMinutesAndRecordsNoParameter()
    {
        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", Path.Combine(_dir, "default"));

        Assert.That(code, Is.EqualTo(0), stderr);
        var (duration, context) = Soak(Path.Combine(_dir, "default"));
        Assert.Multiple(() =>
        {
            Assert.That(duration, Is.EqualTo(TimeSpan.FromMinutes(10)).Within(TimeSpan.FromSeconds(1)));
            Assert.That(context.Keys, Has.None.StartsWith("parameter."));
        });
    }

    [Test]
    public void Run_SetSoak_SoaksThatLongAndRecordsTheValue()
    {
        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--set", "power-on.soak=45s", "--out", Path.Combine(_dir, "set"));

        Assert.That(code, Is.EqualTo(0), stderr);
        var (duration, context) = Soak(Path.Combine(_dir, "set"));
        Assert.Multiple(() =>
        {
            Assert.That(duration, Is.EqualTo(TimeSpan.FromSeconds(45)).Within(TimeSpan.FromSeconds(1)));
            Assert.That(context, Does.ContainKey("parameter.power-on.soak").WithValue("45s"));
        });
    }

    [Test]
    public void Run_RigParameterAndSet_SetWinsAndRigValueUsedOtherwise()
    {
        // A copy of the default rig outside the repository, its relative paths made absolute.
        var rig = TacRS.Hil.Testing.RepoPaths.WriteRig(_dir, t => t.Replace("rig: sim-laptop\n", "rig: sim-param-test\nparameters:\n  power-on.soak: 20s\n", StringComparison.Ordinal), name: "sim-param-test.yaml");
        {
            var (c1, _, e1) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--out", Path.Combine(_dir, "rig"));
            var (c2, _, e2) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--set", "power-on.soak=5s", "--out", Path.Combine(_dir, "both"));

            Assert.That((c1, c2), Is.EqualTo((0, 0)), e1 + e2);
            Assert.Multiple(() =>
            {
                Assert.That(Soak(Path.Combine(_dir, "rig")).Duration, Is.EqualTo(TimeSpan.FromSeconds(20)).Within(TimeSpan.FromSeconds(1)));
                Assert.That(Soak(Path.Combine(_dir, "both")).Duration, Is.EqualTo(TimeSpan.FromSeconds(5)).Within(TimeSpan.FromSeconds(1)));
                Assert.That(Soak(Path.Combine(_dir, "both")).Context, Does.ContainKey("parameter.power-on.soak").WithValue("5s"));
            });
        }
    }

    [TestCase("power-on.soak")]
    [TestCase("=30s")]
    [TestCase("Soak=30s")]
    public void Run_MalformedSet_Exit2NamesItAndRunsNothing(string value)
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--set", value, "--out", Path.Combine(_dir, "bad"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr, Does.Contain($"--set '{value}'").And.Contain("NAME=VALUE"));
            Assert.That(Directory.Exists(Path.Combine(_dir, "bad")), Is.False, stdout);
        });
    }

    [Test]
    public void Run_SetValueNotADuration_Exit2AtTheProcedureLine()
    {
        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--set", "power-on.soak=long", "--out", Path.Combine(_dir, "notduration"));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr, Does.Match(@"payload-power-on\.yaml:\d+:\d+: .*long"));
        });
    }

    private static (TimeSpan Duration, Dictionary<string, string> Context) Soak(string runDir)
    {
        DateTimeOffset? start = null, end = null;
        var context = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(runDir, "record.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var kind = e.GetProperty("event").GetString();
            if (kind == "run-start" && e.TryGetProperty("context", out var ctx))
            {
                foreach (var p in ctx.EnumerateObject())
                {
                    context[p.Name] = p.Value.GetString()!;
                }
            }
            else if (e.TryGetProperty("step", out var step) && step.GetString() == "soak")
            {
                var at = e.GetProperty("at").GetDateTimeOffset();
                if (kind == "step-start")
                {
                    start = at;
                }
                else if (kind == "step-end")
                {
                    end = at;
                }
            }
        }

        Assert.That(start, Is.Not.Null, "no soak step-start in the record");
        Assert.That(end, Is.Not.Null, "no soak step-end in the record");
        return (end!.Value - start!.Value, context);
    }
}
