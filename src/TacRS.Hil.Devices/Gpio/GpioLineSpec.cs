using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Gpio;

namespace TacRS.Hil.Devices.Gpio;

public enum LineDirection
{
    Input,
    Output,
}

public enum LinePull
{
    None,
    Up,
    Down,
}

/// <summary>
/// One named line of a <c>gpio</c> device:
/// <c>sep_a: { line: 17, direction: input, debounce: 5ms, pull: up, active: low }</c>, or the shorthand
/// <c>sep_a: 17</c> (an input, active high, no pull, no debounce).
/// </summary>
public sealed record GpioLineSpec(
    string Name,
    int Line,
    LineDirection Direction,
    LinePull Pull,
    bool ActiveLow,
    TimeSpan Debounce,
    bool Initial,
    string? Description)
{
    public bool IsOutput => Direction == LineDirection.Output;

    /// <summary>Reads a device's <c>lines:</c> mapping; problems go to the rig document.</summary>
    public static IReadOnlyList<GpioLineSpec> ReadAll(ConfigMap device, string where)
    {
        var result = new List<GpioLineSpec>();
        var lines = device.Map("lines", required: true);
        if (lines is null)
        {
            return result;
        }

        var used = new Dictionary<int, string>();
        foreach (var (name, keyNode, value) in lines.Entries())
        {
            if (!RigLoader.IsIdentifier(name))
            {
                keyNode.Error($"line name '{name}' must be lower-case letters, digits and '_' (it is used as a signal name)");
                continue;
            }

            var spec = Read(name, value, $"line '{name}' of {where}");
            if (spec is null)
            {
                continue;
            }

            if (used.TryGetValue(spec.Line, out var other))
            {
                value.Error($"line {spec.Line} is used by both '{other}' and '{name}'");
                continue;
            }

            used[spec.Line] = name;
            result.Add(spec);
        }

        if (lines.Keys.Count == 0)
        {
            lines.Node.Error($"{where} needs at least one line");
        }

        return result;
    }

    private static GpioLineSpec? Read(string name, ConfigNode node, string where)
    {
        if (node.IsScalar)
        {
            var n = node.AsInt($"{where}: the line number");
            return n is null ? null : CheckLine(node, n.Value) ? new GpioLineSpec(name, n.Value, LineDirection.Input, LinePull.None, false, TimeSpan.Zero, false, null) : null;
        }

        var map = node.AsMap(where);
        if (map is null)
        {
            return null;
        }

        var line = map.Int("line", required: true);
        var direction = map.OneOf("direction", ["input", "output"]) ?? "input";
        var pull = map.OneOf("pull", ["none", "up", "down"]) ?? "none";
        var active = map.OneOf("active", ["high", "low"]) ?? "high";
        var debounce = map.Duration("debounce") ?? TimeSpan.Zero;
        var initialNode = map.Get("initial");
        var initial = false;
        if (initialNode is { IsNull: false })
        {
            switch (initialNode.Text)
            {
                case "0" or "false" or "off" or "low":
                    break;
                case "1" or "true" or "on" or "high":
                    initial = true;
                    break;
                default:
                    initialNode.Error($"'initial' must be 0 or 1, not {initialNode.Describe()}");
                    break;
            }
        }

        var description = map.String("description");
        if (direction == "output")
        {
            if (map.Has("debounce"))
            {
                map.Get("debounce")!.Error($"{where}: 'debounce' applies to inputs only");
            }

            if (pull != "none")
            {
                map.Get("pull")!.Error($"{where}: 'pull' applies to inputs only");
            }
        }
        else if (initialNode is { IsNull: false })
        {
            initialNode.Error($"{where}: 'initial' applies to outputs only");
        }

        if (debounce > TimeSpan.FromSeconds(1))
        {
            map.Get("debounce")!.Error($"{where}: 'debounce' of {Duration.Format(debounce)} is implausible (at most 1s)");
        }

        map.ReportUnknownKeys(where);
        if (line is null || !CheckLine(map.Get("line")!, line.Value))
        {
            return null;
        }

        return new GpioLineSpec(
            name,
            line.Value,
            direction == "output" ? LineDirection.Output : LineDirection.Input,
            pull switch { "up" => LinePull.Up, "down" => LinePull.Down, _ => LinePull.None },
            active == "low",
            debounce,
            initial,
            description);
    }

    private static bool CheckLine(ConfigNode node, int line)
    {
        if (line is < 0 or > 1023)
        {
            node.Error($"a GPIO line number must be 0..1023, not {line}");
            return false;
        }

        return true;
    }
}
