using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Pigpio;

namespace TacRS.Hil.Drivers.Gpio.Pigpio;

/// <summary>
/// A negative result from pigpiod: the command ran and the daemon refused it or the bus failed
/// (an I2C NACK comes back as PI_I2C_READ_FAILED / PI_I2C_WRITE_FAILED). An <see cref="IOException"/>,
/// because that is what the Iot.Device bindings and our drivers expect from a failed transfer.
/// </summary>
public sealed class PigpioException(int error, string what, string endpoint)
    : IOException(string.Create(CultureInfo.InvariantCulture, $"{what}: pigpio {PigpioErrors.Name(error)} ({error}) from pigpiod at {endpoint}"))
{
    /// <summary>The pigpio result code (negative).</summary>
    public int Error { get; } = error;

    /// <summary>pigpio's name for it, e.g. PI_BAD_GPIO.</summary>
    public string ErrorName { get; } = PigpioErrors.Name(error);

    public string Endpoint { get; } = endpoint;
}

/// <summary>
/// The command socket to a pigpio daemon (pigpiod on a Raspberry Pi used as a GSE I/O breakout, or
/// <c>tacrs-hil sim serve</c>'s pigpio server). One socket shared by every GPIO and I2C user on that
/// daemon, one exchange at a time under a lock, as pigpio.py does. GpioDriver and I2cDevice are
/// synchronous APIs, so the exchanges are synchronous socket I/O bounded by <see cref="Timeout"/>.
/// A dropped, refused or silent daemon is a <see cref="TransportException"/> naming
/// <c>pigpio://host:port</c>; after one, the socket is out of step with the daemon and every later
/// command fails the same way (the device is lost; reconnecting is the device layer's decision).
/// </summary>
public sealed class PigpioConnection : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[PigpioRequest.HeaderLength + PigpioRequest.MaxExtension];
    private string? _broken;
    private bool _disposed;

    public PigpioConnection(string host, int port, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Host = host;
        Port = port;
        Timeout = timeout;
        Endpoint = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
        _socket = OpenSocket();
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary><c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>For connecting and for each answer.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True once the socket failed or was closed: every command now throws; connect again.</summary>
    public bool IsLost
    {
        get
        {
            lock (_gate)
            {
                return _broken is not null || _disposed;
            }
        }
    }

    /// <summary>What a transport error names: <c>pigpio://host:port</c>.</summary>
    public string Path => "pigpio://" + Endpoint;

    /// <summary>Connects to <c>host:port</c> (or <c>host</c>, port 8888).</summary>
    public static PigpioConnection Connect(string endpoint, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0)
        {
            return new PigpioConnection(endpoint, PigpioCommands.DefaultPort, timeout);
        }

        if (!int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{endpoint}' is not host:port (port 1-65535)", nameof(endpoint));
        }

        return new PigpioConnection(endpoint[..colon], port, timeout);
    }

    /// <summary>Runs one command; returns the daemon's result (negative: a <see cref="PigpioError"/>).</summary>
    public int Execute(PigpioCommandCode command, uint p1 = 0, uint p2 = 0, ReadOnlySpan<byte> extension = default) =>
        Execute(command, p1, p2, extension, []);

    /// <summary>
    /// Runs a command that returns data (<see cref="PigpioCommands.ReturnsData"/>): a positive result is
    /// the byte count, and up to <paramref name="data"/>.Length of them are copied there (any more are read and dropped).
    /// </summary>
    public int Execute(PigpioCommandCode command, uint p1, uint p2, ReadOnlySpan<byte> extension, Span<byte> data)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_broken is { } why)
            {
                throw new TransportException(Path, $"connection to pigpiod lost earlier ({why})");
            }

            try
            {
                var n = PigpioRequest.Write(_buffer, command, p1, p2, extension);
                Send(_buffer.AsSpan(0, n));
                Receive(_buffer.AsSpan(0, PigpioResponse.Length), command);
                PigpioResponse.TryRead(_buffer, out var response, out _);
                if (response.Command != command)
                {
                    throw Break($"answer to command {(uint)response.Command} when {(uint)command} ({command}) was sent");
                }

                if (PigpioCommands.ReturnsData(command) && response.Result > 0)
                {
                    // Read every byte the daemon sends, so the next exchange starts on a frame boundary.
                    var remaining = response.Result;
                    var copied = 0;
                    while (remaining > 0)
                    {
                        var chunk = Math.Min(remaining, _buffer.Length);
                        Receive(_buffer.AsSpan(0, chunk), command);
                        var take = Math.Min(chunk, data.Length - copied);
                        if (take > 0)
                        {
                            _buffer.AsSpan(0, take).CopyTo(data[copied..]);
                            copied += take;
                        }

                        remaining -= chunk;
                    }
                }

                return response.Result;
            }
            catch (SocketException e)
            {
                throw Break(e.SocketErrorCode == SocketError.TimedOut
                    ? string.Create(CultureInfo.InvariantCulture, $"no answer to {command} within {Timeout.TotalSeconds:0.###} s")
                    : $"{command}: {e.SocketErrorCode}", e);
            }
            catch (ObjectDisposedException e)
            {
                throw Break("socket closed", e);
            }
        }
    }

    /// <summary>Runs a command whose result is an unsigned value (BR1, TICK, HWVER, PIGPV).</summary>
    public uint ExecuteUnsigned(PigpioCommandCode command, uint p1 = 0, uint p2 = 0) => unchecked((uint)Execute(command, p1, p2));

    /// <summary>Throws <see cref="PigpioException"/> for a negative result; returns it otherwise.</summary>
    public int Check(int result, string what) => result < 0 ? throw new PigpioException(result, what, Endpoint) : result;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _socket.Dispose();
        }
    }

    /// <summary>Opens another socket to the same daemon (the notification stream), with the same connect timeout.</summary>
    internal Socket OpenSocket()
    {
        var address = IPAddress.TryParse(Host, out var ip) ? ip : ResolveHost();
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // A blocking connect has no timeout of its own: connect non-blocking and wait for writability.
            socket.Blocking = false;
            try
            {
                socket.Connect(address, Port);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }

            if (!socket.Poll(Timeout, SelectMode.SelectWrite))
            {
                throw new TransportException(Path, string.Create(CultureInfo.InvariantCulture, $"pigpiod did not accept a connection within {Timeout.TotalSeconds:0.###} s"));
            }

            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new TransportException(Path, $"cannot connect to pigpiod: {error}");
            }

            socket.Blocking = true;
            var ms = (int)Math.Clamp(Timeout.TotalMilliseconds, 1, int.MaxValue);
            socket.SendTimeout = ms;
            socket.ReceiveTimeout = ms;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportException(Path, $"cannot connect to pigpiod: {e.SocketErrorCode}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private IPAddress ResolveHost()
    {
        try
        {
            return Dns.GetHostAddresses(Host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? Dns.GetHostAddresses(Host)[0];
        }
        catch (Exception e) when (e is SocketException or IndexOutOfRangeException)
        {
            throw new TransportException(Path, $"cannot resolve host '{Host}'", e);
        }
    }

    private void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var n = _socket.Send(data);
            data = data[n..];
        }
    }

    private void Receive(Span<byte> into, PigpioCommandCode command)
    {
        while (!into.IsEmpty)
        {
            var n = _socket.Receive(into);
            if (n == 0)
            {
                throw Break($"pigpiod closed the connection during {command}");
            }

            into = into[n..];
        }
    }

    private TransportException Break(string why, Exception? inner = null)
    {
        _broken = why;
        return new TransportException(Path, why, inner);
    }
}
