using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Simulation.Models;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// The rig's <c>simulation:</c> block:
/// <code>
/// simulation:
///   seed: 42
///   start: 2026-01-01T00:00:00Z      # virtual clock at run start
///   payload: { supply-voltage: 28, cable-ohms: 0.15, mode-currents: { transmit: 1.9 }, battery: { capacity: 10 }, ... }
///   harness: { contacts: { sep_a: closed, arm_plug: open }, operator-actions: { connect-j1: "mate umbilical_present" } }
///   faults: [ { device: rail, fault: stuck, at: 30s, for: 10s } ]
/// </code>
/// Read it once, from the rig loader's <c>validateMore</c> hook, so its problems are reported with
/// every other problem of the rig (file:line:col, unknown keys included).
/// </summary>
public sealed record SimulationSettings(long Seed, DateTimeOffset Start, PayloadElectricalOptions Payload, HarnessOptions Harness, IReadOnlyList<FaultSpec> Faults, ConfigMap? Map)
{
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Earliest <c>start</c>: from 1970 every record timestamp is a positive Unix time.</summary>
    public static readonly DateTimeOffset EarliestStart = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// Latest <c>start</c>. The virtual clock reads start + elapsed, which must stay below
    /// <see cref="DateTimeOffset.MaxValue"/> (9999-12-31) for the whole run, safing included: a start
    /// in 9999 crashed a run mid-step. Before 3000 leaves about 7000 years, more than any run can take
    /// (every wait and timeout is at most <see cref="Duration.Max"/>, and attempts per step are capped).
    /// </summary>
    public static readonly DateTimeOffset LatestStart = new(2999, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <param name="kinds">The build's simulated kinds: which faults each device takes.</param>
    public static SimulationSettings Read(RigDefinition rig, SimulatedKinds kinds)
    {
        var map = rig.Simulation;
        if (map is null)
        {
            return new SimulationSettings(rig.Seed, DefaultStart, new PayloadElectricalOptions(), new HarnessOptions(), [], null);
        }

        map.Get("seed");
        var start = DefaultStart;
        if (map.Get("start") is { IsNull: false } s)
        {
            if (s.Text is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var v))
            {
                if (v < EarliestStart || v > LatestStart)
                {
                    s.Error($"'start' must be from 1970-01-01T00:00:00Z to 2999-12-31T23:59:59Z (the virtual clock must not run past 9999-12-31 during the run), not '{t}'");
                }
                else
                {
                    start = v;
                }
            }
            else
            {
                s.Error($"'start' must be a date-time such as 2026-01-01T00:00:00Z, not {s.Describe()}");
            }
        }

        var payload = PayloadElectricalOptions.Read(map.Map("payload"));

        var harness = HarnessOptions.Read(map.Map("harness"));
        var faults = FaultSpec.ReadAll(map.List("faults"), rig, kinds, harness.Contacts.Keys.ToList());
        map.ReportUnknownKeys("'simulation'");
        return new SimulationSettings(rig.Seed, start, payload, harness, faults, map);
    }
}
