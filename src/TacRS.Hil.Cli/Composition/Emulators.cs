using Serilog;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.FlightComputer;
using TacRS.Hil.Simulation.Gse;
using TacRS.Hil.Simulation.Station;
using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Cli.Composition;

/// <summary>
/// Couples the stream emulators to the bench's physical models: the GSE supply's output powers the
/// payload model; the flight computer is powered by the payload rail, reports the model's bus
/// voltage and current, and sees the separation switches of the harness.
/// </summary>
internal static class Emulators
{
    /// <summary>How often the flight computer's power input follows the payload rail (its boot takes seconds).</summary>
    private static readonly TimeSpan PowerSense = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan FastSense = TimeSpan.FromMilliseconds(10);

    /// <summary>The flight computer's undervoltage lockout (above the dictionary's 24 V red limit).</summary>
    private const double BrownOut = 24.5;

    public static IEmulatorKind Modbus(DeviceKindRegistry kinds) => EmulatorKind.Stream("modbus", ctx =>
    {
        var bp = (ModbusBlueprint)kinds.Blueprint(ctx.Device, ctx.Rig)!;
        var emulator = GseEmulators.For(bp.Map, ctx.Time, ctx.Random, bp.Unit);
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
                Simulation.Faults.ModbusFaultKind.Silence => (true, null),
                Simulation.Faults.ModbusFaultKind.Exception => (false, action.ExceptionCode),
                _ => (false, null),
            };
        };
        if (emulator is PowerSupplyEmulator psu)
        {
            foreach (var trip in ctx.Faults.Named("psu-trip"))
            {
                // Bind, not +=: a fault already active when the emulator is built (at: 0s) still applies.
                trip.Bind(_ => psu.Trip(), _ => { });
            }

            psu.Load = new FunctionLoad(volts =>
            {
                ctx.Plant.Payload.SupplyVoltage = volts;
                return ctx.Plant.Payload.LoadCurrent;
            });
        }

        if (emulator is UmbilicalRelayBoxEmulator box)
        {
            // J1's mate-sense loop and the insulation tester follow the harness the operator mates.
            box.SetConnectorMated(ctx.Plant.Harness.IsClosed("umbilical_present"));
            ctx.Plant.Harness.Changed += (contact, closed) =>
            {
                if (contact == "umbilical_present")
                {
                    box.SetConnectorMated(closed);
                }
            };
            foreach (var breakdown in ctx.Faults.Named("isolation-breakdown"))
            {
                breakdown.Bind(_ => box.InsulationBreakdown = true, _ => box.InsulationBreakdown = false);
            }
        }

        return (link, ct) => emulator.ServeAsync(link, bp.Framing, ct);
    });

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
                BusVoltage = alwaysPowered ? null : () => ctx.Plant.Payload.RailVoltage,
                UndervoltageLockout = alwaysPowered ? null : BrownOut,
                BusCurrent = alwaysPowered ? null : () => ctx.Plant.Payload.LoadCurrent,
                RequireOutputEnable = bp.Transport is UdpSpec,
                HousekeepingPeriod = ctx.Sim?.Duration("housekeeping-period") ?? TimeSpan.FromSeconds(1),
            };
            ctx.Sim?.ReportUnknownKeys($"'sim' of device '{ctx.Device.Name}'");
            var fc = new FlightComputerEmulator(options, ctx.Time, ctx.Random);
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
            return new Served(fc, ctx, alwaysPowered);
        }
    }

    private sealed class Served(FlightComputerEmulator fc, EmulatorContext ctx, bool alwaysPowered) : IStreamEmulator, IDatagramEmulator
    {
        public async Task RunAsync(IByteTransport link, CancellationToken cancellationToken)
        {
            using var power = FollowRail(cancellationToken);
            await fc.RunAsync(link, cancellationToken);
        }

        public async Task RunAsync(IDatagramTransport link, CancellationToken cancellationToken)
        {
            using var power = FollowRail(cancellationToken);
            await fc.RunUdpAsync(link, cancellationToken);
        }

        private ITimer? FollowRail(CancellationToken cancellationToken)
        {
            if (alwaysPowered)
            {
                fc.PowerOn();
                return null;
            }

            ITimer? timer = null;
            timer = ctx.Time.CreateTimer(
                _ =>
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    // The flight computer's converter starts once the rail is up (25.5 V) and browns out
                    // below 24.5 V (its undervoltage lockout, above the dictionary's 24 V red limit); the
                    // hysteresis keeps a soft-starting rail from booting it half-powered.
                    var rail = ctx.Plant.Payload.RailVoltage;
                    if (rail >= 25.5 && !fc.Powered)
                    {
                        fc.PowerOn();
                    }
                    else if (rail < BrownOut && fc.Powered)
                    {
                        fc.PowerOff();
                    }

                    // Sense fast while the rail moves (enable, disable, supply change), slowly when it is settled.
                    var moving = ctx.Plant.Payload.Enabled ? rail < 27.0 : rail > 1.0;
                    timer?.Change(moving ? FastSense : PowerSense, moving ? FastSense : PowerSense);
                },
                null,
                TimeSpan.Zero,
                PowerSense);
            return timer;
        }
    }
}
