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
            bp = _kinds[device.Kind].Describe(device, rig);
            _blueprints[device] = bp;
        }

        return bp;
    }

    public IDevice Create(DeviceDefinition device, RigDefinition rig, IBusProvider buses, DeviceServices services)
    {
        var bp = Blueprint(device, rig) ?? throw new InvalidOperationException($"device '{device.Name}' was not validated");
        return _kinds[device.Kind].Create(bp, buses, services);
    }
}
