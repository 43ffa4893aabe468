using System.Text;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// An operator action on a debounced input (<c>mate umbilical_present</c>) is acknowledged only once the line has
/// settled, so the measurement right after the prompt reads the new state — in process (the simulated operator) and
/// in a rehearsal against <c>sim serve</c> (the bench console's reply), four mate/de-mate cycles in a row.
/// </summary>
[NonParallelizable]
public sealed class HarnessSettleTests
{
    private const int Cycles = 4;
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-settle-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void InProcess_PromptThenImmediateMeasurement_ReadsTheNewStateEveryTime()
    {
        var (code, stdout, stderr) = InProcessCli.Run("run", Rig(), "-p", Procedure(), "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(stdout, Does.Not.Contain("FAIL"));
    }

    [Test]
    public void Rehearsal_BenchConsoleAcknowledgesAfterTheLineSettled_ReadsTheNewStateEveryTime()
    {
        var rehearsal = Path.Combine(_dir, "rehearsal.yaml");
        using var serve = CliProcess.Start("sim", "serve", Rig(), "--dir", Path.Combine(_dir, "serve"), "--out", rehearsal);
        serve.WaitUntil(() => serve.Stderr.Contains("running in real time", StringComparison.Ordinal) && File.Exists(rehearsal), TimeSpan.FromSeconds(60), "sim serve to start");

        var (code, stdout, stderr) = CliProcess.Run(TimeSpan.FromMinutes(3), "run", rehearsal, "-p", Procedure(), "--unattended", "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(0), stdout + stderr + "\nsim serve:\n" + serve.Stderr);
        Assert.That(File.ReadAllText(Path.Combine(_dir, "run", "record.jsonl")), Does.Contain("rehearsal bench did 'mate umbilical_present'"));
        serve.Signal("INT");
        Assert.That(serve.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0), serve.Stderr);
    }

    /// <summary>The default rig with J1 de-mated at the start, and prompts that mate and de-mate it.</summary>
    private string Rig() => DefaultRigCopy.Write(_dir, t => t
        .Replace("  unattended-answers:\n", "  unattended-answers:\n    mate-j1: confirm\n    demate-j1: confirm\n", StringComparison.Ordinal)
        .Replace("    operator-actions:\n", "    contacts: { umbilical_present: open }\n    operator-actions:\n      mate-j1: mate umbilical_present\n      demate-j1: demate umbilical_present\n", StringComparison.Ordinal));

    /// <summary>Mate, measure at once, de-mate, measure at once: no waits anywhere.</summary>
    private string Procedure()
    {
        var yaml = new StringBuilder("""
            procedure: harness-settle
            safe-state:
              - set: payload_io.payload_enable
                value: 0
            steps:

            """);
        for (var i = 1; i <= Cycles; i++)
        {
            foreach (var (verb, value) in new[] { ("mate", 1), ("demate", 0) })
            {
                yaml.Append($"""
                      - id: {verb}-{i}
                        do:
                          - prompt: {verb} J1, then confirm
                            id: {verb}-j1
                        measure:
                          - name: {verb}d_{i}
                            signal: payload_io.umbilical_present
                            expect: {value}
                        timeout: 1min

                    """);
            }
        }

        var path = Path.Combine(_dir, "settle.yaml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }
}
