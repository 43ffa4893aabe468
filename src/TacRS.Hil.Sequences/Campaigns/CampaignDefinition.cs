using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Campaigns;

/// <summary>
/// One phase of the TacRS timeline: a procedure with a budget, the phases it waits for, how many
/// times it may be held and recycled after a failure, and how long a hold costs (the fix).
/// </summary>
public sealed record PhaseDefinition(
    string Id,
    string Title,
    ProcedureDefinition Procedure,
    TimeSpan Budget,
    IReadOnlyList<string> After,
    int Recycles,
    TimeSpan Hold,
    SourceLocation At);

/// <summary>A campaign: phases from the execute order (T0) to ready-for-launch against a line (24 h for TacRS).</summary>
public sealed record CampaignDefinition(
    string Id,
    string Title,
    string File,
    string Hash,
    TimeSpan Line,
    VehicleProfile Vehicle,
    PayloadProfile Payload,
    IReadOnlyList<PhaseDefinition> Phases,
    BudgetPolicy OnOverBudget = BudgetPolicy.Fail)
{
    /// <summary>The planned start of each phase (earliest start, all predecessors on budget).</summary>
    public IReadOnlyDictionary<string, TimeSpan> PlannedStarts()
    {
        var starts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var p in Phases)
        {
            starts[p.Id] = p.After.Count == 0 ? TimeSpan.Zero : p.After.Max(a => starts[a] + Phases.First(x => x.Id == a).Budget);
        }

        return starts;
    }

    public TimeSpan PlannedReady()
    {
        var starts = PlannedStarts();
        return Phases.Count == 0 ? TimeSpan.Zero : Phases.Max(p => starts[p.Id] + p.Budget);
    }
}

/// <summary>Reads a campaign file and every procedure it names, checked against the rig's devices with the profile's variables.</summary>
public static class CampaignLoader
{
    /// <summary>
    /// True for a file with a top-level <c>campaign:</c> key. Reads at most the config size limit, so a
    /// huge or endless file (one line of gigabytes) is left to the loader to refuse.
    /// </summary>
    public static bool IsCampaign(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var buffer = new char[stream.Length is > 0 and < YamlReader.MaxFileBytes ? (int)stream.Length : stream.Length == 0 ? 64 * 1024 : YamlReader.MaxFileBytes];
            var read = reader.ReadBlock(buffer, 0, buffer.Length);
            var text = buffer.AsSpan(0, read);
            foreach (var line in text.EnumerateLines())
            {
                if (line.StartsWith("campaign:", StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static CampaignDefinition Load(
        string path,
        VehicleProfile vehicle,
        PayloadProfile payload,
        Func<string, string> resolveProcedure,
        IReadOnlyDictionary<string, DeviceDescription> devices,
        bool simulated,
        IReadOnlyDictionary<string, string>? parameters = null,
        CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, cancellationToken: cancellationToken);
        var problems = doc.Problems;
        var root = doc.Root?.AsMap("a campaign file");
        CampaignDefinition? result = null;
        if (root is not null)
        {
            var id = root.String("campaign", required: true) ?? Path.GetFileNameWithoutExtension(path);
            var title = root.String("title") ?? id;
            var line = root.Duration("line") ?? TimeSpan.FromHours(24);
            if (line == TimeSpan.Zero)
            {
                root.Get("line")!.Error("'line' must be longer than 0s");
            }

            // A phase past its budget fails the run by default: the TacRS line is the point of the campaign.
            var onOverBudget = root.OneOf("on-over-budget", ["fail", "warn"]) == "warn" ? BudgetPolicy.Warn : BudgetPolicy.Fail;

            root.String("description");
            var variables = vehicle.Variables.Concat(payload.Variables).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            foreach (var kv in parameters ?? new Dictionary<string, string>())
            {
                variables[kv.Key] = kv.Value;
            }

            var phases = new List<PhaseDefinition>();
            var skipped = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            string? previous = null;
            foreach (var pn in root.List("phases", required: true) ?? [])
            {
                var map = pn.AsMap("a phase");
                if (map is null)
                {
                    continue;
                }

                var pid = map.String("id", required: true);
                var ptitle = map.String("title") ?? pid;
                var procName = map.String("procedure", required: true);
                var when = map.OneOf("when", ["always", "liquid", "solid"]) ?? "always";
                var budget = map.Duration("budget");
                var recycles = map.Int("recycles") ?? 0;
                if (recycles is < 0 or > 100)
                {
                    // Each recycle re-runs the phase's procedure after a hold: a huge count is a campaign that never ends.
                    map.Get("recycles")!.Error($"'recycles' must be from 0 to 100, not {recycles}");
                    recycles = 0;
                }

                var hold = map.Duration("hold") ?? TimeSpan.FromMinutes(30);
                var afterNodes = map.Get("after");
                List<string>? after = null;
                if (afterNodes is { IsNull: false })
                {
                    after = (afterNodes.AsList("'after'") ?? []).Select(n => n.AsString("a phase id")).OfType<string>().ToList();
                }

                map.ReportUnknownKeys(pid is null ? "a phase" : $"phase '{pid}'");
                if (pid is null || procName is null)
                {
                    continue;
                }

                if (phases.Any(p => p.Id == pid))
                {
                    map.Node.Error($"duplicate phase id '{pid}'");
                    continue;
                }

                var applies = when == "always" || (when == "liquid") == (vehicle.Propulsion == Propulsion.Liquid);
                after ??= previous is null ? [] : [previous];

                // A phase that does not apply to this vehicle (propellant loading on a solid) passes its
                // own predecessors on to whoever waits for it.
                after = after.SelectMany(a => skipped.TryGetValue(a, out var inherited) ? inherited : [a]).Distinct().ToList();
                foreach (var a in after.Where(a => phases.All(p => p.Id != a)))
                {
                    afterNodes?.Error($"phase '{pid}' waits for '{a}', which is not an earlier phase of this campaign (or does not apply to {vehicle.Name})");
                }

                if (!applies)
                {
                    skipped[pid] = after;
                    continue;
                }

                var resolvedBudget = budget ?? (vehicle.Budgets.TryGetValue(pid, out var vb) ? vb : (TimeSpan?)null);
                if (resolvedBudget is null)
                {
                    map.Node.Error($"phase '{pid}' has no budget: give it 'budget:' or add '{pid}' to the budgets of vehicle profile '{vehicle.Id}'");
                    continue;
                }

                var procPath = resolveProcedure(procName);
                var (proc, procProblems) = ProcedureLoader.TryLoad(procPath, devices, simulated, variables, cancellationToken);
                problems.AddRange(procProblems);
                if (proc is null)
                {
                    if (procProblems.Count == 0)
                    {
                        map.Get("procedure")!.Error($"procedure '{procName}' not found (looked for {procPath})");
                    }

                    continue;
                }

                phases.Add(new PhaseDefinition(pid, ptitle ?? pid, proc, resolvedBudget.Value, after.Where(a => phases.Any(p => p.Id == a)).ToList(), recycles, hold, map.Location));
                previous = pid;
            }

            root.ReportUnknownKeys("the campaign");
            var hash = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(path) + string.Concat(phases.Select(p => p.Procedure.Hash)) + vehicle.Id + payload.Id)));
            result = new CampaignDefinition(id, title, path, hash, line, vehicle, payload, phases, onOverBudget);
        }

        problems.ThrowIfAny();
        return result!;
    }
}
