using System.CommandLine;
using TacRS.Hil.Core;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Cli.Commands;

/// <summary><c>tacrs-hil report RUN_DIR</c>: rebuilds a run's report.html from its record.jsonl alone.</summary>
public static class ReportCommand
{
    public static Command Build()
    {
        var runDirectory = new Argument<DirectoryInfo>("RUN_DIR") { Description = "A run directory holding record.jsonl" };
        var command = new Command("report", "Regenerate a run's self-contained HTML report (report.html) from its record.jsonl");
        command.Arguments.Add(runDirectory);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var dir = parseResult.GetValue(runDirectory)!;
            if (!dir.Exists)
            {
                error.WriteLine($"tacrs-hil report: run directory '{dir}' does not exist");
                return ExitCodes.ConfigError;
            }

            try
            {
                var path = HtmlReport.Write(dir.FullName);
                var record = RunRecord.Load(Path.Combine(dir.FullName, RunRecord.FileName));
                foreach (var problem in record.Problems)
                {
                    error.WriteLine($"tacrs-hil report: warning: {Path.Combine(dir.ToString(), RunRecord.FileName)} {problem}");
                }

                output.WriteLine($"{record.Title}: {record.Outcome} — report written to {path}");
                return ExitCodes.Passed;
            }
            catch (FileNotFoundException e)
            {
                error.WriteLine("tacrs-hil report: " + e.Message);
                return ExitCodes.ConfigError;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"tacrs-hil report: cannot write the report in '{dir}': {e.Message}");
                return ExitCodes.ConfigError;
            }
        });
        return command;
    }
}
