using System.Globalization;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Core.Threading;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.JUnit;

namespace TacRS.Hil.Reporting.Nightly;

/// <summary>
/// What the runner asks the CLI to do: run <see cref="Procedure"/> on the rig in <see cref="RigFile"/>
/// with <see cref="Seed"/> (plus <see cref="Faults"/>, raw suite nodes so the fault parser can report
/// <c>file:line:col</c> in the suite) into <see cref="RunDirectory"/>, recording into
/// <see cref="HistoryPath"/> when set. The run is unattended: nobody answers prompts at night.
/// </summary>
public sealed record RunRequest(
    string Id,
    string Name,
    string Procedure,
    string Rig,
    string RigFile,
    long Seed,
    IReadOnlyList<ConfigNode> Faults,
    RunExpectation Expect,
    string RunDirectory,
    TimeSpan? Timeout,
    SourceLocation DefinedAt,
    string? HistoryPath = null);

/// <summary>
/// What the run host reports back: the verdict's outcome and exit code, the record as it was produced
/// (no reading back), and where its report and history rows went. A run that could not start (a bad rig)
/// has no record.
/// </summary>
public sealed record RunSummary(string Outcome, int ExitCode, string Reason, RunRecord? Record = null, string? ReportPath = null, string? HistoryNote = null);

public enum ExpectationVerdict
{
    /// <summary>The run came to what the suite expected (a pass, or an expected failure) and reached its safe state.</summary>
    Expected,

    /// <summary>A failure nobody expected, a faulted variant that passed (the harness missed the fault), or a rig left unsafe.</summary>
    Unexpected,
}

/// <summary>One run's result in the suite.</summary>
public sealed record RunResult(
    RunRequest Request,
    string Outcome,
    ExpectationVerdict Verdict,
    string Reason,
    TimeSpan WallTime,
    DateTimeOffset StartedAt,
    RunRecord? Record,
    string? ReportPath,
    string? HistoryNote,
    int ExitCode = 0)
{
    public bool ExpectedFailure => Verdict == ExpectationVerdict.Expected && Request.Expect.ExpectsFailure;
}

/// <summary>The whole nightly run.</summary>
public sealed record NightlyResult(
    NightlySuite Suite,
    string OutputDirectory,
    IReadOnlyList<RunResult> Runs,
    DateTimeOffset StartedAt,
    TimeSpan WallTime,
    bool Cancelled,
    string JUnitPath,
    string IndexPath,
    IReadOnlyList<ArtifactProblem>? ArtifactProblems = null)
{
    public int Unexpected => Runs.Count(r => r.Verdict == ExpectationVerdict.Unexpected);

    public int ExpectedFailures => Runs.Count(r => r.ExpectedFailure);

    /// <summary>
    /// 0 when everything came out as expected; 1 when anything did not; 3 when cancelled; 4 when a run's or the
    /// suite's artifacts are incomplete. Derived from the same results the JUnit file counts (failures == unexpected).
    /// </summary>
    public int ExitCode =>
        ArtifactProblems is { Count: > 0 } || Runs.Any(r => r.ExitCode == ExitCodes.ArtifactsIncomplete) ? ExitCodes.ArtifactsIncomplete
        : Cancelled ? ExitCodes.Aborted
        : Unexpected > 0 ? ExitCodes.Failed
        : ExitCodes.Passed;
}

/// <summary>Hears about runs as they start and end (the CLI's live progress or plain log lines).</summary>
public interface INightlyObserver
{
    void RunStarted(RunRequest request);

    void RunFinished(RunResult result);
}

/// <summary>
/// Runs a suite: each entry through the run host (the same one <c>tacrs-hil run</c> uses, in process),
/// in its own directory, up to <c>parallel</c> at once; then one aggregated JUnit file and an index
/// page from the results the host handed back. A run that exceeds the suite's timeout is aborted with
/// outcome TIMEOUT and safed; aborting the suite aborts the runs in flight (safed) and starts no more.
/// </summary>
public sealed class NightlyRunner(
    Func<RunRequest, RunAbort, Task<RunSummary>> runFunction,
    TimeProvider timeProvider,
    INightlyObserver? observer = null)
{
    public const string JUnitFileName = JUnitWriter.FileName;
    public const string IndexFileName = "index.html";

    private readonly Lock _gate = new();

    /// <param name="parallel">Overrides the suite's <c>parallel</c> when given.</param>
    /// <param name="historyPath">Overrides the suite's <c>history</c> when given.</param>
    public async Task<NightlyResult> RunAsync(NightlySuite suite, string outputDirectory, RunAbort abort, int? parallel = null, string? historyPath = null)
    {
        Directory.CreateDirectory(outputDirectory);
        var startedAt = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();
        var width = Math.Max(1, parallel ?? suite.Parallel);
        var slots = new AsyncGate(width);
        var history = historyPath ?? suite.HistoryPath;
        var tasks = suite.Runs.Select(run => RunSlotAsync(run, outputDirectory, history, slots, abort)).ToList();
        var results = await Task.WhenAll(tasks);

        var junit = Path.Combine(outputDirectory, JUnitFileName);
        var index = Path.Combine(outputDirectory, IndexFileName);
        var result = new NightlyResult(suite, outputDirectory, results, startedAt, timeProvider.GetElapsedTime(started), abort.IsRequested, junit, index);
        var problems = new List<ArtifactProblem>();
        Artifact(problems, junit, () => JUnitWriter.Write(junit, suite.Name, results.Select((r, i) => Suite(r, i)).ToList(), result.WallTime.TotalSeconds, startedAt));
        Artifact(problems, index, () => NightlyIndex.Write(result, index));
        return result with { ArtifactProblems = problems };
    }

    private static void Artifact(List<ArtifactProblem> problems, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new ArtifactProblem(path, e.Message));
        }
    }

    private static System.Xml.Linq.XElement Suite(RunResult r, int id)
    {
        var expectation = new JUnitExpectation(r.Request.Expect.ToString(), r.Verdict == ExpectationVerdict.Expected, r.Reason);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["rig-file"] = r.Request.RigFile,
            ["run-directory"] = r.Request.RunDirectory,
            ["report"] = r.ReportPath ?? string.Empty,
        };
        if (r.HistoryNote is { } h)
        {
            properties["history"] = h;
        }

        // A run that never started (a bad rig) has no record: its suite is the expectation case alone.
        var record = r.Record ?? RunRecord.FromEvents([], r.Request.RunDirectory);
        return JUnitWriter.Suite(new JUnitRun(record, r.Request.Id, expectation, properties, r.WallTime.TotalSeconds), id);
    }

    private async Task<RunResult> RunSlotAsync(SuiteRun run, string outputDirectory, string? history, AsyncGate slots, RunAbort abort)
    {
        var request = new RunRequest(run.Id, run.Name, run.Procedure, run.Rig, run.RigFile, run.Seed, run.Faults, run.Expect,
            Path.GetFullPath(Path.Combine(outputDirectory, run.Id)), run.Timeout, run.Location, history);
        AsyncGate.Releaser slot;
        try
        {
            slot = await slots.EnterAsync(abort.Token);
        }
        catch (OperationCanceledException)
        {
            return Finish(NotStarted(request, abort));
        }

        using (slot)
        {
            if (abort.IsRequested)
            {
                return Finish(NotStarted(request, abort));
            }

            // Hand the run to the thread pool (when no scheduler is installed), so a run function that
            // works synchronously for a while still runs beside the others.
            await Task.Yield();
            return Finish(await RunOneAsync(request, abort));
        }
    }

    private RunResult NotStarted(RunRequest request, RunAbort abort) =>
        Judge(request, null, abort.Outcome.ToWire(), $"not started: {abort.Reason ?? "the suite was cancelled"}", TimeSpan.Zero, timeProvider.GetUtcNow(), exitCode: ExitCodes.Aborted);

    private RunResult Finish(RunResult result)
    {
        lock (_gate)
        {
            observer?.RunFinished(result);
        }

        return result;
    }

    private async Task<RunResult> RunOneAsync(RunRequest request, RunAbort suite)
    {
        lock (_gate)
        {
            observer?.RunStarted(request);
        }

        var startedAt = timeProvider.GetUtcNow();
        var t0 = timeProvider.GetTimestamp();

        // The run's own abort: the suite's (a signal) or its timeout, whichever comes first, with its own outcome.
        using var abort = new RunAbort();
        using var follow = abort.Follow(suite);
        using var timer = request.Timeout is { } t
            ? timeProvider.CreateTimer(_ => abort.Request($"the run exceeded the suite's timeout of {Duration.Format(t)}", Outcome.Timeout), null, t, Timeout.InfiniteTimeSpan)
            : null;
        RunSummary summary;
        try
        {
            summary = await runFunction(request, abort);
        }
        catch (Exception e)
        {
            // The host hands back a verdict for every way a run ends; a throw here is a host bug, still one result.
            var (outcome, reason) = OutcomeClassifier.Classify(e, null, abort.Cause);
            summary = new RunSummary(outcome.ToWire(), outcome.IsAbort() ? ExitCodes.Aborted : ExitCodes.Failed, outcome == Outcome.Error ? "run host failed: " + reason : reason);
        }

        return Judge(request, summary.Record, summary.Outcome, summary.Reason, timeProvider.GetElapsedTime(t0), startedAt, summary.ExitCode) with
        {
            ReportPath = summary.ReportPath,
            HistoryNote = summary.HistoryNote,
        };
    }

    /// <summary>Compares what happened with what the suite expected; a rig left unsafe is unexpected unless the suite says the fault makes it so.</summary>
    public static RunResult Judge(RunRequest request, RunRecord? record, string outcome, string reason, TimeSpan wall, DateTimeOffset startedAt, int exitCode = 0)
    {
        var expect = request.Expect;
        var verdict = expect.Outcomes.Contains(outcome) ? ExpectationVerdict.Expected : ExpectationVerdict.Unexpected;
        var why = reason;
        if (record?.End is { } end && end.SafeStateReached != expect.SafeStateReached)
        {
            verdict = ExpectationVerdict.Unexpected;
            why = end.SafeStateReached
                ? $"expected the safe state NOT to be reached (the fault makes it unreachable), but the run claims it was (run {outcome}: {reason})"
                : $"{RunVerdict.SafeStateNotReached} (run {outcome}: {reason})";
        }
        else if (verdict == ExpectationVerdict.Expected && expect.FailedStep is { } step)
        {
            var failedThere = record?.Steps.Any(s => s.Step == step && !s.Passed) ?? false;
            if (!failedThere)
            {
                verdict = ExpectationVerdict.Unexpected;
                why = $"expected step '{step}' to fail, but it did not (run {outcome}: {reason})";
            }
        }
        else if (verdict == ExpectationVerdict.Unexpected && expect.ExpectsFailure && OutcomeExtensions.IsPassWord(outcome))
        {
            why = $"expected {expect} but the run passed: the harness did not catch the injected fault";
        }
        else if (verdict == ExpectationVerdict.Unexpected && expect.ExpectsFailure)
        {
            why = $"expected {expect}, got {outcome}: {reason}";
        }

        return new RunResult(request, outcome, verdict, why, wall, startedAt, record, null, null, exitCode);
    }

    /// <summary>A one-line account of where a run's history rows went.</summary>
    public static string HistoryNoteFor(int measurements, string path) =>
        $"{measurements.ToString(CultureInfo.InvariantCulture)} measurements recorded in {path}";
}
