using Models = TacRS.Hil.Simulation.Models;
using TacRS.Hil.Core.Threading;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Devices.Avionics.Simulated;

/// <summary>
/// The payload flight computer at the far end of the avionics link: modes off → boot → safe → nominal →
/// payload-active (and post-separation), cFS-style command handling (command/error counters, event messages
/// for bad checksum, bad length and unknown function codes), housekeeping at a fixed rate, and a payload
/// function per profile. Deterministic from the seeded <see cref="Random"/> and the <see cref="TimeProvider"/>;
/// no threads of its own: <see cref="RunAsync"/> / <see cref="RunUdpAsync"/> are plain async loops.
/// Packet layouts are those of fixtures/dictionaries/payload-obc.yaml (big-endian payload), or with
/// <see cref="FlightSoftware.CfsLab"/> those of a cFS lab build (<see cref="CfsLabSoftware"/>). Memory is bounded
/// whatever arrives: the last <see cref="FlightComputerOptions.EventHistory"/> events are kept, and telemetry
/// beyond <see cref="FlightComputerOptions.TelemetryQueueLimit"/> waiting packets is dropped and counted.
/// </summary>
public sealed class FlightComputerEmulator
{
    public const int HousekeepingLength = 48;
    public const int EventLength = 140;
    public const int EventTextLength = 120;

    // payload-temp calibration in payload-obc.yaml: T = c0 + c1·x + c2·x²; the emulator inverts it.
    private const double TempC0 = -50.0, TempC1 = 0.04, TempC2 = 1.0e-7;

    private readonly Lock _gate = new();
    private readonly FlightComputerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly List<byte[]> _outbox = [];
    private readonly FlightComputerEvent[] _events;
    private readonly CfsLabSoftware? _cfs;
    private long _eventCount;
    private TickSignal? _wake;
    private long _poweredAt;
    private TimeSpan _nextHousekeeping;
    private TimeSpan? _imageDoneAt;
    private int _pendingExposureMs;
    private ushort _hkSequence;
    private ushort _eventSequence;
    private double _boardTemp = 20.0;
    private double _payloadTemp = 18.0;
    private bool _outputEnabled;

    public FlightComputerEmulator(FlightComputerOptions options, TimeProvider time, Random random)
    {
        _options = options;
        _time = time;
        _random = random;
        _outputEnabled = !options.RequireOutputEnable;
        _events = new FlightComputerEvent[Math.Max(1, options.EventHistory)];
        if (options.Software == FlightSoftware.CfsLab)
        {
            _cfs = new CfsLabSoftware(options.CfsVersion, EmitCfs, ip =>
            {
                OutputDestination = ip;
                _outputEnabled = true;
            });
        }
    }

    public FlightComputerOptions Options => _options;

    public bool Powered { get; private set; }

    public FlightComputerMode Mode { get; private set; }

    public byte CommandCount { get; private set; }

    public byte ErrorCount { get; private set; }

    /// <summary>The flight software's separation latch: set when the switches release, kept until a reboot finds them closed again.</summary>
    public bool SeparationReleased { get; private set; }

    private bool _separationSwitchesOpen; // the switch input itself, read again at every boot

    public bool TransponderLoopback { get; private set; }

    public bool RfTransmit { get; private set; }

    public ushort ImagesTaken { get; private set; }

    public uint LastFrameSize { get; private set; }

    public uint LastFrameChecksum { get; private set; }

    public ushort BootCount { get; private set; }

    /// <summary>The TO_LAB destination the last output-enable command named (cFS lab style), if any.</summary>
    public string? OutputDestination { get; private set; }

    public bool OutputEnabled => _outputEnabled;

    /// <summary>Amps the flight computer draws in its present mode (what an electrical model should load the bus with).</summary>
    public double LoadCurrent => Mode switch
    {
        FlightComputerMode.Off => 0.0,
        FlightComputerMode.Boot => 0.45,
        FlightComputerMode.Safe => 0.5,
        FlightComputerMode.Nominal => 0.8,
        FlightComputerMode.PayloadActive => 1.6,
        _ => 0.8,
    } + (RfTransmit ? 1.2 : 0.0);

    /// <summary>The last events emitted (at most <see cref="FlightComputerOptions.EventHistory"/>), oldest first.</summary>
    public IReadOnlyList<FlightComputerEvent> Events
    {
        get
        {
            lock (_gate)
            {
                var first = Math.Max(0, _eventCount - _events.Length);
                return Enumerable.Range(0, (int)(_eventCount - first)).Select(i => _events[(first + i) % _events.Length]).ToList();
            }
        }
    }

    /// <summary>Every event emitted since the emulator was made.</summary>
    public long EventCount
    {
        get
        {
            lock (_gate)
            {
                return _eventCount;
            }
        }
    }

    /// <summary>Telemetry packets dropped because too many were waiting to go out.</summary>
    public long TelemetryDropped { get; private set; }


    /// <summary>Raised (synchronously, on the emulator's loop) for each event message.</summary>
    public event Action<FlightComputerEvent>? EventEmitted;

    private TimeSpan MissionTime => Powered ? _time.GetElapsedTime(_poweredAt) : TimeSpan.Zero;

    /// <summary>Payload power applied (by GSE or the electrical model): the computer boots.</summary>
    public void PowerOn()
    {
        lock (_gate)
        {
            if (Powered)
            {
                return;
            }

            Powered = true;

            // The flight software reads the separation switches as it starts: a restacked payload boots mated.
            SeparationReleased = _separationSwitchesOpen;

            // A rebooted cFS starts TO_LAB with output disabled: the ground must enable it again.
            _outputEnabled = !_options.RequireOutputEnable;
            OutputDestination = null;
            _poweredAt = _time.GetTimestamp();
            Mode = FlightComputerMode.Boot;
            BootCount++;
            _cfs?.PowerOn();
            CommandCount = 0;
            ErrorCount = 0;
            TransponderLoopback = false;
            RfTransmit = false;
            _imageDoneAt = null;
            _nextHousekeeping = TimeSpan.Zero;
        }

        Wake();
    }

    /// <summary>Power removed: no telemetry, nothing answers; counters are lost.</summary>
    public void PowerOff()
    {
        lock (_gate)
        {
            Powered = false;
            Mode = FlightComputerMode.Off;
            RfTransmit = false;
            _outbox.Clear();
        }

        Wake();
    }

    /// <summary>The separation switches released: the flight software enters its post-separation mode.</summary>
    public void ReleaseSeparation()
    {
        lock (_gate)
        {
            _separationSwitchesOpen = true;
            if (SeparationReleased)
            {
                return;
            }

            SeparationReleased = true;
            if (Powered && Mode >= FlightComputerMode.Safe)
            {
                EnterPostSeparation();
            }
        }

        Wake();
    }

    /// <summary>
    /// The separation switches closed again (restacked on the bench): the running flight software keeps
    /// its post-separation latch, as flight software does, but the next boot starts mated.
    /// </summary>
    public void RestackSeparation()
    {
        lock (_gate)
        {
            _separationSwitchesOpen = false;
        }
    }

    /// <summary>Serves the far end of a serial-framed link (ASM + packet + CRC) until cancelled or the link closes.</summary>
    public async Task RunAsync(IByteTransport link, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writeGate = new AsyncGate();
        async ValueTask Send(byte[] packet, CancellationToken ct)
        {
            var frame = new byte[SyncFraming.FrameLength(packet.Length)];
            SyncFraming.Write(frame, packet);
            await writeGate.EnterAsync(ct);
            try
            {
                await link.WriteAsync(frame, ct);
            }
            finally
            {
                writeGate.Release();
            }
        }

        var telemetry = TelemetryLoopAsync(Send, stop.Token);

        // Reads go without a token and cancellation closes the link instead: a pending in-process read is then a
        // direct await that stays on the simulated session's scheduler (see TelemetryLoopAsync).
        await using var closeOnCancel = stop.Token.Register(static l => _ = ((IByteTransport)l!).DisposeAsync().AsTask(), link);
        try
        {
            var deframer = new SyncDeframer(_options.MaxPacketLength);
            var buffer = new byte[4096];
            while (!stop.Token.IsCancellationRequested)
            {
                var n = await link.ReadAsync(buffer, CancellationToken.None);
                if (n == 0)
                {
                    break;
                }

                ReadOnlySpan<byte> input = buffer.AsSpan(0, n);
                while (input.Length > 0)
                {
                    input = input[deframer.Append(input)..];
                    while (deframer.TryReadPacket(out var packet))
                    {
                        HandleCommand(packet);
                    }
                }

                await FlushAsync(Send, stop.Token);
            }
        }
        catch (Exception) when (stop.Token.IsCancellationRequested)
        {
            // Cancellation closed the link under a pending read (a real port throws ObjectDisposed/IO errors).
        }
        catch (IOException)
        {
            // The harness side went away (TransportException is an IOException); the emulator just stops serving.
        }
        finally
        {
            await StopTelemetryAsync(stop, telemetry);
        }
    }

    /// <summary>Ends a link's telemetry loop once the link is done, whichever way it ended.</summary>
    private static async Task StopTelemetryAsync(CancellationTokenSource stop, Task telemetry)
    {
        stop.Cancel(); // not CancelAsync: keep the callbacks on the caller's (simulated) scheduler
        try
        {
            await telemetry;
        }
        catch (Exception e) when (e is OperationCanceledException or TransportException)
        {
            // Stopped, or the link it sent on went away with the rest.
        }
    }

    /// <summary>
    /// Serves cFS lab style over datagrams: one command per datagram in (CI_LAB), one packet per datagram
    /// out (TO_LAB), telemetry only after an output-enable command when <see cref="FlightComputerOptions.RequireOutputEnable"/>.
    /// </summary>
    public async Task RunUdpAsync(IDatagramTransport link, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async ValueTask Send(byte[] packet, CancellationToken ct)
        {
            if (_outputEnabled)
            {
                await link.SendAsync(packet, ct);
            }
        }

        var telemetry = TelemetryLoopAsync(Send, stop.Token);
        try
        {
            var buffer = new byte[65536];
            while (!stop.Token.IsCancellationRequested)
            {
                var n = await link.ReceiveAsync(buffer, stop.Token); // real sockets: cancellation is fine here
                HandleCommand(buffer.AsSpan(0, n));
                await FlushAsync(Send, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
        {
        }
        catch (TransportException)
        {
        }
        finally
        {
            await StopTelemetryAsync(stop, telemetry);
        }
    }

    /// <summary>
    /// Handles one command packet exactly as it arrived (cFS order: length against the header, message ID,
    /// checksum, function code, length for that function code). Replies go to the outbox.
    /// </summary>
    public void HandleCommand(ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            if (!Powered || Mode < FlightComputerMode.Safe)
            {
                return; // nothing listens before the software is up
            }

            if (_cfs is not null)
            {
                _cfs.Ingest(packet);
                return;
            }

            if (!CfsCommandHeader.TryRead(packet, out var header, out _))
            {
                Reject(FlightEventIds.BadLength, string.Create(CultureInfo.InvariantCulture, $"Invalid Msg length: Len = {packet.Length}, shorter than a command header"));
                return;
            }

            var mid = header.Primary.StreamId;
            var fc = header.FunctionCode;
            if (header.Primary.PacketLength != packet.Length)
            {
                Reject(FlightEventIds.BadLength, string.Create(CultureInfo.InvariantCulture, $"Invalid Msg length: ID = 0x{mid:X4}, CC = {fc}, Len = {packet.Length}, Hdr = {header.Primary.PacketLength}"));
                return;
            }

            if (mid == _options.ToLabMessageId)
            {
                HandleToLab(packet);
                return;
            }

            if (mid != _options.CommandMessageId)
            {
                return; // no subscriber on the software bus: dropped, as cFS SB does
            }

            if (!CfsCommandHeader.IsChecksumValid(packet))
            {
                Reject(FlightEventIds.BadChecksum, string.Create(CultureInfo.InvariantCulture, $"Invalid checksum: ID = 0x{mid:X4}, CC = {fc}"));
                return;
            }

            var expected = fc switch
            {
                0 or 1 => 8,
                2 => 9,
                3 when _options.Profile == PayloadProfile.SdaSensor => 10,
                4 or 5 when _options.Profile == PayloadProfile.XBandSatcom => 9,
                _ => -1,
            };
            if (expected < 0)
            {
                Reject(FlightEventIds.BadFunctionCode, string.Create(CultureInfo.InvariantCulture, $"Invalid ground command code: CC = {fc}"));
                return;
            }

            if (packet.Length != expected)
            {
                Reject(FlightEventIds.BadLength, string.Create(CultureInfo.InvariantCulture, $"Invalid Msg length: ID = 0x{mid:X4}, CC = {fc}, Len = {packet.Length}, Expected = {expected}"));
                return;
            }

            var args = packet[CfsCommandHeader.Size..];
            switch (fc)
            {
                case 0:
                    CommandCount++;
                    Emit(FlightEventIds.Noop, FlightEventType.Information, "No-op command. Version " + _options.SoftwareVersion);
                    break;
                case 1:
                    CommandCount = 0;
                    ErrorCount = 0;
                    Emit(FlightEventIds.CountersReset, FlightEventType.Debug, "Reset counters command");
                    break;
                case 2:
                    SetMode((FlightComputerMode)args[0]);
                    break;
                case 3:
                    TakeImage(BinaryPrimitives.ReadUInt16BigEndian(args));
                    break;
                case 4:
                    TransponderLoopback = args[0] != 0;
                    CommandCount++;
                    Emit(FlightEventIds.Transponder, FlightEventType.Information, "Transponder loopback " + (TransponderLoopback ? "ON" : "OFF"));
                    break;
                case 5:
                    if (Mode is not (FlightComputerMode.PayloadActive or FlightComputerMode.PostSeparation) && args[0] != 0)
                    {
                        Reject(FlightEventIds.CommandRefused, "RF transmit refused in mode " + Mode.ToString().ToUpperInvariant());
                        return;
                    }

                    RfTransmit = args[0] != 0;
                    CommandCount++;
                    Emit(FlightEventIds.Transponder, FlightEventType.Information, "RF transmit " + (RfTransmit ? "ON" : "OFF"));
                    break;
            }
        }

        Wake();
    }

    private void HandleToLab(ReadOnlySpan<byte> packet)
    {
        // cFS TO_LAB: function code 6 = output enable, payload a 16-byte NUL-padded dotted-quad IP.
        if (ToLabOutputEnable.TryRead(packet, out var ip))
        {
            OutputDestination = ip;
            _outputEnabled = true;
            Emit(FlightEventIds.OutputEnabled, FlightEventType.Information, "TO telemetry output enabled for IP " + OutputDestination);
        }
    }

    private void SetMode(FlightComputerMode target)
    {
        var allowed = (Mode, target) switch
        {
            (_, FlightComputerMode.Safe) => Mode != FlightComputerMode.Safe,
            (FlightComputerMode.Safe or FlightComputerMode.PayloadActive, FlightComputerMode.Nominal) => true,
            (FlightComputerMode.Nominal, FlightComputerMode.PayloadActive) => true,
            _ => false,
        };
        if (!allowed)
        {
            Reject(FlightEventIds.ModeRefused, $"Mode change to {Name(target)} refused in mode {Name(Mode)}");
            return;
        }

        CommandCount++;
        Emit(FlightEventIds.ModeChanged, FlightEventType.Information, $"Mode {Name(Mode)} -> {Name(target)}");
        Mode = target;
        if (target != FlightComputerMode.PayloadActive)
        {
            RfTransmit = false;
        }
    }

    private void TakeImage(ushort exposureMs)
    {
        if (Mode != FlightComputerMode.PayloadActive || _imageDoneAt is not null || exposureMs == 0)
        {
            Reject(FlightEventIds.CommandRefused, _imageDoneAt is not null ? "Image refused: exposure in progress" : "Image refused in mode " + Name(Mode));
            return;
        }

        CommandCount++;
        _pendingExposureMs = exposureMs;
        _imageDoneAt = MissionTime + TimeSpan.FromMilliseconds(exposureMs + 200); // + readout
    }

    private void CompleteImage()
    {
        // A deterministic "frame": its size depends on scene content (seeded), its checksum is FNV-1a over the pixels.
        var size = (uint)(1024 * 1024 * 2 - _random.Next(0, 65536));
        var pixels = new byte[4096];
        _random.NextBytes(pixels);
        var hash = 2166136261u;
        foreach (var b in pixels)
        {
            hash = (hash ^ b) * 16777619u;
        }

        hash ^= (uint)_pendingExposureMs;
        LastFrameSize = size;
        LastFrameChecksum = hash;
        ImagesTaken++;
        _imageDoneAt = null;
        Emit(FlightEventIds.ImageTaken, FlightEventType.Information, string.Create(CultureInfo.InvariantCulture, $"Image {ImagesTaken}: {size} B, crc 0x{hash:X8}"));
    }

    private void EnterPostSeparation()
    {
        Emit(FlightEventIds.Separation, FlightEventType.Information, $"Separation detected in mode {Name(Mode)}");
        Mode = FlightComputerMode.PostSeparation;
    }

    private void Reject(ushort id, string text)
    {
        ErrorCount++;
        Emit(id, FlightEventType.Error, text);
    }

    private void Remember(FlightComputerEvent e)
    {
        _events[_eventCount % _events.Length] = e;
        _eventCount++;
        EventEmitted?.Invoke(e);
    }

    /// <summary>Queues a telemetry packet, or drops it when the queue is full (a full pipe on the software bus).</summary>
    private void Enqueue(byte[] packet)
    {
        if (_outbox.Count >= _options.TelemetryQueueLimit)
        {
            TelemetryDropped++;
            _cfs?.PipeOverflow();
            return;
        }

        _outbox.Add(packet);
    }

    /// <summary>A cFS app's event, as EVS sends it (long format, with the app's name).</summary>
    private void EmitCfs(string app, ushort id, FlightEventType type, string text)
    {
        _cfs!.Counted();
        Enqueue(CfsLabSoftware.BuildEvent(app, id, type, text, MissionTime, _eventSequence++));
        Remember(new FlightComputerEvent(id, type, text, MissionTime, app));
    }

    private void Emit(ushort id, FlightEventType type, string text)
    {
        var e = new FlightComputerEvent(id, type, text, MissionTime);
        var p = new byte[EventLength];
        var (s, sub) = CfsTelemetryHeader.FromTime(e.MissionTime);
        CfsTelemetryHeader.WriteHeader(p, _options.EventMessageId, _eventSequence++, EventLength, s, sub);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(16), id);
        p[18] = (byte)type;
        var bytes = Encoding.ASCII.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, EventTextLength)).CopyTo(p.AsSpan(20));
        Enqueue(p);
        Remember(e);
    }

    private static string Name(FlightComputerMode m) => m switch
    {
        FlightComputerMode.PayloadActive => "PAYLOAD_ACTIVE",
        FlightComputerMode.PostSeparation => "POST_SEPARATION",
        _ => m.ToString().ToUpperInvariant(),
    };

    /// <summary>Builds one housekeeping packet of the present state (public for tests and the benchmark).</summary>
    public byte[] BuildHousekeeping()
    {
        lock (_gate)
        {
            return BuildHousekeepingLocked();
        }
    }

    private byte[] BuildHousekeepingLocked()
    {
        var p = new byte[HousekeepingLength];
        var met = MissionTime;
        var (s, sub) = CfsTelemetryHeader.FromTime(met);
        CfsTelemetryHeader.WriteHeader(p, _options.HousekeepingMessageId, _hkSequence++, HousekeepingLength, s, sub);
        var v = _options.BusVoltage?.Invoke() ?? (28.0 + ((_random.NextDouble() - 0.5) * 0.02));
        var i = _options.BusCurrent?.Invoke() ?? (LoadCurrent + ((_random.NextDouble() - 0.5) * 0.004));
        p[16] = CommandCount;
        p[17] = ErrorCount;
        p[18] = (byte)Mode;
        p[19] = TransponderLoopback ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), (ushort)Math.Clamp(Math.Round(v * 1000), 0, ushort.MaxValue));
        BinaryPrimitives.WriteInt16BigEndian(p.AsSpan(22), (short)Math.Clamp(Math.Round(i * 1000), short.MinValue, short.MaxValue));
        BinaryPrimitives.WriteInt16BigEndian(p.AsSpan(24), (short)Math.Round(_boardTemp * 100));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), PayloadTempCounts(_payloadTemp));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(28), (uint)met.TotalSeconds);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(32), ImagesTaken);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(34), BootCount);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(36), LastFrameSize);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(40), LastFrameChecksum);
        p[44] = SeparationReleased ? (byte)1 : (byte)0;
        p[45] = RfTransmit ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(46), (ushort)Math.Min(ushort.MaxValue, _options.HousekeepingPeriod.TotalMilliseconds));
        return p;
    }

    private static ushort PayloadTempCounts(double t)
    {
        var x = (-TempC1 + Math.Sqrt((TempC1 * TempC1) - (4 * TempC2 * (TempC0 - t)))) / (2 * TempC2);
        return (ushort)Math.Clamp(Math.Round(x), 0, ushort.MaxValue);
    }

    /// <summary>Advances boot, exposures and temperatures to now; queues housekeeping when due. Returns the next time anything is due.</summary>
    private TimeSpan? Step()
    {
        lock (_gate)
        {
            if (!Powered)
            {
                return null;
            }

            if (_options.UndervoltageLockout is { } lockout && _options.BusVoltage is { } bus && bus() < lockout)
            {
                // Browned out between two samples of the bench's power sensing: nothing is measured or sent.
                Powered = false;
                Mode = FlightComputerMode.Off;
                RfTransmit = false;
                _outbox.Clear();
                return null;
            }

            var now = MissionTime;
            if (Mode == FlightComputerMode.Boot && now >= _options.BootTime)
            {
                Mode = FlightComputerMode.Safe;
                if (_cfs is not null)
                {
                    _cfs.Started();
                }
                else
                {
                    Emit(FlightEventIds.BootComplete, FlightEventType.Information, "Flight software " + _options.SoftwareVersion + " started, mode SAFE");
                    if (SeparationReleased)
                    {
                        EnterPostSeparation();
                    }
                }
            }

            if (_imageDoneAt is { } done && now >= done)
            {
                CompleteImage();
            }

            if (now >= _nextHousekeeping)
            {
                // First-order thermal response toward a load-dependent temperature, with a little noise.
                var target = 20.0 + (LoadCurrent * 8.0);
                _boardTemp += ((target - _boardTemp) * 0.05) + ((_random.NextDouble() - 0.5) * 0.05);
                _payloadTemp += ((target - 4.0 - _payloadTemp) * 0.03) + ((_random.NextDouble() - 0.5) * 0.05);
                if (_cfs is not null)
                {
                    foreach (var hk in _cfs.Housekeeping(now))
                    {
                        Enqueue(hk);
                    }
                }
                else
                {
                    Enqueue(BuildHousekeepingLocked());
                }
                while (_nextHousekeeping <= now)
                {
                    _nextHousekeeping += _options.HousekeepingPeriod;
                }
            }

            var next = _nextHousekeeping;
            if (Mode == FlightComputerMode.Boot && _options.BootTime < next)
            {
                next = _options.BootTime;
            }

            if (_imageDoneAt is { } d && d < next)
            {
                next = d;
            }

            return next - now;
        }
    }

    /// <summary>
    /// One wake-up signal per turn, set by a TimeProvider timer, by <see cref="Wake"/> or by cancellation, and
    /// awaited directly (no WhenAny/WaitAsync), so under the simulated session's scheduler the loop's
    /// continuations stay on that scheduler and virtual time only advances when the emulator is idle. The
    /// signal, its timer and the cancellation callback are made once per loop and re-armed each turn (a
    /// 24-hour soak is 86,400 turns): a turn posts one continuation and allocates nothing of its own.
    /// </summary>
    private async Task TelemetryLoopAsync(Func<byte[], CancellationToken, ValueTask> send, CancellationToken ct)
    {
        var signal = new TickSignal();
        using var timer = _time.CreateTimer(static s => ((TickSignal)s!).Set(), signal, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        using var registration = ct.Register(static s => ((TickSignal)s!).Set(), signal);
        while (!ct.IsCancellationRequested)
        {
            signal.Reset();
            lock (_gate)
            {
                _wake = signal;
            }

            var due = Step();
            _options.Load?.Report(!Powered ? Models.PayloadActivity.Off : RfTransmit ? Models.PayloadActivity.Transmit : _imageDoneAt is not null ? Models.PayloadActivity.Imaging : Mode == FlightComputerMode.PayloadActive ? Models.PayloadActivity.Active : Mode >= FlightComputerMode.Nominal ? Models.PayloadActivity.Nominal : Models.PayloadActivity.Idle);
            await FlushAsync(send, ct);
            timer.Change(due is { } d ? (d > TimeSpan.Zero ? d : TimeSpan.Zero) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (ct.IsCancellationRequested)
            {
                // Cancelled after this turn's Reset: the callback's Set may have come before it.
                break;
            }

            await signal.WaitAsync();

            // Woken by a command or cancellation, the timer may still be pending: it belongs to this turn only.
            timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// A reusable wake-up: set once per turn by whichever comes first (the timer, a command, cancellation);
    /// later sets in the same turn are no-ops. The awaiting continuation is posted to the awaiting context
    /// (the simulated session's scheduler), never run inline on the setter's stack, as a
    /// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/> completion would be.
    /// </summary>
    private sealed class TickSignal : System.Threading.Tasks.Sources.IValueTaskSource
    {
        private readonly Lock _lock = new();
        private System.Threading.Tasks.Sources.ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private bool _set;

        public void Reset()
        {
            lock (_lock)
            {
                _core.Reset();
                _set = false;
            }
        }

        public void Set()
        {
            // Under the lock with Reset, so a set from another thread (a real-time serve) never lands between a
            // Reset and its flag; the continuation is posted, not run here, so nothing runs under the lock.
            lock (_lock)
            {
                if (_set)
                {
                    return;
                }

                _set = true;
                _core.SetResult(true);
            }
        }

        public ValueTask WaitAsync() => new(this, _core.Version);

        public void GetResult(short token) => _core.GetResult(token);

        public System.Threading.Tasks.Sources.ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, System.Threading.Tasks.Sources.ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private async ValueTask FlushAsync(Func<byte[], CancellationToken, ValueTask> send, CancellationToken ct)
    {
        while (true)
        {
            byte[][] batch;
            lock (_gate)
            {
                if (_outbox.Count == 0)
                {
                    return;
                }

                batch = [.. _outbox];
                _outbox.Clear();
            }

            foreach (var p in batch)
            {
                await send(p, ct);
            }
        }
    }

    private void Wake()
    {
        TickSignal? w;
        lock (_gate)
        {
            w = _wake;
        }

        w?.Set();
    }
}
