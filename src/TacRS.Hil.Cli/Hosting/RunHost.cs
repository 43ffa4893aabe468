using System.Runtime.InteropServices;
using Serilog;
using TacRS.Hil.Cli.Composition;
using TacRS.Hil.Cli.Terminal;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Devices;

namespace TacRS.Hil.Cli.Hosting;

/// <summary>
/// The one run host: a procedure, a campaign and every nightly entry go through it. It resolves the
/// run once, takes the rig lock (hardware rigs), creates the run directory, runs the body on the run's
/// clock — open the devices, run, safe, close — and writes the artifacts from the events in memory.
/// Every configuration problem is found before anything is touched (exit 2); after that, every way
/// out (a pass, a failure, a signal, a lost device, a stalled simulation, a harness bug) ends in the
/// safe state with one verdict from which the console, record, JUnit, report and exit code derive.
/// </summary>
internal static class RunHost
{
    public static HostedRun Run(RunRequest request, RunAbort abort)
    {
        var plan = RunPlan.Resolve(request);
        var runId = RunIds.New(plan.Rig.Name, plan.Name, TimeProvider.System.GetUtcNow());
        using var rigLock = plan.Simulated ? null : RigLock.Acquire(plan.Rig.Name, runId, request.WaitForRig, abort);
        var rehearsal = ConnectRehearsal(plan, abort);
        try
        {
            var virtualTime = plan.Simulated && !request.RealTime;
            TimeProvider clock = virtualTime ? new VirtualTimeProvider(plan.Simulation.Start) : TimeProvider.System;
            using var artifacts = RunArtifacts.Create(request.OutDir ?? Path.Combine("runs", runId), runId, clock, virtualTime, request.Console, request.Colour, request.Observers);
            var run = new HostedBody(plan, request, runId, clock, artifacts, rehearsal);
            var verdict = clock is VirtualTimeProvider virtualClock ? RunOnVirtualTime(run, virtualClock, abort) : run.ExecuteAsync(abort).GetAwaiter().GetResult();
            return artifacts.Complete(verdict, request.HistoryPath ?? plan.Rig.HistoryPath ?? Reporting.History.ResultsStore.DefaultPath);
        }
        finally
        {
            rehearsal?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// A simulated run pumps its own single-threaded scheduler. Aborts arrive on other threads (a signal,
    /// the nightly's timer) and are posted onto it, so the run stays single-threaded. A stalled simulation
    /// (nothing runnable, no timer) is aborted once, so that every wait that honours the abort ends and the
    /// rig is safed; a second stall gives up with the safe state unproven.
    /// </summary>
    private static RunVerdict RunOnVirtualTime(HostedBody run, VirtualTimeProvider clock, RunAbort outer)
    {
        var scheduler = new SimulationScheduler(clock);
        using var inner = new RunAbort();
        using var follow = inner.Follow(outer, forward => scheduler.Post(_ => forward(), null));
        scheduler.OnStalled = () => inner.Request($"simulation stalled at {clock.GetUtcNow():O}: nothing runnable and no timer pending (a wait with no timeout)", Outcome.Error);
        try
        {
            return scheduler.Run(() => run.ExecuteAsync(inner));
        }
        catch (SimulationStalledException e)
        {
            run.Log.Error(e, "Simulation stalled again after the abort; the safe state cannot be proven");
            var (outcome, reason) = OutcomeClassifier.Classify(e);
            return new RunVerdict(outcome, reason + "; it stalled again while safing", SafeStateReached: false, []);
        }
    }

    private static RehearsalConsole? ConnectRehearsal(RunPlan plan, RunAbort abort)
    {
        // A rehearsal rig (printed by sim serve): its console must answer before anything is recorded.
        if (plan.Rig.Mode != RigMode.Hardware || plan.Rig.Rehearsal is not { } console)
        {
            return null;
        }

        try
        {
            return RehearsalConsole.ConnectAsync(console, TimeProvider.System, abort.Token).GetAwaiter().GetResult();
        }
        catch (Drivers.Transports.TransportException e)
        {
            throw new ConfigProblemException(console.At, $"rehearsal console {console.Address}: {e.Reason} (is `tacrs-hil sim serve` still running?)");
        }
    }

    /// <summary>The run itself, on its clock: buses, devices, operator and body, under the one lifecycle.</summary>
    private sealed class HostedBody(RunPlan plan, RunRequest request, string runId, TimeProvider clock, RunArtifacts artifacts, RehearsalConsole? rehearsal)
    {
        public ILogger Log => artifacts.Log;

        public async Task<RunVerdict> ExecuteAsync(RunAbort abort)
        {
            var rig = plan.Rig;
            var recorder = artifacts.Recorder;
            var alarms = new EngineAlarms(recorder, clock);
            var router = new PhaseAlarmRouter(recorder, clock);
            var services = new DeviceServices(clock, Log, recorder, plan.Campaign is null ? alarms : router) { ArtifactDirectory = artifacts.Directory };

            // Nobody answers at the console on a simulated rig or without a terminal: the rig's simulated operator does.
            var unattended = request.Unattended || plan.Simulated || Console.IsInputRedirected;
            var op = request.Operator ?? (unattended
                ? new UnattendedOperator(rig.Operator, rig.Name)
                : new ConsoleOperator(request.Console ?? Console.Out));

            await using var buses = plan.Simulated
                ? (IAsyncDisposable)new SimulatedBench(rig, plan.Seed, clock, recorder, DeviceModules.Simulated(plan.Kinds), Log, plan.Simulation)
                : new HardwareBuses(clock);
            if (buses is SimulatedBench bench)
            {
                // at-step faults fire as the engine records each step's start; what the simulated operator
                // confirms, it also does in the harness model (mate J1 …).
                recorder = bench.Faults.Observe(recorder);
                op = new BenchOperator(op, bench);
            }

            if (rehearsal is not null)
            {
                // The same, on the rehearsal bench behind sim serve: prompts' harness actions and at-step faults happen there.
                recorder = new RehearsalConsole.StepObserver(recorder, rehearsal);
                op = new RehearsalConsole.Operator(op, rehearsal, services);
            }

            var identity = new RunIdentity(runId, rig.Name, rig.File, plan.Simulated ? "simulated" : "hardware", plan.Seed, TimeProvider.System.GetUtcNow(), unattended, Composer.ToolVersion, Context(clock is VirtualTimeProvider));
            IRunBody body = plan.Campaign is { } campaign
                ? new CampaignRunner(campaign, recorder, clock, Log, op, rig.Operator.PromptTimeout, router)
                : new ProcedureBody(plan.Procedure!, recorder, clock, Log, op, alarms, rig.Operator.PromptTimeout);
            return await new RunLifecycle(recorder, clock, Log) { Liveness = request.Liveness }.RunAsync(identity, body, plan.Openings((IBusProvider)buses, services), abort);
        }

        private Dictionary<string, string> Context(bool virtualTime)
        {
            var context = new Dictionary<string, string>
            {
                ["clock"] = virtualTime ? "virtual" : "system",
                ["host"] = Environment.MachineName,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            };
            foreach (var kv in plan.Parameters)
            {
                // Every parameter the rig or --set gave this run, so a shortened soak is never a silent one.
                context["parameter." + kv.Key] = kv.Value;
            }

            if (rehearsal is not null)
            {
                context["rehearsal.console"] = rehearsal.Address;
            }

            return context;
        }
    }

    private sealed class BenchOperator(IOperator inner, SimulatedBench bench) : IOperator
    {
        public async ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
        {
            var response = await inner.AskAsync(request, cancellationToken);
            if (response.Confirmed && request.Kind == RequestKind.Prompt)
            {
                bench.OperatorAnswered(request.PromptId);
                await bench.Plant.Harness.SettledAsync(cancellationToken); // the step's next reading sees what the operator did
            }

            return response;
        }
    }
}

/// <summary>A configuration problem found outside a YAML node (a missing file, a missing default).</summary>
internal sealed class ConfigProblemException(Core.Config.SourceLocation at, string message) : Exception($"{at}: {message}")
{
    public Core.Config.ConfigProblem Problem { get; } = new(at, message);

    public ConfigProblemException(string file, string message)
        : this(new Core.Config.SourceLocation(file, 1, 1), message)
    {
    }
}

/// <summary>A command-line option or an output directory that makes no sense (exit 2, nothing run).</summary>
internal sealed class UsageException(string message) : Exception(message);
