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

    [TestCase("--parallel", "0", "--parallel '0': expected a whole number of at least 1")]
    [TestCase("--parallel", "two", "--parallel 'two': expected a whole number of at least 1")]
    public void Nightly_BadOptionValue_Exit2(string option, string value, string message)
    {
        var (code, _, stderr) = InProcessCli.Run("nightly", "hil-configs/nightly.yaml", option, value);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("tacrs-hil: " + message));
    }

    [Test]
    public void Validate_SigtermOnALargeFile_StopsAtOnce()
    {
        var dir = Directory.CreateTempSubdirectory("tacrs-validate-term-").FullName;
        try
        {
            // About 80 MB of procedure: validating it takes far longer than the test waits.
            var file = Path.Combine(dir, "huge.yaml");
            using (var w = new StreamWriter(file))
            {
                w.WriteLine("procedure: huge\nsafe-state:\n  actions:\n    - wait: 1s\nsteps:");
                for (var i = 0; i < 1_000_000; i++)
                {
                    w.WriteLine($"  - id: s{i}\n    do:\n      - wait: 1s");
                }
            }

            using var cli = CliProcess.Start("validate", file);
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
            Assert.That(cli.Stdout, Does.Not.Contain(": ok"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
