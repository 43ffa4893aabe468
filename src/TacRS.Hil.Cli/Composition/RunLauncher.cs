using System.Globalization;
using System.Runtime.InteropServices;
using Serilog;
using Serilog.Formatting.Compact;
using TacRS.Hil.Cli.Console;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Reporting.JUnit;
using TacRS.Hil.Reporting.Record;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Cli.Composition;

internal sealed record RunRequest(
    string RigPath,
    string? Procedure = null,
    string? OutDir = null,
    long? Seed = null,
    bool Unattended = false,
    bool RealTime = false,
    TextWriter? Console = null,
    bool Colour = false);

internal sealed record RunOutcome(int ExitCode, string? RunDirectory, string Summary);

/// <summary>
/// Builds and runs one run: rig → procedure → run directory → recorders → clock → buses → devices →
/// session. A simulated rig runs on its own <see cref="SimulationScheduler"/> with virtual time
/// (unless real time is asked for); a hardware rig on the system clock.
/// </summary>
internal static class RunLauncher
{
    public static RunOutcome Run(RunRequest request, CancellationToken abort)
    {
        var kinds = Composer.Kinds();
        var rig = Composer.LoadRig(request.RigPath, kinds);
        var descriptions = Composer.Describe(rig, kinds);
        var procName = request.Procedure ?? rig.DefaultProcedure
            ?? throw new ConfigProblemException(rig.File, "the rig names no 'default-procedure'; pass --procedure NAME");
        var procPath = rig.ResolveProcedure(procName);
        if (!File.Exists(procPath))
        {
            throw new ConfigProblemException(rig.File, $"procedure '{procName}' not found (looked for {procPath})");
        }

        var procedure = ProcedureLoader.Load(procPath, descriptions, rig.Mode == RigMode.Simulated);
        var seed = request.Seed ?? rig.Seed;
        var settings = SimulationSettings.Read(rig);

        var wallStart = DateTimeOffset.UtcNow;
        var runId = $"{wallStart:yyyyMMdd'T'HHmmss'Z'}-{rig.Name}-{procedure.Id}-{Environment.ProcessId}";
        var runDir = request.OutDir ?? Path.Combine("runs", runId);
        Directory.CreateDirectory(runDir);

        using var jsonl = new JsonlRecorder(Path.Combine(runDir, JsonlRecorder.FileName));
        var memory = new MemoryRecorder();
        IRunRecorder recorder = request.Console is null
            ? new TeeRecorder(jsonl, memory)
            : new TeeRecorder(jsonl, memory, new ConsoleReporter(request.Console, request.Colour));

        var virtualTime = rig.Mode == RigMode.Simulated && !request.RealTime;
        TimeProvider time = virtualTime ? new VirtualTimeProvider(settings.Start) : TimeProvider.System;
        using var log = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .Enrich.WithProperty("RunId", runId)
            .Enrich.With(new ClockEnricher(time))
            .WriteTo.File(new CompactJsonFormatter(), Path.Combine(runDir, "log.clef"))
            .CreateLogger();

        var alarms = new EngineAlarms(recorder, time);
        var services = new DeviceServices(time, log, recorder, alarms);
        IOperator op = request.Unattended || rig.Mode == RigMode.Simulated || System.Console.IsInputRedirected
            ? new UnattendedOperator(rig.Operator, rig.Name)
            : new ConsoleOperator(request.Console ?? System.Console.Out);

        async Task<RunResult> Body(CancellationToken token)
        {
            await using var buses = rig.Mode == RigMode.Simulated
                ? (IAsyncDisposable)Composer.RegisterEmulators(new SimulatedBench(rig, seed, time, recorder, log, settings with { Seed = seed }))
                : new HardwareBuses(time);
            var devices = new List<IDevice>();
            foreach (var d in rig.Devices)
            {
                devices.Add(kinds.Create(d, rig, (IBusProvider)buses, services));
            }

            var plan = new RunPlan(
                runId, rig.Name, rig.File, rig.Mode == RigMode.Simulated ? "simulated" : "hardware", seed, wallStart,
                request.Unattended, Composer.ToolVersion, procedure, devices, op, rig.Operator.PromptTimeout,
                new Dictionary<string, string>
                {
                    ["clock"] = virtualTime ? "virtual" : "system",
                    ["host"] = Environment.MachineName,
                    ["runtime"] = RuntimeInformation.FrameworkDescription,
                });
            return await new RunSession(recorder, time, log, alarms).RunAsync(plan, token);
        }

        RunResult result;
        if (time is VirtualTimeProvider clock)
        {
            var scheduler = new SimulationScheduler(clock);
            using var inner = new CancellationTokenSource();

            // Cancellation arrives on a signal thread; hand it to the scheduler so the run stays single-threaded.
            using var reg = abort.Register(() => scheduler.Post(_ => inner.Cancel(), null));
            result = scheduler.Run(() => Body(inner.Token));
        }
        else
        {
            result = Body(abort).GetAwaiter().GetResult();
        }

        JUnitWriter.Write(Path.Combine(runDir, JUnitWriter.FileName), [JUnitWriter.BuildSuite(memory.Events)]);
        request.Console?.WriteLine($"run directory: {runDir} (record.jsonl, junit.xml, log.clef)");
        return new RunOutcome(result.ExitCode, runDir, result.Reason);
    }

    /// <summary>Stamps every log event with the run's clock (virtual in simulation), next to Serilog's wall-clock timestamp.</summary>
    private sealed class ClockEnricher(TimeProvider time) : Serilog.Core.ILogEventEnricher
    {
        public void Enrich(Serilog.Events.LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory) =>
            logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("RunClock", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
    }
}

/// <summary>A configuration problem found outside a YAML node (a missing file, a missing default).</summary>
internal sealed class ConfigProblemException(string file, string message) : Exception($"{file}:1:1: {message}");
