using TacRS.Hil.Devices;
using TacRS.Hil.Cli.Composition;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Sequences.Procedures;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Cli.Hosting;

/// <summary>What one run was asked to do: the CLI's <c>run</c> options, or a nightly entry.</summary>
internal sealed record RunRequest(
    string RigPath,
    string? Procedure = null,
    string? OutDir = null,
    long? Seed = null,
    bool Unattended = false,
    bool RealTime = false,
    TextWriter? Console = null,
    bool Colour = false,
    string? Vehicle = null,
    IReadOnlyList<ConfigNode>? ExtraFaults = null,
    string? HistoryPath = null,
    IReadOnlyDictionary<string, string>? Settings = null,
    TimeSpan? WaitForRig = null,
    Sequences.Operator.IOperator? Operator = null,
    IReadOnlyList<Core.Recording.IRunRecorder>? Observers = null)
{
    /// <summary>Whether the devices' liveness checks run (<c>--no-liveness</c> turns them off).</summary>
    public bool Liveness { get; init; } = true;
}

/// <summary>
/// A run resolved once, before anything is recorded or touched: the rig with every device's blueprint,
/// the simulation settings, the vehicle and payload profiles, the parameters, and the procedure or
/// campaign checked against all of them. Every configuration problem surfaces here (exit 2).
/// </summary>
internal sealed record RunPlan(
    RigDefinition Rig,
    DeviceKindRegistry Kinds,
    IReadOnlyDictionary<string, DeviceDescription> Descriptions,
    SimulationSettings Simulation,
    IReadOnlyDictionary<string, string> Parameters,
    ProcedureDefinition? Procedure,
    CampaignDefinition? Campaign,
    long Seed)
{
    public string Name => Campaign?.Id ?? Procedure!.Id;

    public bool Simulated => Rig.Mode == RigMode.Simulated;

    public static RunPlan Resolve(RunRequest request)
    {
        var kinds = Composer.Kinds();
        SimulationSettings? simulation = null;

        // The simulation block is read once, while the rig is validated, and kept.
        var rig = RigLoader.Load(request.RigPath, kinds, r => simulation = Composer.ReadSimulation(r, kinds));
        var descriptions = Composer.Describe(rig, kinds);
        var procName = request.Procedure ?? rig.DefaultProcedure
            ?? throw new ConfigProblemException(rig.File, "the rig names no 'default-procedure'; pass --procedure NAME");
        var procPath = rig.ResolveProcedure(procName);
        if (!File.Exists(procPath))
        {
            throw new ConfigProblemException(rig.File, $"procedure '{procName}' not found (looked for {procPath})");
        }

        var simulated = rig.Mode == RigMode.Simulated;
        var parameters = Composer.Parameters(rig, request.Settings);
        var profiles = Composer.LoadProfiles(rig, request.Vehicle);
        CampaignDefinition? campaign = null;
        ProcedureDefinition? procedure = null;
        if (CampaignLoader.IsCampaign(procPath))
        {
            var vehicle = profiles.Vehicle
                ?? throw new ConfigProblemException(rig.File, "a campaign needs a launch vehicle: set 'vehicle:' in the rig or pass --vehicle NAME");
            var payload = profiles.Payload ?? throw new ConfigProblemException(rig.File, "a campaign needs a payload: set 'payload:' in the rig");
            campaign = CampaignLoader.Load(procPath, vehicle, payload, rig.ResolveProcedure, descriptions, simulated, parameters);
        }
        else
        {
            procedure = ProcedureLoader.Load(procPath, descriptions, simulated, Composer.Variables(profiles, parameters));
        }

        var settings = simulation!;
        if (request.ExtraFaults is { Count: > 0 } extra)
        {
            // Faulted variants from a nightly suite: parsed against this rig, problems reported with the suite's positions.
            var faults = TacRS.Hil.Simulation.Faults.FaultSpec.ReadAll(extra, rig, DeviceModules.Simulated(kinds), settings.Harness.Contacts.Keys.ToList());
            extra[0].Document.Problems.ThrowIfAny();
            settings = settings with { Faults = [.. settings.Faults, .. faults] };
        }

        var seed = request.Seed ?? rig.Seed;
        return new RunPlan(rig, kinds, descriptions, settings with { Seed = seed }, parameters, procedure, campaign, seed);
    }

    /// <summary>Each device the run opens, with where it is reached (for the message that names a lost one).</summary>
    public IReadOnlyList<Sequences.Engine.DeviceOpening> Openings(IBusProvider buses, DeviceServices services) =>
        Rig.Devices
            .Select(d => new Sequences.Engine.DeviceOpening(
                d.Name,
                Kinds.Blueprint(d, Rig)?.Endpoint ?? d.Location.ToString(),
                () => Kinds.Create(d, Rig, buses, services)))
            .ToList();
}
