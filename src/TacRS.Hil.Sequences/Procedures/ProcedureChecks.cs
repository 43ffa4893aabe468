using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Sequences.Procedures;

/// <summary>
/// Checks of a loaded procedure that look at time and flow rather than at single keys: a step whose
/// fixed waits outlast its timeout (it can never pass), and a loop of steps that takes no time (it
/// would run forever at one instant of virtual time). Both are found at load time, with positions,
/// instead of as a TIMEOUT 15 minutes into a run or a run that never ends.
/// </summary>
internal static class ProcedureChecks
{
    /// <summary>Where a step's timeout came from, for messages that name both places.</summary>
    internal readonly record struct TimeoutSource(SourceLocation? At, bool FromDefaults);

    /// <summary>
    /// Time a step always spends on a passing attempt: its <c>wait:</c> actions, and in simulation the
    /// simulated operator's waits. <c>wait-until</c> and <c>settle</c> are not counted: they end as soon
    /// as the condition holds, so they bound a step's time from above, not below.
    /// </summary>
    public static TimeSpan FixedWaits(IEnumerable<ProcedureAction> actions)
    {
        var total = TimeSpan.Zero;
        foreach (var w in Waits(actions))
        {
            total = Add(total, w.Duration);
        }

        return total;
    }

    /// <summary>Time a failing attempt still always takes: the waits before its first action that can fail.</summary>
    public static TimeSpan WaitsBeforeFirstFailure(IEnumerable<ProcedureAction> actions)
    {
        var total = TimeSpan.Zero;
        foreach (var a in actions)
        {
            if (a is not WaitAction w)
            {
                break;
            }

            total = Add(total, w.Duration);
        }

        return total;
    }

    /// <summary>Every wait, including those of a prompt's simulated operator, in order.</summary>
    public static IEnumerable<WaitAction> Waits(IEnumerable<ProcedureAction> actions) =>
        Flatten(actions).OfType<WaitAction>();

    /// <summary>Every call, including those of a prompt's simulated operator.</summary>
    public static IEnumerable<CallAction> Calls(IEnumerable<ProcedureAction> actions) =>
        Flatten(actions).OfType<CallAction>();

    /// <summary>
    /// The problem when <paramref name="step"/>'s fixed waits reach its timeout: the wait that crosses
    /// it, the timeout's place, and where a substituted value came from.
    /// </summary>
    public static ConfigProblem? WaitsOutlastTimeout(StepDefinition step, TimeoutSource timeout, Func<WaitAction, Substitution?> origin)
    {
        var waits = Waits(step.Actions).ToList();
        var total = TimeSpan.Zero;
        foreach (var (w, i) in waits.Select((w, i) => (w, i)))
        {
            total = Add(total, w.Duration);

            // The step's timeout starts before its first action, and timers due at the same instant fire
            // in creation order, so a wait that ends exactly at the timeout loses too.
            if (total < step.Timeout)
            {
                continue;
            }

            var used = waits.Take(i + 1).ToList();
            var origins = used.Select(u => origin(u)).OfType<Substitution>().Select(s => s.Describe()).ToList();
            var what = used.Count == 1
                ? $"it waits {Duration.Format(total)}"
                : $"its waits add up to {Duration.Format(total)} ({string.Join(", ", used.Select(u => u == w ? $"{Duration.Format(u.Duration)} here" : $"{Duration.Format(u.Duration)} at line {u.At.Line}"))})";
            var from = origins.Count == 0 ? string.Empty : $" ({string.Join(", ", origins)})";
            var limit = timeout switch
            {
                { At: { } at, FromDefaults: false } => $"its timeout is {Duration.Format(step.Timeout)} (at {at})",
                { At: { } at } => $"its timeout is {Duration.Format(step.Timeout)} (the procedure's 'defaults' at {at})",
                _ => $"its timeout is the default {Duration.Format(step.Timeout)} (give the step a longer 'timeout:')",
            };
            return new ConfigProblem(w.At, $"step '{step.Id}' can never pass: {what}{from}, but {limit}");
        }

        return null;
    }

    /// <summary>
    /// Loops of steps that can go round without virtual time passing and without a bound: every step
    /// on the way lacks an explicit <c>max-attempts</c>, and no transition on the way waits (a passing
    /// step's fixed waits, or on a failure the waits before anything can fail plus the retry delays).
    /// Each is reported once, at its first step in file order.
    /// </summary>
    public static IEnumerable<ConfigProblem> ZeroTimeLoops(ProcedureDefinition proc, Func<StepDefinition, bool> hasAttemptLimit)
    {
        var edges = new Dictionary<string, List<(StepDefinition To, string How)>>(StringComparer.Ordinal);
        foreach (var s in proc.Steps.Where(s => !hasAttemptLimit(s)))
        {
            var list = new List<(StepDefinition, string)>();
            void Edge(string? target, string how, TimeSpan cost)
            {
                if (cost == TimeSpan.Zero && target is not null && proc.FindStep(target) is { } t && !hasAttemptLimit(t))
                {
                    list.Add((t, how));
                }
            }

            Edge(proc.NextOf(s), s.Next is null ? "then" : "next", FixedWaits(s.Actions));
            var onFail = s.OnFail switch
            {
                FailPolicy.Goto => s.GotoStep,
                FailPolicy.Continue => proc.NextOf(s),
                _ => null,
            };
            var failCost = Add(WaitsBeforeFirstFailure(s.Actions), Multiply(s.RetryDelay, s.Retries));
            Edge(onFail, s.OnFail == FailPolicy.Goto ? "on-fail goto" : "on-fail continue", failCost);
            edges[s.Id] = list;
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in proc.Steps.Where(s => edges.ContainsKey(s.Id) && !reported.Contains(s.Id)))
        {
            if (PathBack(start, edges) is not { } path)
            {
                continue;
            }

            foreach (var p in path)
            {
                reported.Add(p.From.Id);
            }

            var route = $"'{start.Id}'" + string.Concat(path.Select(p => $" →({p.How}) '{p.To.Id}'"));
            yield return new ConfigProblem(
                start.At,
                $"steps {route} can loop forever at one instant: nothing on the way waits and none of them has 'max-attempts'; give one of them a wait, a retry delay or 'max-attempts: N'");
        }
    }

    /// <summary>A shortest path of zero-time edges from <paramref name="start"/> back to itself (breadth first), or null.</summary>
    private static List<(StepDefinition From, StepDefinition To, string How)>? PathBack(
        StepDefinition start, Dictionary<string, List<(StepDefinition To, string How)>> edges)
    {
        var cameFrom = new Dictionary<string, (StepDefinition From, string How)>(StringComparer.Ordinal);
        var queue = new Queue<StepDefinition>([start]);
        while (queue.TryDequeue(out var s))
        {
            foreach (var (to, how) in edges.GetValueOrDefault(s.Id) ?? [])
            {
                if (to.Id == start.Id)
                {
                    var path = new List<(StepDefinition, StepDefinition, string)> { (s, to, how) };
                    for (var at = s; at.Id != start.Id; at = cameFrom[at.Id].From)
                    {
                        path.Insert(0, (cameFrom[at.Id].From, at, cameFrom[at.Id].How));
                    }

                    return path;
                }

                if (cameFrom.TryAdd(to.Id, (s, how)))
                {
                    queue.Enqueue(to);
                }
            }
        }

        return null;
    }

    private static IEnumerable<ProcedureAction> Flatten(IEnumerable<ProcedureAction> actions)
    {
        foreach (var a in actions)
        {
            yield return a;
            if (a is PromptAction p)
            {
                foreach (var inner in Flatten(p.Simulate))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>Sums that cannot overflow: every duration is at most <see cref="Duration.Max"/>, but there may be many.</summary>
    private static TimeSpan Add(TimeSpan a, TimeSpan b) =>
        a.Ticks > TimeSpan.MaxValue.Ticks - b.Ticks ? TimeSpan.MaxValue : a + b;

    private static TimeSpan Multiply(TimeSpan a, int n) =>
        n <= 0 ? TimeSpan.Zero : a.Ticks > TimeSpan.MaxValue.Ticks / n ? TimeSpan.MaxValue : TimeSpan.FromTicks(a.Ticks * n);
}
