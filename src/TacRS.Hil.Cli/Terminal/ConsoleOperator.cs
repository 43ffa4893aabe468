using TacRS.Hil.Sequences.Operator;

namespace TacRS.Hil.Cli.Terminal;

/// <summary>
/// The person at the bench: instructions and hazard confirmations on the console, answered by
/// typing. A hazardous step needs the word "confirm" typed out, not just Enter.
/// </summary>
internal sealed class ConsoleOperator(TextWriter output) : IOperator
{
    public async ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
    {
        var who = Environment.UserName;
        output.WriteLine();
        output.WriteLine(request.Kind == RequestKind.HazardConfirmation
            ? $"  !!! HAZARDOUS STEP '{request.Step}' !!!  {request.Text}"
            : $"  OPERATOR ({request.PromptId}): {request.Text}");
        output.Write("  type 'confirm' to proceed, anything else to decline: ");
        output.Flush();
        var line = await System.Console.In.ReadLineAsync(cancellationToken);
        if (line is null)
        {
            return new OperatorResponse(false, "no operator input (end of input)", who, false);
        }

        var confirmed = string.Equals(line.Trim(), "confirm", StringComparison.OrdinalIgnoreCase);
        return new OperatorResponse(confirmed, line.Trim().Length == 0 ? "(empty)" : line.Trim(), who, false);
    }
}
