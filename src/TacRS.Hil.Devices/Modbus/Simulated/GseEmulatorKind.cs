using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;
using TacRS.Hil.Devices.Modbus;

namespace TacRS.Hil.Devices.Modbus.Simulated;

/// <summary>
/// The emulators of <c>kind: modbus</c> devices, each wired into the bench's plant: a <c>gse-psu</c> map is the
/// bench's GSE supply (it commands the power path's supply; its <c>psu-trip</c> fault trips it, latched until the
/// supply is reset), an <c>umbilical-relays</c> map the umbilical relay box (its relays are the path's, its meters
/// read the plant's isolation, J1 mate sense and separation loops; its <c>isolation-breakdown</c> fault breaks the
/// plant's insulation down), any other map a plain slave. Every one honours the rig's Modbus faults per request.
/// <code>
/// umbilical: { kind: modbus, map: ../fixtures/registers/umbilical-relays.yaml, sim: { payload-mass-kg: 165.3 } }
/// </code>
/// <c>sim: { payload-mass-kg }</c> is what the load cell on the box's analogue input weighs.
/// </summary>
public sealed class GseEmulatorKind(DeviceKindRegistry kinds)
{
    public object Create(EmulatorContext ctx)
    {
        var bp = (ModbusBlueprint)kinds.Blueprint(ctx.Device, ctx.Rig)!;
        var emulator = GseEmulators.For(bp.Map, ctx.Time, ctx.Random, bp.Unit, ctx.Plant);
        if (ctx.Sim?.Double("payload-mass-kg") is { } kg && bp.Map.Points.Any(p => p.Name == "payload_mass"))
        {
            // The load cell reads what the payload weighs (the value the rig's simulation gives it).
            emulator.Store.Set("payload_mass", kg);
        }

        // sim: { gateway: true } — a Modbus/TCP gateway: a unit it does not serve answers exception 0x0B.
        emulator.Slave.Gateway = ctx.Sim?.Bool("gateway") ?? false;
        ctx.Sim?.ReportUnknownKeys($"'sim' of device '{ctx.Device.Name}'");
        var hook = ctx.Faults.Modbus;
        emulator.Slave.Faults.PerRequest = (unit, function) =>
        {
            var action = hook.OnRequest(unit, function);
            return action.Kind switch
            {
                ModbusFaultKind.Silence => (true, null),
                ModbusFaultKind.Exception => (false, action.ExceptionCode),
                _ => (false, null),
            };
        };

        switch (emulator)
        {
            case PowerSupplyEmulator psu:
                foreach (var trip in ctx.Faults.Named("psu-trip"))
                {
                    // Bind, not +=: a fault already active when the emulator is built (at: 0s) still applies. Its end
                    // removes the cause; the trip stays latched until the supply is reset, as a real supply's does.
                    trip.Bind(_ => psu.Path.SupplyFault(true), _ => psu.Path.SupplyFault(false));
                }

                break;
            case UmbilicalRelayBoxEmulator:
                foreach (var breakdown in ctx.Faults.Named("isolation-breakdown"))
                {
                    breakdown.Bind(_ => ctx.Plant.IsolationBreakdown = true, _ => ctx.Plant.IsolationBreakdown = false);
                }

                break;
        }

        return new Served(emulator, bp.Framing);
    }

    private sealed class Served(IModbusEmulator emulator, ModbusFraming framing) : IStreamEmulator
    {
        public Task RunAsync(IByteTransport link, CancellationToken cancellationToken) => emulator.ServeAsync(link, framing, cancellationToken);
    }
}
