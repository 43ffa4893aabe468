using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.Nightly;

namespace TacRS.Hil.Cli.Composition;

/// <summary>The nightly runner's run function: one unattended run, on its own scheduler and thread, into its own directory.</summary>
internal static class NightlyRuns
{
    public static Task<RunSummary> RunAsync(Reporting.Nightly.RunRequest request, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<RunSummary>(TaskCreationOptions.RunContinuationsAsynchronously);

        // A dedicated thread: each simulated run pumps its own single-threaded scheduler.
        var thread = new Thread(() =>
        {
            try
            {
                var outcome = RunLauncher.Run(
                    new RunRequest(request.RigFile, request.Procedure, request.RunDirectory, request.Seed, Unattended: true, ExtraFaults: request.Faults),
                    cancellationToken);
                try
                {
                    HtmlReport.Write(request.RunDirectory);
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"{request.RunDirectory}: report not written: {e.Message}");
                }

                done.SetResult(new RunSummary(outcome.ExitCode switch { 0 => "PASS", 3 => "ABORTED", _ => "FAIL" }, outcome.ExitCode, outcome.Summary));
            }
            catch (ConfigException e)
            {
                done.SetResult(new RunSummary("ERROR", ExitCodes.ConfigError, string.Join("; ", e.Problems)));
            }
            catch (ConfigProblemException e)
            {
                done.SetResult(new RunSummary("ERROR", ExitCodes.ConfigError, e.Message));
            }
            catch (Exception e)
            {
                done.SetResult(new RunSummary("ERROR", ExitCodes.Failed, $"{e.GetType().Name}: {e.Message}"));
            }
        })
        {
            IsBackground = true,
            Name = $"run {request.Id}",
        };
        thread.Start();
        return done.Task;
    }
}
