using System.CommandLine;
using Serilog;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil sim serve RIG</c>: runs a rig's emulators in real time behind real endpoints (socat
/// ptys for serial devices, 127.0.0.1 UDP cFS lab style for udp devices, the pigpio socket protocol
/// for GPIO lines and I2C chips, 127.0.0.1 TCP for the rest) and prints the rig that points a
/// hardware-mode run at them. Everything served runs on one <see cref="RealTimeScheduler"/> thread.
/// </summary>
public static class SimServeCommand
{
    /// <summary>Serves the kinds of <see cref="DeviceModules.All"/>, each the way its module is simulated.</summary>
    public static Command Build(Func<CancellationToken>? abortToken = null)
    {
        var rigArg = new Argument<string>("RIG") { Description = "the rig file whose emulators to serve" };
        var seedOpt = CliOptions.Whole("--seed", "seed for emulator noise and faults (default: the rig's)");
        var dirOpt = new Option<string?>("--dir") { Description = "directory for the pty links (default: a new temporary directory)" };
        var outOpt = new Option<string?>("--out") { Description = "also write the rehearsal rig to this file" };
        var maxOpt = new Option<string?>("--max-connections")
        {
            Description = $"connections each endpoint serves at once; more are closed as they arrive (default {ServeLimits.DefaultMaxConnections}, 1-{ServeLimits.MaxConnectionsLimit})",
        };
        var serve = new Command("serve", "Serve a rig's emulators in real time on ptys and loopback TCP/UDP, and print the rig that points a hardware-mode run at them")
        {
            rigArg, seedOpt, dirOpt, outOpt, maxOpt,
        };
        serve.SetAction((parse, ct) =>
        {
            // One thread for every emulator, model and server (Modbus, Hamlib, pigpio, the flight computer):
            // the models see one caller at a time, as under the virtual-time scheduler, while clients connect at once.
            using var scheduler = new RealTimeScheduler(TimeProvider.System);
            using var stop = new CancellationTokenSource();
            // Ctrl+C and SIGTERM arrive on a signal thread: hand the stop to the scheduler's own thread.
            using var signal = ct.Register(() => scheduler.Post(_ => stop.Cancel(), null));
            using var abort = (abortToken?.Invoke() ?? CancellationToken.None).Register(() => scheduler.Post(_ => stop.Cancel(), null));
            return Task.FromResult(scheduler.Run(() => ServeAsync(parse, scheduler.Time, stop.Token)));
        });

        async Task<int> ServeAsync(ParseResult parse, TimeProvider time, CancellationToken ct)
        {
            var log = Log.Logger;
            var path = parse.GetValue(rigArg)!;
            RigDefinition rig;
            DeviceKindRegistry kinds;
            SimulationSettings? settings = null;
            try
            {
                kinds = DeviceModules.Registry();
                rig = RigLoader.Load(path, kinds, r => settings = SimulationSettings.Read(r, DeviceModules.Simulated(kinds)));
            }
            catch (ConfigException e)
            {
                await System.Console.Error.WriteLineAsync(e.Message);
                return ExitCodes.ConfigError;
            }

            var maxConnections = ServeLimits.DefaultMaxConnections;
            if (parse.GetValue(maxOpt) is { } max
                && (!int.TryParse(max, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxConnections)
                    || maxConnections is < 1 or > ServeLimits.MaxConnectionsLimit))
            {
                await System.Console.Error.WriteLineAsync($"sim serve: --max-connections '{max}' is not a whole number from 1 to {ServeLimits.MaxConnectionsLimit}");
                return ExitCodes.ConfigError;
            }

            // A temporary directory of our own is removed on every way out; a --dir is left, emptied of our links.
            var temporary = parse.GetValue(dirOpt) is null ? Directory.CreateTempSubdirectory("tacrs-sim-").FullName : null;
            try
            {
                if (temporary is not null)
                {
                    await System.Console.Error.WriteLineAsync($"sim serve: pty links in {temporary} (removed on exit)");
                }

                return await ServeRigAsync(parse, rig, kinds, settings, temporary ?? parse.GetValue(dirOpt)!, maxConnections, log, time, ct);
            }
            finally
            {
                if (temporary is not null && Directory.Exists(temporary))
                {
                    Directory.Delete(temporary, recursive: true);
                }
            }
        }

        async Task<int> ServeRigAsync(ParseResult parse, RigDefinition rig, DeviceKindRegistry kinds, SimulationSettings? settings, string dir, int maxConnections, ILogger log, TimeProvider time, CancellationToken ct)
        {
            var recorder = new MemoryRecorder();
            await using var bench = new SimulatedBench(rig, parse.GetValue(seedOpt) ?? rig.Seed, time, recorder, DeviceModules.Simulated(kinds), log, settings);
            await using var server = new BenchServer(rig, bench, dir, log, new BenchServerOptions { MaxConnections = maxConnections });
            try
            {
                await server.StartAsync(ct);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                await System.Console.Error.WriteLineAsync($"sim serve: {e.Message}");
                return ExitCodes.ConfigError;
            }

            var yaml = server.RehearsalRig();
            if (parse.GetValue(outOpt) is { } outPath)
            {
                try
                {
                    await File.WriteAllTextAsync(outPath, yaml, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await System.Console.Error.WriteLineAsync($"sim serve: cannot write {outPath}: {e.Message}");
                    return ExitCodes.ConfigError;
                }
            }

            await System.Console.Out.WriteLineAsync(yaml);
            foreach (var e in server.Endpoints)
            {
                await System.Console.Error.WriteLineAsync(
                    e.IsDatagram ? $"serving {e.Name} ({e.Kind}) on udp {e.Address} (commands, CI_LAB); telemetry after a TO_LAB output enable, to the IP it names at port {e.TelemetryPort}"
                    : e.IsPigpio ? $"serving {e.Name} ({e.Kind}) on pigpio {e.Address} (pigpiod socket protocol)"
                    : $"serving {e.Name} ({e.Kind}) on {e.Address}");
            }

            if (server.ConsoleAddress is { } console)
            {
                await System.Console.Error.WriteLineAsync($"bench console on tcp {console} (prompt ID | step ID | do ACTION | contacts | help): the rehearsal rig's runs report prompts and steps here");
            }

            await System.Console.Error.WriteLineAsync("sim serve: running in real time; Ctrl+C to stop");
            await System.Console.Out.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, time, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C.
            }

            return ExitCodes.Passed;
        }

        return new Command("sim", "Simulated bench tools") { serve };
    }
}
