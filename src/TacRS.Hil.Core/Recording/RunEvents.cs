using System.Text.Json;
using System.Text.Json.Serialization;

namespace TacRS.Hil.Core.Recording;

/// <summary>
/// One line of <c>record.jsonl</c>. <see cref="At"/> is the run's clock (virtual in simulation),
/// <see cref="Seq"/> the line's index. The record is append-only and flushed per event, so a
/// killed run loses nothing that had finished.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(RunStarted), "run-start")]
[JsonDerivedType(typeof(StepStarted), "step-start")]
[JsonDerivedType(typeof(MeasurementRecorded), "measurement")]
[JsonDerivedType(typeof(StepEnded), "step-end")]
[JsonDerivedType(typeof(SafingStarted), "safing-start")]
[JsonDerivedType(typeof(SafingAction), "safing-action")]
[JsonDerivedType(typeof(SafingEnded), "safing-end")]
[JsonDerivedType(typeof(FaultInjected), "fault")]
[JsonDerivedType(typeof(Note), "note")]
[JsonDerivedType(typeof(OperatorExchange), "operator")]
[JsonDerivedType(typeof(PhaseStarted), "phase-start")]
[JsonDerivedType(typeof(PhaseEnded), "phase-end")]
[JsonDerivedType(typeof(RunEnded), "run-end")]
[JsonDerivedType(typeof(MonitorSamples), "monitor-samples")]
public abstract record RunEvent
{
    public long Seq { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The wall clock when the event happened, on a run whose own clock is virtual (absent when <see cref="At"/> is the wall clock).</summary>
    public DateTimeOffset? Wall { get; init; }

    /// <summary>When the event happened on the wall clock: <see cref="Wall"/>, or <see cref="At"/> on a run on the system clock.</summary>
    [JsonIgnore]
    public DateTimeOffset WallOrAt => Wall ?? At;
}

public sealed record RunStarted(
    string RunId,
    string Rig,
    string RigFile,
    string Procedure,
    string ProcedureFile,
    string ProcedureHash,
    long Seed,
    string ToolVersion,
    string Mode,
    DateTimeOffset WallClockStart,
    bool Unattended,
    IReadOnlyDictionary<string, string>? Context = null) : RunEvent
{
    /// <summary>Every step the run meant to run, in order (<c>step</c>, or <c>phase/step</c> in a campaign).</summary>
    public IReadOnlyList<string>? Plan { get; init; }
}

public sealed record StepStarted(string Step, string Title, int Attempt, string? Phase = null) : RunEvent;

public sealed record MeasurementRecorded(
    string Step,
    string Name,
    double? Value,
    string Unit,
    double? Low,
    double? High,
    double? Marginal,
    double? Expected,
    string Outcome,
    bool IsMarginal,
    int Attempt,
    string? Phase = null) : RunEvent
{
    /// <summary>When the value was sampled (run clock): a measurement never hides how old its value was.</summary>
    public DateTimeOffset? SampledAt { get; init; }
}

public sealed record StepEnded(
    string Step,
    string Outcome,
    int Attempt,
    double DurationSeconds,
    string? Reason = null,
    string? Next = null,
    string? Phase = null) : RunEvent;

public sealed record SafingStarted(string Trigger, string Reason) : RunEvent;

public sealed record SafingAction(int Index, string Action, string Outcome, string? Error = null) : RunEvent
{
    /// <summary>How many times the action was tried, when more than once (safing retries an action that timed out until its budget is spent).</summary>
    public int? Attempts { get; init; }
}

public sealed record SafingEnded(string Outcome, int Actions, int Failed, string? Verification = null) : RunEvent;

public sealed record FaultInjected(string Device, string Fault, string Detail, bool Active) : RunEvent;

/// <summary>Anything else worth keeping: a device alarm, a lost device, a limit violation, a bounce.</summary>
public sealed record Note(string Category, string Source, string Severity, string Message, IReadOnlyDictionary<string, string>? Fields = null, string? Step = null) : RunEvent;

public sealed record OperatorExchange(string Step, string Prompt, string Answer, string AnsweredBy, bool Confirmed, string Kind) : RunEvent;

public sealed record PhaseStarted(string Phase, string Title, double BudgetSeconds, double PlannedStartSeconds, int Attempt) : RunEvent;

public sealed record PhaseEnded(string Phase, string Outcome, double ActualSeconds, double BudgetSeconds, bool OverBudget, int Attempt, string? Reason = null) : RunEvent;

public sealed record RunEnded(
    string Outcome,
    string Reason,
    double DurationSeconds,
    int StepsPassed,
    int StepsFailed,
    bool SafeStateReached,
    int ExitCode) : RunEvent
{
    /// <summary>The procedure's (or campaign's) own outcome, when the verdict differs from it (a pass that broke a budget or did not reach its safe state).</summary>
    public string? EngineOutcome { get; init; }

    /// <summary>Campaign phases that ran past their budget.</summary>
    public IReadOnlyList<string>? OverBudget { get; init; }

    /// <summary><c>fail</c> or <c>warn</c>: what the over-budget phases did to the verdict.</summary>
    public string? BudgetPolicy { get; init; }
}

/// <summary>
/// A batch of the samples one monitor checked (every sample, in order), self-describing so a live page or a
/// results database can plot it without the procedure: the signal, unit and limits, the first sample's time
/// and each sample's offset from it in seconds. One batch per <c>BatchSize</c> samples and one at the step's end,
/// so a 12-hour soak at 1 Hz is some 70 lines per monitor.
/// </summary>
public sealed record MonitorSamples(
    string Step,
    string Monitor,
    string Signal,
    string Unit,
    double? Low,
    double? High,
    DateTimeOffset Start,
    IReadOnlyList<double> Offsets,
    IReadOnlyList<double> Values,
    int Excursions,
    string? Phase = null) : RunEvent
{
    /// <summary>The batch's number in its step (from 1), and whether it is the step's last.</summary>
    public int Batch { get; init; }

    public bool Final { get; init; }

    /// <summary>True when excursions are only counted (<c>record-only</c>), not failing the step.</summary>
    public bool RecordOnly { get; init; }
}

public static class RunEventJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(RunEvent e) => JsonSerializer.Serialize(e, Options);

    /// <summary>The same JSON as <see cref="Serialize(RunEvent)"/>, written as UTF-8 (no string in between).</summary>
    public static void Serialize(Utf8JsonWriter writer, RunEvent e) => JsonSerializer.Serialize(writer, e, Options);

    public static RunEvent Deserialize(string line) =>
        JsonSerializer.Deserialize<RunEvent>(line, Options) ?? throw new JsonException("empty record line");
}
