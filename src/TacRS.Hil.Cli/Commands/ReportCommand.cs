using System.CommandLine;
using TacRS.Hil.Core;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Cli.Commands;

/// <summary><c>tacrs-hil report RUN_DIR</c>: rebuilds a run's report.html and junit.xml from its record.jsonl alone.</summary>
public static class ReportCommand
{
    public static Command Build()
    {
        var runDirectory = new Argument<DirectoryInfo>("RUN_DIR") { Description = "A run directory holding record.jsonl" };
        var command = new Command("report", "Regenerate a run's self-contained HTML report (report.html) and junit.xml from its record.jsonl");
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

            var recordPath = Path.Combine(dir.FullName, RunRecord.FileName);
            if (!File.Exists(recordPath))
            {
                error.WriteLine($"tacrs-hil report: no {RunRecord.FileName} in run directory '{dir}'");
                return ExitCodes.ConfigError;
            }

            try
            {
                // Everything from the record alone, read once: the report and the JUnit file.
                var record = RunRecord.Load(recordPath);
                foreach (var problem in record.Problems)
                {
                    error.WriteLine($"tacrs-hil report: warning: {Path.Combine(dir.ToString(), RunRecord.FileName)} {problem}");
                }

                var path = HtmlReport.Write(record, dir.FullName, File.GetLastWriteTimeUtc(recordPath));
                Reporting.JUnit.JUnitWriter.WriteRun(Path.Combine(dir.FullName, Reporting.JUnit.JUnitWriter.FileName), record);
                output.WriteLine($"{record.Title}: {record.Outcome} — report written to {path}, JUnit to {Path.Combine(dir.FullName, Reporting.JUnit.JUnitWriter.FileName)}");
                return ExitCodes.Passed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"tacrs-hil report: artifact not written in '{dir}': {e.Message}");
                return ExitCodes.ArtifactsIncomplete;
            }
        });
        return command;
    }
}
