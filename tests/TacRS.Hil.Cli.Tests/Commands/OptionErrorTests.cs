using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Commands;

/// <summary>A bad option value reads like every other usage error, names the option and the value, and runs nothing.</summary>
public sealed class OptionErrorTests
{
    [TestCase("run", "--seed", "abc", "--seed 'abc': expected a whole number such as 42")]
    [TestCase("run", "--seed", "1.5", "--seed '1.5': expected a whole number such as 42")]
    [TestCase("run", "--wait-for-rig", "soon", "--wait-for-rig 'soon': expected a duration such as 30s, 10min or 2h")]
    [TestCase("run", "--wait-for-rig", "0s", "--wait-for-rig '0s': expected a duration such as 30s, 10min or 2h")]
    public void Run_BadOptionValue_Exit2NamingOptionAndValueNoTypeName(string command, string option, string value, string message)
    {
        var (code, stdout, stderr) = InProcessCli.Run(command, "hil-configs/sim-laptop.yaml", option, value);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("tacrs-hil: " + message));
        Assert.That(stderr, Does.Not.Contain("System.").And.Not.Contain("Nullable"));
        Assert.That(stdout, Does.Not.Contain("RESULT"));
    }

    [TestCase("sim serve hil-configs/sim-laptop.yaml --seed x1", "--seed 'x1': expected a whole number such as 42")]
    [TestCase("passes fixtures/tle/tacrs-sat-2026.tle --station 31.25,131.08,200 --hours many", "--hours 'many': expected a number such as 12.5")]
    [TestCase("history bus_voltage --last -3", "--last '-3': expected a whole number of at least 1")]
    public void OtherCommands_BadOptionValue_Exit2(string commandLine, string message)
    {
        var (code, _, stderr) = InProcessCli.Run(commandLine.Split(' '));

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("tacrs-hil: " + message));
    }

    [TestCase("--parallel", "0", "--parallel '0': expected a whole number of at least 1")]
    [TestCase("--parallel", "two", "--parallel 'two': expected a whole number of at least 1")]
    public void Nightly_BadOptionValue_Exit2(string option, string value, string message)
    {
        var (code, _, stderr) = InProcessCli.Run("nightly", "hil-configs/nightly.yaml", option, value);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("tacrs-hil: " + message));
    }

    [Test]
    public void Validate_SigtermDuringALongValidation_StopsAtOnce()
    {
        var dir = Directory.CreateTempSubdirectory("tacrs-validate-term-").FullName;
        try
        {
            // A hundred large procedures (each inside the reader's bounds): validating them all takes far longer than the test waits.
            var text = new System.Text.StringBuilder("procedure: huge\nsafe-state:\n  actions:\n    - wait: 1s\nsteps:\n");
            for (var i = 0; i < 30_000; i++)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - id: s{i}\n    do:\n      - wait: 1s\n");
            }

            var files = Enumerable.Range(0, 100).Select(i => Path.Combine(dir, $"huge-{i}.yaml")).ToArray();
            foreach (var f in files)
            {
                File.WriteAllText(f, text.ToString());
            }

            using var cli = CliProcess.Start(["validate", .. files]);
            using (var tick = new ManualResetEventSlim())
            {
                tick.Wait(TimeSpan.FromSeconds(2));
            }

            var signalled = TimeProvider.System.GetTimestamp();
            cli.Signal("TERM");
            var code = cli.WaitForExit(TimeSpan.FromSeconds(20));

            Assert.That(code, Is.EqualTo(3).Or.EqualTo(2), cli.Stderr);
            Assert.That(TimeProvider.System.GetElapsedTime(signalled), Is.LessThan(TimeSpan.FromSeconds(10)));
            Assert.That(cli.Stderr, Does.Contain("validate: SIGTERM (terminate): stopped"));
            Assert.That(cli.Stdout.Split('\n').Count(l => l.EndsWith(": ok", StringComparison.Ordinal)), Is.LessThan(files.Length), "stopped before the end");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
