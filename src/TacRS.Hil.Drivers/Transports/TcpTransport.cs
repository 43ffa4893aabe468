using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// A real TCP connection (Modbus/TCP gear, rotctld, …). Connect has a TimeProvider-based timeout;
/// reads honour the token; refused, reset and closed connections become <see cref="TransportException"/>s
/// naming the endpoint. Nagle is off: request/response protocols must not wait for an ACK.
/// </summary>
public sealed class TcpTransport : IByteTransport
{
    private readonly Socket _socket;
    private byte[]? _scratch;

    private TcpTransport(Socket socket, string path)
    {
        _socket = socket;
        _socket.NoDelay = true;
        Path = path;
    }

    public string Path { get; }

    public static async ValueTask<IByteTransport> ConnectAsync(TcpSpec spec, TimeProvider time, CancellationToken cancellationToken)
    {
        var path = spec.Describe();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(spec.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await socket.ConnectAsync(spec.Host, spec.Port, linked.Token);
            return new TcpTransport(socket, path);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TransportException(path, $"no connection within {spec.ConnectTimeout.TotalSeconds:0.###} s (host down or filtered?)");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportException(path, Describe(e), e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a connection accepted by a listener (emulators behind <c>sim serve</c>).</summary>
    public static IByteTransport FromAccepted(Socket socket) => new TcpTransport(socket, $"tcp://{socket.RemoteEndPoint}");

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new TransportException(Path, Describe(e), e);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            while (data.Length > 0)
            {
                var n = await _socket.SendAsync(data, SocketFlags.None, cancellationToken);
                data = data[n..];
            }
        }
        catch (SocketException e)
        {
            throw new TransportException(Path, Describe(e), e);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "connection closed locally", e);
        }
    }

    public void DiscardInput()
    {
        try
        {
            while (_socket.Available > 0)
            {
                _scratch ??= new byte[512];
                _socket.Receive(_scratch, Math.Min(_scratch.Length, _socket.Available), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The next read reports the broken connection with its reason.
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listening on that port)",
        SocketError.ConnectionReset => "connection reset by the device",
        SocketError.ConnectionAborted => "connection aborted",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostNotFound => "host name not found",
        SocketError.Shutdown => "connection shut down",
        _ => $"socket error {e.SocketErrorCode}: {e.Message}",
    };
}
