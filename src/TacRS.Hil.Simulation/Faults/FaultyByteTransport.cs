using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Simulation.Faults;

/// <summary>
/// Wraps the driver's end of a simulated byte link and acts out the link faults of its device while
/// they are active: <c>drop</c> (a chunk vanishes), <c>corrupt</c> (one bit of a chunk flips),
/// <c>delay</c> (a chunk arrives late, on the run's clock), <c>duplicate</c> (a chunk arrives twice),
/// <c>link-loss</c> (nothing gets through either way). A "chunk" is one write, or one read's worth
/// of bytes — what a UART driver or a TCP segment would hand over in one go. Every random choice
/// comes from the fault's own seeded stream.
/// </summary>
public sealed class FaultyByteTransport : IByteTransport
{
    private readonly Queue<byte> _pending = new();
    private readonly IByteTransport _inner;
    private readonly DeviceFaults _faults;
    private readonly TimeProvider _time;

    public FaultyByteTransport(IByteTransport inner, DeviceFaults faults, TimeProvider time)
    {
        _inner = inner;
        _faults = faults;
        _time = time;
        foreach (var f in faults.Named("link-loss"))
        {
            // Whatever reached the driver's end while the link was down never arrived: drop it when the loss ends.
            f.Bind(_ => { }, _ => DiscardInput());
        }
    }

    public string Path => _inner.Path;

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pending.Count > 0)
            {
                var k = 0;
                while (k < buffer.Length && _pending.Count > 0)
                {
                    buffer.Span[k++] = _pending.Dequeue();
                }

                return k;
            }

            var n = await _inner.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return 0;
            }

            var chunk = buffer[..n];
            var deliver = true;
            foreach (var f in Active(LinkDirection.ToDevice))
            {
                switch (f.Spec.Fault)
                {
                    case "link-loss":
                        deliver = false;
                        break;
                    case "drop" when f.Roll():
                        deliver = false;
                        break;
                    case "corrupt" when f.Roll():
                        Corrupt(chunk.Span, f.Random);
                        break;
                    case "delay":
                        await Task.Delay(f.Spec.Delay, _time, cancellationToken);
                        break;
                    case "duplicate" when f.Roll():
                        foreach (var b in chunk.Span)
                        {
                            _pending.Enqueue(b);
                        }

                        break;
                    default:
                        break;
                }

                if (!deliver)
                {
                    break;
                }
            }

            if (deliver)
            {
                return n;
            }

            _pending.Clear();
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _faults.CountTransaction();
        var copy = data;
        var times = 1;
        foreach (var f in Active(LinkDirection.FromDevice))
        {
            switch (f.Spec.Fault)
            {
                case "link-loss":
                    return;
                case "drop" when f.Roll():
                    return;
                case "corrupt" when f.Roll():
                    var bytes = copy.ToArray();
                    Corrupt(bytes, f.Random);
                    copy = bytes;
                    break;
                case "delay":
                    await Task.Delay(f.Spec.Delay, _time, cancellationToken);
                    break;
                case "duplicate" when f.Roll():
                    times = 2;
                    break;
                default:
                    break;
            }
        }

        for (var i = 0; i < times; i++)
        {
            await _inner.WriteAsync(copy, cancellationToken);
        }
    }

    public void DiscardInput()
    {
        _pending.Clear();
        _inner.DiscardInput();
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private static void Corrupt(Span<byte> chunk, Random random)
    {
        if (chunk.Length == 0)
        {
            return;
        }

        chunk[random.Next(chunk.Length)] ^= (byte)(1 << random.Next(8));
    }

    private IEnumerable<ActiveFault> Active(LinkDirection direction) =>
        _faults.All.Where(f => f.IsActive && (f.Spec.Direction == LinkDirection.Both || f.Spec.Direction == direction)).ToList();
}
