using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Drivers.Modbus;

namespace TacRS.Hil.Devices.Modbus;

/// <summary>A validated <c>kind: modbus</c> rig entry.</summary>
public sealed record ModbusBlueprint(
    DeviceDefinition Definition,
    DeviceDescription Description,
    TransportSpec? Transport,
    ModbusFraming Framing,
    byte Unit,
    RegisterMap Map,
    ModbusMasterOptions Options) : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => $"{Transport?.Describe() ?? "simulated link"} unit {Unit}";

    public override TimeSpan? DefaultMaxAge => ModbusDevice.LivenessInterval * 2;
}

/// <summary>
/// <c>kind: modbus</c>: a Modbus device (GSE power supply, umbilical relay box, I/O module) whose
/// register map turns into named signals in engineering units, plus link counters as read-only signals.
/// <code>
/// gse: { kind: modbus, transport: { tcp: "127.0.0.1:1502" }, framing: tcp, unit: 1,
///        map: fixtures/registers/gse-psu.yaml, timeout: 500ms, retries: 2, silent-interval: auto }
/// </code>
/// </summary>
public sealed class ModbusDeviceKind : IDeviceKind
{
    public string Kind => "modbus";

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var c = device.Config;
        var where = $"device '{device.Name}'";
        var problems = c.Node.Document.Problems;
        var before = problems.Items.Count;
        TransportSpec? transport = null;
        if (c.Map("transport") is { } tm)
        {
            transport = TransportSpec.Parse(tm, $"the transport of {where}");
            if (transport is UdpSpec)
            {
                c.Get("transport")!.Error($"{where}: Modbus runs over serial or tcp, not udp");
            }
        }

        var framingText = c.OneOf("framing", ["rtu", "tcp"]);
        var framing = framingText switch
        {
            "rtu" => ModbusFraming.Rtu,
            "tcp" => ModbusFraming.Tcp,
            _ => transport is SerialSpec ? ModbusFraming.Rtu : ModbusFraming.Tcp,
        };
        var unit = c.Int("unit") ?? 1;
        if (unit is < 0 or > 255)
        {
            c.Get("unit")!.Error($"'unit' must be 0 to 255 (1 to 247 on a serial line), not {unit}");
        }

        var timeout = c.Duration("timeout") ?? TimeSpan.FromMilliseconds(500);
        var retries = c.Int("retries") ?? 2;
        if (retries is < 0 or > 100)
        {
            c.Get("retries")!.Error($"'retries' must be 0 to 100, not {retries}");
        }

        var silent = TimeSpan.Zero;
        var silentNode = c.Get("silent-interval");
        if (silentNode is { IsNull: false })
        {
            var text = silentNode.Text;
            if (text == "none")
            {
                silent = TimeSpan.Zero;
            }
            else if (text == "auto")
            {
                silent = transport is SerialSpec ss ? ModbusRtu.SilentInterval(ss.Baud, ss.BitsPerCharacter) : TimeSpan.Zero;
            }
            else if (silentNode.AsDuration("'silent-interval' (auto, none or a duration)") is { } d)
            {
                silent = d;
            }
        }
        else if (transport is SerialSpec ss && framing == ModbusFraming.Rtu)
        {
            silent = ModbusRtu.SilentInterval(ss.Baud, ss.BitsPerCharacter);
        }

        RegisterMap? map = null;
        if (c.String("map", required: true) is { } mapPath)
        {
            var full = c.Node.Document.ResolvePath(mapPath);
            for (var dir = Directory.GetParent(c.Node.Document.BaseDirectory); !File.Exists(full) && dir is not null && !Path.IsPathRooted(mapPath); dir = dir.Parent)
            {
                // Rigs under hil-configs/ name maps relative to the repository root (fixtures/registers/…).
                var candidate = Path.Combine(dir.FullName, mapPath);
                if (File.Exists(candidate))
                {
                    full = candidate;
                }
            }

            if (!File.Exists(full))
            {
                c.Get("map")!.Error($"register map '{mapPath}' not found (looked in {full})");
            }
            else
            {
                map = RegisterMap.Load(full, problems);
            }
        }

        c.ReportUnknownKeys(where);
        if (map is null || problems.Items.Count > before)
        {
            return null;
        }

        var signals = new List<SignalInfo>();
        foreach (var p in map.Points)
        {
            signals.Add(new SignalInfo(p.Name, p.Unit, p.Writable ? SignalAccess.ReadWrite : SignalAccess.Read, p.Description, p.Min, p.Max));
        }

        foreach (var name in ModbusLinkCounters.Names)
        {
            signals.Add(new SignalInfo(name, Unit.Count, SignalAccess.Read, "Modbus link counter"));
        }

        var actions = map.Actions.Select(a => new ActionInfo(a.Name, [], [], a.Hazardous, a.Description)).ToList();
        var options = new ModbusMasterOptions { Framing = framing, Timeout = timeout, Retries = retries, RtuSilentInterval = silent };
        return new ModbusBlueprint(device, new DeviceDescription(device.Name, Kind, signals, actions), transport, framing, (byte)unit, map, options);
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services) =>
        new ModbusDevice((ModbusBlueprint)blueprint, buses, services);
}

/// <summary>The driver behind <c>kind: modbus</c>: same code on a bench and over an emulator's pipe.</summary>
public sealed class ModbusDevice(ModbusBlueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the device answers (a read of the map's first point, skipped when a step's own traffic was answered).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(2);

    private ModbusMaster? _master;
    private long _responsesSeen;

    public DeviceDescription Description => blueprint.Description;

    public string Name => blueprint.Definition.Name;

    public ModbusLinkCounters? Counters => _master?.Counters;

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        IByteTransport stream;
        try
        {
            stream = await buses.OpenStreamAsync(blueprint.Definition, blueprint.Transport, cancellationToken);
        }
        catch (TransportException e)
        {
            throw new DeviceLostException(Name, e.TransportPath, e.Reason, e);
        }

        _master = new ModbusMaster(
            stream,
            blueprint.Options,
            buses.Time,
            ct => buses.OpenStreamAsync(blueprint.Definition, blueprint.Transport, ct),
            services.Log.ForContext("Device", Name));

        // Prove the device answers at all: read the first point of the map.
        if (blueprint.Map.Points.Count > 0)
        {
            try
            {
                await _master.ReadAsync(blueprint.Unit, blueprint.Map.Points[0], cancellationToken);
            }
            catch (Exception e) when (e is ModbusException or TransportException)
            {
                throw new DeviceLostException(Name, _master.Path, $"does not answer: {e.Message}", e);
            }
        }
    }

    public async ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        var master = Master();
        if (signal.StartsWith("link_", StringComparison.Ordinal) && ModbusLinkCounters.Names.Contains(signal))
        {
            return master.Counters.Get(signal);
        }

        var p = Point(signal);
        try
        {
            return await master.ReadAsync(blueprint.Unit, p, cancellationToken);
        }
        catch (Exception e) when (e is ModbusException or TransportException)
        {
            throw Translate(e, $"read {signal}");
        }
    }

    public async ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        var master = Master();
        var p = Point(signal);
        if (!p.Writable)
        {
            throw new DeviceCheckFailedException(Name, $"'{signal}' is read-only");
        }

        Span<ushort> probe = stackalloc ushort[2];
        if (!p.TryEncode(value, probe, out var error))
        {
            throw new DeviceCheckFailedException(Name, error!);
        }

        try
        {
            await master.WriteAsync(blueprint.Unit, p, value, cancellationToken);
        }
        catch (Exception e) when (e is ModbusException or TransportException)
        {
            throw Translate(e, string.Create(CultureInfo.InvariantCulture, $"write {signal} = {value}"));
        }
    }

    public async ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        var a = blueprint.Map.Actions.FirstOrDefault(x => x.Name == action)
            ?? throw new DeviceCheckFailedException(Name, $"no action '{action}' (map {blueprint.Map.Name})");
        foreach (var (point, value) in a.Writes)
        {
            await WriteAsync(point, value, cancellationToken);
        }

        return new ActionResult(new Dictionary<string, double>(), $"{action}: {string.Join(", ", a.Writes.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Point}={w.Value}")))}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_master is { } m)
        {
            _master = null;
            await m.DisposeAsync();
        }
    }

    /// <summary>
    /// A read of the map's first point every 2 s, unless the device answered anything since the last check.
    /// Lost when it times out after every retry or the link drops: found within 2 s + timeout × (retries + 1) of its
    /// last answer (3.5 s with the default 500 ms and 2 retries). An exception response is an answer: the device is there.
    /// </summary>
    public LivenessSpec Liveness => new(
        LivenessInterval,
        LivenessInterval + blueprint.Options.Timeout * (blueprint.Options.Retries + 1),
        blueprint.Map.Points.Count > 0 ? $"read of {blueprint.Map.Points[0].Name}" : "link state");

    public async ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var master = Master();
        var counters = master.Counters;
        var responses = counters.Responses;
        if (responses > _responsesSeen || blueprint.Map.Points.Count == 0)
        {
            var since = responses - _responsesSeen;
            _responsesSeen = responses;
            return new LivenessReport(string.Create(CultureInfo.InvariantCulture, $"{since} answers since the last check"));
        }

        var retries = counters.Retries;
        var point = blueprint.Map.Points[0];
        try
        {
            await master.ReadAsync(blueprint.Unit, point, cancellationToken);
        }
        catch (ModbusSlaveException e)
        {
            _responsesSeen = counters.Responses;
            return new LivenessReport($"answered a read of {point.Name} with {e.Code.Describe()}");
        }
        catch (Exception e) when (e is ModbusTimeoutException or TransportException)
        {
            throw new DeviceLostException(Name, master.Path, $"liveness read of {point.Name}: {e.Message}", e);
        }
        catch (ModbusException e)
        {
            // Something came back (a CRC error, a malformed or misaddressed frame): the device is there, the link is not clean.
            _responsesSeen = counters.Responses;
            return new LivenessReport($"garbled answer to a read of {point.Name}", $"liveness read of {point.Name}: {e.Message} (degraded link)");
        }

        _responsesSeen = counters.Responses;
        var retried = counters.Retries - retries;
        return new LivenessReport(
            $"answered a read of {point.Name}",
            retried > 0 ? string.Create(CultureInfo.InvariantCulture, $"liveness read of {point.Name} answered after {retried} retr{(retried == 1 ? "y" : "ies")} (degraded link)") : null);
    }

    private ModbusMaster Master() => _master ?? throw new InvalidOperationException($"device '{Name}' is not connected");

    private RegisterPoint Point(string signal) =>
        blueprint.Map.Find(signal) ?? throw new DeviceCheckFailedException(Name, $"no signal '{signal}' in map {blueprint.Map.Name}");

    private Exception Translate(Exception e, string what)
    {
        services.Note("modbus", Name, "warning", $"{what}: {e.Message}");
        return e switch
        {
            ModbusTimeoutException t => new DeviceTimeoutException(Name, $"{what} ({t.Function.Describe()} to unit {t.Unit})", t.Timeout),
            TransportException t => new DeviceLostException(Name, t.TransportPath, t.Reason, t),
            _ => new DeviceCheckFailedException(Name, $"{what}: {e.Message}"),
        };
    }
}
