using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;

namespace TacRS.Hil.Drivers.Devices;

/// <summary>The device kinds a build knows, looked up by the rig's <c>kind:</c>.</summary>
public sealed class DeviceKindRegistry : IDeviceCatalog
{
    private readonly Dictionary<string, IDeviceKind> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<DeviceDefinition, DeviceBlueprint?> _blueprints = new(ReferenceEqualityComparer.Instance);

    public DeviceKindRegistry(IEnumerable<IDeviceKind> kinds)
    {
        foreach (var k in kinds)
        {
            _kinds.Add(k.Kind, k);
        }
    }

    public IReadOnlyCollection<string> Kinds => _kinds.Keys;

    public IDeviceKind this[string kind] => _kinds[kind];

    public DeviceDescription? Describe(DeviceDefinition device, RigDefinition rig) => Blueprint(device, rig)?.Description;

    public DeviceBlueprint? Blueprint(DeviceDefinition device, RigDefinition rig)
    {
        if (!_blueprints.TryGetValue(device, out var bp))
        {
            var maxAge = ReadMaxAge(device);
            bp = _kinds[device.Kind].Describe(device, rig);
            if (bp is not null)
            {
                bp = bp with { Description = WithMaxAge(bp.Description, maxAge, bp.DefaultMaxAge) };
            }

            _blueprints[device] = bp;
        }

        return bp;
    }

    /// <summary>
    /// <c>max-age:</c> on a rig device, for every kind: one duration for all its signals (<c>max-age: 2s</c>) or one per
    /// signal (<c>max-age: { bus_voltage: 2s }</c>). Read before the kind's own keys, so no kind reports it unknown.
    /// </summary>
    private static (TimeSpan? All, Dictionary<string, (TimeSpan Age, Core.Config.ConfigNode Node)> PerSignal) ReadMaxAge(DeviceDefinition device)
    {
        var perSignal = new Dictionary<string, (TimeSpan, Core.Config.ConfigNode)>(StringComparer.Ordinal);
        if (device.Config.Get("max-age") is not { IsNull: false } node)
        {
            return (null, perSignal);
        }

        if (!node.IsMap)
        {
            return (Positive(node, "'max-age'"), perSignal);
        }

        foreach (var (key, _, value) in node.AsMap("'max-age'")!.Entries())
        {
            if (Positive(value, $"'max-age' of '{key}'") is { } age)
            {
                perSignal[key] = (age, value);
            }
        }

        return (null, perSignal);
    }

    private static TimeSpan? Positive(Core.Config.ConfigNode node, string what)
    {
        var d = node.AsDuration(what);
        if (d is { } v && v <= TimeSpan.Zero)
        {
            node.Error($"{what} must be longer than 0");
            return null;
        }

        return d;
    }

    private static DeviceDescription WithMaxAge(DeviceDescription d, (TimeSpan? All, Dictionary<string, (TimeSpan Age, Core.Config.ConfigNode Node)> PerSignal) rig, TimeSpan? kindDefault)
    {
        foreach (var (name, (_, node)) in rig.PerSignal)
        {
            if (d.FindSignal(name) is null)
            {
                node.Error($"'max-age' names signal '{name}', which device '{d.Name}' does not have");
            }
        }

        var signals = d.Signals
            .Select(s => s with { MaxAge = rig.PerSignal.TryGetValue(s.Name, out var own) ? own.Age : rig.All ?? s.MaxAge ?? kindDefault })
            .ToList();
        return d with { Signals = signals };
    }

    public IDevice Create(DeviceDefinition device, RigDefinition rig, IBusProvider buses, DeviceServices services)
    {
        var bp = Blueprint(device, rig) ?? throw new InvalidOperationException($"device '{device.Name}' was not validated");
        return _kinds[device.Kind].Create(bp, buses, services);
    }
}
