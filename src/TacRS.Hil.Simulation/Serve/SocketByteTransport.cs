using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Simulation.Serve;

/// <summary>
/// A connected TCP socket as an <see cref="IByteTransport"/>: the emulator's side of a client
/// connection in <c>sim serve</c>, and a plain client for interop tests. Real sockets run on the
/// system clock only (DESIGN.md §4), never under the virtual scheduler.
/// </summary>
public sealed class SocketByteTransport : IByteTransport
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public SocketByteTransport(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Path = $"tcp://{socket.RemoteEndPoint}";
    }

    public string Path { get; }

    public static async ValueTask<IByteTransport> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host), port, cancellationToken);
            return new SocketByteTransport(socket);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new TransportException($"tcp://{host}:{port}", ex.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : ex.Message, ex);
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _stream.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException se)
        {
            throw new TransportException(Path, se.Message, ex);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(data, cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is SocketException se)
        {
            throw new TransportException(Path, se.Message, ex);
        }
    }

    public void DiscardInput()
    {
        var scratch = new byte[4096];
        while (_socket.Available > 0)
        {
            _ = _socket.Receive(scratch);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already reset by the peer
        }

        await _stream.DisposeAsync();
    }
}
