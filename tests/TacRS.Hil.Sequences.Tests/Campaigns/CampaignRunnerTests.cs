using TacRS.Hil.Core;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Sequences.Operator;
using TacRS.Hil.Sequences.Tests.Engine;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Sequences.Tests.Campaigns;

public sealed class CampaignRunnerTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("tacrs-campaign-").FullName;
        File.WriteAllText(Path.Combine(_dir, "solid.yaml"), """
            vehicle: solidy
            name: Solid test vehicle
            propulsion: solid
            payload-mass: { max-kg: 250 }
            budgets: { checkout: 2h, mating: 3h, fuel: 2h, ground: 4h, poll: 30min }
            """);
        File.WriteAllText(Path.Combine(_dir, "liquid.yaml"), """
            vehicle: liquidy
            name: Liquid test vehicle
            propulsion: liquid
            payload-mass: { max-kg: 300 }
            budgets: { checkout: 2h, mating: 3h, fuel: 2h, ground: 4h, poll: 30min }
            """);
        File.WriteAllText(Path.Combine(_dir, "payload.yaml"), "payload: p\nname: Test payload\nmass-kg: 165\n");
        Proc("work", "90min");
        Proc("quick", "20min");
        Proc("groundwork", "90min", "gnd");
        File.WriteAllText(Path.Combine(_dir, "mass.yaml"), """
            procedure: mass
            safe-state:
              - set: dev.enable
                value: 0
            steps:
              - id: weigh
                do:
                  - wait: 10min
                timeout: 15min
                measure:
                  - name: payload_mass
                    signal: dev.voltage
                    unit: V
                    limits:
                      high: ${vehicle.payload-mass.max-kg}
            """);
        File.WriteAllText(Path.Combine(_dir, "campaign.yaml"), """
            campaign: c
            title: Test campaign
            line: 24h
            phases:
              - id: checkout
                procedure: work
                recycles: 1
                hold: 1h
              - id: mating
                procedure: mass
              - id: fuel
                procedure: quick
                when: liquid
              - id: ground
                procedure: groundwork
                after: []
              - id: poll
                procedure: quick
                after: [mating, fuel, ground]
            """);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private void Proc(string name, string wait, string device = "dev") => File.WriteAllText(Path.Combine(_dir, name + ".yaml"), $"""
        procedure: {name}
        safe-state:
          - set: {device}.enable
            value: 0
        steps:
          - id: do-work
            do:
              - set: {device}.enable
                value: 1
              - wait: {wait}
            measure:
              - name: v
                signal: {device}.voltage
                unit: V
                limits: {"{"} low: 27, high: 29 {"}"}
            timeout: 3h
        """);

    private (CampaignRun Result, MemoryRecorder Recorder) Run(string vehicle, Func<VirtualTimeProvider, double>? voltage = null, string? onOverBudget = null)
    {
        if (onOverBudget is not null)
        {
            var file = Path.Combine(_dir, "campaign.yaml");
            var text = File.ReadAllText(file);
            File.WriteAllText(file, text.Replace("campaign: ", $"on-over-budget: {onOverBudget}\ncampaign: ", StringComparison.Ordinal));
        }

        var clock = new VirtualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var dev = new ScriptedDevice("dev", clock);
        dev.Script("voltage", () => voltage?.Invoke(clock) ?? 28);
        var gnd = new ScriptedDevice("gnd", clock);
        gnd.Script("voltage", () => 28);
        var recorder = new MemoryRecorder();
        var campaign = CampaignLoader.Load(
            Path.Combine(_dir, "campaign.yaml"),
            ProfileLoader.LoadVehicle(Path.Combine(_dir, vehicle + ".yaml")),
            ProfileLoader.LoadPayload(Path.Combine(_dir, "payload.yaml")),
            n => Path.Combine(_dir, n + ".yaml"),
            new Dictionary<string, DeviceDescription> { ["dev"] = dev.Description, ["gnd"] = gnd.Description },
            simulated: true);
        var scheduler = new SimulationScheduler(clock);
        var runner = new CampaignRunner(campaign, recorder, clock, Serilog.Core.Logger.None, new UnattendedOperator(OperatorPolicy.Default, "r"), TimeSpan.FromMinutes(1), new PhaseAlarmRouter(recorder, clock));
        using var abort = new TacRS.Hil.Core.Runs.RunAbort();
        var verdict = scheduler.Run(() => new TacRS.Hil.Sequences.Engine.RunLifecycle(recorder, clock, Serilog.Core.Logger.None)
            .RunAsync(new TacRS.Hil.Sequences.Engine.RunIdentity("id", "r", "r.yaml", "simulated", 1, default, true, "t"), runner, [new("dev", "scripted", () => dev), new("gnd", "scripted", () => gnd)], abort));
        return (new CampaignRun(verdict, runner.ReadyAt, runner.CriticalPathTaken), recorder);
    }

    [Test]
    public void Run_SolidVehicle_SkipsPropellantAndRunsGroundInParallel()
    {
        var (r, rec) = Run("solid");

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed), r.Reason);
        var phases = rec.Events.OfType<PhaseEnded>().Select(p => p.Phase).ToList();
        Assert.That(phases, Does.Not.Contain("fuel"));
        Assert.That(phases, Is.EquivalentTo(new[] { "checkout", "mating", "ground", "poll" }));

        // checkout 90 min, then mating 10 min → 100 min; ground 90 min in parallel; poll 20 min after both.
        Assert.That(r.ReadyAt, Is.EqualTo(TimeSpan.FromMinutes(120)));
        Assert.That(r.CriticalPath, Is.EqualTo(new[] { "checkout", "mating", "poll" }));
        Assert.That(r.Reason, Does.StartWith("READY FOR LAUNCH at T0+2h00m, 22h00m inside the 24h00m line"));
        var ground = rec.Events.OfType<PhaseStarted>().Single(p => p.Phase == "ground");
        Assert.That(ground.At, Is.EqualTo(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void Run_LiquidVehicle_AddsPropellantLoadingOnTheTimeline()
    {
        var (r, rec) = Run("liquid");

        Assert.That(rec.Events.OfType<PhaseEnded>().Select(p => p.Phase), Does.Contain("fuel"));
        Assert.That(r.ReadyAt, Is.EqualTo(TimeSpan.FromMinutes(140)));
        Assert.That(r.CriticalPath, Is.EqualTo(new[] { "checkout", "mating", "fuel", "poll" }));
    }

    [Test]
    public void Run_ProfileVariableInLimits_JudgedAgainstVehicleMassLimit()
    {
        var (r, rec) = Run("solid", _ => 28);
        var mass = rec.Events.OfType<MeasurementRecorded>().Single(m => m.Name == "payload_mass");

        Assert.That(mass.High, Is.EqualTo(250));
        Assert.That(r.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void Run_FaultInFirstAttempt_HoldRecycleAndFinishLater()
    {
        // The rail is out of limits for the first 100 minutes: the first checkout attempt fails.
        var (r, rec) = Run("solid", c => c.Elapsed < TimeSpan.FromMinutes(100) ? 31 : 28, onOverBudget: "warn");

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed), r.Reason);
        var checkout = rec.Events.OfType<PhaseEnded>().Where(p => p.Phase == "checkout").ToList();
        Assert.That(checkout.Select(p => (p.Attempt, p.Outcome)), Is.EqualTo(new[] { (1, "FAIL"), (2, "PASS") }));
        Assert.That(rec.Events.OfType<Note>().Select(n => n.Message), Has.Some.StartsWith("HOLD: phase 'checkout' FAIL"));
        Assert.That(rec.Events.OfType<Note>().Select(n => n.Message), Has.Some.StartsWith("RECYCLE: phase 'checkout' restarts at T0+2h30m"));
        Assert.That(rec.Events.OfType<SafingEnded>().Count(), Is.EqualTo(5), "every attempt of every phase ends in its safe state");

        // 90 (fail) + 60 hold + 90 + 10 mating + 20 poll = 270 min, later than the 120 min without the fault.
        Assert.That(r.ReadyAt, Is.EqualTo(TimeSpan.FromMinutes(270)));
    }

    [Test]
    public void Run_PhaseOverBudget_FlaggedWhileStillRunning()
    {
        var (r, rec) = Run("solid", c => c.Elapsed < TimeSpan.FromMinutes(100) ? 31 : 28);

        // checkout's budget is 2h; its second attempt ends at 4h → flagged at T0+2h, during the hold/recycle.
        var flag = rec.Events.OfType<Note>().First(n => n.Message.Contains("has blown its budget", StringComparison.Ordinal));
        Assert.That(flag.At, Is.EqualTo(new DateTimeOffset(2026, 1, 1, 2, 0, 0, TimeSpan.Zero)));
        Assert.That(rec.Events.OfType<PhaseEnded>().Last(p => p.Phase == "checkout").OverBudget, Is.True);

        // The recycle took checkout past its budget: by default that fails the run, whatever the procedures did.
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(r.Verdict.Outcome, Is.EqualTo(Outcome.Pass), "every phase's procedure passed");
        Assert.That(r.Reason, Does.Contain("OVER BUDGET (fails the run): checkout (4h00m of 2h00m)"));
        var end = rec.Events.OfType<RunEnded>().Single();
        Assert.That((end.Outcome, end.EngineOutcome, end.ExitCode, end.BudgetPolicy), Is.EqualTo(("FAIL", "PASS", 1, "fail")));
    }

    [Test]
    public void Run_PhaseOverBudgetUnderWarn_FlaggedButTheRunPasses()
    {
        var (r, rec) = Run("solid", c => c.Elapsed < TimeSpan.FromMinutes(100) ? 31 : 28, onOverBudget: "warn");

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Passed));
        Assert.That(r.Reason, Does.Contain("OVER BUDGET (warning): checkout"));
        Assert.That(rec.Events.OfType<RunEnded>().Single().Outcome, Is.EqualTo("PASS"));
    }

    [Test]
    public void Run_PhaseFailsBeyondRecycles_NoGoAndDependentsNotRun()
    {
        var (r, rec) = Run("solid", _ => 31);

        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Failed));
        Assert.That(r.Reason, Does.StartWith("NO-GO:"));
        Assert.That(rec.Events.OfType<PhaseEnded>().Single(p => p.Phase == "mating").Outcome, Is.EqualTo("NOT-RUN"));
        Assert.That(rec.Events.OfType<PhaseEnded>().Single(p => p.Phase == "poll").Outcome, Is.EqualTo("NOT-RUN"));
    }
}

/// <summary>A finished campaign: the run's verdict and the timeline facts the runner keeps.</summary>
internal sealed record CampaignRun(TacRS.Hil.Core.Runs.RunVerdict Verdict, TimeSpan? ReadyAt, IReadOnlyList<string> CriticalPath)
{
    public int ExitCode => Verdict.ExitCode;

    public string Reason => Verdict.FullReason;
}
