using TacRS.Hil.Devices.Avionics.Simulated;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;

namespace TacRS.Hil.Devices.Avionics;

/// <summary>
/// <c>kind: avionics</c>: the payload flight computer over CCSDS (serial framing or cFS lab UDP). Simulated by the
/// <see cref="FlightComputerEmulator"/>, powered by the payload rail (the GSE supply and enable line feed it; it
/// reports the path's bus and its own activity to it) and seeing the harness's separation switches.
/// Faults: the link faults.
/// </summary>
public sealed class AvionicsModule() : DeviceModule(new AvionicsDeviceKind())
{
    public override SimulatedAs SimulatedAs => SimulatedAs.Emulator;

    public override IReadOnlyList<string> Faults => FaultCatalog.LinkFaults;

    public override object CreateEmulator(EmulatorContext context)
    {
        var ctx = context;
        var bp = (AvionicsBlueprint)ctx.Kinds!.Blueprint(ctx.Device, ctx.Rig)!;
        var profile = ctx.Sim?.OneOf("payload", ["sda", "xband"]) == "xband" ? PayloadProfile.XBandSatcom : PayloadProfile.SdaSensor;

        // power: rail (default) — the computer follows the payload rail the GSE supply and enable line feed,
        // and reports the electrical model's bus; power: always — powered from the start on a nominal 28 V bus
        // of its own, for a rig with no GSE (a cFS lab build checked out alone).
        var alwaysPowered = ctx.Sim?.OneOf("power", ["rail", "always"]) == "always";
        var options = FlightSoftwareSettings.Read(ctx.Sim, bp.Dictionary) with
        {
            Profile = profile,
            RequireOutputEnable = bp.Transport is UdpSpec,
            HousekeepingPeriod = ctx.Sim?.Duration("housekeeping-period") ?? TimeSpan.FromSeconds(1),
        };
        ctx.Sim?.ReportUnknownKeys($"'sim' of device '{ctx.Device.Name}'");
        var fc = new FlightComputerEmulator(alwaysPowered ? options : options.OnRail(ctx.Plant), ctx.Time, ctx.Random);
        if (!alwaysPowered)
        {
            fc.FollowRail(ctx.Plant);
        }

        ctx.Plant.Harness.Changed += (contact, closed) =>
        {
            if (!closed && contact is "sep_a" or "sep_b")
            {
                fc.ReleaseSeparation();
            }
            else if (closed && contact is "sep_a" or "sep_b" && ctx.Plant.Harness.IsClosed("sep_a") && ctx.Plant.Harness.IsClosed("sep_b"))
            {
                fc.RestackSeparation();
            }
        };
        return new Served(fc, alwaysPowered);
    }

    private sealed class Served(FlightComputerEmulator fc, bool alwaysPowered) : IStreamEmulator, IDatagramEmulator
    {
        public Task RunAsync(IByteTransport link, CancellationToken cancellationToken)
        {
            PowerIfAlways();
            return fc.RunAsync(link, cancellationToken);
        }

        public Task RunAsync(IDatagramTransport link, CancellationToken cancellationToken)
        {
            PowerIfAlways();
            return fc.RunUdpAsync(link, cancellationToken);
        }

        private void PowerIfAlways()
        {
            if (alwaysPowered)
            {
                fc.PowerOn();
            }
        }
    }
}
