using System.Globalization;
using System.Security.Cryptography;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Units;

namespace TacRS.Hil.Sequences.Procedures;

/// <summary>
/// Reads a procedure file and checks it, against the rig's devices when given, reporting every
/// problem at once as <c>file:line:col: message</c>. A procedure that loads is one the engine can run:
/// every signal exists, every unit fits, every limit is ordered, every step is reachable, and there
/// is a safe state.
/// </summary>
public sealed class ProcedureLoader
{
    /// <summary>State names the engine adds around the steps; a step may not take them.</summary>
    public static readonly IReadOnlySet<string> ReservedIds = new HashSet<string>(StringComparer.Ordinal) { "safing", "passed", "failed", "aborted" };

    private static readonly string[] ActionKeys = ["set", "call", "wait", "wait-until", "prompt"];

    private readonly IReadOnlyDictionary<string, DeviceDescription>? _devices;
    private readonly bool _simulated;
    private readonly ConfigProblems _problems;

    // What the checks of time and flow need that the definitions do not carry.
    private readonly HashSet<StepDefinition> _attemptLimited = [];
    private readonly Dictionary<WaitAction, Substitution> _waitOrigins = [];
    private ConfigDocument? _doc;

    private ProcedureLoader(IReadOnlyDictionary<string, DeviceDescription>? devices, bool simulated, ConfigProblems problems)
    {
        _devices = devices;
        _simulated = simulated;
        _problems = problems;
    }

    /// <summary>
    /// Loads <paramref name="path"/>. With <paramref name="devices"/> null the device references are not
    /// checked (drawing a procedure without a rig); otherwise every reference is.
    /// </summary>
    /// <remarks><paramref name="cancellationToken"/> is checked while reading the file and per step.</remarks>
    public static ProcedureDefinition Load(
        string path, IReadOnlyDictionary<string, DeviceDescription>? devices, bool simulated, IReadOnlyDictionary<string, string>? variables = null, CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, variables: variables, cancellationToken: cancellationToken);
        var result = new ProcedureLoader(devices, simulated, doc.Problems).Read(doc, path, cancellationToken);
        doc.Problems.ThrowIfAny();
        return result!;
    }

    /// <summary>Like <see cref="Load"/> but returns the problems instead of throwing (for <c>validate</c>).</summary>
    public static (ProcedureDefinition? Procedure, IReadOnlyList<ConfigProblem> Problems) TryLoad(
        string path, IReadOnlyDictionary<string, DeviceDescription>? devices, bool simulated, IReadOnlyDictionary<string, string>? variables = null, CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, variables: variables, cancellationToken: cancellationToken);
        var result = new ProcedureLoader(devices, simulated, doc.Problems).Read(doc, path, cancellationToken);
        return (doc.Problems.Any ? null : result, doc.Problems.Sorted());
    }

    private ProcedureDefinition? Read(ConfigDocument doc, string path, CancellationToken cancellationToken)
    {
        _doc = doc;
        var root = doc.Root?.AsMap("a procedure file");
        if (root is null)
        {
            return null;
        }

        var id = root.String("procedure", required: true) ?? Path.GetFileNameWithoutExtension(path);
        var title = root.String("title") ?? id;
        var description = root.String("description");
        var onRed = root.OneOf("on-red-alarm", ["fail-step", "safe"]) == "safe" ? AlarmPolicy.Safe : AlarmPolicy.FailStep;
        var safingTimeout = PositiveDuration(root, "safing-action-timeout") ?? TimeSpan.FromSeconds(10);
        var defaults = root.Map("defaults");
        var stepDefaults = new StepDefaults(
            defaults is null ? null : PositiveDuration(defaults, "timeout"),
            defaults?.Get("timeout") is { IsNull: false } dt ? dt.Location : null,
            defaults is null ? 0 : ReadRetries(defaults) ?? 0,
            defaults is null ? null : ReadMaxAttempts(defaults));
        defaults?.ReportUnknownKeys("'defaults'");

        var safeStateNode = root.Get("safe-state");
        var safeActions = new List<ProcedureAction>();
        var safeVerify = new List<MeasureDefinition>();
        if (safeStateNode is null || safeStateNode.IsNull)
        {
            root.Node.Error($"procedure '{id}' has no 'safe-state': every procedure must say how the rig is made safe on every way out");
        }
        else if (safeStateNode.IsList)
        {
            safeActions.AddRange(ReadActions(safeStateNode, "safe-state", inSafeState: true));
        }
        else if (safeStateNode.AsMap("'safe-state'") is { } ssMap)
        {
            if (ssMap.Get("actions") is { } a)
            {
                safeActions.AddRange(ReadActions(a, "safe-state", inSafeState: true));
            }
            else
            {
                ssMap.Require("actions", "'safe-state'");
            }

            if (ssMap.List("verify") is { } verify)
            {
                foreach (var v in verify)
                {
                    if (ReadMeasure(v, "safe-state", []) is { } m)
                    {
                        safeVerify.Add(m);
                    }
                }
            }

            ssMap.ReportUnknownKeys("'safe-state'");
        }

        if (safeStateNode is not null && !safeStateNode.IsNull && safeActions.Count == 0 && !_problems.Any)
        {
            safeStateNode.Error("'safe-state' must list at least one action that makes the rig safe");
        }

        var steps = new List<StepDefinition>();
        var stepsNode = root.Require("steps");
        var stepNodes = stepsNode?.AsList("'steps'") ?? [];
        if (stepsNode is not null && stepNodes.Count == 0 && stepsNode.IsList)
        {
            stepsNode.Error("'steps' must list at least one step");
        }

        var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var sn in stepNodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var step = ReadStep(sn, stepDefaults);
            if (step is null)
            {
                continue;
            }

            if (seen.TryGetValue(step.Id, out var first))
            {
                _problems.Add(step.At, $"duplicate step id '{step.Id}' (first defined at line {first.Line})");
                continue;
            }

            seen[step.Id] = step.At;
            steps.Add(step);
        }

        var procedureMonitors = ReadMonitors(root, $"procedure '{id}'", new HashSet<string>(StringComparer.Ordinal));
        foreach (var step in steps)
        {
            foreach (var m in procedureMonitors.Where(m => step.Measurements.Any(x => x.Spec.Name == m.Name) || step.Monitors.Any(x => x.Name == m.Name)))
            {
                _problems.Add(m.At, $"procedure monitor '{m.Name}' has the name of a measurement or monitor of step '{step.Id}'");
            }
        }

        root.ReportUnknownKeys("the procedure");

        var proc = new ProcedureDefinition(id, title, description, path, Hash(path), steps, safeActions, safeVerify, onRed, safingTimeout)
        {
            DefaultMaxAttempts = stepDefaults.MaxAttempts ?? StepDefinition.DefaultMaxAttempts,
            Monitors = procedureMonitors,
        };
        CheckFlow(proc);
        _problems.AddRange(ProcedureChecks.ZeroTimeLoops(proc, s => stepDefaults.MaxAttempts is not null || _attemptLimited.Contains(s)));
        return proc;
    }

    private void CheckFlow(ProcedureDefinition proc)
    {
        foreach (var s in proc.Steps)
        {
            if (s.Next is { } n && proc.FindStep(n) is null)
            {
                _problems.Add(s.At, $"step '{s.Id}' has next '{n}', which is not a step of this procedure");
            }

            if (s.GotoStep is { } g && proc.FindStep(g) is null)
            {
                _problems.Add(s.At, $"step '{s.Id}' has on-fail goto '{g}', which is not a step of this procedure");
            }
        }

        if (proc.Steps.Count == 0)
        {
            return;
        }

        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<StepDefinition>([proc.Steps[0]]);
        while (queue.TryDequeue(out var s))
        {
            if (!reached.Add(s.Id))
            {
                continue;
            }

            foreach (var target in new[] { proc.NextOf(s), s.OnFail == FailPolicy.Continue ? proc.NextOf(s) : s.GotoStep })
            {
                if (target is not null && proc.FindStep(target) is { } t)
                {
                    queue.Enqueue(t);
                }
            }
        }

        foreach (var s in proc.Steps.Where(s => !reached.Contains(s.Id)))
        {
            _problems.Add(s.At, $"step '{s.Id}' is unreachable: no step leads to it from the first step '{proc.Steps[0].Id}'");
        }
    }

    /// <summary>The procedure's <c>defaults:</c> (timeout, retries, max-attempts) as a step falls back on them.</summary>
    private sealed record StepDefaults(TimeSpan? Timeout, SourceLocation? TimeoutAt, int Retries, int? MaxAttempts);

    private StepDefinition? ReadStep(ConfigNode node, StepDefaults defaults)
    {
        var map = node.AsMap("a step");
        if (map is null)
        {
            return null;
        }

        var idNode = map.Require("id", "a step");
        var id = idNode?.AsString("'id'");
        if (id is null)
        {
            map.ReportUnknownKeys("a step");
            return null;
        }

        if (!IsStepId(id))
        {
            idNode!.Error($"step id '{id}' must be lower-case letters, digits, '-' and '_', starting with a letter");
        }
        else if (ReservedIds.Contains(id))
        {
            idNode!.Error($"step id '{id}' is reserved for the engine's own states (safing, passed, failed, aborted)");
        }

        var where = $"step '{id}'";
        var title = map.String("title") ?? id;
        var hazardous = map.Bool("hazardous") ?? false;
        var ownTimeout = PositiveDuration(map, "timeout");
        var timeout = ownTimeout ?? defaults.Timeout ?? TimeSpan.FromMinutes(5);
        var timeoutSource = map.Get("timeout") is { IsNull: false } tn
            ? new ProcedureChecks.TimeoutSource(tn.Location, FromDefaults: false)
            : new ProcedureChecks.TimeoutSource(defaults.TimeoutAt, FromDefaults: true);

        var retries = ReadRetries(map) ?? defaults.Retries;

        var ownAttempts = ReadMaxAttempts(map);
        var maxAttempts = ownAttempts ?? defaults.MaxAttempts ?? StepDefinition.DefaultMaxAttempts;
        if (maxAttempts < retries + 1)
        {
            (map.Get("max-attempts") ?? map.Get("retries") ?? map.Node).Error(
                $"{where} allows {maxAttempts} attempts ('max-attempts'{(ownAttempts is null ? " from 'defaults'" : string.Empty)}) but 'retries: {retries}' needs {retries + 1}");
        }

        var retryDelay = map.Duration("retry-delay") ?? TimeSpan.Zero;
        var next = map.String("next");
        var (policy, gotoStep) = ReadFailPolicy(map);

        var inhibits = new List<Inhibit>();
        if (map.List("inhibits") is { } inhibitNodes)
        {
            foreach (var inNode in inhibitNodes)
            {
                if (inNode.AsMap("an inhibit") is { } im)
                {
                    var sig = im.Require("signal", "an inhibit") is { } sn ? ReadSignalRef(sn, "'signal'", needRead: true) : null;
                    var expected = im.Require("expect", "an inhibit") is { } en ? ReadNumberOrBool(en, "'expect'") : null;
                    im.ReportUnknownKeys("an inhibit");
                    if (sig is not null && expected is not null)
                    {
                        inhibits.Add(new Inhibit(sig, expected.Value, im.Location));
                    }
                }
            }
        }

        if (inhibits.Count > 0 && !hazardous)
        {
            map.Get("inhibits")!.Error($"{where} lists inhibits but is not marked 'hazardous: true'");
        }

        var actions = map.Get("do") is { IsNull: false } doNode ? ReadActions(doNode, where, inSafeState: false) : [];
        if (!hazardous)
        {
            // The simulated operator's actions run in the step too: a hazard there is gated like any other.
            var direct = actions.OfType<CallAction>().ToHashSet();
            foreach (var call in ProcedureChecks.Calls(actions).Where(c => c.Hazardous))
            {
                _problems.Add(call.At, direct.Contains(call)
                    ? $"{where} calls hazardous action '{call.Device}.{call.Action}' but is not marked 'hazardous: true'"
                    : $"{where} has its simulated operator call hazardous action '{call.Device}.{call.Action}' but is not marked 'hazardous: true'");
            }
        }

        var measures = new List<MeasureDefinition>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (map.List("measure") is { } measureNodes)
        {
            foreach (var mn in measureNodes)
            {
                if (ReadMeasure(mn, where, actions) is { } m)
                {
                    if (!names.Add(m.Spec.Name))
                    {
                        _problems.Add(m.At, $"duplicate measurement name '{m.Spec.Name}' in {where}");
                        continue;
                    }

                    measures.Add(m);
                }
            }
        }

        if (!map.Has("do") && !map.Has("measure"))
        {
            map.Node.Error($"{where} has nothing to do: give it 'do:' actions or 'measure:' entries");
        }

        var monitors = ReadMonitors(map, where, names);
        map.ReportUnknownKeys(where);
        var step = new StepDefinition(id, title, actions, measures, timeout, retries, retryDelay, policy, gotoStep, next, hazardous, inhibits, node.Location)
        {
            MaxAttempts = maxAttempts,
            Monitors = monitors,
        };
        if (ownAttempts is not null)
        {
            _attemptLimited.Add(step);
        }

        if (ProcedureChecks.WaitsOutlastTimeout(step, timeoutSource, w => _waitOrigins.GetValueOrDefault(w)) is { } never)
        {
            _problems.Add(never.Location, never.Message);
        }

        return step;
    }

    /// <summary>
    /// <c>monitor:</c> entries (on a step, or the procedure): <c>signal</c>, <c>limits</c> or <c>expect</c>, and optionally
    /// <c>name</c>, <c>unit</c>, <c>every</c> and <c>record-only</c>. <paramref name="taken"/> holds the names already used
    /// in the step, so a monitor's measurements cannot clash with a measurement.
    /// </summary>
    private List<MonitorDefinition> ReadMonitors(ConfigMap map, string where, HashSet<string> taken)
    {
        var monitors = new List<MonitorDefinition>();
        if (map.List("monitor") is not { } nodes)
        {
            return monitors;
        }

        foreach (var n in nodes)
        {
            if (n.AsMap("a monitor") is not { } mm)
            {
                continue;
            }

            var signal = mm.Require("signal", "a monitor") is { } sn ? ReadSignalRef(sn, "'signal'", needRead: true) : null;
            var name = mm.String("name") ?? signal?.ToString().Replace('.', '_').Replace('-', '_');
            if (mm.Get("name") is { } nn && name is not null && !IsMeasurementName(name))
            {
                nn.Error($"monitor name '{name}' must be lower-case letters, digits and '_'");
            }

            var unit = ReadUnit(mm, signal, "monitor");
            var hasLimits = mm.Has("limits") || mm.Has("expect");
            var limits = ReadLimits(mm, signal, required: !mm.Has("expect"));
            var every = PositiveDuration(mm, "every") ?? MonitorDefinition.DefaultEvery;
            var recordOnly = mm.Bool("record-only") ?? false;
            mm.ReportUnknownKeys(name is null ? "a monitor" : $"monitor '{name}'");
            if (signal is null || unit is null || limits is null || name is null || !hasLimits)
            {
                continue;
            }

            if (!taken.Add(name))
            {
                _problems.Add(mm.Location, $"duplicate monitor or measurement name '{name}' in {where}");
                continue;
            }

            monitors.Add(new MonitorDefinition(name, signal, unit, limits, every, recordOnly, mm.Location));
        }

        return monitors;
    }

    /// <summary><c>retries</c> on a step or in <c>defaults:</c>: 0 to 100 (reported where it is written).</summary>
    private static int? ReadRetries(ConfigMap map)
    {
        var n = map.Int("retries");
        if (n is < 0 or > 100)
        {
            map.Get("retries")!.Error($"'retries' must be from 0 to 100, not {n}");
            return null;
        }

        return n;
    }

    /// <summary><c>max-attempts</c> on a step or in <c>defaults:</c>: 1 to <see cref="StepDefinition.MaxMaxAttempts"/>.</summary>
    private static int? ReadMaxAttempts(ConfigMap map)
    {
        var n = map.Int("max-attempts");
        if (n is < 1 or > StepDefinition.MaxMaxAttempts)
        {
            map.Get("max-attempts")!.Error($"'max-attempts' must be from 1 to {StepDefinition.MaxMaxAttempts}, not {n}");
            return null;
        }

        return n;
    }

    /// <summary>A duration that must be longer than zero (a zero timeout fails every attempt at once).</summary>
    private static TimeSpan? PositiveDuration(ConfigMap map, string key)
    {
        var d = map.Duration(key);
        if (d == TimeSpan.Zero)
        {
            map.Get(key)!.Error($"'{key}' must be longer than 0s");
            return null;
        }

        return d;
    }

    private static (FailPolicy Policy, string? Goto) ReadFailPolicy(ConfigMap map)
    {
        var text = map.String("on-fail");
        if (text is null || text == "abort")
        {
            return (FailPolicy.Abort, null);
        }

        if (text == "continue")
        {
            return (FailPolicy.Continue, null);
        }

        if (text.StartsWith("goto:", StringComparison.Ordinal) && text.Length > 5)
        {
            return (FailPolicy.Goto, text[5..].Trim());
        }

        map.Get("on-fail")!.Error($"'on-fail' must be abort, continue or goto:<step-id>, not '{text}' (retries are set with 'retries:')");
        return (FailPolicy.Abort, null);
    }

    private List<ProcedureAction> ReadActions(ConfigNode node, string where, bool inSafeState)
    {
        var result = new List<ProcedureAction>();
        foreach (var an in node.AsList($"the actions of {where}") ?? [])
        {
            if (ReadAction(an, where, inSafeState) is { } a)
            {
                result.Add(a);
            }
        }

        return result;
    }

    private ProcedureAction? ReadAction(ConfigNode node, string where, bool inSafeState)
    {
        var map = node.AsMap($"an action in {where}");
        if (map is null)
        {
            return null;
        }

        var kinds = ActionKeys.Where(map.Has).ToList();
        if (kinds.Count != 1)
        {
            foreach (var k in ActionKeys)
            {
                map.Get(k);
            }

            map.Node.Error(kinds.Count == 0
                ? $"an action in {where} must be one of: {string.Join(", ", ActionKeys)}"
                : $"an action in {where} must be exactly one of {string.Join(", ", ActionKeys)}, not {string.Join(" and ", kinds)}");
            return null;
        }

        ProcedureAction? action = kinds[0] switch
        {
            "set" => ReadSet(map),
            "call" => ReadCall(map),
            "wait" => ReadWait(map),
            "wait-until" => ReadWaitUntil(map),
            _ => ReadPrompt(map, where),
        };

        if (inSafeState && action is PromptAction or WaitUntilAction)
        {
            map.Node.Error($"the safe state cannot wait on an operator or a condition; use set, call or wait");
        }

        if (inSafeState && action is CallAction { Hazardous: true } hazard)
        {
            map.Node.Error($"the safe state calls hazardous action '{hazard.Device}.{hazard.Action}': safing runs on every way out with no inhibits and no confirmation, so it may only use actions that are not hazardous");
        }

        map.ReportUnknownKeys($"a '{kinds[0]}' action");
        return action;
    }

    private WaitAction? ReadWait(ConfigMap map)
    {
        if (map.Duration("wait", required: true) is not { } d)
        {
            return null;
        }

        var wait = new WaitAction(d, map.Location);
        if (_doc?.SubstitutionAt(map.Get("wait")!.Location) is { } origin)
        {
            _waitOrigins[wait] = origin;
        }

        return wait;
    }

    private SetAction? ReadSet(ConfigMap map)
    {
        var target = map.Require("set") is { } n ? ReadSignalRef(n, "'set'", needWrite: true) : null;
        var valueNode = map.Require("value", "a 'set' action");
        var value = valueNode is null ? null : ReadNumberOrBool(valueNode, "'value'");
        var unit = ReadUnit(map, target, "value");
        if (target is null || value is null || unit is null)
        {
            return null;
        }

        if (Signal(target) is { } info)
        {
            var inSignalUnit = unit.CanConvertTo(info.Unit) ? unit.ConvertTo(value.Value, info.Unit) : value.Value;
            if ((info.Min is { } min && inSignalUnit < min) || (info.Max is { } max && inSignalUnit > max))
            {
                valueNode!.Error($"value {F(value.Value)} is outside the range of {target} [{F(info.Min ?? double.NegativeInfinity)}, {F(info.Max ?? double.PositiveInfinity)}] {info.Unit.Symbol}".TrimEnd());
            }
        }

        return new SetAction(target, value.Value, unit, map.Location);
    }

    private CallAction? ReadCall(ConfigMap map)
    {
        var node = map.Require("call");
        var text = node?.AsString("'call'");
        var args = new Dictionary<string, ArgumentValue>(StringComparer.Ordinal);
        var withMap = map.Map("with");
        if (text is null)
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == text.Length - 1)
        {
            node!.Error($"'call' must be device.action, not '{text}'");
            return null;
        }

        var device = text[..dot];
        var actionName = text[(dot + 1)..];
        ActionInfo? info = null;
        if (_devices is not null && Device(device, node!) is { } desc)
        {
            info = desc.FindAction(actionName);
            if (info is null)
            {
                node!.Error($"device '{device}' has no action '{actionName}'{Listing("actions", desc.Actions.Select(a => a.Name))}");
            }
        }

        if (withMap is not null)
        {
            foreach (var (key, keyNode, value) in withMap.Entries())
            {
                var p = info?.Parameters.FirstOrDefault(x => x.Name == key);
                if (info is not null && p is null)
                {
                    keyNode.Error($"action '{text}' has no argument '{key}'{Listing("arguments", info.Parameters.Select(x => x.Name))}");
                    continue;
                }

                if (ReadArgument(value, key, p, text) is { } av)
                {
                    args[key] = av;
                }
            }
        }

        if (info is not null)
        {
            // A given argument with a bad value has its own message ("unknown command 'X'"): it is not missing.
            foreach (var p in info.Parameters.Where(p => p.Required && !args.ContainsKey(p.Name) && withMap?.Has(p.Name) != true))
            {
                map.Node.Error($"action '{text}' needs argument '{p.Name}'");
            }
        }

        return new CallAction(device, actionName, args, info?.Hazardous ?? false, map.Location);
    }

    private static ArgumentValue? ReadArgument(ConfigNode value, string key, ActionParameter? p, string action)
    {
        var text = value.Text;
        if (text is null)
        {
            value.Error($"argument '{key}' must be a single value, not {value.Describe()}");
            return null;
        }

        if (p is null)
        {
            return ConfigNode.TryParseNumber(text, out var n) ? new ArgumentValue(text, n, null) : ArgumentValue.Of(text);
        }

        switch (p.Type)
        {
            case ArgumentType.Number:
                if (!ConfigNode.TryParseNumber(text, out var num))
                {
                    value.Error($"argument '{key}' must be a number{(p.Unit is { Symbol.Length: > 0 } u ? " in " + u.Symbol : string.Empty)}, not '{text}'");
                    return null;
                }

                if ((p.Min is { } min && num < min) || (p.Max is { } max && num > max))
                {
                    value.Error($"argument '{key}' = {F(num)} is outside its range [{F(p.Min ?? double.NegativeInfinity)}, {F(p.Max ?? double.PositiveInfinity)}]");
                    return null;
                }

                return new ArgumentValue(text, num, null);
            case ArgumentType.Boolean:
                var b = value.AsBool($"argument '{key}'");
                return b is null ? null : ArgumentValue.Of(b.Value);
            default:
                if (p.Choices is { Count: > 0 } choices && !choices.Contains(text))
                {
                    value.Error($"unknown {key} '{text}' for '{action}' (one of: {string.Join(", ", choices)})");
                    return null;
                }

                return ArgumentValue.Of(text);
        }
    }

    private WaitUntilAction? ReadWaitUntil(ConfigMap map)
    {
        var sig = map.Require("wait-until") is { } n ? ReadSignalRef(n, "'wait-until'", needRead: true) : null;
        var unit = ReadUnit(map, sig, "limits");
        var limits = ReadLimits(map, sig, required: true);
        var timeout = map.Duration("timeout", required: true);
        var poll = map.Duration("poll") ?? TimeSpan.FromMilliseconds(100);
        if (poll <= TimeSpan.Zero)
        {
            map.Get("poll")!.Error("'poll' must be longer than 0s");
        }

        return sig is null || unit is null || limits is null || timeout is null
            ? null
            : new WaitUntilAction(sig, unit, limits, timeout.Value, poll, map.Location);
    }

    private PromptAction? ReadPrompt(ConfigMap map, string where)
    {
        var text = map.String("prompt", required: true);
        var id = map.String("id", required: true);
        var confirm = map.Bool("confirm") ?? true;
        // On a hardware rig a person does what the prompt says; 'simulate:' is neither run nor checked there.
        var simulate = map.Get("simulate") is { IsNull: false } sn && _simulated
            ? ReadActions(sn, $"the simulated operator of {where}", inSafeState: false)
            : [];

        return text is null || id is null ? null : new PromptAction(id, text, confirm, simulate, map.Location);
    }

    private MeasureDefinition? ReadMeasure(ConfigNode node, string where, IReadOnlyList<ProcedureAction> actions)
    {
        var map = node.AsMap($"a measurement in {where}");
        if (map is null)
        {
            return null;
        }

        var name = map.String("name", required: true);
        if (name is not null && !IsMeasurementName(name))
        {
            map.Get("name")!.Error($"measurement name '{name}' must be lower-case letters, digits and '_'");
        }

        SignalRef? signal = null;
        SignalRef? output = null;
        Unit? sourceUnit = null;
        var hasSignal = map.Has("signal");
        var hasOutput = map.Has("output");
        if (hasSignal == hasOutput)
        {
            map.Get("signal");
            map.Get("output");
            map.Node.Error($"measurement '{name}' must take its value from exactly one of 'signal' or 'output'");
        }
        else if (hasSignal)
        {
            signal = ReadSignalRef(map.Get("signal")!, "'signal'", needRead: true);
            sourceUnit = signal is null ? null : Signal(signal)?.Unit;
        }
        else
        {
            var on = map.Get("output")!;
            (output, sourceUnit) = ReadOutputRef(on, actions);
        }

        var unit = ReadUnit(map, signal ?? output, "measurement", sourceUnit);
        var limits = ReadLimits(map, signal ?? output, required: false) ?? Limits.None;
        var settle = map.Duration("settle");
        if (settle is not null && output is not null)
        {
            map.Get("settle")!.Error("'settle' re-reads a signal; an action output cannot be re-read");
        }

        // A zero poll would re-read a settling signal forever at one instant of virtual time.
        var poll = PositiveDuration(map, "poll") ?? TimeSpan.FromMilliseconds(100);
        var description = map.String("description");
        map.ReportUnknownKeys($"measurement '{name}'");
        if (name is null || unit is null || (signal is null && output is null))
        {
            return null;
        }

        return new MeasureDefinition(new MeasurementSpec(name, unit, limits, description), signal, output, sourceUnit ?? unit, settle, poll, map.Location);
    }

    private (SignalRef? Ref, Unit? Unit) ReadOutputRef(ConfigNode node, IReadOnlyList<ProcedureAction> actions)
    {
        var text = node.AsString("'output'");
        if (text is null)
        {
            return (null, null);
        }

        var parts = text.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            node.Error($"'output' must be device.action.output, not '{text}'");
            return (null, null);
        }

        var call = actions.OfType<CallAction>().LastOrDefault(c => c.Device == parts[0] && c.Action == parts[1]);
        if (call is null)
        {
            node.Error($"'output' {text} needs a 'call: {parts[0]}.{parts[1]}' in this step's 'do:'");
            return (null, null);
        }

        Unit? unit = null;
        if (_devices is not null && _devices.TryGetValue(parts[0], out var desc) && desc.FindAction(parts[1]) is { } info)
        {
            var o = info.Outputs.FirstOrDefault(x => x.Name == parts[2]);
            if (o is null)
            {
                node.Error($"action '{parts[0]}.{parts[1]}' has no output '{parts[2]}'{Listing("outputs", info.Outputs.Select(x => x.Name))}");
                return (null, null);
            }

            unit = o.Unit;
        }

        return (new SignalRef(parts[0], parts[1] + "." + parts[2], node.Location), unit);
    }

    private Unit? ReadUnit(ConfigMap map, SignalRef? target, string what, Unit? sourceUnit = null)
    {
        var declared = sourceUnit ?? (target is null ? null : Signal(target)?.Unit);
        var node = map.Get("unit");
        if (node is null || node.IsNull)
        {
            return declared ?? Unit.None;
        }

        var text = node.Text ?? string.Empty;
        if (!Unit.TryParse(text, out var unit))
        {
            node.Error($"unknown unit '{text}' (known units include V, mV, A, mA, W, Ohm, degC, s, ms, Hz, MHz, deg, %, kg, bool)");
            return null;
        }

        if (declared is not null && !unit.CanConvertTo(declared))
        {
            node.Error($"unit '{unit.Symbol}' does not fit {target}, which is measured in {declared.Describe()}");
            return null;
        }

        return unit;
    }

    private static Limits? ReadLimits(ConfigMap map, SignalRef? target, bool required)
    {
        var hasLimits = map.Has("limits");
        var hasExpect = map.Has("expect");
        if (hasLimits && hasExpect)
        {
            map.Get("limits");
            map.Get("expect");
            map.Node.Error("give either 'limits' or 'expect', not both");
            return null;
        }

        if (hasExpect)
        {
            var en = map.Get("expect")!;
            var tol = map.Double("tolerance");
            var v = ReadNumberOrBool(en, "'expect'");
            return v is null ? null : new Limits(Expected: v, Marginal: tol);
        }

        var lm = map.Map("limits", required);
        if (lm is null)
        {
            return hasLimits || required ? null : Limits.None;
        }

        var low = lm.Double("low");
        var high = lm.Double("high");
        var marginal = lm.Double("marginal");
        lm.ReportUnknownKeys("'limits'");
        if (low is null && high is null)
        {
            lm.Node.Error("'limits' needs 'low', 'high' or both");
            return null;
        }

        if (low is { } l && high is { } h && l > h)
        {
            lm.Node.Error($"limits low {F(l)} is above high {F(h)}{(target is null ? string.Empty : $" for {target}")}");
            return null;
        }

        if (marginal is { } m && (m < 0 || (low is { } l2 && high is { } h2 && 2 * m > h2 - l2)))
        {
            lm.Get("marginal")!.Error($"'marginal' {F(m)} must be ≥ 0 and leave room inside the limits");
            return null;
        }

        return new Limits(low, high, marginal);
    }

    private static double? ReadNumberOrBool(ConfigNode node, string what)
    {
        switch (node.Text)
        {
            case "true" or "high" or "on":
                return 1;
            case "false" or "low" or "off":
                return 0;
        }

        return node.AsDouble(what);
    }

    private SignalRef? ReadSignalRef(ConfigNode node, string what, bool needRead = false, bool needWrite = false)
    {
        var text = node.AsString(what);
        if (text is null)
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == text.Length - 1)
        {
            node.Error($"{what} must be device.signal, not '{text}'");
            return null;
        }

        var r = new SignalRef(text[..dot], text[(dot + 1)..], node.Location);
        if (_devices is null || Device(r.Device, node) is not { } desc)
        {
            return _devices is null ? r : null;
        }

        var info = desc.FindSignal(r.Signal);
        if (info is null)
        {
            node.Error($"device '{r.Device}' has no signal '{r.Signal}'{Listing("signals", desc.Signals.Select(s => s.Name))}");
            return null;
        }

        if (needWrite && !info.CanWrite)
        {
            node.Error($"{r} cannot be set: it is read-only");
            return null;
        }

        if (needRead && !info.CanRead)
        {
            node.Error($"{r} cannot be read: it is write-only");
            return null;
        }

        return r;
    }

    private DeviceDescription? Device(string name, ConfigNode at)
    {
        if (_devices!.TryGetValue(name, out var d))
        {
            return d;
        }

        at.Error($"unknown device '{name}'{Listing("the rig has", _devices.Keys, prefix: false)}");
        return null;
    }

    private SignalInfo? Signal(SignalRef r) =>
        _devices is not null && _devices.TryGetValue(r.Device, out var d) ? d.FindSignal(r.Signal) : null;

    private static string Listing(string what, IEnumerable<string> names, bool prefix = true)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        if (list.Count == 0)
        {
            return prefix ? $" (it has no {what})" : string.Empty;
        }

        var shown = list.Count > 12 ? string.Join(", ", list.Take(12)) + ", …" : string.Join(", ", list);
        return prefix ? $" (it has {what}: {shown})" : $" ({what}: {shown})";
    }

    private static bool IsStepId(string s) =>
        s.Length > 0 && char.IsAsciiLetterLower(s[0]) && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');

    private static bool IsMeasurementName(string s) =>
        s.Length > 0 && char.IsAsciiLetterLower(s[0]) && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Hash(string path)
    {
        try
        {
            return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        }
        catch (IOException)
        {
            return "sha256:unreadable";
        }
    }
}
