using System.Reflection;
using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Cli.Composition;

/// <summary>The composition root's catalogue: which device kinds and emulators this build knows.</summary>
internal static class Composer
{
    public static string ToolVersion { get; } =
        typeof(Composer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The kinds this build knows (<see cref="DeviceModules.All"/>). A run's devices leave their artifacts (an avionics packet archive) in <see cref="DeviceServices.ArtifactDirectory"/>.</summary>
    public static DeviceKindRegistry Kinds() => DeviceModules.Registry();

    /// <summary>Loads and fully validates a rig: its own keys, every device's keys, and the simulation block.</summary>
    public static RigDefinition LoadRig(string path, DeviceKindRegistry kinds) =>
        RigLoader.Load(path, kinds, rig => ReadSimulation(rig, kinds));

    public static IReadOnlyDictionary<string, DeviceDescription> Describe(RigDefinition rig, DeviceKindRegistry kinds) =>
        rig.Devices
            .Select(d => kinds.Describe(d, rig))
            .OfType<DeviceDescription>()
            .ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>
    /// The profile values procedures may use (<c>${vehicle.umbilical.voltage-low}</c>), from the rig's
    /// vehicle (or the run's --vehicle) and payload; empty when the rig names neither.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Variables(RigDefinition rig, string? vehicleOverride = null, IReadOnlyDictionary<string, string>? settings = null) =>
        Variables(LoadProfiles(rig, vehicleOverride), Parameters(rig, settings));

    /// <summary>The procedure variables from profiles already loaded, then the run's parameters (which win).</summary>
    public static IReadOnlyDictionary<string, string> Variables(RigProfiles profiles, IReadOnlyDictionary<string, string> parameters)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        IEnumerable<KeyValuePair<string, string>> none = [];
        foreach (var kv in (profiles.Vehicle?.Variables ?? none).Concat(profiles.Payload?.Variables ?? none).Concat(parameters))
        {
            vars[kv.Key] = kv.Value;
        }

        return vars;
    }

    /// <summary>The run's parameter values: the rig's <c>parameters:</c>, then <c>--set name=value</c> (which wins).</summary>
    public static IReadOnlyDictionary<string, string> Parameters(RigDefinition rig, IReadOnlyDictionary<string, string>? settings)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in rig.ParameterValues)
        {
            values[kv.Key] = kv.Value;
        }

        foreach (var kv in settings ?? new Dictionary<string, string>())
        {
            values[kv.Key] = kv.Value;
        }

        return values;
    }

    /// <summary>The rig's vehicle (or the run's --vehicle) and payload profiles, each read once; null where the rig names none.</summary>
    public static RigProfiles LoadProfiles(RigDefinition rig, string? vehicleOverride) => new(
        (vehicleOverride ?? rig.Vehicle) is { } v ? Sequences.Campaigns.ProfileLoader.LoadVehicle(Profile(rig, "vehicles", v)) : null,
        rig.Payload is { } p ? Sequences.Campaigns.ProfileLoader.LoadPayload(Profile(rig, "payloads", p)) : null);

    public static string Profile(RigDefinition rig, string kind, string id)
    {
        var path = Path.Combine(rig.ProfilesDirectory, kind, id + ".yaml");
        if (!File.Exists(path))
        {
            var dir = Path.GetDirectoryName(path)!;
            var known = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray() : [];
            throw new ConfigProblemException(rig.File, $"no {kind[..^1]} profile '{id}' (known: {string.Join(", ", known)})");
        }

        return path;
    }

    /// <summary>Reads (and so validates) the rig's simulation block and every device's 'sim:' mapping.</summary>
    public static SimulationSettings ReadSimulation(RigDefinition rig, DeviceKindRegistry kinds)
    {
        var settings = SimulationSettings.Read(rig, DeviceModules.Simulated(kinds));
        foreach (var d in rig.Devices)
        {
            // A device's 'sim:' mapping belongs to its emulator; it is read when the bench builds it.
            if (d.Config.Get("sim") is { IsNull: false } sim)
            {
                sim.AsMap($"'sim' of device '{d.Name}'");
            }
        }

        return settings;
    }
}

/// <summary>A rig's launch vehicle and payload profiles (either may be absent).</summary>
internal sealed record RigProfiles(Sequences.Campaigns.VehicleProfile? Vehicle, Sequences.Campaigns.PayloadProfile? Payload);
