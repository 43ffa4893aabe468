using Stateless;
using Stateless.Graph;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Sequences.Engine;

public enum EngineTrigger
{
    Pass,
    Fail,
    Timeout,
    Error,
    Abort,
    Retry,
    SafedPass,
    SafedFail,
    SafedAbort,
}

/// <summary>
/// Builds the Stateless machine of a procedure: a state per step plus safing, passed, failed and
/// aborted. The runner drives it; <c>tacrs-hil graph</c> draws it, so the picture is the machine
/// that runs and cannot drift from it.
/// </summary>
public static class ProcedureMachine
{
    public const string Safing = "safing";
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Aborted = "aborted";

    public static StateMachine<string, EngineTrigger> Build(ProcedureDefinition procedure, Func<string>? state = null, Action<string>? setState = null)
    {
        var current = procedure.Steps.Count > 0 ? procedure.Steps[0].Id : Safing;
        var sm = state is null || setState is null
            ? new StateMachine<string, EngineTrigger>(current)
            : new StateMachine<string, EngineTrigger>(state, setState);

        // Continuations must come back to the caller's context (the simulation scheduler).
        sm.RetainSynchronizationContext = true;

        foreach (var step in procedure.Steps)
        {
            var next = procedure.NextOf(step) ?? Safing;
            var onFail = step.OnFail switch
            {
                FailPolicy.Continue => next,
                FailPolicy.Goto => step.GotoStep ?? Safing,
                _ => Safing,
            };
            var cfg = sm.Configure(step.Id)
                .Permit(EngineTrigger.Abort, Safing);
            Permit(cfg, step.Id, EngineTrigger.Pass, next);
            Permit(cfg, step.Id, EngineTrigger.Fail, onFail);
            Permit(cfg, step.Id, EngineTrigger.Timeout, onFail);
            Permit(cfg, step.Id, EngineTrigger.Error, onFail);
            if (step.Retries > 0)
            {
                cfg.PermitReentry(EngineTrigger.Retry);
            }
        }

        sm.Configure(Safing)
            .Permit(EngineTrigger.SafedPass, Passed)
            .Permit(EngineTrigger.SafedFail, Failed)
            .Permit(EngineTrigger.SafedAbort, Aborted);

        // Final states take no trigger: nothing leaves them.
        sm.Configure(Passed);
        sm.Configure(Failed);
        sm.Configure(Aborted);
        return sm;
    }

    public static string Mermaid(ProcedureDefinition procedure) => MermaidGraph.Format(Build(procedure).GetInfo());

    public static string Dot(ProcedureDefinition procedure) => UmlDotGraph.Format(Build(procedure).GetInfo());

    private static void Permit(StateMachine<string, EngineTrigger>.StateConfiguration cfg, string self, EngineTrigger trigger, string target)
    {
        if (target == self)
        {
            cfg.PermitReentry(trigger);
        }
        else
        {
            cfg.Permit(trigger, target);
        }
    }
}
