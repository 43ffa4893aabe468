using TacRS.Hil.Core.Threading;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>A packet link to a flight computer: whole CCSDS packets in and out, whatever carries them.</summary>
public interface IAvionicsLink : IAsyncDisposable
{
    string Path { get; }

    /// <summary>Frames, datagrams or otherwise dropped because they were not a valid packet.</summary>
    long Rejects { get; }

    ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken);

    /// <summary>
    /// The next packet, valid until the next call; empty when the peer closed the link.
    /// Throws <see cref="TransportException"/> when the transport fails.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken);
}

/// <summary>Bench serial link: ASM + packet + CRC-16 over an <see cref="IByteTransport"/> (<see cref="SyncFraming"/>).</summary>
public sealed class SerialFramedLink(IByteTransport transport, int maxPacketLength = 4096) : IAvionicsLink
{
    private readonly SyncDeframer _deframer = new(maxPacketLength);
    private readonly byte[] _readBuffer = new byte[4096];
    private readonly byte[] _packet = new byte[maxPacketLength];
    private readonly AsyncGate _writeGate = new();
    private ReadOnlyMemory<byte> _pending;

    public string Path => transport.Path;

    public long Rejects => _deframer.Rejects;

    public SyncDeframer Deframer => _deframer;

    public async ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
    {
        var frame = new byte[SyncFraming.FrameLength(packet.Length)];
        SyncFraming.Write(frame, packet.Span);
        await _writeGate.EnterAsync(cancellationToken);
        try
        {
            await transport.WriteAsync(frame, cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTake(out var length))
            {
                return _packet.AsMemory(0, length);
            }

            var n = await transport.ReadAsync(_readBuffer, cancellationToken);
            if (n == 0)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            _pending = _readBuffer.AsMemory(0, n);
        }
    }

    private bool TryTake(out int length)
    {
        while (true)
        {
            if (_deframer.TryReadPacket(out var p))
            {
                p.CopyTo(_packet);
                length = p.Length;
                return true;
            }

            if (_pending.IsEmpty)
            {
                length = 0;
                return false;
            }

            var taken = _deframer.Append(_pending.Span);
            _pending = _pending[taken..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await transport.DisposeAsync();
    }
}

/// <summary>cFS lab style UDP: one packet per datagram each way (CI_LAB in, TO_LAB out).</summary>
public sealed class DatagramLink(IDatagramTransport transport) : IAvionicsLink
{
    private readonly byte[] _buffer = new byte[65536];
    private long _rejects;

    public string Path => transport.Path;

    public long Rejects => Interlocked.Read(ref _rejects);

    public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken) => transport.SendAsync(packet, cancellationToken);

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var n = await transport.ReceiveAsync(_buffer, cancellationToken);

            // TO_LAB sends exactly one packet per datagram; anything whose header length disagrees is not ours.
            if (SpacePacket.TryRead(_buffer.AsSpan(0, n), out var header, out var consumed) && consumed == n && header.Version == 0)
            {
                return _buffer.AsMemory(0, n);
            }

            Interlocked.Increment(ref _rejects);
        }
    }

    public ValueTask DisposeAsync() => transport.DisposeAsync();
}
