using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Core.Rigs;

public enum RigMode
{
    /// <summary>Every device emulated in-process; the run is on virtual time.</summary>
    Simulated,

    /// <summary>Real buses (serial, TCP, GPIO, I2C); the run is on the system clock.</summary>
    Hardware,
}

/// <summary>One device entry of a rig. <see cref="Config"/> keeps the raw mapping (with positions) for its kind to read.</summary>
public sealed record DeviceDefinition(string Name, string Kind, ConfigMap Config, SourceLocation Location);

/// <summary>A rig file: which devices exist, how they are reached, and (in simulation) how they are emulated.</summary>
public sealed record RigDefinition(
    string Name,
    string File,
    string? Description,
    RigMode Mode,
    IReadOnlyList<DeviceDefinition> Devices,
    long Seed,
    string? DefaultProcedure,
    string ProceduresDirectory,
    string? Vehicle,
    string? Payload,
    string? HistoryPath,
    OperatorPolicy Operator,
    ConfigMap? Simulation,
    ConfigDocument Document,
    string ProfilesDirectory = "",
    IReadOnlyDictionary<string, string>? Parameters = null,
    RehearsalConsoleEndpoint? Rehearsal = null)
{
    /// <summary>
    /// Values this rig gives procedure parameters (<c>${power-on.soak:-10min}</c>): a rehearsal bench
    /// may shorten a soak, a bench with a longer cable may widen a limit. Recorded with each run.
    /// </summary>
    public IReadOnlyDictionary<string, string> ParameterValues => Parameters ?? new Dictionary<string, string>();

    public DeviceDefinition? FindDevice(string name) => Devices.FirstOrDefault(d => d.Name == name);

    /// <summary>Finds a procedure by name (<c>payload-power-on</c>) in the rig's procedure folder, or takes a path as is.</summary>
    public string ResolveProcedure(string nameOrPath)
    {
        if (nameOrPath.EndsWith(".yaml", StringComparison.Ordinal) || nameOrPath.EndsWith(".yml", StringComparison.Ordinal)
            || nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            return File.Length > 0 && !Path.IsPathRooted(nameOrPath) && !System.IO.File.Exists(nameOrPath)
                ? Document.ResolvePath(nameOrPath)
                : nameOrPath;
        }

        return Path.Combine(ProceduresDirectory, nameOrPath + ".yaml");
    }
}

/// <summary>How operator prompts and hazardous steps are handled on this rig.</summary>
public sealed record OperatorPolicy(
    IReadOnlyDictionary<string, string> UnattendedAnswers,
    bool AllowHazardousUnattended,
    TimeSpan PromptTimeout)
{
    public static readonly OperatorPolicy Default = new(new Dictionary<string, string>(), false, TimeSpan.FromMinutes(10));
}

/// <summary>Describes devices for validation; implemented by the driver layer's device kinds.</summary>
public interface IDeviceCatalog
{
    IReadOnlyCollection<string> Kinds { get; }

    /// <summary>
    /// Reads and checks the device's own keys (reporting problems into its document), and says what
    /// it offers. Returns null when the entry is too broken to describe.
    /// </summary>
    Devices.DeviceDescription? Describe(DeviceDefinition device, RigDefinition rig);
}

/// <summary>
/// <c>rehearsal: { console: host:port }</c>, written by <c>sim serve</c> into the rig it prints: where a
/// hardware-mode run reports confirmed prompts and started steps to the served bench.
/// </summary>
public sealed record RehearsalConsoleEndpoint(string Host, int Port, SourceLocation At)
{
    public string Address => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Host}:{Port}");
}
