using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Simulation.Station;

/// <summary>What a server does with one command line: answer, stay silent (as Hamlib does for what it does not know), or hang up.</summary>
public readonly record struct HamlibAnswer(string? Text, bool Close = false)
{
    public static readonly HamlibAnswer Silent = new(null);

    public static readonly HamlibAnswer HangUp = new(null, true);
}

/// <summary>
/// The rotctld/rigctld side of the Hamlib network protocol, one client per <see cref="RunAsync"/>.
/// Speaks both the plain protocol (what rotctl/rigctl -m 2 use) and extended responses (<c>+</c>,
/// what our drivers use), short and long command names, and copies Hamlib 4.5.4's habits so the
/// drivers meet them in simulation too: an unknown short command or a missing argument gets no
/// reply, an unknown long command drops the connection.
/// </summary>
public abstract class HamlibServer
{
    protected static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Serves one client until it quits, hangs up or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(IByteTransport link, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var count = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                HamlibRequest request;
                int consumed;
                bool got;
                try
                {
                    got = HamlibRequest.TryRead(buffer.AsSpan(0, count), out request, out consumed);
                }
                catch (HamlibProtocolException)
                {
                    return;
                }

                if (!got)
                {
                    if (count == buffer.Length)
                    {
                        return;
                    }

                    var n = await link.ReadAsync(buffer.AsMemory(count), cancellationToken);
                    if (n == 0)
                    {
                        return;
                    }

                    count += n;
                    continue;
                }

                buffer.AsSpan(consumed, count - consumed).CopyTo(buffer);
                count -= consumed;
                if (request.Name.Length == 0)
                {
                    continue;
                }

                if (request.Name is "q" or "Q" or "quit" or "exit")
                {
                    return;
                }

                var answer = Handle(request);
                if (answer.Text is { } text)
                {
                    await link.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
                }

                if (answer.Close)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is TransportException or IOException or SocketException)
        {
            // The client went away: nothing to serve.
        }
        finally
        {
            await link.DisposeAsync();
        }
    }

    /// <summary>
    /// Serves TCP clients on 127.0.0.1:<paramref name="port"/> (0 picks a free port, reported through
    /// <paramref name="listening"/>) in real time until cancelled: the <c>sim serve</c> mode, so
    /// rotctl/rigctl and ground software can talk to the emulator.
    /// </summary>
    public async Task ListenAsync(int port, CancellationToken cancellationToken, Action<int>? listening = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listening?.Invoke(((IPEndPoint)listener.LocalEndpoint).Port);
        var sessions = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                sessions.RemoveAll(t => t.IsCompleted);
                sessions.Add(RunAsync(new SocketByteTransport(socket), cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            listener.Stop();
            await Task.WhenAll(sessions);
        }
    }

    /// <summary>Answers one request; implementations map short names to long ones first.</summary>
    protected abstract HamlibAnswer Handle(HamlibRequest request);

    protected static HamlibAnswer Reply(HamlibRequest r, string command, int code, params (string Key, string Value)[] values) =>
        new(new HamlibReply(command, string.Join(' ', r.Arguments), values.Select(v => new HamlibValue(v.Key, v.Value)).ToList(), code)
            .Format(r.Extended ? HamlibReplyMode.Extended : HamlibReplyMode.Plain));

    /// <summary>Hamlib's reaction to a command it does not know: silence for a short name, a dropped connection for a long one.</summary>
    protected static HamlibAnswer Unknown(HamlibRequest r) => r.LongName ? HamlibAnswer.HangUp : HamlibAnswer.Silent;

    protected static bool TryNumbers(HamlibRequest r, int count, out double[] values)
    {
        values = new double[count];
        if (r.Arguments.Count < count)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!double.TryParse(r.Arguments[i], NumberStyles.Float, Inv, out values[i]))
            {
                values[i] = double.NaN;
            }
        }

        return true;
    }
}

/// <summary>rotctld's protocol in front of a <see cref="RotatorModel"/>.</summary>
public sealed class HamlibRotatorServer(RotatorModel rotator) : HamlibServer
{
    public RotatorModel Rotator { get; } = rotator;

    protected override HamlibAnswer Handle(HamlibRequest r)
    {
        var name = r.LongName ? r.Name : r.Name switch
        {
            "P" => "set_pos",
            "p" => "get_pos",
            "S" => "stop",
            "K" => "park",
            "M" => "move",
            "_" => "get_info",
            _ => "?",
        };
        switch (name)
        {
            case "set_pos":
                if (!TryNumbers(r, 2, out var pos))
                {
                    // rotctld waits for the missing argument on the next line: no reply now.
                    return HamlibAnswer.Silent;
                }

                return Reply(r, name, Rotator.SetPosition(pos[0], pos[1]) ? 0 : -(int)HamlibError.InvalidParameter);
            case "get_pos":
                var (az, el) = Rotator.Position;
                return Reply(r, name, 0, ("Azimuth", az.ToString("0.00", Inv)), ("Elevation", el.ToString("0.00", Inv)));
            case "stop":
                Rotator.Stop();
                return Reply(r, name, 0);
            case "park":
                return Reply(r, name, Rotator.Park() ? 0 : -(int)HamlibError.InvalidParameter);
            case "move":
                if (!TryNumbers(r, 2, out var mv))
                {
                    return HamlibAnswer.Silent;
                }

                if (!Enum.IsDefined(typeof(RotatorDirection), (int)mv[0]) || mv[1] is < 1 or > 100 or double.NaN)
                {
                    return Reply(r, name, -(int)HamlibError.InvalidParameter);
                }

                Rotator.Move((RotatorDirection)(int)mv[0]);
                return Reply(r, name, 0);
            case "get_info":
                return Reply(r, name, 0, ("Info", "TacRS station emulator rotator"));
            case "dump_state":
                // What rotctl -m 2 (netrotctl) reads at open: protocol version, model, limits.
                var l = Rotator.Options.Limits;
                return new HamlibAnswer(string.Create(
                    Inv,
                    $"1\n1\nmin_az={l.MinAzimuth:0.000000}\nmax_az={l.MaxAzimuth:0.000000}\nmin_el={l.MinElevation:0.000000}\nmax_el={l.MaxElevation:0.000000}\nsouth_zero=0\nrot_type=AzEl\ndone\n"));
            default:
                return Unknown(r);
        }
    }
}

/// <summary>rigctld's protocol in front of a <see cref="RadioModel"/>.</summary>
public sealed class HamlibRadioServer(RadioModel radio) : HamlibServer
{
    public RadioModel Radio { get; } = radio;

    protected override HamlibAnswer Handle(HamlibRequest r)
    {
        var name = r.LongName ? r.Name : r.Name switch
        {
            "F" => "set_freq",
            "f" => "get_freq",
            "M" => "set_mode",
            "m" => "get_mode",
            "T" => "set_ptt",
            "t" => "get_ptt",
            "v" => "get_vfo",
            "s" => "get_split_vfo",
            "_" => "get_info",
            "l" => "get_level",
            _ => "?",
        };
        switch (name)
        {
            case "get_level":
                // Only the S-meter is modelled; rigctld answers an unknown level with -RIG_EINVAL.
                if (r.Arguments.Count < 1)
                {
                    return HamlibAnswer.Silent;
                }

                return r.Arguments[0] == "STRENGTH"
                    ? Reply(r, name, 0, (string.Empty, Math.Round(Radio.StrengthDb).ToString("0", Inv)))
                    : Reply(r, name, -(int)HamlibError.InvalidParameter);
            case "set_freq":
                if (!TryNumbers(r, 1, out var f))
                {
                    return HamlibAnswer.Silent;
                }

                return Reply(r, name, Radio.SetFrequency(f[0]) ? 0 : -(int)HamlibError.InvalidParameter);
            case "get_freq":
                return Reply(r, name, 0, ("Frequency", Radio.FrequencyHz.ToString("0", Inv)));
            case "set_mode":
                if (r.Arguments.Count < 2 || !int.TryParse(r.Arguments[1], NumberStyles.AllowLeadingSign, Inv, out var pb))
                {
                    return r.Arguments.Count < 2 ? HamlibAnswer.Silent : Reply(r, name, -(int)HamlibError.InvalidParameter);
                }

                return Reply(r, name, Radio.SetMode(r.Arguments[0], pb) ? 0 : -(int)HamlibError.InvalidParameter);
            case "get_mode":
                return Reply(r, name, 0, ("Mode", Radio.Mode), ("Passband", Radio.PassbandHz.ToString(Inv)));
            case "set_ptt":
                if (!TryNumbers(r, 1, out var p) || p[0] is not (0 or 1 or 2 or 3))
                {
                    return r.Arguments.Count < 1 ? HamlibAnswer.Silent : Reply(r, name, -(int)HamlibError.InvalidParameter);
                }

                Radio.SetPtt(p[0] != 0);
                return Reply(r, name, 0);
            case "get_ptt":
                return Reply(r, name, 0, ("PTT", Radio.Ptt ? "1" : "0"));
            case "get_vfo":
                return Reply(r, name, 0, ("VFO", "VFOA"));
            case "get_split_vfo":
                return Reply(r, name, 0, ("Split", "0"), ("TX VFO", "VFOA"));
            case "get_info":
                return Reply(r, name, 0, ("Info", "TacRS station emulator radio"));
            case "get_powerstat":
                return Reply(r, name, 0, ("Power Status", "1"));
            case "get_lock_mode":
                return Reply(r, name, 0, ("Locked", "0"));
            case "chk_vfo":
                return new HamlibAnswer(r.Extended ? "ChkVFO: 0\n" : "0\n");
            case "dump_state":
                return new HamlibAnswer(DumpState(Radio));
            default:
                return Unknown(r);
        }
    }

    /// <summary>
    /// What rigctl -m 2 (netrigctl, Hamlib 4.5) parses at open: captured from rigctld -m 1 and cut to
    /// the fields it needs (protocol version 1, model, ITU region, RX/TX ranges, tuning steps, filters,
    /// then key=value lines up to "done").
    /// </summary>
    private static string DumpState(RadioModel radio) => string.Create(
        Inv,
        $"""
        1
        1
        0
        {radio.Limits.MinFrequencyHz:0.000000} {radio.Limits.MaxFrequencyHz:0.000000} 0x1ff -1 -1 0x77e00007 0xf
        0 0 0 0 0 0 0
        {radio.Limits.MinFrequencyHz:0.000000} {radio.Limits.MaxFrequencyHz:0.000000} 0x1ff 5000 100000 0x77e00007 0xf
        0 0 0 0 0 0 0
        0x1ff 1
        0x1ff 0
        0 0
        0xc 2400
        0xc 1800
        0x2 500
        0x1 8000
        0x20 15000
        0x40 230000
        0 0
        9990
        9990
        10000
        0
        10 
        10 20 30 
        0xffffffffffffffff
        0xffffffffffffffff
        0xfffffffff7ffffff
        0xffffff7083ffffff
        0xffffffffffffffff
        0xffffffffffffffbf
        vfo_ops=0x7ffffff
        ptt_type=0x1
        targetable_vfo=0x10c3
        has_set_vfo=1
        has_get_vfo=1
        has_set_freq=1
        has_get_freq=1
        has_set_conf=0
        has_get_conf=0
        has_power2mW=0
        has_mW2power=0
        timeout=0
        rig_model=1
        done

        """);
}
