using System.Text;
using System.Threading.Channels;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Sequences.Operator;

namespace TacRS.Hil.Cli.Composition;

/// <summary>
/// The run's end of a rehearsal bench's console (rig <c>rehearsal.console</c>, written by
/// <c>tacrs-hil sim serve</c>; the protocol is <c>BenchConsole</c>'s): one line out, one reply line
/// back, in order. Prompts wait for their reply (the harness action must be done before the step
/// measures it); step starts are posted without waiting, like a fault observer's.
/// </summary>
internal sealed class RehearsalConsole : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    private readonly IByteTransport _link;
    private readonly TimeProvider _time;
    private readonly Channel<(string Line, TaskCompletionSource<string>? Reply)> _queue =
        Channel.CreateUnbounded<(string, TaskCompletionSource<string>?)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private readonly LineReader _lines;
    private string? _lost;

    private RehearsalConsole(IByteTransport link, string address, TimeProvider time)
    {
        _link = link;
        _lines = new LineReader(link);
        _time = time;
        Address = address;
        _pump = PumpAsync(_stop.Token);
    }

    public string Address { get; }

    /// <summary>Connects, or throws <see cref="TransportException"/> naming the address (sim serve not running).</summary>
    public static async Task<RehearsalConsole> ConnectAsync(RehearsalConsoleEndpoint console, TimeProvider time, CancellationToken cancellationToken)
    {
        var link = await TcpTransport.ConnectAsync(new TcpSpec(console.Host, console.Port, TimeSpan.FromSeconds(5)), time, cancellationToken);
        return new RehearsalConsole(link, console.Address, time);
    }

    /// <summary>Sends a command and returns its reply line; throws <see cref="TransportException"/> once the console is lost.</summary>
    public async Task<string> RequestAsync(string line, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_lost is not null || !_queue.Writer.TryWrite((line, reply)))
        {
            throw new TransportException(Address, _lost ?? "rehearsal console closed");
        }

        // The pump keeps the reply in step with the console even when nobody waits for it any more.
        using (cancellationToken.Register(static s => ((TaskCompletionSource<string>)s!).TrySetCanceled(), reply))
        {
            return await reply.Task;
        }
    }

    /// <summary>Sends a command without waiting for its reply (a lost console is reported by the next request).</summary>
    public void Post(string line) => _queue.Writer.TryWrite((line, null));

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        await foreach (var (line, reply) in _queue.Reader.ReadAllAsync(cancellationToken))
        {
            try
            {
                if (_lost is not null)
                {
                    throw new TransportException(Address, _lost);
                }

                await _link.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
                using var timeout = new CancellationTokenSource(ReplyTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                var answer = await ReadLineAsync(linked.Token); // read even when nobody waits: replies stay in step
                reply?.TrySetResult(answer);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                reply?.TrySetCanceled(cancellationToken);
                return;
            }
            catch (Exception e) when (e is TransportException or OperationCanceledException)
            {
                _lost ??= e is TransportException t ? t.Reason : $"no reply within {ReplyTimeout.TotalSeconds:0} s";
                reply?.TrySetException(new TransportException(Address, _lost));
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken) =>
        await _lines.ReadLineAsync(cancellationToken)
            ?? throw new TransportException(Address, "sim serve closed the console (stopped?)");

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
            // Stopped while waiting.
        }

        await _link.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>
    /// Wraps the run's operator: what it confirms at a prompt, the rehearsal bench does in its harness
    /// model (mate J1, release the separation switches …), as the simulated operator does in-process.
    /// Every action, and every one that could not be done, is a note in the record.
    /// </summary>
    public sealed class Operator(IOperator inner, RehearsalConsole console, DeviceServices services) : IOperator
    {
        public async ValueTask<OperatorResponse> AskAsync(OperatorRequest request, CancellationToken cancellationToken)
        {
            var response = await inner.AskAsync(request, cancellationToken);
            if (!response.Confirmed || request.Kind != RequestKind.Prompt)
            {
                return response;
            }

            try
            {
                var reply = await console.RequestAsync("prompt " + request.PromptId, cancellationToken);
                if (reply.StartsWith("ok ", StringComparison.Ordinal) && reply != "ok none")
                {
                    services.Note("rehearsal", "bench", "info", $"rehearsal bench did '{reply[3..]}' (prompt {request.PromptId} confirmed)");
                }
                else if (!reply.StartsWith("ok", StringComparison.Ordinal))
                {
                    services.Note("rehearsal", "bench", "error", $"rehearsal bench console {console.Address} refused prompt {request.PromptId}: {reply}");
                }
            }
            catch (TransportException e)
            {
                services.Note("rehearsal", "bench", "error", $"rehearsal bench console {console.Address} lost ({e.Reason}): prompt {request.PromptId}'s harness action was not done");
            }

            return response;
        }
    }

    /// <summary>Wraps the run's recorder: every step start goes to the rehearsal bench, which fires its <c>at-step</c> faults.</summary>
    public sealed class StepObserver(IRunRecorder inner, RehearsalConsole console) : IRunRecorder
    {
        public RunEvent Write(RunEvent e)
        {
            var stamped = inner.Write(e);
            if (e is StepStarted { Attempt: <= 1 } s)
            {
                console.Post("step " + s.Step);
            }

            return stamped;
        }
    }
}
