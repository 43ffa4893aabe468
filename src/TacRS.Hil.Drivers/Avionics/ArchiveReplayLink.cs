namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// A link that plays back the received packets of an archive at their recorded pace on the run's clock, so a
/// procedure can run against a past run's telemetry (e.g. to re-judge it with corrected limits). Commands sent
/// on it go nowhere: a replay cannot answer, so verification of new commands times out by design.
/// </summary>
public sealed class ArchiveReplayLink(IReadOnlyList<ArchivedPacket> packets, TimeProvider time, string path) : IAvionicsLink
{
    private readonly List<ArchivedPacket> _received = packets.Where(p => p.Direction == PacketDirection.Received).ToList();
    private readonly CancellationTokenSource _closed = new();
    private int _next;
    private long _startedAt = -1;

    public string Path { get; } = "replay://" + path;

    public long Rejects => 0;

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_next >= _received.Count || _closed.IsCancellationRequested)
        {
            // End of the archive: the link stays quiet (not "lost") until closed.
            var quiet = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var r1 = _closed.Token.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), quiet);
            using var r2 = cancellationToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), quiet);
            await quiet.Task;
            cancellationToken.ThrowIfCancellationRequested();
            return ReadOnlyMemory<byte>.Empty;
        }

        if (_startedAt < 0)
        {
            _startedAt = time.GetTimestamp();
        }

        var p = _received[_next];
        var due = p.At - _received[0].At - time.GetElapsedTime(_startedAt);
        if (due > TimeSpan.Zero)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var timer = time.CreateTimer(static s => ((TaskCompletionSource)s!).TrySetResult(), signal, due, Timeout.InfiniteTimeSpan);
            using var r1 = _closed.Token.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), signal);
            using var r2 = cancellationToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), signal);
            await signal.Task;
            cancellationToken.ThrowIfCancellationRequested();
            if (_closed.IsCancellationRequested)
            {
                return ReadOnlyMemory<byte>.Empty;
            }
        }

        _next++;
        return p.Bytes;
    }

    public ValueTask DisposeAsync()
    {
        _closed.Cancel();
        _closed.Dispose();
        return ValueTask.CompletedTask;
    }
}
