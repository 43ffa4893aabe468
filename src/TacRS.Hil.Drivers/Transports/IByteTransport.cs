namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A byte stream to a device: a serial line, a TCP connection, or an in-process pipe to an emulator.
/// Async only, with a token on every read (NModbus/FluentModbus lesson); no sync twin.
/// </summary>
public interface IByteTransport : IAsyncDisposable
{
    /// <summary>What the transport is connected to, for messages: <c>/dev/ttyUSB0</c>, <c>tcp://127.0.0.1:1502</c>, <c>sim://gse</c>.</summary>
    string Path { get; }

    /// <summary>Reads at least one byte. Returns 0 only when the peer has closed (the caller treats it as a lost device).</summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Drops whatever has been received and not yet read (used to resynchronise after garbage).</summary>
    void DiscardInput();
}

/// <summary>A datagram link (cFS CI_LAB/TO_LAB style UDP).</summary>
public interface IDatagramTransport : IAsyncDisposable
{
    string Path { get; }

    ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken);

    /// <summary>Receives one datagram into <paramref name="buffer"/> and returns its length.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>The transport failed underneath a device: port missing or busy, USB adapter pulled, connection refused or reset.</summary>
public sealed class TransportException(string path, string reason, Exception? inner = null)
    : IOException($"{path}: {reason}", inner)
{
    public string TransportPath { get; } = path;

    public string Reason { get; } = reason;
}
