using TacRS.Hil.Core.Rigs;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>
/// Which terminal of the plant a device's line is wired to: the device's <c>sim: { line: terminal }</c> mapping,
/// or the line's own name (<c>payload_enable</c>, a harness contact such as <c>sep_a</c>; <c>harness.sep_a</c> also names one).
/// </summary>
internal static class HarnessTerminal
{
    public static string Strip(string terminal) => terminal.StartsWith("harness.", StringComparison.Ordinal) ? terminal["harness.".Length..] : terminal;

    public static string Of(DeviceDefinition device, string line) =>
        device.Config.Get("sim") is { IsMap: true } sim && sim.AsMap("sim")!.Get(line)?.Text is { } mapped ? mapped : line;

    /// <summary>The harness contact the line senses, or null when it is wired to none of <paramref name="contacts"/>.</summary>
    public static string? ContactOf(DeviceDefinition device, string line, IReadOnlyCollection<string> contacts) =>
        Strip(Of(device, line)) is var c && contacts.Contains(c) ? c : null;
}
