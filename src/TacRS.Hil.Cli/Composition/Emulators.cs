using Serilog;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.FlightComputer;
using TacRS.Hil.Simulation.Gse;
using TacRS.Hil.Simulation.Station;
using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Cli.Composition;

/// <summary>
/// Couples the stream emulators to the bench's plant: the GSE supply and relay box are views onto its
/// power path (<see cref="GseEmulatorKind"/>); the flight computer is powered by the payload rail, reports
/// the path's bus voltage and current and its own activity to it, and sees the separation switches of the harness.
/// </summary>
internal static class Emulators
{
    public static IEmulatorKind Modbus(DeviceKindRegistry kinds) => new GseEmulatorKind(kinds);

    public static IEmulatorKind FlightComputer(DeviceKindRegistry kinds) => new FlightComputerKind(kinds);

    public static IEmulatorKind Station(DeviceKindRegistry kinds) => new StationKindEmulator(kinds);

    private sealed class StationKindEmulator(DeviceKindRegistry kinds) : IEmulatorKind
    {
        public string Kind => "station";

        public object Create(EmulatorContext ctx)
        {
            var bp = (StationBlueprint)kinds.Blueprint(ctx.Device, ctx.Rig)!;
            var station = new StationEmulator(ctx.Time);
            foreach (var stall in ctx.Faults.Named("stall"))
            {
                stall.Bind(_ => station.Rotator.SetStall(true), _ => station.Rotator.SetStall(false));
            }

            if (bp.Site is { } site && bp.Tle is { } tle)
            {
                // The satellite the station is checked out against: its downlink reaches the radio only
                // while the antenna points at it (the S-meter the track_pass action reads).
                station.AttachLink(new RfLinkOptions(new Orbit.Tracker(tle, site), bp.BeamwidthDeg, bp.MaskDeg) { DownlinkHz = bp.DownlinkHz }, ctx.Random);
            }

            return new StationEndpoints(station, bp);
        }
    }

    private sealed class StationEndpoints(StationEmulator station, StationBlueprint bp) : IEndpointStreamEmulator
    {
        public Task RunAsync(IByteTransport link, TransportSpec? spec, CancellationToken cancellationToken)
        {
            // Value equality: sim serve parses the rig's radio spec again for each connection it serves.
            var endpoint = Equals(spec, bp.Radio) ? StationEndpoint.Radio : StationEndpoint.Rotator;
            return station.Attach(endpoint, link, cancellationToken);
        }
    }

    private sealed class FlightComputerKind(DeviceKindRegistry kinds) : IEmulatorKind
    {
        public string Kind => AvionicsDeviceKind.KindName;

        public object Create(EmulatorContext ctx)
        {
            var bp = (AvionicsBlueprint)kinds.Blueprint(ctx.Device, ctx.Rig)!;
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
