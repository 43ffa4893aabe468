using TacRS.Hil.Core.Threading;
using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Devices.Avionics;

/// <summary>
/// The payload flight computer as procedures see it: every telemetry channel as a signal in engineering units,
/// and <c>send</c> / <c>send-raw</c> / <c>expect</c> / <c>wait-packet</c> actions with Yamcs/F´-style command
/// verification (sent → accepted → completed; rejected names the counter or event; see
/// AvionicsDevice.Commands.cs and AvionicsDevice.Expect.cs). Telemetry is limit-checked as it arrives: every
/// yellow/red transition goes into the record, red raises a red alarm.
/// <para>
/// Verification is judged only on what arrived after it could be caused: a command on telemetry received after
/// it was sent, an expectation on what arrived since its step started (events) or since the step's latest
/// command (telemetry values), so a condition that already held, or an event of the previous step, never counts.
/// </para>
/// </summary>
public sealed partial class AvionicsDevice : IDevice, IStepScopedDevice, ISampledDevice, ILiveDevice
{
    private readonly AvionicsBlueprint _blueprint;
    private readonly IBusProvider _buses;
    private readonly DeviceServices _services;
    private readonly AvionicsDictionary _dictionary;
    private readonly Decommutator _decom;
    private readonly TelemetryStore _store;
    private readonly PacketArchiveWriter? _archive;
    private readonly LimitState[] _limitStates;
    private readonly CancellationTokenSource _stop = new();
    private readonly AsyncGate _sendGate = new();
    private IAvionicsLink? _link;
    private Task? _receiveLoop;
    private Task? _toLabLoop;
    private string? _lostReason;
    private long _txPackets;
    private long _unknownPackets;
    private int _sequence;

    // Windows of the step being run (see IStepScopedDevice): where the store stood when it started, and when its
    // latest command went out. Without an engine announcing steps, the window opens at the latest command, or at
    // the expectation itself.
    private TelemetryMark? _stepStart;
    private TelemetryMark? _lastSend;

    public AvionicsDevice(AvionicsBlueprint blueprint, IBusProvider buses, DeviceServices services, Stream? archive = null, int historyPerChannel = 1024)
    {
        _blueprint = blueprint;
        _buses = buses;
        _services = services;
        _dictionary = blueprint.Dictionary;
        _decom = new Decommutator(_dictionary);
        _store = new TelemetryStore(_decom, historyPerChannel);
        _limitStates = new LimitState[_decom.ChannelCount];
        if (archive is not null)
        {
            _archive = new PacketArchiveWriter(archive, blueprint.Definition.Name, _dictionary.File, _dictionary.Version?.Name);
        }
    }

    public DeviceDescription Description => _blueprint.Description;

    public string Name => Description.Name;

    public TelemetryStore Telemetry => _store;

    public AvionicsDictionary Dictionary => _dictionary;

    public string LinkPath => _link?.Path ?? _blueprint.Transport?.Describe() ?? $"sim://{Name}";

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        if (_link is not null)
        {
            return;
        }

        try
        {
            _link = _blueprint.ReplayArchive is { } replay
                ? new ArchiveReplayLink(PacketArchiveReader.Read(replay).Packets, _services.Time, replay)
                : _blueprint.Transport is UdpSpec
                ? new DatagramLink(await _buses.OpenDatagramAsync(_blueprint.Definition, _blueprint.Transport, cancellationToken))
                : new SerialFramedLink(await _buses.OpenStreamAsync(_blueprint.Definition, _blueprint.Transport, cancellationToken));
        }
        catch (TransportException e)
        {
            throw new DeviceLostException(Name, e.TransportPath, e.Reason, e);
        }
        catch (InvalidDataException e)
        {
            throw new DeviceLostException(Name, _blueprint.ReplayArchive ?? LinkPath, e.Message, e);
        }

        // Not silently one layout of several: which flight-software version the dictionary was read for goes into the log.
        _services.Log.Information("Avionics link {Device} open on {Link} with dictionary {Dictionary} ({Version})",
            Name, _link.Path, _dictionary.Describe(), _dictionary.Version?.Description ?? "no versions declared");
        _receiveLoop = ReceiveLoopAsync(_link);

        if (_blueprint.ToLabEnableIp is { } ip)
        {
            await SendToLabEnableAsync(ip, repeat: false, cancellationToken);
            _toLabLoop = RepeatToLabEnableAsync(ip, _stop.Token);
        }
    }

    /// <summary>How often the TO_LAB output enable is repeated until telemetry flows (cFS ignores it while still starting up).</summary>
    public static readonly TimeSpan ToLabEnableRetry = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Telemetry silent this long after it flowed: the enable is sent again. A flight computer that was power-cycled
    /// (payload off and on again within a connected session) boots with TO_LAB's output disabled, as cFS does.
    /// Long against any housekeeping period, so a quiet but healthy link is not flooded with enables.
    /// </summary>
    public static readonly TimeSpan ToLabReenableAfterSilence = TimeSpan.FromSeconds(10);

    private async ValueTask SendToLabEnableAsync(string ip, bool repeat, CancellationToken ct)
    {
        // cFS TO_LAB sends nothing until told where to: TO_LAB_OUTPUT_ENABLE_CC (6) with a 16-byte NUL-padded IP.
        var packet = new byte[ToLabOutputEnable.PacketLength];
        ToLabOutputEnable.Write(packet, ip, NextSequence());
        await SendPacketAsync(packet, ct);
        // Repeats go every 2 s while the payload is off (maybe for hours): the log keeps the first at Information.
        _services.Log.Write(repeat ? Serilog.Events.LogEventLevel.Debug : Serilog.Events.LogEventLevel.Information, "Sent TO_LAB output enable for {Ip} on {Device}", ip, Name);
    }

    private async Task RepeatToLabEnableAsync(string ip, CancellationToken ct)
    {
        try
        {
            var seen = _store.Packets;
            var silentSince = _services.Time.GetTimestamp();
            var flowed = false;
            while (true)
            {
                await Task.Delay(ToLabEnableRetry, _services.Time, ct);
                var packets = _store.Packets;
                if (packets != seen)
                {
                    seen = packets;
                    flowed = true;
                    silentSince = _services.Time.GetTimestamp();
                    continue;
                }

                if (!flowed || _services.Time.GetElapsedTime(silentSince) >= ToLabReenableAfterSilence)
                {
                    await SendToLabEnableAsync(ip, repeat: true, ct);
                    silentSince = _services.Time.GetTimestamp();
                    flowed = false;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (DeviceLostException)
        {
        }
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        ThrowIfLost();
        var value = signal switch
        {
            "link_rx_packets" => _store.Packets,
            "link_tx_packets" => Interlocked.Read(ref _txPackets),
            "link_rejects" => _link?.Rejects ?? 0,
            "link_unknown_packets" => Interlocked.Read(ref _unknownPackets),
            "link_events" => _store.EventCount,
            _ => _dictionary.FindField(signal) is { Channel: >= 0 } f
                ? _store.Latest(f.Channel)
                : throw new DeviceCheckFailedException(Name, $"no telemetry channel '{signal}' in dictionary '{_dictionary.Name}'"),
        };
        return ValueTask.FromResult(value);
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"telemetry channel '{signal}' is read-only; send a command instead");

    /// <summary>A telemetry channel's latest value and when its packet arrived; link counters are current (sampled now).</summary>
    public ValueTask<Sample> SampleAsync(string signal, CancellationToken cancellationToken)
    {
        ThrowIfLost();
        if (_dictionary.FindField(signal) is { Channel: >= 0 } f)
        {
            return ValueTask.FromResult(_store.LatestSample(f.Channel));
        }

        var now = _services.Time.GetUtcNow();
        return ReadAsync(signal, cancellationToken) is { IsCompletedSuccessfully: true } done
            ? ValueTask.FromResult(new Sample(done.Result, now))
            : throw new InvalidOperationException("link counters are read synchronously");
    }

    // ---------------------------------------------------------------- liveness

    private DateTimeOffset? _expectedSince;

    private TimeSpan? _silence;
    private bool _silenceKnown;

    /// <summary>The shortest max age of the dictionary's periodic packets: silence longer than this is a lost link.</summary>
    private TimeSpan? Silence
    {
        get
        {
            if (!_silenceKnown)
            {
                _silence = _dictionary.Packets.Select(p => p.MaxAge).Where(a => a is not null).Min();
                _silenceKnown = true;
            }

            return _silence;
        }
    }

    /// <summary>
    /// Housekeeping silence, checked once a period: while the flight computer is expected to talk (its <c>powered-by</c>
    /// signal is on, or — without one — once it has sent its first packet), no packet for longer than the housekeeping
    /// max age (three periods) is a lost link. Found within max age + one period of the last packet (4 s on a 1 Hz link).
    /// A link error (closed, reset, a dead receive loop) is a loss at the next check.
    /// </summary>
    public LivenessSpec Liveness
    {
        get
        {
            var period = _dictionary.Packets.Select(p => p.Period).Where(p => p is not null).Min() ?? TimeSpan.FromSeconds(1);
            var silence = Silence;
            return new LivenessSpec(period, (silence ?? TimeSpan.Zero) + period, silence is null ? "link errors (no periodic packet declared)" : $"housekeeping silence beyond {Duration.Format(silence.Value)}")
            {
                PoweredBy = _blueprint.PoweredBy,
            };
        }
    }

    /// <summary>While housekeeping flows (its last packet no older than one period), the flight computer is powered: its supply need not be read.</summary>
    public bool NeedsPowerState =>
        _expectedSince is null || Silence is not { } silence || _store.LastPacketAt is not { } last || _services.Time.GetUtcNow() - last > silence / 3;

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        ThrowIfLost();
        var now = _services.Time.GetUtcNow();
        var last = _store.LastPacketAt;
        var seen = last is { } l ? string.Create(CultureInfo.InvariantCulture, $"last packet {(now - l).TotalSeconds:0.0} s ago, {_store.Packets} packets") : "no packet yet";
        if (!powered)
        {
            _expectedSince = null;
            _unpoweredSeen = true;
            return ValueTask.FromResult(new LivenessReport("unpowered: silence expected; " + seen));
        }

        _expectedSince ??= now;
        if (Silence is not { } silence || (_blueprint.PoweredBy.Count == 0 && last is null))
        {
            // Without a power signal, a link that never spoke is not judged: the flight computer may not be on yet.
            return ValueTask.FromResult(new LivenessReport(seen));
        }

        var from = last is { } at && at > _expectedSince.Value ? at : _expectedSince.Value;
        if (now - from > silence)
        {
            var why = string.Create(CultureInfo.InvariantCulture, $"no telemetry for {(now - from).TotalSeconds:0.0} s (housekeeping max age {Duration.Format(silence)}); {seen}");
            MarkLost(why);
            throw new DeviceLostException(Name, LinkPath, why);
        }

        return ValueTask.FromResult(new LivenessReport(seen));
    }

    public async ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        ThrowIfLost();
        if (_link is null)
        {
            throw new DeviceLostException(Name, LinkPath, "not connected");
        }

        return action switch
        {
            "send" => await SendCommandAsync(arguments, hazardousAllowed: false, cancellationToken),
            "send-hazardous" => await SendCommandAsync(arguments, hazardousAllowed: true, cancellationToken),
            "send-raw" => await SendRawAsync(arguments, cancellationToken),
            "expect" => await ExpectAsync(arguments, cancellationToken),
            "wait-packet" => await WaitPacketAsync(arguments, cancellationToken),
            _ => throw new DeviceCheckFailedException(Name, $"unknown action '{action}' (send, send-hazardous, send-raw, expect, wait-packet)"),
        };
    }

    /// <summary>A step starts: its expectations see what arrives from now on, and no earlier command's window.</summary>
    public void OnStepStarted(string stepId)
    {
        _stepStart = _store.Mark(_services.Time.GetTimestamp());
        _lastSend = null;
    }

    /// <summary>Events an expectation may match: everything since the step started (or, outside an engine, since the latest command).</summary>
    private TelemetryMark EventWindow => _stepStart ?? _lastSend ?? _store.Mark(_services.Time.GetTimestamp());

    /// <summary>Telemetry an expectation may judge: what arrived since the step's latest command, or since the step started.</summary>
    private TelemetryMark ValueWindow => _lastSend ?? _stepStart ?? _store.Mark(_services.Time.GetTimestamp());

    /// <summary>Re-checks <paramref name="condition"/> after every stored packet until it holds or <paramref name="timeout"/> passes (on the run's clock).</summary>
    private async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout, CancellationToken ct)
    {
        using var window = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, _services.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, window.Token, _stop.Token);
        while (true)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _store.NotifyOnNextPacket(signal);
            ThrowIfLost();
            if (condition())
            {
                return true;
            }

            if (!linked.IsCancellationRequested)
            {
                using (linked.Token.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), signal))
                {
                    await signal.Task;
                }
            }

            ct.ThrowIfCancellationRequested();
            if (_stop.IsCancellationRequested)
            {
                throw new DeviceLostException(Name, LinkPath, _lostReason ?? "the device was closed");
            }

            if (window.IsCancellationRequested)
            {
                ThrowIfLost();
                return condition();
            }
        }
    }

    // ---------------------------------------------------------------- link

    /// <summary>
    /// Reads without a token on purpose: the loop ends when the link is disposed (reads then return 0 or throw),
    /// which keeps an in-process read a direct await that stays on the simulated session's scheduler.
    /// </summary>
    private async Task ReceiveLoopAsync(IAvionicsLink link)
    {
        var ct = _stop.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var packet = await link.ReceiveAsync(CancellationToken.None);
                if (packet.IsEmpty)
                {
                    MarkLost("the link was closed by the other end");
                    return;
                }

                OnPacket(packet.Span);
            }
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Stopping: the link closed under the read is the loop's expected end, not a lost device.
        }
        catch (TransportException e)
        {
            MarkLost(e.Reason);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug in decoding must not leave procedures waiting on a silently dead loop: fail loudly as a lost link.
            _services.Log.Error(e, "Avionics receive loop of {Device} failed", Name);
            MarkLost($"receive loop failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Archive → decommutate → store → limits → wake waiters. Public so a replayed archive can be fed through the same path.</summary>
    public void OnPacket(ReadOnlySpan<byte> packet)
    {
        var now = _services.Time.GetUtcNow();
        Archive(now, PacketDirection.Received, LinkPath, packet);
        var index = _decom.Decode(packet, _store.Scratch);
        if (index < 0)
        {
            var n = Interlocked.Increment(ref _unknownPackets);
            if (n <= 10 || n % 1000 == 0)
            {
                var mid = packet.Length >= 2 ? SpacePacketHeader.ReadStreamId(packet) : 0;
                _services.Log.Warning("Unknown or short packet MID {MessageId} ({Bytes} bytes) on {Device}, {Count} so far", $"0x{mid:X4}", packet.Length, Name, n);
            }

            _store.Poke();
            return;
        }

        var def = _decom.Packet(index);
        TelemetryEvent? evt = null;
        if (_dictionary.Events is { } ev && ev.Packet == def.Name)
        {
            var id = _store.Scratch[_dictionary.FindField(ev.IdField)!.Channel];
            var type = ev.TypeField is { } tf ? _store.Scratch[_dictionary.FindField(tf)!.Channel] : 0;
            var text = Decommutator.ReadText(packet, _dictionary.FindField(ev.TextField)!);
            var app = ev.AppField is { } af ? Decommutator.ReadText(packet, _dictionary.FindField(af)!) : null;
            evt = new TelemetryEvent(now, (long)id, (long)type, text, ev.ErrorTypes.Contains((long)type), app);
            _services.Log.Information("Event {App} {EventId} from {Device}: {Text}", app ?? "-", (long)id, Name, text);
            var fields = new Dictionary<string, string>
            {
                ["id"] = ((long)id).ToString(CultureInfo.InvariantCulture),
                ["type"] = ((long)type).ToString(CultureInfo.InvariantCulture),
            };
            if (app is not null)
            {
                fields["app"] = app;
            }

            Note("event", evt.IsError ? "yellow" : "info", app is null ? text : $"{app}: {text}", fields);
        }

        CheckLimits(index);
        CheckRestart(index, now);
        Trend(index, now);
        _store.Commit(index, now, evt);
    }

    // ---------------------------------------------------------------- housekeeping trends for the report

    /// <summary>Samples per trend line in the record (10 minutes of 1 Hz housekeeping).</summary>
    private const int TrendBatch = 600;

    private TrendBuffer?[]? _trends;

    /// <summary>
    /// Every value of every channel with dictionary limits goes into the record in batches (<see cref="MonitorSamples"/>
    /// with step <c>telemetry</c>, the yellow limits, or the red ones), so the report plots the flight computer's
    /// housekeeping against its dictionary limits from the record alone. Fixed arrays per channel; nothing per sample.
    /// </summary>
    private void Trend(int index, DateTimeOffset at)
    {
        _trends ??= _dictionary.Channels.Select(f => f.Limits is { } l && (l.Yellow ?? l.Red) is not null ? new TrendBuffer(f) : null).ToArray();
        foreach (var c in _decom.ChannelsOf(index))
        {
            if (_trends[c] is { } t && t.Add(at, _store.Scratch[c]))
            {
                FlushTrend(t, final: false);
            }
        }
    }

    private void FlushTrend(TrendBuffer t, bool final)
    {
        if (t.Count == 0)
        {
            return;
        }

        var limits = t.Field.Limits!.Yellow ?? t.Field.Limits.Red!;
        t.Batch++;
        _services.Recorder.Write(new Core.Recording.MonitorSamples(
            "telemetry", t.Field.Name, $"{Name}.{t.Field.Name}", t.Field.Unit.Symbol, limits.Low, limits.High, t.Start,
            t.Offsets.AsSpan(0, t.Count).ToArray(), t.Values.AsSpan(0, t.Count).ToArray(), t.Excursions)
        { At = _services.Time.GetUtcNow(), Batch = t.Batch, Final = final, RecordOnly = true });
        t.Reset();
    }

    /// <summary>The last, partial batches of the housekeeping trends, before the run's last record line.</summary>
    public void OnRunEnding() => FlushTrends();

    private void FlushTrends()
    {
        foreach (var t in _trends ?? [])
        {
            if (t is not null)
            {
                FlushTrend(t, final: true);
            }
        }
    }

    private sealed class TrendBuffer(TelemetryField field)
    {
        public TelemetryField Field { get; } = field;

        public double[] Offsets { get; } = new double[TrendBatch];

        public double[] Values { get; } = new double[TrendBatch];

        public int Count { get; private set; }

        public int Batch { get; set; }

        public int Excursions { get; private set; }

        public DateTimeOffset Start { get; private set; }

        private bool _outside;

        /// <summary>Adds a sample; true when the batch is full.</summary>
        public bool Add(DateTimeOffset at, double value)
        {
            if (Count == 0)
            {
                Start = at;
            }

            Offsets[Count] = (at - Start).TotalSeconds;
            Values[Count] = value;
            Count++;
            var outside = Field.Judge(value) != LimitState.Nominal;
            if (outside && !_outside)
            {
                Excursions++;
            }

            _outside = outside;
            return Count == TrendBatch;
        }

        public void Reset()
        {
            Count = 0;
            Excursions = 0;
        }
    }

    private int _bootChannel = -2;
    private int _uptimeChannel = -2;
    private volatile bool _unpoweredSeen;

    /// <summary>
    /// A restart of the flight software while the link flowed (no silence longer than the housekeeping max age, its power
    /// never seen off): the boot counter went up or the uptime went back. A red alarm, so the running step fails (or the
    /// rig is safed, per <c>on-red-alarm</c>) as for a red limit, and a <c>restart</c> note in the record.
    /// </summary>
    private void CheckRestart(int index, DateTimeOffset now)
    {
        if (_bootChannel == -2)
        {
            _bootChannel = _dictionary.BootCountChannel is { } b ? _dictionary.FindField(b)!.Channel : -1;
            _uptimeChannel = _dictionary.UptimeChannel is { } u ? _dictionary.FindField(u)!.Channel : -1;
        }

        if (_bootChannel < 0 && _uptimeChannel < 0)
        {
            return;
        }

        string? what = null;
        var continuous = !_unpoweredSeen;
        foreach (var c in _decom.ChannelsOf(index))
        {
            if (c != _bootChannel && c != _uptimeChannel)
            {
                continue;
            }

            var before = _store.LatestSample(c);
            var after = _store.Scratch[c];
            if (before.IsMissing || now - before.At > (Silence ?? TimeSpan.FromSeconds(3)) || !continuous)
            {
                continue;
            }

            if (c == _bootChannel && after > before.Value)
            {
                what = string.Create(CultureInfo.InvariantCulture, $"boot count {before.Value:G6} → {after:G6}");
            }
            else if (c == _uptimeChannel && after < before.Value)
            {
                what ??= string.Create(CultureInfo.InvariantCulture, $"uptime {before.Value:G6} s → {after:G6} s");
            }
        }

        _unpoweredSeen = false;
        if (what is null)
        {
            return;
        }

        var message = $"{Name}: flight computer restarted while the link flowed ({what})";
        _services.Log.Warning("Flight computer {Device} restarted: {What}", Name, what);
        Note("restart", "red", message, new Dictionary<string, string> { ["what"] = what });
        _services.Alarms.Raise(new Alarm(Name, $"{Name}.restart", AlarmSeverity.Red, message));
    }

    private bool _archiveFailed;

    /// <summary>
    /// Archives a packet; a full disk stops the archive (noted once), never the link: the flight computer is not lost
    /// because its packets can no longer be kept (liveness would otherwise find a dead receive loop).
    /// </summary>
    private void Archive(DateTimeOffset at, PacketDirection direction, string path, ReadOnlySpan<byte> packet)
    {
        if (_archive is null || _archiveFailed)
        {
            return;
        }

        try
        {
            _archive.Write(at, direction, path, packet);
        }
        catch (IOException e)
        {
            _archiveFailed = true;
            _services.Log.Error("Packet archive of {Device} stopped: {Error}", Name, e.Message);
            try
            {
                Note("archive", "red", $"packet archive stopped: {e.Message}");
            }
            catch (IOException)
            {
                // The record is on the same full disk; the log line above and the run's artifact check say it.
            }
        }
    }

    private void CheckLimits(int index)
    {
        foreach (var c in _decom.ChannelsOf(index))
        {
            var f = _dictionary.Channels[c];
            if (f.Limits is null)
            {
                continue;
            }

            var v = _store.Scratch[c];
            var state = f.Judge(v);
            var previous = _limitStates[c];
            if (state == previous)
            {
                continue;
            }

            _limitStates[c] = state;
            var channel = $"{Name}.{f.Name}";
            var unit = f.Unit.Symbol.Length > 0 ? " " + f.Unit.Symbol : string.Empty;
            var bands = state switch
            {
                LimitState.Red => f.Limits.Red!.Describe(f.Unit),
                LimitState.Yellow => f.Limits.Yellow!.Describe(f.Unit),
                _ => (f.Limits.Yellow ?? f.Limits.Red)!.Describe(f.Unit),
            };
            var message = state == LimitState.Nominal
                ? string.Create(CultureInfo.InvariantCulture, $"{channel} = {v:G6}{unit} back within limits {bands} (was {previous.ToString().ToLowerInvariant()})")
                : string.Create(CultureInfo.InvariantCulture, $"{channel} = {v:G6}{unit} outside {state.ToString().ToLowerInvariant()} limits {bands}");
            Note("limit", state switch { LimitState.Red => "red", LimitState.Yellow => "yellow", _ => "info" }, message, new Dictionary<string, string>
            {
                ["channel"] = channel,
                ["value"] = v.ToString("R", CultureInfo.InvariantCulture),
                ["state"] = state.ToString().ToLowerInvariant(),
            });
            if (state != LimitState.Nominal)
            {
                _services.Log.Warning("Limit violation {Channel} = {Value} ({State})", channel, v, state);
                _services.Alarms.Raise(new Alarm(Name, channel, state == LimitState.Red ? AlarmSeverity.Red : AlarmSeverity.Yellow, message, v));
            }
        }
    }

    private async ValueTask SendPacketAsync(ReadOnlyMemory<byte> packet, CancellationToken ct)
    {
        var link = _link ?? throw new DeviceLostException(Name, LinkPath, "not connected");
        await _sendGate.EnterAsync(ct);
        try
        {
            Archive(_services.Time.GetUtcNow(), PacketDirection.Sent, link.Path, packet.Span);
            await link.SendAsync(packet, ct);
            Interlocked.Increment(ref _txPackets);
        }
        catch (TransportException e)
        {
            MarkLost(e.Reason);
            throw new DeviceLostException(Name, link.Path, e.Reason, e);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private ushort NextSequence() => (ushort)(Interlocked.Increment(ref _sequence) & SpacePacketHeader.MaxSequenceCount);

    private void MarkLost(string reason)
    {
        if (_lostReason is not null || _stop.IsCancellationRequested)
        {
            return;
        }

        _lostReason = reason;
        _services.Log.Error("Avionics link {Device} lost on {Link}: {Reason}", Name, LinkPath, reason);
        Note("device", "red", $"link lost: {reason}");
        _store.Poke();
    }

    private void ThrowIfLost()
    {
        if (_lostReason is { } r)
        {
            throw new DeviceLostException(Name, LinkPath, r);
        }
    }

    private void Note(string category, string severity, string message, IReadOnlyDictionary<string, string>? fields = null) =>
        _services.Note(category, Name, severity, message, fields);

    private static string? Text(IReadOnlyDictionary<string, ArgumentValue> args, string key) =>
        args.TryGetValue(key, out var v) && v.Text.Length > 0 ? v.Text : null;

    private double? NumberArg(IReadOnlyDictionary<string, ArgumentValue> args, string key)
    {
        if (!args.TryGetValue(key, out var v))
        {
            return null;
        }

        if (v.Number is { } n)
        {
            return n;
        }

        return double.TryParse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new DeviceCheckFailedException(Name, $"'{key}' must be a number, not '{v.Text}'");
    }

    private TimeSpan? DurationArg(IReadOnlyDictionary<string, ArgumentValue> args, string key)
    {
        if (!args.TryGetValue(key, out var v))
        {
            return null;
        }

        if (Duration.TryParse(v.Text, out var t))
        {
            return t;
        }

        if (v.Number is { } seconds && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        throw new DeviceCheckFailedException(Name, $"'{key}' must be a duration such as 2s or 500ms, not '{v.Text}'");
    }

    public async ValueTask DisposeAsync()
    {
        // Cancel (not CancelAsync): callbacks run here, on the caller's scheduler, not on the thread pool.
        _stop.Cancel();
        if (_link is not null)
        {
            await _link.DisposeAsync();
        }

        if (_toLabLoop is not null)
        {
            await _toLabLoop;
        }

        if (_receiveLoop is not null)
        {
            try
            {
                await _receiveLoop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _archive?.Dispose();
        _stop.Dispose();
    }
}
