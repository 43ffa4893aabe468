using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.Nightly;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil nightly SUITE [--parallel N] [--out DIR] [--history PATH]</c>: runs a suite
/// (procedures × rigs × seeds, faulted variants), one run directory each, then an aggregated JUnit
/// file and an index page. Exit 0 when every run came out as expected (expected failures included),
/// 1 when anything did not, 2 for a bad suite file, 3 when cancelled.
/// </summary>
public static class NightlyCommand
{
    /// <param name="runFunction">Runs one procedure on one rig, unattended, writing record.jsonl into the request's run directory (the composition root supplies it).</param>
    /// <param name="timeProvider">The wall clock (tests pass a fake).</param>
    public static Command Build(Func<RunRequest, RunAbort, Task<RunSummary>> runFunction, Func<RunAbort> abort, TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        var suiteFile = new Argument<FileInfo>("SUITE") { Description = "A nightly suite file, e.g. hil-configs/nightly.yaml" };
        var parallel = CliOptions.Count("--parallel", "Runs at once (overrides the suite's 'parallel')");
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Output folder (default runs/nightly-<UTC timestamp>)" };
        var history = new Option<string?>("--history") { Description = "Results store to record every run in (overrides the suite's 'history')" };
        var command = new Command("nightly", "Run a nightly suite in parallel; write junit.xml, index.html and a report per run");
        command.Arguments.Add(suiteFile);
        command.Options.Add(parallel);
        command.Options.Add(outDir);
        command.Options.Add(history);
        command.SetAction(async (parseResult, _) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var file = parseResult.GetValue(suiteFile)!;
            NightlySuite suite;
            try
            {
                suite = NightlySuite.Load(file.ToString());
            }
            catch (ConfigException e)
            {
                error.WriteLine(e.Message);
                return ExitCodes.ConfigError;
            }

            var outPath = parseResult.GetValue(outDir)?.FullName
                ?? Path.Combine("runs", "nightly-" + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
            var interactive = Terminal.IsInteractive(output);
            NightlyResult result;
            if (interactive)
            {
                result = await RunLiveAsync(suite, outPath, runFunction, time, parseResult.GetValue(parallel), parseResult.GetValue(history), abort());
                WriteSummaryTable(result);
            }
            else
            {
                var observer = new PlainObserver(output, time);
                output.WriteLine($"nightly {suite.Name}: {suite.Runs.Count.ToString(CultureInfo.InvariantCulture)} runs, {(parseResult.GetValue(parallel) ?? suite.Parallel).ToString(CultureInfo.InvariantCulture)} at once, output {Path.GetFullPath(outPath)}");
                result = await new NightlyRunner(runFunction, time, observer).RunAsync(suite, outPath, abort(), parseResult.GetValue(parallel), parseResult.GetValue(history));
                WriteSummaryPlain(output, result);
            }

            return result.ExitCode;
        });
        return command;
    }

    private static async Task<NightlyResult> RunLiveAsync(
        NightlySuite suite, string outPath, Func<RunRequest, RunAbort, Task<RunSummary>> runFunction, TimeProvider time,
        int? parallel, string? history, RunAbort abort)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"nightly {Markup.Escape(suite.Name)}");
        foreach (var c in new[] { "run", "procedure", "rig", "seed", "expected", "state" })
        {
            table.AddColumn(c);
        }

        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var run in suite.Runs)
        {
            rows[run.Id] = table.Rows.Count;
            table.AddRow(Markup.Escape(run.Id), Markup.Escape(run.Procedure), Markup.Escape(run.Rig), run.Seed.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(run.Expect.ToString()), "[grey]queued[/]");
        }

        NightlyResult? result = null;
        await AnsiConsole.Live(table).StartAsync(async ctx =>
        {
            var observer = new LiveObserver(table, rows, ctx);
            result = await new NightlyRunner(runFunction, time, observer).RunAsync(suite, outPath, abort, parallel, history);
        });
        return result!;
    }

    private static string Verdict(RunResult r) =>
        r.Verdict == ExpectationVerdict.Unexpected ? "UNEXPECTED" : r.ExpectedFailure ? "expected failure" : "ok";

    private static void WriteSummaryTable(NightlyResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("summary");
        foreach (var c in new[] { "run", "outcome", "verdict", "wall", "reason" })
        {
            table.AddColumn(c);
        }

        foreach (var r in result.Runs)
        {
            var colour = r.Verdict == ExpectationVerdict.Unexpected ? "red" : r.ExpectedFailure ? "yellow" : "green";
            table.AddRow(Markup.Escape(r.Request.Id), $"[{colour}]{Markup.Escape(r.Outcome)}[/]", $"[{colour}]{Markup.Escape(Verdict(r))}[/]",
                Markup.Escape(HtmlText.Duration(r.WallTime.TotalSeconds)), Markup.Escape(r.Reason));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(Totals(result)));
        AnsiConsole.MarkupLine($"JUnit: {Markup.Escape(result.JUnitPath)}");
        AnsiConsole.MarkupLine($"index: {Markup.Escape(result.IndexPath)}");
        foreach (var p in result.ArtifactProblems ?? [])
        {
            AnsiConsole.MarkupLine($"[red]artifact not written: {Markup.Escape(p.ToString())}[/]");
        }
    }

    private static void WriteSummaryPlain(TextWriter output, NightlyResult result)
    {
        foreach (var r in result.Runs)
        {
            output.WriteLine($"  {r.Request.Id} {r.Outcome} {Verdict(r)}: {r.Reason}");
        }

        output.WriteLine(Totals(result));
        output.WriteLine($"JUnit: {result.JUnitPath}");
        output.WriteLine($"index: {result.IndexPath}");
        foreach (var p in result.ArtifactProblems ?? [])
        {
            output.WriteLine($"artifact not written: {p}");
        }
    }

    private static string Totals(NightlyResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Runs.Count} runs: {r.Runs.Count(x => OutcomeExtensions.IsPassWord(x.Outcome))} passed, {r.ExpectedFailures} expected failures, {r.Unexpected} unexpected{(r.Cancelled ? ", cancelled" : string.Empty)} in {HtmlText.Duration(r.WallTime.TotalSeconds)} → exit {r.ExitCode}");

    /// <summary>One line per event, for CI logs (stdout redirected).</summary>
    private sealed class PlainObserver(TextWriter output, TimeProvider time) : INightlyObserver
    {
        public void RunStarted(RunRequest request) =>
            output.WriteLine($"{Stamp()} start {request.Id} ({request.Procedure} on {request.Rig}, seed {request.Seed.ToString(CultureInfo.InvariantCulture)}, expect {request.Expect})");

        public void RunFinished(RunResult result) =>
            output.WriteLine($"{Stamp()} end   {result.Request.Id} {result.Outcome} {Verdict(result)} in {HtmlText.Duration(result.WallTime.TotalSeconds)}{(result.Verdict == ExpectationVerdict.Unexpected ? ": " + result.Reason : string.Empty)}");

        private string Stamp() => time.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
    }

    /// <summary>Updates the live table (the runner serialises these calls).</summary>
    private sealed class LiveObserver(Table table, Dictionary<string, int> rows, LiveDisplayContext ctx) : INightlyObserver
    {
        public void RunStarted(RunRequest request)
        {
            table.UpdateCell(rows[request.Id], 5, "[blue]running[/]");
            ctx.Refresh();
        }

        public void RunFinished(RunResult result)
        {
            var colour = result.Verdict == ExpectationVerdict.Unexpected ? "red" : result.ExpectedFailure ? "yellow" : "green";
            table.UpdateCell(rows[result.Request.Id], 5, $"[{colour}]{Markup.Escape(result.Outcome)} {Markup.Escape(Verdict(result))}[/] {Markup.Escape(HtmlText.Duration(result.WallTime.TotalSeconds))}");
            ctx.Refresh();
        }
    }
}

/// <summary>Whether to draw (Spectre.Console) or to log plain lines: plain whenever stdout is not a terminal, so CI logs stay readable.</summary>
internal static class Terminal
{
    public static bool IsInteractive(TextWriter output) =>
        !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out) && AnsiConsole.Profile.Capabilities.Interactive;
}
