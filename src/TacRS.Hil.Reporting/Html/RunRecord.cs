using System.Globalization;
using System.Text;
using System.Text.Json;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Reporting.Html;

/// <summary>A line of <c>record.jsonl</c> that could not be read, with its 1-based line number.</summary>
public sealed record RecordProblem(int Line, string Message)
{
    public override string ToString() => $"line {Line.ToString(CultureInfo.InvariantCulture)}: {Message}";
}

/// <summary>One attempt of one step as the record tells it: start, measurements, end (if it ended).</summary>
public sealed class StepAttempt
{
    internal StepAttempt(string step, string title, int attempt, string? phase, DateTimeOffset startedAt, DateTimeOffset startedWall)
    {
        Step = step;
        Title = title;
        Attempt = attempt;
        Phase = phase;
        StartedAt = startedAt;
        StartedWall = startedWall;
    }

    public string Step { get; }

    public string Title { get; }

    public int Attempt { get; }

    public string? Phase { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>When it started on the wall clock (the same as <see cref="StartedAt"/> on a run on the system clock).</summary>
    public DateTimeOffset StartedWall { get; }

    /// <summary>Wall-clock seconds from start to end (zero when it did not end).</summary>
    public double WallSeconds => End is null ? 0 : Math.Max(0, (End.WallOrAt - StartedWall).TotalSeconds);

    /// <summary>The key a run's plan uses for this step: <c>step</c>, or <c>phase/step</c> in a campaign.</summary>
    public string PlanKey => Phase is null ? Step : $"{Phase}/{Step}";

    public List<MeasurementRecorded> Measurements { get; } = [];

    public List<OperatorExchange> Operator { get; } = [];

    public List<Note> Notes { get; } = [];

    public StepEnded? End { get; internal set; }

    /// <summary>The step's outcome; a step with no step-end (killed run) is reported as <c>UNFINISHED</c>.</summary>
    public string Outcome => End?.Outcome ?? "UNFINISHED";

    public bool Passed => OutcomeExtensions.IsPassWord(Outcome);
}

/// <summary>One attempt of one campaign phase: planned start and budget, actual start and duration.</summary>
public sealed class PhaseAttempt
{
    internal PhaseAttempt(PhaseStarted start, double actualStartSeconds)
    {
        Start = start;
        ActualStartSeconds = actualStartSeconds;
    }

    public PhaseStarted Start { get; }

    public double ActualStartSeconds { get; }

    public PhaseEnded? End { get; internal set; }
}

/// <summary>
/// A run's <c>record.jsonl</c> read back. Reading never throws for bad content: a line that does not
/// parse (typically the last one of a killed run, cut mid-write) becomes a <see cref="RecordProblem"/>
/// and everything before it is kept, because the record is flushed per event and what finished is valid.
/// </summary>
public sealed class RunRecord
{
    private RunRecord(string source, IReadOnlyList<RunEvent> events, IReadOnlyList<RecordProblem> problems, bool truncated)
    {
        Source = source;
        Events = events;
        Problems = problems;
        Truncated = truncated;
        Start = events.OfType<RunStarted>().FirstOrDefault();
        End = events.OfType<RunEnded>().LastOrDefault();
        Steps = BuildSteps(events, out var loose);
        LooseNotes = loose;
        Phases = BuildPhases(events, Origin);
    }

    public const string FileName = "record.jsonl";

    public string Source { get; }

    public IReadOnlyList<RunEvent> Events { get; }

    public IReadOnlyList<RecordProblem> Problems { get; }

    /// <summary>True when the last line was cut off (no trailing newline and not parseable).</summary>
    public bool Truncated { get; }

    public RunStarted? Start { get; }

    public RunEnded? End { get; }

    /// <summary>Step attempts in the order they started.</summary>
    public IReadOnlyList<StepAttempt> Steps { get; }

    /// <summary>Notes that do not belong to a step (device alarms between steps, run-level notes).</summary>
    public IReadOnlyList<Note> LooseNotes { get; }

    public IReadOnlyList<PhaseAttempt> Phases { get; }

    /// <summary>The run's T0 on its own clock (virtual in simulation): run-start, or the first event.</summary>
    public DateTimeOffset Origin => Start?.At ?? (Events.Count > 0 ? Events[0].At : default);

    /// <summary>Seconds on the run's clock from T0 to the last event recorded.</summary>
    public double LastEventSeconds => Events.Count == 0 ? 0 : (Events[^1].At - Origin).TotalSeconds;

    /// <summary>The outcome of the run; a record without run-end is <c>INCOMPLETE</c>.</summary>
    public string Outcome => End?.Outcome ?? "INCOMPLETE";

    public string Title => Start?.Procedure ?? "unknown procedure";

    public double SecondsSinceStart(DateTimeOffset at) => (at - Origin).TotalSeconds;

    /// <summary>A run's record from its events as they were produced (the run host's artifacts: no second reading of the file).</summary>
    public static RunRecord FromEvents(IReadOnlyList<RunEvent> events, string source) => new(source, events, [], false);

    /// <summary>The planned steps no attempt was made at (the run ended before them), in plan order.</summary>
    public IReadOnlyList<string> NotRun =>
        Start?.Plan is { } plan ? plan.Where(k => Steps.All(s => s.PlanKey != k)).ToList() : [];

    public static RunRecord Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Parse(Encoding.UTF8.GetString(bytes), path);
    }

    public static RunRecord Parse(string text, string source)
    {
        var events = new List<RunEvent>();
        var problems = new List<RecordProblem>();
        var truncated = false;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var isLast = i == lines.Length - 1;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                events.Add(RunEventJson.Deserialize(line));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
            {
                // Only the final line can be cut by a kill: every earlier line was flushed whole.
                if (isLast)
                {
                    truncated = true;
                    problems.Add(new RecordProblem(i + 1, $"last line is cut off ({line.Length.ToString(CultureInfo.InvariantCulture)} characters, no newline): the run was killed while writing it"));
                }
                else
                {
                    problems.Add(new RecordProblem(i + 1, "cannot read event: " + FirstLine(e.Message)));
                }
            }
        }

        return new RunRecord(source, events, problems, truncated);
    }

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n', StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    private static List<StepAttempt> BuildSteps(IReadOnlyList<RunEvent> events, out List<Note> loose)
    {
        var steps = new List<StepAttempt>();
        var open = new Dictionary<(string, int), StepAttempt>();
        loose = [];
        StepAttempt? Find(string step, int? attempt)
        {
            if (attempt is { } a && open.TryGetValue((step, a), out var s))
            {
                return s;
            }

            return steps.LastOrDefault(x => x.Step == step && (attempt is null || x.Attempt == attempt));
        }

        StepAttempt Ensure(string step, int attempt, string? phase, DateTimeOffset at)
        {
            var s = Find(step, attempt);
            if (s is null)
            {
                // A measurement or step-end without its step-start: keep it rather than drop it.
                s = new StepAttempt(step, step, attempt, phase, at, at);
                steps.Add(s);
                open[(step, attempt)] = s;
            }

            return s;
        }

        foreach (var e in events)
        {
            switch (e)
            {
                case StepStarted s:
                    var attempt = new StepAttempt(s.Step, s.Title, s.Attempt, s.Phase, s.At, s.WallOrAt);
                    steps.Add(attempt);
                    open[(s.Step, s.Attempt)] = attempt;
                    break;
                case MeasurementRecorded m:
                    Ensure(m.Step, m.Attempt, m.Phase, m.At).Measurements.Add(m);
                    break;
                case StepEnded end:
                    Ensure(end.Step, end.Attempt, end.Phase, end.At).End = end;
                    open.Remove((end.Step, end.Attempt));
                    break;
                case OperatorExchange o:
                    if (Find(o.Step, null) is { } os)
                    {
                        os.Operator.Add(o);
                    }

                    break;
                case Note n:
                    if (n.Step is { } ns && Find(ns, null) is { } target)
                    {
                        target.Notes.Add(n);
                    }
                    else
                    {
                        loose.Add(n);
                    }

                    break;
                default:
                    break;
            }
        }

        // The safe state's verification is recorded under the engine's own "safing" state, which has
        // no step-end: it is complete (not UNFINISHED) and passes when every verification passed.
        foreach (var s in steps.Where(s => s.Step == "safing" && s.End is null))
        {
            var ok = s.Measurements.All(m => OutcomeExtensions.IsPassWord(m.Outcome));
            var last = s.Measurements.LastOrDefault();
            s.End = new StepEnded("safing", ok ? OutcomeExtensions.PassWord : OutcomeExtensions.FailWord, s.Attempt, 0, ok ? null : "safe state not verified", null, s.Phase) { At = last?.At ?? s.StartedAt, Wall = last?.Wall };
        }

        return steps;
    }

    private static List<PhaseAttempt> BuildPhases(IReadOnlyList<RunEvent> events, DateTimeOffset origin)
    {
        var phases = new List<PhaseAttempt>();
        foreach (var e in events)
        {
            if (e is PhaseStarted ps)
            {
                phases.Add(new PhaseAttempt(ps, (ps.At - origin).TotalSeconds));
            }
            else if (e is PhaseEnded pe)
            {
                var match = phases.LastOrDefault(p => p.Start.Phase == pe.Phase && p.Start.Attempt == pe.Attempt && p.End is null);
                if (match is not null)
                {
                    match.End = pe;
                }
            }
        }

        return phases;
    }
}
