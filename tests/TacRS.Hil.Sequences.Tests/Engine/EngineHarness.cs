using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Procedures;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Sequences.Tests.Engine;

/// <summary>Runs a procedure text against scripted devices on a simulation scheduler with virtual time.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tacrs-engine-").FullName;

    public EngineHarness()
    {
        Clock = new VirtualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Scheduler = new SimulationScheduler(Clock);
        Dev = new ScriptedDevice("dev", Clock);
        Recorder = new MemoryRecorder();
    }

    public VirtualTimeProvider Clock { get; }

    public SimulationScheduler Scheduler { get; }

    public ScriptedDevice Dev { get; }

    public MemoryRecorder Recorder { get; }

    public OperatorPolicy Policy { get; set; } = OperatorPolicy.Default;

    public string Write(string yaml, string name = "proc.yaml")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    public ProcedureDefinition Load(string yaml) =>
        ProcedureLoader.Load(Write(yaml), new Dictionary<string, DeviceDescription> { ["dev"] = Dev.Description }, simulated: true);

    public EngineRun Run(string yaml, Action<RunAbort>? onStart = null, IOperator? op = null)
    {
        var proc = Load(yaml);
        return Scheduler.Run(async () =>
        {
            using var abort = new RunAbort();
            onStart?.Invoke(abort);
            var alarms = new EngineAlarms(Recorder, Clock);
            Alarms = alarms;
            var body = new ProcedureBody(proc, Recorder, Clock, Serilog.Core.Logger.None, op ?? new UnattendedOperator(Policy, "test-rig"), alarms, TimeSpan.FromMinutes(1));
            AbortSource = abort;
            var identity = new RunIdentity("run-1", "test-rig", "rig.yaml", "simulated", 1, default, true, "test");
            var verdict = await new RunLifecycle(Recorder, Clock, Serilog.Core.Logger.None).RunAsync(identity, body, [new DeviceOpening(Dev.Description.Name, "scripted", () => Polled ? new PolledView(Dev) : Dev)], abort);
            return new EngineRun(verdict, body.Result);
        });
    }

    public EngineAlarms? Alarms { get; private set; }

    /// <summary>Open the scripted device as one that reads on demand (no samples of its own, no liveness check).</summary>
    public bool Polled { get; set; }

    public RunAbort? AbortSource { get; private set; }

    public IReadOnlyList<T> Events<T>() where T : RunEvent => Recorder.Events.OfType<T>().ToList();

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>A finished engine run: the verdict the host would derive everything from, and the procedure's own result.</summary>
internal sealed record EngineRun(RunVerdict Verdict, ProcedureResult? Procedure)
{
    public int ExitCode => Verdict.ExitCode;

    public Outcome Outcome => Verdict.Final;

    public string Reason => Verdict.FullReason;

    public bool SafeStateReached => Verdict.SafeStateReached;
}
