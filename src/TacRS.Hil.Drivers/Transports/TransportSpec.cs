using System.IO.Ports;
using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>How a device is reached on a bench, read from the rig's <c>transport:</c> mapping.</summary>
public abstract record TransportSpec
{
    public abstract string Describe();

    /// <summary>
    /// Parses <c>{ serial: /dev/ttyUSB0, baud: 115200, parity: none, data-bits: 8, stop-bits: 1, handshake: none }</c>,
    /// <c>{ tcp: "127.0.0.1:1502" }</c> or <c>{ udp: "127.0.0.1:1234", listen: 1235 }</c>.
    /// </summary>
    public static TransportSpec? Parse(ConfigMap map, string where)
    {
        var kinds = new[] { "serial", "tcp", "udp" }.Where(map.Has).ToList();
        map.Get("serial");
        map.Get("tcp");
        map.Get("udp");
        if (kinds.Count != 1)
        {
            map.Node.Error($"{where} must name exactly one of serial, tcp or udp");
            return null;
        }

        TransportSpec? spec = kinds[0] switch
        {
            "serial" => SerialSpec.Parse(map),
            "tcp" => TcpSpec.Parse(map),
            _ => UdpSpec.Parse(map),
        };
        map.ReportUnknownKeys(where);
        return spec;
    }
}

public sealed record SerialSpec(
    string Port,
    int Baud = 115200,
    Parity Parity = Parity.None,
    int DataBits = 8,
    StopBits StopBits = StopBits.One,
    Handshake Handshake = Handshake.None) : TransportSpec
{
    public static readonly int[] StandardBauds = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

    public override string Describe() => $"{Port} {Baud} {DataBits}{Parity.ToString()[0]}{(StopBits == StopBits.Two ? 2 : 1)}";

    /// <summary>Bits on the wire per character (start + data + parity + stop), for Modbus RTU's 3.5-character gap.</summary>
    public int BitsPerCharacter => 1 + DataBits + (Parity == Parity.None ? 0 : 1) + (StopBits == StopBits.Two ? 2 : 1);

    internal static SerialSpec? Parse(ConfigMap map)
    {
        var port = map.String("serial", required: true);
        var baud = map.Int("baud") ?? 115200;
        if (baud is < 50 or > 4_000_000)
        {
            map.Get("baud")!.Error($"'baud' must be between 50 and 4000000, not {baud}");
        }

        var parity = map.OneOf("parity", ["none", "even", "odd", "mark", "space"]) ?? "none";
        var dataBits = map.Int("data-bits") ?? 8;
        if (dataBits is < 5 or > 8)
        {
            map.Get("data-bits")!.Error($"'data-bits' must be 5 to 8, not {dataBits}");
        }

        var stop = map.OneOf("stop-bits", ["1", "1.5", "2"]) ?? "1";
        var hs = map.OneOf("handshake", ["none", "rts-cts", "xon-xoff"]) ?? "none";
        if (port is null)
        {
            return null;
        }

        return new SerialSpec(
            port,
            baud,
            Enum.Parse<Parity>(parity, ignoreCase: true),
            dataBits,
            stop switch { "2" => StopBits.Two, "1.5" => StopBits.OnePointFive, _ => StopBits.One },
            hs switch { "rts-cts" => Handshake.RequestToSend, "xon-xoff" => Handshake.XOnXOff, _ => Handshake.None });
    }
}

public sealed record TcpSpec(string Host, int Port, TimeSpan ConnectTimeout) : TransportSpec
{
    public override string Describe() => $"tcp://{Host}:{Port}";

    internal static TcpSpec? Parse(ConfigMap map)
    {
        var ep = map.Require("tcp") is { } n ? n.AsEndpoint("tcp") : null;
        var timeout = map.Duration("connect-timeout") ?? TimeSpan.FromSeconds(3);
        return ep is { } e ? new TcpSpec(e.Host, e.Port, timeout) : null;
    }
}

/// <summary>UDP: commands to <see cref="RemoteHost"/>:<see cref="RemotePort"/> (cFS CI_LAB 1234), telemetry received on <see cref="ListenPort"/> (TO_LAB 1235).</summary>
public sealed record UdpSpec(string RemoteHost, int RemotePort, int ListenPort, string ListenHost) : TransportSpec
{
    public override string Describe() => $"udp://{RemoteHost}:{RemotePort} (listen {ListenHost}:{ListenPort})";

    internal static UdpSpec? Parse(ConfigMap map)
    {
        var ep = map.Require("udp") is { } n ? n.AsEndpoint("udp") : null;
        var listen = map.Int("listen") ?? 1235;
        var listenHost = map.String("listen-host") ?? "127.0.0.1";
        return ep is { } e ? new UdpSpec(e.Host, e.Port, listen, listenHost) : null;
    }
}
