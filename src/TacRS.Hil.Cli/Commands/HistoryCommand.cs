using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TacRS.Hil.Core;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil history MEASUREMENT [--rig R] [--last N] [--history PATH]</c>: the measurement's
/// value over the last runs with its limits, and a drift verdict (rising or falling toward a limit).
/// </summary>
public static class HistoryCommand
{
    /// <param name="defaultHistoryPath">Where the store is when <c>--history</c> is not given (the composition root may read it from the rig).</param>
    public static Command Build(Func<string>? defaultHistoryPath = null)
    {
        var measurement = new Argument<string>("MEASUREMENT") { Description = "Measurement name, e.g. payload.bus_current" };
        var rig = new Option<string?>("--rig") { Description = "Only runs on this rig" };
        var procedure = new Option<string?>("--procedure") { Description = "Only runs of this procedure" };
        var last = CliOptions.Count("--last", "How many of the latest runs to show (default 10)");
        var history = new Option<string?>("--history") { Description = $"The results store (default {ResultsStore.DefaultPath})" };
        var import = new Option<DirectoryInfo[]>("--import") { Description = "Record these run directories into the store first", AllowMultipleArgumentsPerToken = true };
        var failOnDrift = new Option<bool>("--fail-on-drift") { Description = "Exit 1 when the measurement drifts toward a limit (for CI)" };
        var command = new Command("history", "Show a measurement's trend across runs, with its limits and drift toward them");
        command.Arguments.Add(measurement);
        foreach (var o in new Option[] { rig, procedure, last, history, import, failOnDrift })
        {
            command.Options.Add(o);
        }

        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var name = parseResult.GetValue(measurement)!;
            var path = parseResult.GetValue(history) ?? defaultHistoryPath?.Invoke() ?? ResultsStore.DefaultPath;
            var count = parseResult.GetValue(last) ?? 10;
            if (count < 1)
            {
                error.WriteLine($"tacrs-hil history: --last must be at least 1, not {count.ToString(CultureInfo.InvariantCulture)}");
                return ExitCodes.ConfigError;
            }

            try
            {
                using var store = ResultsStore.Open(path);
                foreach (var dir in parseResult.GetValue(import) ?? [])
                {
                    var stored = store.RecordRunDirectory(dir.FullName);
                    output.WriteLine($"recorded run {stored.RunId}: {stored.Measurements.ToString(CultureInfo.InvariantCulture)} measurements{(stored.Replaced ? " (replaced)" : string.Empty)}");
                }

                var rigName = parseResult.GetValue(rig);
                var points = store.Trend(name, rigName, count, parseResult.GetValue(procedure));
                if (points.Count == 0)
                {
                    var known = store.MeasurementNames(rigName);
                    error.WriteLine($"tacrs-hil history: no runs measured '{name}'{(rigName is null ? string.Empty : $" on rig '{rigName}'")} in {path}"
                        + (known.Count > 0 ? $" (measurements there: {string.Join(", ", known.Take(20))})" : " (the store is empty)"));
                    return ExitCodes.ConfigError;
                }

                var drift = DriftAnalysis.Analyse(name, points);
                if (Terminal.IsInteractive(output))
                {
                    WriteTable(points, drift);
                }
                else
                {
                    WritePlain(output, points, drift);
                }

                return drift.Drifting && parseResult.GetValue(failOnDrift) ? ExitCodes.Failed : ExitCodes.Passed;
            }
            catch (ResultsStoreException e)
            {
                error.WriteLine("tacrs-hil history: " + e.Message);
                return ExitCodes.ConfigError;
            }
            catch (FileNotFoundException e)
            {
                error.WriteLine("tacrs-hil history: " + e.Message);
                return ExitCodes.ConfigError;
            }
        });
        return command;
    }

    private static string Limits(TrendPoint p) => HtmlReport.DescribeLimits(new Core.Recording.MeasurementRecorded(
        p.Step, string.Empty, p.Value, p.Unit, p.Low, p.High, p.Marginal, p.Expected, p.Outcome, false, 1));

    private static void WritePlain(TextWriter output, IReadOnlyList<TrendPoint> points, DriftReport drift)
    {
        foreach (var p in points)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.WallTime:yyyy-MM-dd HH:mm} {p.RunId} rig={p.Rig} seed={p.Seed} {HtmlText.Num(p.Value)} {p.Unit} limits {Limits(p)} {p.Outcome}"));
        }

        output.WriteLine(drift.Message);
    }

    private static void WriteTable(IReadOnlyList<TrendPoint> points, DriftReport drift)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(drift.Measurement));
        foreach (var c in new[] { "started", "run", "rig", "seed", "value", "limits", "outcome" })
        {
            table.AddColumn(c);
        }

        foreach (var p in points)
        {
            var colour = p.Outcome == "PASS" ? "green" : "red";
            table.AddRow(
                p.WallTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture),
                Markup.Escape(p.RunId),
                Markup.Escape(p.Rig),
                p.Seed.ToString(CultureInfo.InvariantCulture),
                Markup.Escape($"{HtmlText.Num(p.Value)} {p.Unit}"),
                Markup.Escape(Limits(p)),
                $"[{colour}]{Markup.Escape(p.Outcome)}[/]");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(drift.Drifting || drift.OutsideLimits ? $"[bold yellow]{Markup.Escape(drift.Message)}[/]" : Markup.Escape(drift.Message));
    }
}
