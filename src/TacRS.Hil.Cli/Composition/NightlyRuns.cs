using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.Nightly;

namespace TacRS.Hil.Cli.Composition;

/// <summary>
/// The nightly runner's run function: one unattended run through the same run host as <c>tacrs-hil run</c>,
/// in this process, on a thread of its own (each simulated run pumps its own single-threaded scheduler).
/// The host's verdict comes back whole — outcome, exit code, the record in memory, report and history
/// rows — so the suite reads nothing back and renders nothing twice.
/// </summary>
internal static class NightlyRuns
{
    public static Task<RunSummary> RunAsync(Reporting.Nightly.RunRequest request, RunAbort abort)
    {
        var done = new TaskCompletionSource<RunSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => done.SetResult(Run(request, abort)))
        {
            IsBackground = true,
            Name = $"run {request.Id}",
        };
        thread.Start();
        return done.Task;
    }

    private static RunSummary Run(Reporting.Nightly.RunRequest request, RunAbort abort)
    {
        try
        {
            var hosted = RunHost.Run(
                new Hosting.RunRequest(request.RigFile, request.Procedure, request.RunDirectory, request.Seed, Unattended: true, ExtraFaults: request.Faults, HistoryPath: request.HistoryPath),
                abort);
            return new RunSummary(hosted.Verdict.Final.ToWire(), hosted.ExitCode, hosted.Verdict.FullReason, hosted.Record, hosted.ReportPath, hosted.HistoryNote);
        }
        catch (ConfigException e)
        {
            return NotRun(string.Join("; ", e.Problems));
        }
        catch (Exception e) when (e is ConfigProblemException or UsageException or RigBusyException)
        {
            return NotRun(e.Message);
        }
    }

    // Nothing ran (a bad rig or procedure for this entry): an ERROR of the suite, no device touched.
    private static RunSummary NotRun(string reason) => new(Outcome.Error.ToWire(), ExitCodes.ConfigError, "not run: " + reason);
}
