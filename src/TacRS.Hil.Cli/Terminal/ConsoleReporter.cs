using System.Globalization;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.JUnit;

namespace TacRS.Hil.Cli.Terminal;

/// <summary>
/// The readable console of a run: each step as it starts and ends, its measurements against their
/// limits, safing action by action. Colour only when writing to a terminal; plain lines otherwise,
/// so CI logs and pipes stay clean.
/// </summary>
internal sealed class ConsoleReporter(TextWriter output, bool colour) : IRunRecorder
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _start;

    public RunEvent Write(RunEvent e)
    {
        lock (_gate)
        {
            _start ??= e.At;
            var t = "T+" + (e.At - _start.Value).ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
            switch (e)
            {
                case RunStarted s:
                    Line($"run {s.RunId}: rig {s.Rig} ({s.Mode}, seed {s.Seed}), procedure {s.Procedure}{(s.Unattended ? ", unattended" : string.Empty)}", Ansi.Bold);
                    Line($"  started {s.At:yyyy-MM-dd HH:mm:ss.fff}Z ({(s.Mode == "simulated" ? "virtual clock" : "system clock")})");
                    break;
                case PhaseStarted p:
                    Line($"{t} ══ phase {p.Phase}: {p.Title} (budget {FormatHours(p.BudgetSeconds)}){(p.Attempt > 1 ? $" — recycle {p.Attempt - 1}" : string.Empty)}", Ansi.Bold);
                    break;
                case PhaseEnded p:
                    Line(
                        $"{t} ══ phase {p.Phase} {p.Outcome} in {FormatHours(p.ActualSeconds)} of {FormatHours(p.BudgetSeconds)}{(p.OverBudget ? "  OVER BUDGET" : string.Empty)}{(p.Reason is null ? string.Empty : " — " + p.Reason)}",
                        p.Outcome == "PASS" && !p.OverBudget ? Ansi.Green : Ansi.Red);
                    break;
                case StepStarted s:
                    Line($"{t} ▶ {s.Step}: {s.Title}{(s.Attempt > 1 ? $" (attempt {s.Attempt})" : string.Empty)}");
                    break;
                case MeasurementRecorded m:
                    Line($"{t}     {(m.Outcome == "PASS" ? "✓" : "✗")} {JUnitWriter.Describe(m)}{(m.IsMarginal ? " (marginal)" : string.Empty)}", m.Outcome == "PASS" ? (m.IsMarginal ? Ansi.Yellow : Ansi.Green) : Ansi.Red);
                    break;
                case StepEnded s:
                    Line(
                        $"{t} ■ {s.Step} {s.Outcome} ({s.DurationSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s){(s.Reason is null ? string.Empty : ": " + s.Reason)}",
                        s.Outcome == "PASS" ? Ansi.Green : Ansi.Red);
                    break;
                case OperatorExchange o:
                    Line($"{t}     operator [{o.Kind}] {o.Prompt} → {o.Answer} ({o.AnsweredBy})", o.Confirmed ? Ansi.Cyan : Ansi.Red);
                    break;
                case SafingStarted s:
                    Line($"{t} SAFING after {s.Trigger}: {s.Reason}", Ansi.Yellow);
                    break;
                case SafingAction a:
                    Line($"{t}     safing {a.Index}: {a.Action} {a.Outcome}{(a.Attempts is { } tries && a.Error is null ? $" (attempt {tries})" : string.Empty)}{(a.Error is null ? string.Empty : " — " + a.Error)}", a.Outcome == "PASS" ? Ansi.Green : Ansi.Red);
                    break;
                case SafingEnded s:
                    Line(
                        s.Outcome == "PASS"
                            ? $"{t} SAFE STATE REACHED ({s.Actions} actions{(s.Verification is null ? string.Empty : ", " + s.Verification)})"
                            : $"{t} !!! SAFE STATE NOT REACHED: {s.Failed} of {s.Actions} safing actions failed{(s.Verification is null ? string.Empty : "; " + s.Verification)} !!!",
                        s.Outcome == "PASS" ? Ansi.Green : Ansi.RedBold);
                    break;
                case FaultInjected f:
                    Line($"{t}     fault {(f.Active ? "ON " : "OFF")} {f.Device}: {f.Fault} {f.Detail}", Ansi.Magenta);
                    break;
                case Note n when n.Category is "timeline" or "readiness" && n.Severity == "info":
                    Line($"{t}     {n.Category}: {n.Message}", Ansi.Cyan);
                    break;
                case Note n when n.Severity is "red" or "yellow" or "error" or "warning":
                    Line($"{t}     {n.Category} [{n.Severity}] {n.Source}: {n.Message}", n.Severity is "red" or "error" ? Ansi.Red : Ansi.Yellow);
                    break;

                // run-end is not printed here: the RESULT line comes last, from the verdict once the
                // artifacts are written, so it announces the exit code the process really returns.
            }

            return e;
        }
    }

    /// <summary>The run's last console line, from its one verdict.</summary>
    public static void WriteResult(TextWriter output, bool colour, Core.Runs.RunVerdict verdict, string detail)
    {
        var text = verdict.ResultLine(detail);
        output.WriteLine(colour ? (verdict.ExitCode == 0 ? Ansi.GreenBold : Ansi.RedBold) + text + Ansi.Reset : text);
        output.Flush();
    }

    public static string FormatHours(double seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1
            ? $"{(int)t.TotalHours}h{t.Minutes:00}m"
            : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
    }

    private void Line(string text, string? style = null)
    {
        output.WriteLine(colour && style is not null ? style + text + Ansi.Reset : text);
        output.Flush();
    }

    private static class Ansi
    {
        public const string Reset = "\u001b[0m";
        public const string Bold = "\u001b[1m";
        public const string Green = "\u001b[32m";
        public const string GreenBold = "\u001b[1;32m";
        public const string Red = "\u001b[31m";
        public const string RedBold = "\u001b[1;31m";
        public const string Yellow = "\u001b[33m";
        public const string Cyan = "\u001b[36m";
        public const string Magenta = "\u001b[35m";
    }
}
