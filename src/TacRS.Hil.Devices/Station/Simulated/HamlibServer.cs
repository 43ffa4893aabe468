using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Hamlib;
using TacRS.Hil.Simulation.Serve;
using Serve = TacRS.Hil.Simulation.Serve;

namespace TacRS.Hil.Devices.Station.Simulated;

/// <summary>
/// One reply, printed the way rotctld/rigctld 4.5.4 print it: in extended mode a header (the command's
/// name and its arguments), <c>Key: value</c> lines and <c>RPRT n</c>; in plain mode the bare values of
/// a successful get, or <c>RPRT n</c>. With a separator prefix (<c>;</c>, <c>|</c>) the lines end in that
/// character instead of a newline, except where the daemons hard-code a newline (<paramref name="end"/>).
/// </summary>
public sealed class HamlibReplyWriter
{
    private readonly StringBuilder _out;
    private readonly HamlibRequest _request;

    internal HamlibReplyWriter(HamlibRequest request, bool extended, char separator, StringBuilder output)
    {
        _request = request;
        Extended = extended;
        Separator = separator;
        _out = output;
    }

    public bool Extended { get; }

    public char Separator { get; }

    /// <summary>Set by a command that, like rigctld's set_vfo with a bad VFO, reads and drops the rest of the input line.</summary>
    public bool DiscardRestOfLine { get; set; }

    /// <summary>Set by a command after which the client's connection closes without a reply (rigctld's halt).</summary>
    public bool HangUp { get; set; }

    /// <summary>A value line: <c>Key: value</c> in extended mode, the bare value otherwise.</summary>
    public void Value(string key, string text, char? end = null)
    {
        if (Extended)
        {
            _out.Append(key).Append(": ");
        }

        _out.Append(text).Append(end ?? Separator);
    }

    /// <summary>A value printed without its key in either mode (get_level, get_clock).</summary>
    public void Bare(string text, char? end = null) => _out.Append(text).Append(end ?? Separator);

    /// <summary>Text the daemon prints as it is (dump_caps, get_rig_info).</summary>
    public void Raw(string text) => _out.Append(text);

    internal void Header()
    {
        if (Extended)
        {
            _out.Append(_request.Command.Name).Append(':');
            if (_request.Arguments.Count > 0)
            {
                _out.Append(' ').Append(_request.Echo);
            }

            _out.Append(Separator);
        }
    }

    /// <summary>The status line: always after an error and in extended mode; in plain mode only after a command that prints no values.</summary>
    internal bool End(int code)
    {
        if (_request.Command.OwnReply)
        {
            if (Separator != '\n')
            {
                _out.Append('\n');
            }

            return false;
        }

        if (code != 0 || Extended || !_request.Command.Output)
        {
            _out.Append("RPRT ").Append(code.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return true;
    }
}

/// <summary>
/// The rotctld/rigctld side of the Hamlib network protocol, one client per <see cref="RunAsync"/>. Reads
/// the input as the daemons do (<see cref="HamlibRequest"/>): short and long names, a missing argument
/// waited for across lines, an unknown name skipped without a reply (the connection stays open), the
/// <c>+</c>, <c>;</c> and <c>|</c> response modes. Every command of the daemon's table gets the reply
/// shape Hamlib 4.5.4's dummies give (compared against rotctld/rigctld -m 1 in the interop tests); one
/// the emulator does not model answers <c>RPRT -11</c> (RIG_ENAVAIL), as a backend without it does.
/// </summary>
public abstract class HamlibServer
{
    /// <summary>Connections one <see cref="ListenAsync"/> serves at once; more are closed as they arrive.</summary>
    public const int DefaultMaxConnections = Serve.ServeLimits.DefaultMaxConnections;

    protected static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    protected const int Ok = 0;

    protected const int Invalid = -(int)HamlibError.InvalidParameter;

    protected const int NotAvailable = -(int)HamlibError.NotAvailable;

    /// <summary>The daemon whose commands and parsing habits this server copies.</summary>
    protected abstract HamlibCommandTable Table { get; }

    /// <summary>Serves one client until it quits, hangs up or <paramref name="cancellationToken"/> fires; closes <paramref name="link"/>.</summary>
    public async Task RunAsync(IByteTransport link, CancellationToken cancellationToken)
    {
        var buffer = new byte[HamlibRequest.MaxLength + 1024];
        var count = 0;
        var output = new StringBuilder();
        var reply = new byte[256];
        // rigctld keeps the response mode a prefix asked for until a status line is printed (chk_vfo prints none).
        var extended = false;
        var separator = '\n';
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var start = 0;
                var quit = false;
                var incomplete = false;
                try
                {
                    while (!quit && !incomplete)
                    {
                        var status = HamlibRequest.TryRead(buffer.AsSpan(start, count - start), Table, out var request, out var consumed);
                        start += consumed;
                        switch (status)
                        {
                            case HamlibReadStatus.Incomplete:
                                incomplete = true;
                                break;
                            case HamlibReadStatus.Quit:
                                if (Table.AnswersQuit)
                                {
                                    output.Append("RPRT 0\n");
                                }

                                quit = true;
                                break;
                            case HamlibReadStatus.Command:
                                extended |= request.Extended;
                                separator = request.Separator ?? separator;
                                var w = new HamlibReplyWriter(request, extended, separator, output);
                                if (!request.Command.OwnReply)
                                {
                                    w.Header();
                                }

                                var code = Execute(request, w);
                                if (w.HangUp)
                                {
                                    quit = true;
                                    break;
                                }

                                if (w.End(code))
                                {
                                    extended = false;
                                    separator = '\n';
                                }

                                if (w.DiscardRestOfLine)
                                {
                                    var nl = buffer.AsSpan(start, count - start).IndexOf((byte)'\n');
                                    start = nl < 0 ? count : start + nl + 1;
                                }

                                break;
                            default:
                                break;
                        }
                    }
                }
                catch (HamlibProtocolException)
                {
                    // Not Hamlib (a line longer than any command): a misbehaving client is dropped.
                    quit = true;
                }

                if (output.Length > 0)
                {
                    // Encoded into a buffer kept for the next reply (a station polls once a second for hours);
                    // the write has taken the bytes when it completes.
                    if (reply.Length < output.Length)
                    {
                        reply = new byte[Math.Max(output.Length, reply.Length * 2)];
                    }

                    var length = 0;
                    foreach (var chunk in output.GetChunks())
                    {
                        length += Encoding.Latin1.GetBytes(chunk.Span, reply.AsSpan(length));
                    }

                    await link.WriteAsync(reply.AsMemory(0, length), cancellationToken);
                    output.Clear();
                }

                if (quit)
                {
                    return;
                }

                buffer.AsSpan(start, count - start).CopyTo(buffer);
                count -= start;
                var n = await link.ReadAsync(buffer.AsMemory(count), cancellationToken);
                if (n == 0)
                {
                    return;
                }

                count += n;
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
    /// <paramref name="listening"/>) in real time until cancelled, at most <paramref name="maxConnections"/>
    /// at once (a connection beyond that is closed at once): rotctl/rigctl and ground software talk to the emulator.
    /// </summary>
    public async Task ListenAsync(int port, CancellationToken cancellationToken, Action<int>? listening = null, int maxConnections = DefaultMaxConnections)
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
                if (sessions.Count >= maxConnections)
                {
                    socket.Dispose();
                    continue;
                }

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

    /// <summary>Runs one command: writes its values into <paramref name="w"/> and returns the RPRT code (0 or a negated <see cref="HamlibError"/>).</summary>
    protected abstract int Execute(HamlibRequest request, HamlibReplyWriter w);

    protected static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, Inv, out value) && double.IsFinite(value);

    protected static bool TryInteger(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, Inv, out value);
}

/// <summary>rotctld's protocol in front of a <see cref="RotatorModel"/>.</summary>
public sealed class HamlibRotatorServer(RotatorModel rotator) : HamlibServer
{
    public RotatorModel Rotator { get; } = rotator;

    protected override HamlibCommandTable Table => HamlibCommandTable.Rotctld;

    protected override int Execute(HamlibRequest r, HamlibReplyWriter w)
    {
        var a = r.Arguments;
        switch (r.Command.Name)
        {
            case "set_pos":
                return TryNumber(a[0], out var az) && TryNumber(a[1], out var el) && Rotator.SetPosition(az, el) ? Ok : Invalid;
            case "get_pos":
                var (paz, pel) = Rotator.Position;
                w.Value("Azimuth", paz.ToString("0.00", Inv));
                w.Value("Elevation", pel.ToString("0.00", Inv));
                return Ok;
            case "stop":
                Rotator.Stop();
                return Ok;
            case "park":
                return Rotator.Park() ? Ok : Invalid;
            case "reset":
                // rot_reset on the dummy: accepted; the emulator stops where it is.
                if (!TryInteger(a[0], out _))
                {
                    return Invalid;
                }

                Rotator.Stop();
                return Ok;
            case "move":
                if (!TryInteger(a[0], out var direction) || !TryInteger(a[1], out var speed)
                    || !Enum.IsDefined(typeof(Drivers.GroundStation.RotatorDirection), direction) || speed is < 1 or > 100)
                {
                    return Invalid;
                }

                Rotator.Move((Drivers.GroundStation.RotatorDirection)direction);
                return Ok;
            case "get_info":
                w.Value("Info", "TacRS station emulator rotator");
                return Ok;
            case "get_status":
                w.Value("Status flags", StatusFlags());
                return Ok;
            case "get_level":
                if (a[0] == "?")
                {
                    w.Bare("SPEED ", '\n');
                    return Ok;
                }

                if (a[0] != "SPEED")
                {
                    return Invalid;
                }

                // rotctld prints the level's value with a newline whatever the separator.
                w.Bare(Rotator.SpeedLevel.ToString(Inv), '\n');
                return Ok;
            case "set_level":
                if (a[0] != "SPEED" || a.Count < 2)
                {
                    return NotAvailable;
                }

                if (!TryInteger(a[1], out var level))
                {
                    return Invalid;
                }

                Rotator.SpeedLevel = level;
                return Ok;
            case "dump_caps":
                w.Raw(DumpCaps());
                return Ok;
            case "dump_state":
                var l = Rotator.Options.Limits;
                if (w.Extended)
                {
                    w.Value("rotctld Protocol Ver", "1");
                    w.Value("Rotor Model", "1");
                    w.Value("Minimum Azimuth", l.MinAzimuth.ToString("0.000000", Inv));
                    w.Value("Maximum Azimuth", l.MaxAzimuth.ToString("0.000000", Inv));
                    w.Value("Minimum Elevation", l.MinElevation.ToString("0.000000", Inv));
                    w.Value("Maximum Elevation", l.MaxElevation.ToString("0.000000", Inv));
                    w.Value("South Zero", "0");
                    w.Bare("rot_type=AzEl");
                    w.Bare("done");
                    return Ok;
                }

                // What rotctl -m 2 (netrotctl) reads at open: protocol version, model, limits.
                w.Raw(string.Create(
                    Inv,
                    $"1\n1\nmin_az={l.MinAzimuth:0.000000}\nmax_az={l.MaxAzimuth:0.000000}\nmin_el={l.MinElevation:0.000000}\nmax_el={l.MaxElevation:0.000000}\nsouth_zero=0\nrot_type=AzEl\ndone\n"));
                return Ok;
            default:
                return NotAvailable;
        }
    }

    /// <summary>rot_sprintf_status: each flag followed by a space.</summary>
    private string StatusFlags()
    {
        var (paz, pel) = Rotator.Position;
        var (taz, tel) = Rotator.Target;
        if (!Rotator.IsMoving)
        {
            return string.Empty;
        }

        var sb = new StringBuilder("MOVING ");
        if (Math.Abs(taz - paz) > 1e-9)
        {
            sb.Append("MOVING_AZ ").Append(taz > paz ? "MOVING_RIGHT " : "MOVING_LEFT ");
        }

        if (Math.Abs(tel - pel) > 1e-9)
        {
            sb.Append("MOVING_EL ").Append(tel > pel ? "MOVING_UP " : "MOVING_DOWN ");
        }

        return sb.ToString();
    }

    private string DumpCaps()
    {
        var l = Rotator.Options.Limits;
        return string.Create(
            Inv,
            $"""
            Caps dump for model:	1
            Model name:		TacRS station emulator
            Mfg name:		TacRS.Hil
            Backend version:	1.0
            Backend copyright:	LGPL
            Backend status:		Stable
            Rot type:		Az-El
            Port type:		Network link
            Write delay:		0mS, timeout 0mS, 0 retries
            Post Write delay:	0mS
            Status flags: MOVING MOVING_AZ MOVING_LEFT MOVING_RIGHT MOVING_EL MOVING_UP MOVING_DOWN 
            Min Azimuth:		{l.MinAzimuth:0.00}
            Max Azimuth:		{l.MaxAzimuth:0.00}
            Min Elevation:		{l.MinElevation:0.00}
            Max Elevation:		{l.MaxElevation:0.00}
            Has priv data:		N
            Get level: SPEED(1..100/1) 
            Set level: SPEED(1..100/1) 
            Can set Position:	Y
            Can get Position:	Y
            Can Stop:	Y
            Can Park:	Y
            Can Reset:	Y
            Can Move:	Y
            Can get Info:	Y
            Can get Status:	Y
            Can set Level:	Y
            Can get Level:	Y

            """);
    }
}

/// <summary>rigctld's protocol in front of a <see cref="RadioModel"/>.</summary>
public sealed class HamlibRadioServer(RadioModel radio, TimeProvider? time = null) : HamlibServer
{
    private static readonly string[] Vfos = ["VFOA", "VFOB", "VFOC", "SubA", "SubB", "MainA", "MainB", "Sub", "Main", "MEM", "currVFO"];

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public RadioModel Radio { get; } = radio;

    protected override HamlibCommandTable Table => HamlibCommandTable.Rigctld;

    protected override int Execute(HamlibRequest r, HamlibReplyWriter w)
    {
        var a = r.Arguments;
        switch (r.Command.Name)
        {
            case "set_freq":
                return TryNumber(a[0], out var f) && Radio.SetFrequency(f) ? Ok : Invalid;
            case "get_freq":
                w.Value("Frequency", Radio.FrequencyHz.ToString("0", Inv));
                return Ok;
            case "set_mode":
                if (a[0] == "?")
                {
                    w.Bare(string.Join(' ', Drivers.GroundStation.HamlibRadio.Modes) + " ", '\n');
                    return Ok;
                }

                return TryInteger(a[1], out var pb) && Radio.SetMode(a[0], pb) ? Ok : Invalid;
            case "get_mode":
                w.Value("Mode", Radio.Mode);
                w.Value("Passband", Radio.PassbandHz.ToString(Inv));
                return Ok;
            case "set_vfo":
                if (a[0] == "?")
                {
                    w.Bare(string.Join(' ', Vfos) + " ", '\n');
                    return Ok;
                }

                if (!Vfos.Contains(a[0]))
                {
                    w.DiscardRestOfLine = true;
                    return Invalid;
                }

                Radio.Vfo = a[0] is "currVFO" ? Radio.Vfo : a[0];
                return Ok;
            case "get_vfo":
                w.Value("VFO", Radio.Vfo);
                return Ok;
            case "set_ptt":
                if (!TryInteger(a[0], out var ptt) || ptt is < 0 or > 3)
                {
                    return Invalid;
                }

                Radio.SetPtt(ptt != 0);
                return Ok;
            case "get_ptt":
                w.Value("PTT", Radio.Ptt ? "1" : "0");
                return Ok;
            case "get_split_vfo":
                w.Value("Split", "0");
                w.Value("TX VFO", "VFOA");
                return Ok;
            case "get_split_freq":
                // Split off: the transmit frequency is the receive one.
                w.Value("TX Frequency", Radio.FrequencyHz.ToString("0", Inv));
                return Ok;
            case "get_split_mode":
                w.Value("TX Mode", Radio.Mode);
                w.Value("TX Passband", Radio.PassbandHz.ToString(Inv));
                return Ok;
            case "set_rit" or "set_xit":
                if (!TryInteger(a[0], out var offset))
                {
                    return Invalid;
                }

                if (r.Command.Name == "set_rit")
                {
                    Radio.RitHz = offset;
                }
                else
                {
                    Radio.XitHz = offset;
                }

                return Ok;
            case "get_rit":
                w.Value("RIT", Radio.RitHz.ToString(Inv));
                return Ok;
            case "get_xit":
                w.Value("XIT", Radio.XitHz.ToString(Inv));
                return Ok;
            case "get_dcd":
                w.Value("DCD", Radio.CarrierDetected ? "1" : "0");
                return Ok;
            case "get_vfo_info":
                if (a[0] == "?")
                {
                    w.Bare(string.Join(' ', Vfos) + " ", '\n');
                    return Ok;
                }

                w.Value("Freq", Radio.FrequencyHz.ToString("0", Inv));
                w.Value("Mode", Radio.Mode);
                w.Value("Width", Radio.PassbandHz.ToString(Inv));
                w.Value("Split", "0");
                w.Value("SatMode", "0");
                return Ok;
            case "get_rig_info":
                w.Raw(RigInfo());
                return Ok;
            case "get_clock":
                // rig_get_clock: local time with its UTC offset; the emulator's clock is the run's clock.
                w.Bare(_time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+00:00'", Inv), '\n');
                return Ok;
            case "get_modes":
                w.Raw(Modes(w.Extended));
                return Ok;
            case "get_level":
                return GetLevel(a[0], w);
            case "set_level":
                if (a[0] == "?")
                {
                    w.Bare(string.Join(' ', RadioModel.SettableLevels) + " ", '\n');
                    return Ok;
                }

                if (a.Count < 2 || !RadioModel.SettableLevels.Contains(a[0]))
                {
                    return NotAvailable;
                }

                return TryNumber(a[1], out var value) && Radio.SetLevel(a[0], value) ? Ok : Invalid;
            case "get_info":
                w.Value("Info", "TacRS station emulator radio");
                return Ok;
            case "get_powerstat":
                w.Value("Power Status", "1", '\n');
                return Ok;
            case "get_lock_mode":
                w.Value("Locked", Radio.LockMode ? "1" : "0", '\n');
                return Ok;
            case "set_lock_mode":
                if (!TryInteger(a[0], out var locked))
                {
                    return Invalid;
                }

                Radio.LockMode = locked != 0;
                return Ok;
            case "chk_vfo":
                w.Raw(w.Extended ? "ChkVFO: 0\n" : "0\n");
                return Ok;
            case "dump_state":
                w.Raw(DumpState(Radio, w.Extended));
                return Ok;
            case "dump_caps":
                w.Raw(DumpCaps());
                return Ok;
            case "halt":
                // rigctld exits, so its client sees the connection close; the emulator closes only this one and serves on.
                w.HangUp = true;
                return Ok;
            default:
                // reset (the dummy cannot either) and what the emulator does not model.
                return NotAvailable;
        }
    }

    private int GetLevel(string name, HamlibReplyWriter w)
    {
        if (name == "?")
        {
            w.Bare(string.Join(' ', RadioModel.Levels) + " ", '\n');
            return Ok;
        }

        if (!Radio.TryGetLevel(name, out var value, out var integer))
        {
            return Invalid;
        }

        // rigctld prints integer levels with %d and the others with %f.
        w.Bare(integer ? Math.Round(value).ToString("0", Inv) : value.ToString("0.000000", Inv));
        return Ok;
    }

    private string RigInfo()
    {
        var text = string.Create(
            Inv,
            $"VFO=Main Freq={Radio.FrequencyHz:0} Mode={Radio.Mode} Width={Radio.PassbandHz} RX=1 TX=1\nVFO=Sub Freq={Radio.FrequencyHz:0} Mode={Radio.Mode} Width={Radio.PassbandHz} RX=0 TX=0\nSplit=0 SatMode=0\nRig=TacRS station emulator\nApp=Hamlib\nVersion=20210506 1.0.0\n");
        // rig_get_rig_info ends with a CRC-32 of the lines above it.
        return text + string.Create(Inv, $"CRC=0x{Crc32(text):x8}\n") + "\n";
    }

    /// <summary>
    /// rigctld 4.5.4's get_modes: the mode list, then "Bandwidths:" and a line per mode, each line break
    /// printed before its line, so the last line has none (in extended mode the RPRT follows on the same line).
    /// </summary>
    private static string Modes(bool extended)
    {
        var sb = new StringBuilder();
        if (extended)
        {
            sb.Append("Modes: ");
        }

        sb.Append(string.Join(' ', Drivers.GroundStation.HamlibRadio.Modes)).Append("\nBandwidths:");
        foreach (var mode in Drivers.GroundStation.HamlibRadio.Modes)
        {
            var normal = RadioModel.NormalPassband(mode);
            sb.Append("\n\t").Append(mode).Append("\tNormal: ").Append(Width(normal)).Append(",\tNarrow: ").Append(Width(normal / 2))
                .Append(",\tWide: ").Append(Width(normal * 2));
        }

        return sb.ToString();

        static string Width(int hz) => hz >= 1000 ? (hz / 1000.0).ToString("0.0000", Inv) + " kHz" : hz.ToString("0.0", Inv) + " Hz";
    }

    private static uint Crc32(string text)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in Encoding.ASCII.GetBytes(text))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    private string DumpCaps() => string.Create(
        Inv,
        $"""
        Caps dump for model: 1
        Model name:	TacRS station emulator
        Mfg name:	TacRS.Hil
        Backend version:	1.0
        Backend copyright:	LGPL
        Backend status:	Stable
        Rig type:	Transceiver 
        PTT type:	Rig capable
        DCD type:	Rig capable
        Port type:	Network link
        Mode list: {string.Join(' ', Drivers.GroundStation.HamlibRadio.Modes)} 
        VFO list: VFOA VFOB 
        Get level: {string.Join(' ', RadioModel.Levels.Select(l => l + "(0..0/0)"))} 
        Set level: {string.Join(' ', RadioModel.SettableLevels.Select(l => l + "(0..0/0)"))} 
        RX ranges #1 for TacRS:
        	{Radio.Limits.MinFrequencyHz:0} Hz - {Radio.Limits.MaxFrequencyHz:0} Hz
        Can set Frequency:	Y
        Can get Frequency:	Y
        Can set Mode:	Y
        Can get Mode:	Y
        Can set VFO:	Y
        Can get VFO:	Y
        Can set PTT:	Y
        Can get PTT:	Y
        Can get DCD:	Y
        Can set RIT:	Y
        Can get RIT:	Y
        Can set XIT:	Y
        Can get XIT:	Y
        Can Reset:	N
        Can set Level:	Y
        Can get Level:	Y
        Can get Info:	Y

        Overall backend warnings: 0   

        """);

    /// <summary>
    /// What rigctl -m 2 (netrigctl, Hamlib 4.5) parses at open: captured from rigctld -m 1 and cut to
    /// the fields it needs (protocol version 1, model, ITU region, RX/TX ranges, tuning steps, filters,
    /// then, in plain mode only, key=value lines up to "done").
    /// </summary>
    private static string DumpState(RadioModel radio, bool extended)
    {
        var numbers = string.Create(
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

            """);
        return extended
            ? numbers
            : numbers + """
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

                """;
    }
}
