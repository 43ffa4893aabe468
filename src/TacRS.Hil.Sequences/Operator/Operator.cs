using TacRS.Hil.Core.Rigs;

namespace TacRS.Hil.Sequences.Operator;

public enum RequestKind
{
    /// <summary>An instruction the operator carries out and confirms ("connect umbilical J1").</summary>
    Prompt,

    /// <summary>Permission to run a hazardous step (arm, RF transmit, firing circuits).</summary>
    HazardConfirmation,
}

public sealed record OperatorRequest(string Step, string PromptId, string Text, RequestKind Kind, TimeSpan Timeout);

/// <summary>What the operator said, who said it, and whether it was a person or the simulated operator.</summary>
public sealed record OperatorResponse(bool Confirmed, string Answer, string AnsweredBy, bool Simulated);

/// <summary>The person at the bench, or the simulated operator of an unattended run.</summary>
public interface IOperator
{
    ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Answers from the rig's <c>operator.unattended-answers</c> (the simulated operator). A prompt the
/// rig has no answer for fails the step clearly; a hazardous step is refused unless the rig says
/// <c>allow-hazardous-unattended: true</c>.
/// </summary>
public sealed class UnattendedOperator(OperatorPolicy policy, string rigName) : IOperator
{
    private static readonly HashSet<string> Yes = new(StringComparer.OrdinalIgnoreCase) { "confirm", "confirmed", "yes", "y", "ok", "done", "go" };

    public ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (request.Kind == RequestKind.HazardConfirmation)
        {
            return ValueTask.FromResult(policy.AllowHazardousUnattended
                ? new OperatorResponse(true, "allowed by rig (allow-hazardous-unattended)", "unattended", true)
                : new OperatorResponse(false, $"refused: hazardous step in an unattended run, and rig '{rigName}' does not allow it (operator.allow-hazardous-unattended)", "unattended", true));
        }

        if (!policy.UnattendedAnswers.TryGetValue(request.PromptId, out var answer))
        {
            return ValueTask.FromResult(new OperatorResponse(
                false,
                $"no unattended answer for prompt '{request.PromptId}' (add it under operator.unattended-answers in rig '{rigName}')",
                "unattended",
                true));
        }

        return ValueTask.FromResult(new OperatorResponse(Yes.Contains(answer.Trim()), answer, "simulated operator", true));
    }
}
