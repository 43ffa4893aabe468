using System.Net;
using System.Net.Sockets;
using Serilog;

namespace TacRS.Hil.Simulation.Serve;

/// <summary>Listeners on 127.0.0.1 for the served bench: the rig's port when it is free, otherwise any free one.</summary>
internal static class Loopback
{
    /// <param name="port">The port wanted (0: any).</param>
    /// <param name="what">What is served, for the warning when the port is taken (e.g. "pigpio").</param>
    public static TcpListener Listen(int port, ILogger log, string what)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return listener;
        }
        catch (SocketException) when (port != 0)
        {
            log.Warning("Port {Port} is busy; serving {What} on a free port instead", port, what);
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }
    }
}
