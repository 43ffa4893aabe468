using TacRS.Hil.Devices.Station.Simulated;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;

namespace TacRS.Hil.Devices.Station;

/// <summary>
/// <c>kind: station</c>: the ground station's antenna rotator and radio through Hamlib's <c>rotctld</c>/<c>rigctld</c>
/// network protocol. Simulated by the <see cref="StationEmulator"/> (slew rate, Doppler; with a site and TLE, the
/// satellite's downlink reaches the radio only while the antenna points at it), one daemon endpoint per rig key.
/// Faults: the link faults and <c>stall</c> (the rotator stops moving).
/// </summary>
public sealed class StationModule() : DeviceModule(new StationKind())
{
    private static readonly string[] StationFaults = [.. FaultCatalog.LinkFaults, "stall"];

    public override SimulatedAs SimulatedAs => SimulatedAs.Emulator;

    public override IReadOnlyList<string> Faults => StationFaults;

    public override object CreateEmulator(EmulatorContext context)
    {
        var ctx = context;
        var bp = (StationBlueprint)ctx.Kinds!.Blueprint(ctx.Device, ctx.Rig)!;
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

    private sealed class StationEndpoints(StationEmulator station, StationBlueprint bp) : IEndpointStreamEmulator
    {
        public Task RunAsync(IByteTransport link, TransportSpec? spec, CancellationToken cancellationToken)
        {
            // Value equality: sim serve parses the rig's radio spec again for each connection it serves.
            var endpoint = Equals(spec, bp.Radio) ? StationEndpoint.Radio : StationEndpoint.Rotator;
            return station.Attach(endpoint, link, cancellationToken);
        }
    }
}
