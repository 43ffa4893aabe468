using System.Diagnostics;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Artifacts that cannot be written: a full disk in the middle of a run, a read-only or impossible --out, a
/// directory that already holds a run, and a results history that is a directory, corrupt, foreign or locked.
/// A run that cannot even create its record never starts (exit 2); once it has started, the rig is still
/// safed, each failure is one line naming the file and the OS error, the exit code is 4, and the console's
/// last line announces exactly the exit code the process returns.
/// </summary>
[NonParallelizable]
public sealed class ArtifactFailureTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-artifacts-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Run_DiskFillsMidRun_RigSafedEachFileNamedExit4AndTheConsoleSaysExit4()
    {
        // A 24 KiB filesystem of its own (a private mount namespace, no root needed): the record fills it mid-run.
        var (code, stdout, stderr) = InPrivateMount("size=24k", "run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", "{mnt}/run");

        Assert.That(code, Is.EqualTo(4), stdout + stderr);
        Assert.Multiple(() =>
        {
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"), "safing ran to the end although nothing more could be recorded");
            Assert.That(stdout.TrimEnd().Split('\n')[^2], Does.StartWith("RESULT: PASS").And.EndWith("; exit 4"));
            Assert.That(stderr, Does.Match(@"artifact not written: \S+/run/record\.jsonl: No space left on device \(the first \d+ events were written; the rest are missing\)"));
            Assert.That(stderr, Does.Contain("/run/junit.xml: No space left on device"));
            Assert.That(stderr, Does.Not.Contain("Unhandled exception").And.Not.Contain("   at "));
        });
    }

    [Test]
    public void Run_OutIsReadOnly_Exit2NothingRan()
    {
        var (code, stdout, stderr) = InPrivateMount("size=1m,ro", "run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", "{mnt}/run");

        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr.Trim(), Does.Match(@"^tacrs-hil: \S+/run/record\.jsonl: cannot create the run's record: .*Read-only file system.*; nothing was run$"));
        Assert.That(stdout, Does.Not.Contain("RESULT"));
    }

    [Test]
    public void Run_OutUnderAFile_Exit2NothingRan()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "not a directory");

        var (code, _, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", Path.Combine(file, "run"));

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("cannot create the run's record").And.Contain("nothing was run"));
    }

    [Test]
    public void Run_OutAlreadyHoldsARun_Exit2AndTheFirstRecordIsUntouched()
    {
        var run = Path.Combine(_dir, "run");
        Assert.That(InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", run).ExitCode, Is.Zero);
        var before = File.ReadAllBytes(Path.Combine(run, "record.jsonl"));
        var firstId = RunRecord.Load(Path.Combine(run, "record.jsonl")).Start!.RunId;

        var (code, stdout, stderr) = InProcessCli.Run("run", "hil-configs/sim-laptop.yaml", "-p", "payload-power-on", "--out", run);

        Assert.That(code, Is.EqualTo(2), stdout + stderr);
        Assert.That(stderr, Does.Contain($"--out {run} already holds run {firstId}"));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "record.jsonl")), Is.EqualTo(before));
    }

    [TestCase("directory")]
    [TestCase("corrupt")]
    [TestCase("foreign")]
    [TestCase("locked")]
    public void Run_HistoryCannotBeWritten_OneLineNamingItExit4AfterASafedPass(string kind)
    {
        var history = Path.Combine(_dir, "history.db");
        using var holder = PrepareHistory(history, kind);
        var rig = RepoPaths.WriteRig(_dir, t => t + $"history: {history}\n", name: "rig.yaml");

        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--out", Path.Combine(_dir, "run"));

        Assert.That(code, Is.EqualTo(4), stdout + stderr);
        var problem = stderr.Split('\n').Where(l => l.StartsWith("tacrs-hil: artifact not written: ", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(problem, Has.Count.EqualTo(1), stderr);
            Assert.That(problem[0], Does.StartWith($"tacrs-hil: artifact not written: {history}: "));
            Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
            Assert.That(stdout, Does.Contain("RESULT: PASS").And.Contain("ARTIFACTS INCOMPLETE: history.db not written").And.Contain("; exit 4"));
            Assert.That(File.Exists(Path.Combine(_dir, "run", "junit.xml")), Is.True, "the other artifacts are written");
            Assert.That(RunRecord.Load(Path.Combine(_dir, "run", "record.jsonl")).Events.OfType<Core.Recording.Note>().Single(n => n.Category == "artifacts").Fields!["exit-code"], Is.EqualTo("4"));
        });
    }

    private static IDisposable? PrepareHistory(string path, string kind)
    {
        switch (kind)
        {
            case "directory":
                Directory.CreateDirectory(path);
                return null;
            case "corrupt":
                File.WriteAllBytes(path, [.. "SQLite format 3\0"u8, .. Enumerable.Repeat((byte)0xA5, 4080)]);
                return null;
            case "foreign":
                Sqlite(path, "CREATE TABLE schema_info (version INTEGER); INSERT INTO schema_info VALUES (99);");
                return null;
            default:
                // Another process holds the database in an exclusive transaction for longer than the run waits.
                var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", $"import sqlite3, time; c = sqlite3.connect({Quote(path)}, isolation_level=None); c.execute('CREATE TABLE IF NOT EXISTS t (x)'); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)"]) { RedirectStandardOutput = true })!;
                Assert.That(p.StandardOutput.ReadLine(), Is.EqualTo("locked"));
                return new Killer(p);
        }
    }

    private static void Sqlite(string path, string sql)
    {
        using var p = Process.Start("/usr/bin/python3", ["-c", $"import sqlite3; c = sqlite3.connect({Quote(path)}); c.executescript({Quote(sql)}); c.commit()"]);
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero);
    }

    private static string Quote(string s) => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>Runs the CLI in a private mount namespace with a tmpfs of the given options at {mnt}.</summary>
    private (int Code, string Stdout, string Stderr) InPrivateMount(string options, params string[] args)
    {
        var mnt = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(mnt);
        var cli = string.Join(' ', args.Select(a => "'" + a.Replace("{mnt}", mnt, StringComparison.Ordinal) + "'"));
        var script = $"mount -t tmpfs -o {options} tmpfs '{mnt}' && exec dotnet '{CliProcess.Dll}' {cli}";
        var psi = new ProcessStartInfo("unshare", ["--map-root-user", "--mount", "sh", "-c", script])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["XDG_DATA_HOME"] = Path.Combine(_dir, "data");
        psi.Environment["TACRS_HIL_LOCK_DIR"] = CliProcess.LockDirectory;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the run did not end within 2 minutes");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private sealed class Killer(Process p) : IDisposable
    {
        public void Dispose()
        {
            p.Kill();
            p.WaitForExit();
            p.Dispose();
        }
    }
}
