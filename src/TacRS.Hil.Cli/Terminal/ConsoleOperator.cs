using System.Threading.Channels;
using TacRS.Hil.Sequences.Operator;

namespace TacRS.Hil.Cli.Terminal;

/// <summary>
/// The person at the bench: instructions and hazard confirmations on the console, answered by
/// typing. A hazardous step needs the word "confirm" typed out, not just Enter. The wait for an
/// answer ends the moment the run is aborted (a signal at the prompt starts safing at once) or the
/// prompt's timeout expires; <c>Console.In.ReadLineAsync(token)</c> cannot do that — it checks the
/// token once and then blocks in read(2) — so lines are read on a thread of their own.
/// </summary>
internal sealed class ConsoleOperator(TextWriter output, TextReader? input = null) : IOperator
{
    private readonly ConsoleLines _lines = ConsoleLines.For(input ?? Console.In);

    public async ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
    {
        var who = Environment.UserName;

        // Lines typed before the prompt was shown never answer it (a stray Enter must not confirm a hazard).
        _lines.DiscardPending();
        output.WriteLine();
        output.WriteLine(request.Kind == RequestKind.HazardConfirmation
            ? $"  !!! HAZARDOUS STEP '{request.Step}' !!!  {request.Text}"
            : $"  OPERATOR ({request.PromptId}): {request.Text}");
        output.Write("  type 'confirm' to proceed, anything else to decline: ");
        output.Flush();
        var line = await _lines.ReadAsync(cancellationToken);
        if (line is null)
        {
            return new OperatorResponse(false, "no operator input (end of input)", who, false);
        }

        var confirmed = string.Equals(line.Trim(), "confirm", StringComparison.OrdinalIgnoreCase);
        return new OperatorResponse(confirmed, line.Trim().Length == 0 ? "(empty)" : line.Trim(), who, false);
    }

    /// <summary>Lines from a reader, read by one background thread for the life of the process; null marks the end of input.</summary>
    private sealed class ConsoleLines
    {
        private static readonly Lock Gate = new();
        private static readonly Dictionary<TextReader, ConsoleLines> Readers = new(ReferenceEqualityComparer.Instance);
        private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();
        private bool _ended;

        private ConsoleLines(TextReader reader)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    while (reader.ReadLine() is { } line)
                    {
                        _lines.Writer.TryWrite(line);
                    }
                }
                catch (IOException)
                {
                    // The terminal went away (SIGHUP): that is the end of input.
                }

                _lines.Writer.TryWrite(null);
            })
            {
                IsBackground = true,
                Name = "console input",
            };
            thread.Start();
        }

        public static ConsoleLines For(TextReader reader)
        {
            lock (Gate)
            {
                if (!Readers.TryGetValue(reader, out var lines))
                {
                    lines = new ConsoleLines(reader);
                    Readers[reader] = lines;
                }

                return lines;
            }
        }

        public void DiscardPending()
        {
            while (!_ended && _lines.Reader.TryPeek(out var line) && line is not null)
            {
                _lines.Reader.TryRead(out _);
            }
        }

        public async ValueTask<string?> ReadAsync(CancellationToken cancellationToken)
        {
            if (_ended)
            {
                return null;
            }

            var line = await _lines.Reader.ReadAsync(cancellationToken);
            _ended = line is null;
            return line;
        }
    }
}
