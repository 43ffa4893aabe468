namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A pair of connected in-process byte streams: what one end writes, the other reads. Used to put
/// an emulator at the far end of a real driver in simulation. Reads complete through
/// <see cref="TaskCompletionSource{T}"/> continuations that run asynchronously, so under the
/// simulation scheduler they are queued on it and virtual time only advances once both ends are idle.
/// </summary>
public static class InProcessPipe
{
    public static (IByteTransport DeviceSide, IByteTransport EmulatorSide) Create(string name, int capacity = 1 << 20)
    {
        var toEmulator = new ByteQueue(capacity);
        var toDevice = new ByteQueue(capacity);
        return (new End($"sim://{name}", toDevice, toEmulator), new End($"sim://{name}#emulator", toEmulator, toDevice));
    }

    private sealed class End(string path, ByteQueue inbound, ByteQueue outbound) : IByteTransport
    {
        public string Path { get; } = path;

        public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inbound.ReadAsync(buffer, cancellationToken);

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            outbound.Write(data.Span, Path);
            return ValueTask.CompletedTask;
        }

        public void DiscardInput() => inbound.Clear();

        public ValueTask DisposeAsync()
        {
            inbound.Close();
            outbound.Close();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A ring of bytes that starts small and doubles up to its capacity: a connection that carries a few
    /// frames costs a few KB, not the 1 MB bound (sim serve opens one per client connection).
    /// </summary>
    private sealed class ByteQueue(int capacity)
    {
        private const int InitialSize = 4096;
        private readonly Lock _gate = new();
        private byte[] _buffer = new byte[Math.Min(capacity, InitialSize)];
        private int _head;
        private int _count;
        private bool _closed;
        private TaskCompletionSource? _waiter;

        public void Write(ReadOnlySpan<byte> data, string path)
        {
            TaskCompletionSource? wake;
            lock (_gate)
            {
                if (_closed)
                {
                    throw new TransportException(path, "the other end of the in-process link is closed");
                }

                if (_count + data.Length > capacity)
                {
                    throw new TransportException(path, $"in-process link overflow: {data.Length} bytes into {capacity - _count} free");
                }

                if (_count + data.Length > _buffer.Length)
                {
                    var grown = new byte[Math.Min(capacity, Math.Max(_buffer.Length * 2, _count + data.Length))];
                    var held = Math.Min(_count, _buffer.Length - _head);
                    _buffer.AsSpan(_head, held).CopyTo(grown);
                    _buffer.AsSpan(0, _count - held).CopyTo(grown.AsSpan(held));

                    _buffer = grown;
                    _head = 0;
                }

                // The free space is at most two runs of the ring: from the tail to the end, then from the start.
                var tail = (_head + _count) % _buffer.Length;
                var first = Math.Min(data.Length, _buffer.Length - tail);
                data[..first].CopyTo(_buffer.AsSpan(tail));
                data[first..].CopyTo(_buffer);
                _count += data.Length;

                wake = _waiter;
                _waiter = null;
            }

            wake?.TrySetResult();
        }

        public void Clear()
        {
            lock (_gate)
            {
                _head = 0;
                _count = 0;
            }
        }

        public void Close()
        {
            TaskCompletionSource? wake;
            lock (_gate)
            {
                _closed = true;
                wake = _waiter;
                _waiter = null;
            }

            wake?.TrySetResult();
        }

        private void WakeCancelled()
        {
            TaskCompletionSource? wake;
            lock (_gate)
            {
                wake = _waiter;
                _waiter = null;
            }

            wake?.TrySetResult();
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            while (true)
            {
                TaskCompletionSource wait;
                lock (_gate)
                {
                    if (_count > 0)
                    {
                        var n = Math.Min(_count, destination.Length);
                        var span = destination.Span;
                        var first = Math.Min(n, _buffer.Length - _head);
                        _buffer.AsSpan(_head, first).CopyTo(span);
                        _buffer.AsSpan(0, n - first).CopyTo(span[first..]);
                        _head = (_head + n) % _buffer.Length;
                        _count -= n;
                        return n;
                    }

                    if (_closed)
                    {
                        return 0;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter;
                }

                // Await the one task directly: Task.WaitAsync(token) would complete through a thread-pool
                // hop, and under the simulation scheduler the clock could run ahead during that hop.
                // Cancellation completes the same task from the cancelling thread instead, and takes it
                // out of the queue: a completed waiter left behind would make every later read return at
                // once, spinning the scheduler at one instant of virtual time (a device gone silent hung
                // the harness that way).
                using (cancellationToken.Register(static s => ((ByteQueue)s!).WakeCancelled(), this))
                {
                    await wait.Task;
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }
}
