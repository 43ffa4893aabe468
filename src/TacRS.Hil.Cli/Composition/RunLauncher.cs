using System.Globalization;
using System.Runtime.InteropServices;
using Serilog;
using Serilog.Formatting.Compact;
using TacRS.Hil.Cli.Terminal;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Reporting.JUnit;
using TacRS.Hil.Reporting.Record;
using TacRS.Hil.Sequences.Campaigns;
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
    bool Colour = false,
    string? Vehicle = null,
    IReadOnlyList<Core.Config.ConfigNode>? ExtraFaults = null,
    string? HistoryPath = null,
    IReadOnlyDictionary<string, string>? Settings = null);

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

        var simulated = rig.Mode == RigMode.Simulated;
        CampaignDefinition? campaign = null;
        ProcedureDefinition? procedure = null;
        if (CampaignLoader.IsCampaign(procPath))
        {
            var vehicleId = request.Vehicle ?? rig.Vehicle
                ?? throw new ConfigProblemException(rig.File, "a campaign needs a launch vehicle: set 'vehicle:' in the rig or pass --vehicle NAME");
            var payloadId = rig.Payload ?? throw new ConfigProblemException(rig.File, "a campaign needs a payload: set 'payload:' in the rig");
            var vehicle = ProfileLoader.LoadVehicle(Composer.Profile(rig, "vehicles", vehicleId));
            var payload = ProfileLoader.LoadPayload(Composer.Profile(rig, "payloads", payloadId));
            campaign = CampaignLoader.Load(procPath, vehicle, payload, rig.ResolveProcedure, descriptions, simulated, Composer.Parameters(rig, request.Settings));
        }
        else
        {
            procedure = ProcedureLoader.Load(procPath, descriptions, simulated, Composer.Variables(rig, request.Vehicle, request.Settings));
        }

        var runName = campaign?.Id ?? procedure!.Id;
        var seed = request.Seed ?? rig.Seed;
        var settings = SimulationSettings.Read(rig);
        if (request.ExtraFaults is { Count: > 0 } extra)
        {
            // Faulted variants from a nightly suite: parsed against this rig, problems reported with the suite's positions.
            var faults = Simulation.Faults.FaultSpec.ReadAll(extra, rig);
            extra[0].Document.Problems.ThrowIfAny();
            settings = settings with { Faults = [.. settings.Faults, .. faults] };
        }

        // A rehearsal rig (printed by sim serve): its console must answer before anything is recorded.
        RehearsalConsole? rehearsal = null;
        if (rig.Mode == RigMode.Hardware && rig.Rehearsal is { } console)
        {
            try
            {
                rehearsal = RehearsalConsole.ConnectAsync(console, TimeProvider.System, abort).GetAwaiter().GetResult();
            }
            catch (TransportException e)
            {
                throw new ConfigProblemException(console.At, $"rehearsal console {console.Address}: {e.Reason} (is `tacrs-hil sim serve` still running?)");
            }
        }

        var wallStart = DateTimeOffset.UtcNow;
        var runId = $"{wallStart:yyyyMMdd'T'HHmmss'Z'}-{rig.Name}-{runName}-{Environment.ProcessId}";
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
        var router = new PhaseAlarmRouter(recorder, time);
        var services = new DeviceServices(time, log, recorder, campaign is null ? alarms : router);
        // Nobody answers at the console on a simulated rig or without a terminal: the rig's simulated operator does.
        var unattended = request.Unattended || rig.Mode == RigMode.Simulated || System.Console.IsInputRedirected;
        IOperator op = unattended
            ? new UnattendedOperator(rig.Operator, rig.Name)
            : new ConsoleOperator(request.Console ?? System.Console.Out);

        async Task<RunResult> Body(CancellationToken token)
        {
            await using var buses = rig.Mode == RigMode.Simulated
                ? (IAsyncDisposable)Composer.RegisterEmulators(new SimulatedBench(rig, seed, time, recorder, log, settings with { Seed = seed }), kinds)
                : new HardwareBuses(time);
            if (buses is SimulatedBench bench)
            {
                // at-step faults fire as the engine records each step's start.
                recorder = bench.Faults.Observe(recorder);

                // What the simulated operator confirms, it also does in the harness model (mate J1 …).
                op = new BenchOperator(op, bench);
            }

            await using var rehearsalBench = rehearsal;
            if (rehearsal is not null)
            {
                // The same, on the rehearsal bench behind sim serve: prompts' harness actions and at-step faults happen there.
                recorder = new RehearsalConsole.StepObserver(recorder, rehearsal);
                op = new RehearsalConsole.Operator(op, rehearsal, services);
            }

            // The same kinds, now knowing the run directory: the avionics link archives every packet into it.
            var runKinds = Composer.Kinds(runDir);
            var devices = new List<IDevice>();
            foreach (var d in rig.Devices)
            {
                devices.Add(runKinds.Create(d, rig, (IBusProvider)buses, services));
            }

            var context = new Dictionary<string, string>
            {
                ["clock"] = virtualTime ? "virtual" : "system",
                ["host"] = Environment.MachineName,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            };
            foreach (var kv in Composer.Parameters(rig, request.Settings))
            {
                // Every parameter the rig or --set gave this run, so a shortened soak is never a silent one.
                context["parameter." + kv.Key] = kv.Value;
            }

            if (rehearsal is not null)
            {
                context["rehearsal.console"] = rehearsal.Address;
            }

            var mode = simulated ? "simulated" : "hardware";
            var identity = new RunIdentity(runId, rig.Name, rig.File, mode, seed, wallStart, unattended, Composer.ToolVersion, context);
            if (campaign is not null)
            {
                var c = await new CampaignRunner(campaign, recorder, time, log, op, rig.Operator.PromptTimeout, router).RunAsync(identity, devices, token);
                return new RunResult(c.Outcome, c.Reason, c.ExitCode, c.SafeStateReached, null);
            }

            var plan = new RunPlan(identity, procedure!, devices, op, rig.Operator.PromptTimeout);
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
        jsonl.Dispose();
        Reporting.Html.HtmlReport.Write(runDir);
        var historyPath = request.HistoryPath ?? rig.HistoryPath ?? Reporting.History.ResultsStore.DefaultPath;
        using (var store = Reporting.History.ResultsStore.Open(historyPath))
        {
            store.RecordRunDirectory(runDir);
        }

        request.Console?.WriteLine($"run directory: {runDir} (record.jsonl, junit.xml, report.html, log.clef); history: {historyPath}");
        return new RunOutcome(result.ExitCode, runDir, result.Reason);
    }

    private sealed class BenchOperator(IOperator inner, SimulatedBench bench) : IOperator
    {
        public async ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
        {
            var response = await inner.AskAsync(request, cancellationToken);
            if (response.Confirmed && request.Kind == RequestKind.Prompt)
            {
                bench.OperatorAnswered(request.PromptId);
            }

            return response;
        }
    }

    /// <summary>Stamps every log event with the run's clock (virtual in simulation), next to Serilog's wall-clock timestamp.</summary>
    private sealed class ClockEnricher(TimeProvider time) : Serilog.Core.ILogEventEnricher
    {
        public void Enrich(Serilog.Events.LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory) =>
            logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("RunClock", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
    }
}

/// <summary>A configuration problem found outside a YAML node (a missing file, a missing default).</summary>
internal sealed class ConfigProblemException(SourceLocation at, string message) : Exception($"{at}: {message}")
{
    public ConfigProblemException(string file, string message)
        : this(new SourceLocation(file, 1, 1), message)
    {
    }
}

/// <summary>A command-line option that makes no sense (exit 2, nothing run).</summary>
internal sealed class UsageException(string message) : Exception(message);
