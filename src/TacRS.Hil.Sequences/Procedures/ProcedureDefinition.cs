using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Sequences.Procedures;

/// <summary><c>device.signal</c> as written in a procedure.</summary>
public sealed record SignalRef(string Device, string Signal, SourceLocation At)
{
    public override string ToString() => $"{Device}.{Signal}";
}

/// <summary>Something a step (or the safe state) does, in order.</summary>
public abstract record ProcedureAction(SourceLocation At)
{
    public abstract string Describe();
}

public sealed record SetAction(SignalRef Target, double Value, Unit Unit, SourceLocation At) : ProcedureAction(At)
{
    public override string Describe() => $"set {Target} = {Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(Unit.Symbol.Length > 0 && Unit.Symbol != "bool" ? " " + Unit.Symbol : string.Empty)}";
}

public sealed record CallAction(string Device, string Action, IReadOnlyDictionary<string, ArgumentValue> Arguments, bool Hazardous, SourceLocation At) : ProcedureAction(At)
{
    public override string Describe() =>
        Arguments.Count == 0
            ? $"call {Device}.{Action}"
            : $"call {Device}.{Action}({string.Join(", ", Arguments.Select(a => $"{a.Key}={a.Value}"))})";
}

public sealed record WaitAction(TimeSpan Duration, SourceLocation At) : ProcedureAction(At)
{
    public override string Describe() => $"wait {Duration.Format()}";
}

public sealed record WaitUntilAction(SignalRef Signal, Unit Unit, Limits Limits, TimeSpan Timeout, TimeSpan Poll, SourceLocation At) : ProcedureAction(At)
{
    public override string Describe() => $"wait until {Signal} {Limits.Describe(Unit)} (up to {Timeout.Format()})";
}

/// <summary>
/// An operator instruction. <see cref="Simulate"/> is what the simulated operator does in its place
/// on a simulated rig (mate a connector in the harness model); ignored on a hardware rig.
/// </summary>
public sealed record PromptAction(string Id, string Text, bool Confirm, IReadOnlyList<ProcedureAction> Simulate, SourceLocation At) : ProcedureAction(At)
{
    public override string Describe() => $"prompt '{Id}': {Text}";
}

/// <summary>Where a measured value comes from: a signal read, or an output of an action this step called.</summary>
public sealed record MeasureDefinition(
    MeasurementSpec Spec,
    SignalRef? Signal,
    SignalRef? Output,
    Unit SourceUnit,
    TimeSpan? Settle,
    TimeSpan Poll,
    SourceLocation At);

/// <summary>
/// <c>monitor:</c> on a step (or a procedure, for every one of its steps): a signal checked against its limits on
/// every sample while the step runs. An excursion fails the step at that moment (time, value, limits in the record;
/// <c>on-red-alarm</c> applies as to a red telemetry alarm) unless <c>record-only</c>, which only counts it. At the
/// step's end it leaves <c>NAME_min</c>, <c>_max</c>, <c>_mean</c>, <c>_samples</c> and <c>_time_outside</c>.
/// </summary>
public sealed record MonitorDefinition(string Name, SignalRef Signal, Unit Unit, Limits Limits, TimeSpan Every, bool RecordOnly, SourceLocation At)
{
    /// <summary>How often a monitor samples when its file does not say (<c>every:</c>): telemetry at 1 Hz housekeeping sees every packet.</summary>
    public static readonly TimeSpan DefaultEvery = TimeSpan.FromSeconds(1);
}

/// <summary>A condition that must hold before a hazardous step may run (arm plug safe, enable low …).</summary>
public sealed record Inhibit(SignalRef Signal, double Expected, SourceLocation At)
{
    public string Describe() => $"{Signal} == {Expected.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

public enum FailPolicy
{
    Abort,
    Continue,
    Goto,
}

/// <summary>A step as the engine runs it.</summary>
public sealed record StepDefinition(
    string Id,
    string Title,
    IReadOnlyList<ProcedureAction> Actions,
    IReadOnlyList<MeasureDefinition> Measurements,
    TimeSpan Timeout,
    int Retries,
    TimeSpan RetryDelay,
    FailPolicy OnFail,
    string? GotoStep,
    string? Next,
    bool Hazardous,
    IReadOnlyList<Inhibit> Inhibits,
    SourceLocation At)
{
    /// <summary>The cap when neither the step nor the procedure's <c>defaults:</c> sets <c>max-attempts</c>.</summary>
    public const int DefaultMaxAttempts = 1000;

    /// <summary>The largest <c>max-attempts</c> a file may give.</summary>
    public const int MaxMaxAttempts = 1_000_000;

    /// <summary>
    /// <c>max-attempts</c>: the most times this step's body may start in one run, counting every retry
    /// and every re-entry through <c>next:</c> or <c>on-fail: goto:</c>. Bounds a loop of steps that
    /// would otherwise run forever; the engine ends the step in ERROR (and safes) when it is used up.
    /// From the step, else the procedure's <c>defaults: { max-attempts }</c>, else
    /// <see cref="DefaultMaxAttempts"/>; never less than <see cref="Retries"/> + 1.
    /// </summary>
    public int MaxAttempts { get; init; } = DefaultMaxAttempts;

    /// <summary>The step's own <c>monitor:</c> entries (the procedure's come on top, see <see cref="ProcedureDefinition.Monitors"/>).</summary>
    public IReadOnlyList<MonitorDefinition> Monitors { get; init; } = [];
}

public enum AlarmPolicy
{
    /// <summary>A red alarm fails the running step (its on-fail then applies).</summary>
    FailStep,

    /// <summary>A red alarm aborts the procedure straight to its safe state.</summary>
    Safe,
}

/// <summary>A procedure, checked against a rig: the engine builds its Stateless machine from this.</summary>
public sealed record ProcedureDefinition(
    string Id,
    string Title,
    string? Description,
    string File,
    string Hash,
    IReadOnlyList<StepDefinition> Steps,
    IReadOnlyList<ProcedureAction> SafeState,
    IReadOnlyList<MeasureDefinition> SafeVerify,
    AlarmPolicy OnRedAlarm,
    TimeSpan SafingActionTimeout)
{
    /// <summary>
    /// The procedure's <c>defaults: { max-attempts }</c> (or <see cref="StepDefinition.DefaultMaxAttempts"/>):
    /// what a step without its own <c>max-attempts</c> gets (each step carries its value in <see cref="StepDefinition.MaxAttempts"/>).
    /// </summary>
    public int DefaultMaxAttempts { get; init; } = StepDefinition.DefaultMaxAttempts;

    /// <summary>The procedure's <c>monitor:</c> entries: they watch every step (each step gets its own statistics and plot).</summary>
    public IReadOnlyList<MonitorDefinition> Monitors { get; init; } = [];

    private Dictionary<string, int>? _index;

    private Dictionary<string, int> Index => _index ??= Steps.Select((s, i) => (s.Id, i)).GroupBy(x => x.Id).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);

    public StepDefinition? FindStep(string id) => Index.TryGetValue(id, out var i) ? Steps[i] : null;

    /// <summary>Every device the procedure touches (steps, inhibits, safe state).</summary>
    public IReadOnlySet<string> Devices()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        void Add(ProcedureAction a)
        {
            switch (a)
            {
                case SetAction s: set.Add(s.Target.Device); break;
                case CallAction c: set.Add(c.Device); break;
                case WaitUntilAction w: set.Add(w.Signal.Device); break;
                case PromptAction p:
                    foreach (var x in p.Simulate)
                    {
                        Add(x);
                    }

                    break;
            }
        }

        foreach (var st in Steps)
        {
            foreach (var a in st.Actions)
            {
                Add(a);
            }

            foreach (var m in st.Measurements)
            {
                set.Add((m.Signal ?? m.Output)!.Device);
            }

            foreach (var i in st.Inhibits)
            {
                set.Add(i.Signal.Device);
            }

            foreach (var m in st.Monitors)
            {
                set.Add(m.Signal.Device);
            }
        }

        foreach (var m in Monitors)
        {
            set.Add(m.Signal.Device);
        }

        foreach (var a in SafeState)
        {
            Add(a);
        }

        return set;
    }

    /// <summary>The step that follows <paramref name="step"/> on success, or null after the last.</summary>
    public string? NextOf(StepDefinition step)
    {
        if (step.Next is not null)
        {
            return step.Next;
        }

        var i = Index.TryGetValue(step.Id, out var at) ? at : -1;
        return i >= 0 && i + 1 < Steps.Count ? Steps[i + 1].Id : null;
    }
}

internal static class TimeSpanFormat
{
    public static string Format(this TimeSpan t) => Duration.Format(t);
}
