using System.Net;
using System.Net.Sockets;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// Real UDP datagram link (cFS lab style): bound to <see cref="UdpSpec.ListenHost"/>:<see cref="UdpSpec.ListenPort"/>
/// for what the flight computer sends (TO_LAB → 1235), sending to <see cref="UdpSpec.RemoteHost"/>:<see cref="UdpSpec.RemotePort"/>
/// (CI_LAB ← 1234). Unconnected socket on purpose: a connected UDP socket on Linux turns the peer's ICMP
/// "port unreachable" (flight software not up yet) into receive errors.
/// </summary>
public sealed class UdpTransport : IDatagramTransport
{
    private readonly Socket _socket;
    private readonly IPEndPoint _remote;
    private int _disposed;

    private UdpTransport(Socket socket, IPEndPoint remote, string path)
    {
        _socket = socket;
        _remote = remote;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The local port actually bound (useful when the spec asked for port 0).</summary>
    public int LocalPort => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public static IDatagramTransport Open(UdpSpec spec) => OpenUdp(spec);

    public static UdpTransport OpenUdp(UdpSpec spec)
    {
        var path = spec.Describe();
        IPAddress remoteAddress, listenAddress;
        try
        {
            remoteAddress = Resolve(spec.RemoteHost);
            listenAddress = Resolve(spec.ListenHost);
        }
        catch (SocketException e)
        {
            throw new TransportException(path, $"cannot resolve host: {e.Message}", e);
        }

        var socket = new Socket(listenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(listenAddress, spec.ListenPort));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportException(path, e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"listen port {spec.ListenPort} is already in use (another ground system or TO_LAB listener?)"
                : $"cannot bind {spec.ListenHost}:{spec.ListenPort}: {e.Message}", e);
        }

        return new UdpTransport(socket, new IPEndPoint(remoteAddress, spec.RemotePort), path);
    }

    private static IPAddress Resolve(string host) =>
        IPAddress.TryParse(host, out var a) ? a : Dns.GetHostAddresses(host).First(x => x.AddressFamily == AddressFamily.InterNetwork);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendToAsync(datagram, SocketFlags.None, _remote, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new TransportException(Path, $"send failed: {e.SocketErrorCode}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new TransportException(Path, "the link is closed", e);
        }
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
                return r.ReceivedBytes;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // ICMP port unreachable for an earlier send: the peer is not listening yet. Not a dead link.
            }
            catch (SocketException e)
            {
                throw new TransportException(Path, $"receive failed: {e.SocketErrorCode}", e);
            }
            catch (ObjectDisposedException e)
            {
                throw new TransportException(Path, "the link is closed", e);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
