using TacRS.Hil.Core.Threading;
using System.Globalization;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Nightly;

/// <summary>
/// What the runner asks the CLI to do: run <see cref="Procedure"/> on the rig in <see cref="RigFile"/>
/// with <see cref="Seed"/> (plus <see cref="Faults"/>, raw suite nodes so the fault parser can report
/// <c>file:line:col</c> in the suite), writing <c>record.jsonl</c> into <see cref="RunDirectory"/>.
/// The run must be unattended: nobody answers prompts at night.
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
    SourceLocation DefinedAt);

/// <summary>What the run function reports back. The record in the run directory is the authority; this is the fallback.</summary>
public sealed record RunSummary(string Outcome, int ExitCode, string? Reason = null);

public enum RunVerdict
{
    /// <summary>The run came to what the suite expected (a pass, or an expected failure).</summary>
    Expected,

    /// <summary>A failure nobody expected, or a faulted variant that passed (the harness missed the fault).</summary>
    Unexpected,
}

/// <summary>One run's result in the suite.</summary>
public sealed record RunResult(
    RunRequest Request,
    string Outcome,
    RunVerdict Verdict,
    string Reason,
    TimeSpan WallTime,
    DateTimeOffset StartedAt,
    RunRecord? Record,
    string? ReportPath,
    string? HistoryNote)
{
    public bool ExpectedFailure => Verdict == RunVerdict.Expected && Request.Expect.ExpectsFailure;
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
    string IndexPath)
{
    public int Unexpected => Runs.Count(r => r.Verdict == RunVerdict.Unexpected);

    public int ExpectedFailures => Runs.Count(r => r.ExpectedFailure);

    /// <summary>0 when everything came out as expected; 1 when anything did not; 3 when cancelled.</summary>
    public int ExitCode => Cancelled ? ExitCodes.Aborted : Unexpected > 0 ? ExitCodes.Failed : ExitCodes.Passed;
}

/// <summary>Hears about runs as they start and end (the CLI's live progress or plain log lines).</summary>
public interface INightlyObserver
{
    void RunStarted(RunRequest request);

    void RunFinished(RunResult result);
}

/// <summary>
/// Runs a suite: each run in its own directory, up to <c>parallel</c> at once, through the run
/// function the CLI supplies; then a report per run, the results history, one aggregated JUnit file
/// and an index page. A run that throws or times out is an ERROR/TIMEOUT result, never the end of
/// the suite; cancelling the token stops starting new runs and marks the rest ABORTED.
/// </summary>
public sealed class NightlyRunner(
    Func<RunRequest, CancellationToken, Task<RunSummary>> runFunction,
    TimeProvider timeProvider,
    INightlyObserver? observer = null)
{
    public const string JUnitFileName = "junit.xml";
    public const string IndexFileName = "index.html";

    private readonly Lock _gate = new();

    /// <param name="parallel">Overrides the suite's <c>parallel</c> when given.</param>
    /// <param name="historyPath">Overrides the suite's <c>history</c> when given.</param>
    public async Task<NightlyResult> RunAsync(NightlySuite suite, string outputDirectory, int? parallel = null, string? historyPath = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(outputDirectory);
        var startedAt = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();
        var width = Math.Max(1, parallel ?? suite.Parallel);
        var slots = new AsyncGate(width);
        var tasks = suite.Runs.Select(run => RunSlotAsync(run, outputDirectory, slots, cancellationToken)).ToList();
        var results = await Task.WhenAll(tasks);

        var history = historyPath ?? suite.HistoryPath;
        if (history is not null)
        {
            results = RecordHistory(results, history);
        }

        var junit = Path.Combine(outputDirectory, JUnitFileName);
        var index = Path.Combine(outputDirectory, IndexFileName);
        var result = new NightlyResult(suite, outputDirectory, results, startedAt, timeProvider.GetElapsedTime(started),
            cancellationToken.IsCancellationRequested, junit, index);
        JUnitReport.Write(result, junit);
        NightlyIndex.Write(result, index);
        return result;
    }

    private async Task<RunResult> RunSlotAsync(SuiteRun run, string outputDirectory, AsyncGate slots, CancellationToken ct)
    {
        var request = new RunRequest(run.Id, run.Name, run.Procedure, run.Rig, run.RigFile, run.Seed, run.Faults, run.Expect,
            Path.GetFullPath(Path.Combine(outputDirectory, run.Id)), run.Timeout, run.Location);
        try
        {
            await slots.EnterAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return Finish(Judge(request, null, "ABORTED", "not started: the suite was cancelled", TimeSpan.Zero, timeProvider.GetUtcNow()));
        }

        if (ct.IsCancellationRequested)
        {
            slots.Release();
            return Finish(Judge(request, null, "ABORTED", "not started: the suite was cancelled", TimeSpan.Zero, timeProvider.GetUtcNow()));
        }

        try
        {
            // Hand the run to the thread pool (when no scheduler is installed), so a run function that
            // works synchronously for a while still runs beside the others.
            await Task.Yield();
            return Finish(await RunOneAsync(request, ct));
        }
        finally
        {
            slots.Release();
        }
    }

    private RunResult Finish(RunResult result)
    {
        lock (_gate)
        {
            observer?.RunFinished(result);
        }

        return result;
    }

    private async Task<RunResult> RunOneAsync(RunRequest request, CancellationToken ct)
    {
        Directory.CreateDirectory(request.RunDirectory);
        lock (_gate)
        {
            observer?.RunStarted(request);
        }

        var startedAt = timeProvider.GetUtcNow();
        var t0 = timeProvider.GetTimestamp();
        var timeout = request.Timeout;
        using var timeoutSource = timeout is { } t ? new CancellationTokenSource(t, timeProvider) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        string outcome;
        string reason;
        try
        {
            var summary = await runFunction(request, linked.Token);
            (outcome, reason) = (summary.Outcome, summary.Reason ?? string.Empty);
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            (outcome, reason) = ("TIMEOUT", $"the run exceeded the suite's timeout of {Duration.Format(timeout!.Value)}");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            (outcome, reason) = ("ABORTED", "the suite was cancelled");
        }
        catch (Exception e)
        {
            (outcome, reason) = ("ERROR", $"{e.GetType().Name}: {e.Message}");
        }

        var wall = timeProvider.GetElapsedTime(t0);
        RunRecord? record = null;
        string? report = null;
        var recordPath = Path.Combine(request.RunDirectory, RunRecord.FileName);
        if (File.Exists(recordPath))
        {
            try
            {
                record = RunRecord.Load(recordPath);
                report = HtmlReport.Write(request.RunDirectory);
            }
            catch (IOException e)
            {
                reason = AppendReason(reason, "record unreadable: " + e.Message);
            }
        }
        else
        {
            reason = AppendReason(reason, "no record.jsonl was written");
        }

        // The record is the authority on what happened; the summary only covers a run that left none.
        if (record?.End is { } end && outcome is not ("TIMEOUT" or "ABORTED" or "ERROR"))
        {
            outcome = end.Outcome;
            reason = end.Reason;
        }
        else if (record is { End: null } && outcome == "PASS")
        {
            outcome = "ERROR";
            reason = AppendReason(reason, "the run function reported PASS but the record has no run-end");
        }

        return Judge(request, record, outcome, reason, wall, startedAt) with { ReportPath = report };
    }

    private static string AppendReason(string reason, string more) => reason.Length == 0 ? more : reason + "; " + more;

    /// <summary>Compares what happened with what the suite expected.</summary>
    public static RunResult Judge(RunRequest request, RunRecord? record, string outcome, string reason, TimeSpan wall, DateTimeOffset startedAt)
    {
        var expect = request.Expect;
        var verdict = expect.Outcomes.Contains(outcome) ? RunVerdict.Expected : RunVerdict.Unexpected;
        var why = reason;
        if (verdict == RunVerdict.Expected && expect.FailedStep is { } step)
        {
            var failedThere = record?.Steps.Any(s => s.Step == step && !s.Passed) ?? false;
            if (!failedThere)
            {
                verdict = RunVerdict.Unexpected;
                why = $"expected step '{step}' to fail, but it did not (run {outcome}: {reason})";
            }
        }
        else if (verdict == RunVerdict.Unexpected && expect.ExpectsFailure && outcome == "PASS")
        {
            why = $"expected {expect} but the run passed: the harness did not catch the injected fault";
        }
        else if (verdict == RunVerdict.Unexpected && expect.ExpectsFailure)
        {
            why = $"expected {expect}, got {outcome}: {reason}";
        }

        return new RunResult(request, outcome, verdict, why, wall, startedAt, record, null, null);
    }

    private static RunResult[] RecordHistory(RunResult[] results, string historyPath)
    {
        ResultsStore store;
        try
        {
            store = ResultsStore.Open(historyPath);
        }
        catch (ResultsStoreException e)
        {
            return results.Select(r => r with { HistoryNote = e.Message }).ToArray();
        }

        using (store)
        {
            return results.Select(r =>
            {
                if (r.Record is not { Start: not null } rec)
                {
                    return r;
                }

                try
                {
                    var stored = store.Record(rec);
                    return r with { HistoryNote = $"{stored.Measurements.ToString(CultureInfo.InvariantCulture)} measurements recorded in {historyPath}" };
                }
                catch (ResultsStoreException e)
                {
                    return r with { HistoryNote = e.Message };
                }
            }).ToArray();
        }
    }
}
