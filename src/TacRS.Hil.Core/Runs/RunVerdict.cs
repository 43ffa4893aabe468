using TacRS.Hil.Core.Measurements;

namespace TacRS.Hil.Core.Runs;

/// <summary>What a campaign does with a phase that ran past its budget (<c>on-over-budget:</c>).</summary>
public enum BudgetPolicy
{
    /// <summary>The phase's procedure passed, but the run does not: the timeline was not kept (the default).</summary>
    Fail,

    /// <summary>Flagged in the record, console and report; the run can still pass.</summary>
    Warn,
}

/// <summary>
/// The one verdict of a run, from which the console's RESULT line, the record's run-end, JUnit, the
/// HTML report and the exit code are all derived, so they can never tell different stories. It is
/// the engine's outcome (a procedure's, or the worst of a campaign's phases) together with whether
/// the rig reached its safe state, whether the timeline kept its budgets, and — added last, by the
/// run host — whether every artifact could be written.
/// </summary>
public sealed record RunVerdict(
    Outcome Outcome,
    string Reason,
    bool SafeStateReached,
    IReadOnlyList<string> OverBudget,
    BudgetPolicy BudgetPolicy = BudgetPolicy.Fail,
    IReadOnlyList<ArtifactProblem>? ArtifactProblems = null)
{
    public const string SafeStateNotReached = "SAFE STATE NOT REACHED";

    /// <summary>Steps (or campaign phases) that passed, for the RESULT line.</summary>
    public int Passed { get; init; }

    /// <summary>Steps (or campaign phases) that ended in anything but a pass.</summary>
    public int NotPassed { get; init; }

    /// <summary>A run that ended before anything could run (no rig lock, a bad --out): it never touched a device.</summary>
    public static RunVerdict NotRun(string reason) => new(Outcome.Error, reason, true, []);

    /// <summary>The run's outcome after everything is counted: a pass that did not reach its safe state, or broke a budget under <see cref="BudgetPolicy.Fail"/>, is a FAIL.</summary>
    public Outcome Final => Outcome != Outcome.Pass
        ? Outcome
        : !SafeStateReached || (OverBudget.Count > 0 && BudgetPolicy == BudgetPolicy.Fail) ? Outcome.Fail : Outcome.Pass;

    public bool ArtifactsComplete => ArtifactProblems is not { Count: > 0 };

    /// <summary>
    /// 0 pass and safe; 1 fail, error, timeout, budget broken or safe state not reached; 3 aborted or a lost
    /// device; 4 the run's artifacts are incomplete (whatever the run did: its results cannot be trusted whole).
    /// </summary>
    public int ExitCode => !ArtifactsComplete
        ? ExitCodes.ArtifactsIncomplete
        : Final.IsAbort() ? ExitCodes.Aborted : Final == Outcome.Pass ? ExitCodes.Passed : ExitCodes.Failed;

    /// <summary>The exit code the run itself earned, before its artifacts were written (what run-end records).</summary>
    public int RunExitCode => (this with { ArtifactProblems = null }).ExitCode;

    /// <summary>The full reason: the engine's, then every way the run fell short of a clean pass.</summary>
    public string FullReason
    {
        get
        {
            var parts = new List<string> { Reason };
            if (OverBudget.Count > 0)
            {
                parts.Add($"OVER BUDGET ({(BudgetPolicy == BudgetPolicy.Fail ? "fails the run" : "warning")}): {string.Join(", ", OverBudget)}");
            }

            if (!SafeStateReached)
            {
                parts.Add(SafeStateNotReached);
            }

            if (!ArtifactsComplete)
            {
                parts.Add("ARTIFACTS INCOMPLETE: " + string.Join(", ", ArtifactProblems!.Select(p => Path.GetFileName(p.Path)).Distinct()) + " not written (see stderr)");
            }

            return string.Join("; ", parts);
        }
    }

    /// <summary>The console's last line: <c>RESULT: FAIL — …; exit 1</c>.</summary>
    public string ResultLine(string detail) => $"RESULT: {Final.ToWire()} — {FullReason}{detail}; exit {ExitCode}";
}

/// <summary>An artifact of a run that could not be written: which file, and the OS error.</summary>
public sealed record ArtifactProblem(string Path, string Error)
{
    /// <summary>One line naming the file and the OS error (.NET's own " : 'path'" copies of the path dropped).</summary>
    public override string ToString() => $"{Path}: {System.Text.RegularExpressions.Regex.Replace(Error, @" : '[^']*'", string.Empty)}";
}
