using TacRS.Hil.Core.Threading;
using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// The payload flight computer as procedures see it: every telemetry channel as a signal in engineering units,
/// and <c>send</c> / <c>expect</c> / <c>wait-packet</c> actions with Yamcs/F´-style command verification
/// (sent → accepted → completed; rejected names the counter or event). Telemetry is limit-checked as it
/// arrives: every yellow/red transition goes into the record, red raises a red alarm.
/// </summary>
public sealed class AvionicsDevice : IDevice
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
            _archive = new PacketArchiveWriter(archive, blueprint.Definition.Name, _dictionary.File);
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

        _services.Log.Information("Avionics link {Device} open on {Link} with dictionary {Dictionary}", Name, _link.Path, _dictionary.Name);
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
            "expect" => await ExpectAsync(arguments, cancellationToken),
            "wait-packet" => await WaitPacketAsync(arguments, cancellationToken),
            _ => throw new DeviceCheckFailedException(Name, $"unknown action '{action}' (send, send-hazardous, expect, wait-packet)"),
        };
    }

    // ---------------------------------------------------------------- send + verification

    private async ValueTask<ActionResult> SendCommandAsync(IReadOnlyDictionary<string, ArgumentValue> args, bool hazardousAllowed, CancellationToken ct)
    {
        var name = Text(args, "command") ?? throw new DeviceCheckFailedException(Name, "send needs a 'command' argument");
        var command = _dictionary.FindCommand(name)
            ?? throw new DeviceCheckFailedException(Name, $"unknown command '{name}' (dictionary '{_dictionary.Name}' has: {string.Join(", ", _dictionary.Commands.Select(c => c.Name))})");
        if (command.Hazardous && !hazardousAllowed)
        {
            throw new DeviceCheckFailedException(Name, $"command {name} is hazardous: use {Name}.send-hazardous in a hazardous step (inhibits and confirmation)");
        }

        var buffer = new byte[Math.Max(command.Length, CfsCommandHeader.Size)];
        int length;
        try
        {
            length = CommandEncoder.Encode(command, args, 0, buffer);
        }
        catch (CommandArgumentException e)
        {
            throw new DeviceCheckFailedException(Name, e.Message);
        }

        var verify = args.TryGetValue("verify", out var vv) ? vv.Boolean ?? !string.Equals(vv.Text, "false", StringComparison.OrdinalIgnoreCase) : true;
        var acceptWithin = DurationArg(args, "accept-within") ?? _blueprint.DefaultAcceptWithin;
        var completeWithin = DurationArg(args, "complete-within") ?? _blueprint.DefaultCompleteWithin;
        var completeText = Text(args, "complete-when") ?? command.CompleteWhen;
        TelemetryCondition? complete = null, acceptWhen = null;
        try
        {
            if (completeText is not null)
            {
                complete = TelemetryCondition.Parse(Substitute(completeText, command, args), _dictionary, Name);
            }

            if (command.AcceptWhen is not null)
            {
                acceptWhen = TelemetryCondition.Parse(Substitute(command.AcceptWhen, command, args), _dictionary, Name);
            }
        }
        catch (FormatException e)
        {
            throw new DeviceCheckFailedException(Name, $"command {name}: {e.Message}");
        }

        var accept = command.AcceptCounter is { } ac ? _dictionary.FindField(ac) : null;
        var reject = command.RejectCounter is { } rc ? _dictionary.FindField(rc) : null;

        // Counters must be known before sending, or "went up" means nothing: wait for one housekeeping packet.
        if (verify && accept is not null && double.IsNaN(_store.Latest(accept.Channel)))
        {
            var start = _services.Time.GetTimestamp();
            if (!await WaitForAsync(() => !double.IsNaN(_store.Latest(accept.Channel)), acceptWithin, ct))
            {
                throw new DeviceTimeoutException(Name, $"housekeeping with '{accept.Name}' before sending {name}", acceptWithin);
            }

            acceptWithin -= _services.Time.GetElapsedTime(start);
        }

        var acceptBase = accept is null ? double.NaN : _store.Latest(accept.Channel);
        var rejectBase = reject is null ? double.NaN : _store.Latest(reject.Channel);
        var completeBase = complete is null ? double.NaN : _store.Latest(complete.Field.Channel);
        var eventBase = _store.EventCount;

        // Re-stamp with a fresh sequence count: the encoder wrote 0.
        var seq = NextSequence();
        SpacePacketHeader.TryRead(buffer, out var h, out _);
        (h with { SequenceCount = seq }).Write(buffer);
        buffer[7] = CfsCommandHeader.ComputeChecksum(buffer.AsSpan(0, length));
        var sentAt = _services.Time.GetTimestamp();
        await SendPacketAsync(buffer.AsMemory(0, length), ct);
        _services.Log.Information("Sent {Command} ({Bytes} bytes, seq {Sequence}) on {Device}", name, length, seq, Name);

        if (!verify || (accept is null && acceptWhen is null && complete is null))
        {
            return new ActionResult(new Dictionary<string, double> { ["accept_time"] = double.NaN, ["complete_time"] = double.NaN }, $"{name} sent (not verified)");
        }

        string? Rejection()
        {
            if (reject is not null)
            {
                var r = _store.Latest(reject.Channel);
                if (!double.IsNaN(r) && !double.IsNaN(rejectBase) && r != rejectBase && !(acceptWhen is not null && r == 0))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"error counter {reject.Name} went {rejectBase} → {r}{LastErrorEvent(eventBase)}");
                }
            }

            var err = _store.Events.Skip(eventBase).FirstOrDefault(e => e.IsError);
            return err is null ? null : string.Create(CultureInfo.InvariantCulture, $"rejection event {err.Id} '{err.Text}'");
        }

        bool Accepted()
        {
            if (acceptWhen is not null)
            {
                return acceptWhen.IsMet(_store.Latest(acceptWhen.Field.Channel), double.NaN);
            }

            if (accept is not null)
            {
                var a = _store.Latest(accept.Channel);
                return !double.IsNaN(a) && a != acceptBase;
            }

            return true;
        }

        string? rejected = null;
        var ok = await WaitForAsync(() => (rejected = Rejection()) is not null || Accepted(), acceptWithin, ct);
        if (rejected is not null)
        {
            Note("command", "red", $"{name} rejected: {rejected}");
            throw new DeviceCheckFailedException(Name, $"command {name} rejected: {rejected}");
        }

        if (!ok)
        {
            var what = acceptWhen is not null ? $"'{acceptWhen.Text}'" : $"'{accept!.Name}' to rise from {acceptBase.ToString(CultureInfo.InvariantCulture)}";
            Note("command", "red", $"{name} not accepted: no {what} within {Duration.Format(acceptWithin)}");
            throw new DeviceTimeoutException(Name, $"command {name} (waiting for {what})", acceptWithin);
        }

        var acceptTime = _services.Time.GetElapsedTime(sentAt).TotalSeconds;
        var completeTime = double.NaN;
        if (complete is not null)
        {
            var met = await WaitForAsync(() => (rejected = Rejection()) is not null || complete.IsMet(_store.Latest(complete.Field.Channel), completeBase), completeWithin, ct);
            if (rejected is not null)
            {
                Note("command", "red", $"{name} failed after acceptance: {rejected}");
                throw new DeviceCheckFailedException(Name, $"command {name} accepted but failed: {rejected}");
            }

            if (!met)
            {
                var now = complete.Field.Format(_store.Latest(complete.Field.Channel));
                Note("command", "red", $"{name} accepted but not completed: '{complete.Text}' not met within {Duration.Format(completeWithin)} ({complete.Field.Name} = {now})");
                throw new DeviceCheckFailedException(Name, $"command {name} accepted but not completed: '{complete.Text}' not met within {Duration.Format(completeWithin)} ({complete.Field.Name} = {now})");
            }

            completeTime = _services.Time.GetElapsedTime(sentAt).TotalSeconds;
        }

        var detail = string.Create(CultureInfo.InvariantCulture, $"{name} accepted in {acceptTime:0.###} s") +
            (complete is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", completed ('{complete.Text}') in {completeTime:0.###} s"));
        return new ActionResult(new Dictionary<string, double> { ["accept_time"] = acceptTime, ["complete_time"] = completeTime }, detail);
    }

    private string LastErrorEvent(int eventBase)
    {
        var err = _store.Events.Skip(eventBase).LastOrDefault(e => e.IsError);
        return err is null ? string.Empty : $"; event {err.Id} '{err.Text}'";
    }

    private static string Substitute(string text, CommandDefinition command, IReadOnlyDictionary<string, ArgumentValue> args)
    {
        foreach (var a in command.Arguments)
        {
            var value = args.TryGetValue(a.Name, out var v) ? v.Text : a.Default;
            if (value is not null)
            {
                text = text.Replace("$" + a.Name, value, StringComparison.Ordinal);
            }
        }

        return text;
    }

    // ---------------------------------------------------------------- expect / wait-packet

    private async ValueTask<ActionResult> ExpectAsync(IReadOnlyDictionary<string, ArgumentValue> args, CancellationToken ct)
    {
        var timeout = DurationArg(args, "timeout") ?? TimeSpan.FromSeconds(10);
        var start = _services.Time.GetTimestamp();
        double Elapsed() => _services.Time.GetElapsedTime(start).TotalSeconds;

        if (Text(args, "event") is { } eventText)
        {
            var eventBase = _store.EventCount;
            TelemetryEvent? hit = null;
            var ok = await WaitForAsync(() => (hit = _store.Events.Skip(eventBase).FirstOrDefault(e => e.Text.Contains(eventText, StringComparison.OrdinalIgnoreCase))) is not null, timeout, ct);
            if (!ok)
            {
                throw new DeviceCheckFailedException(Name, $"no event containing '{eventText}' within {Duration.Format(timeout)}");
            }

            return new ActionResult(new Dictionary<string, double> { ["value"] = hit!.Id, ["time"] = Elapsed(), ["changes"] = 0 }, $"event {hit.Id} '{hit.Text}'");
        }

        var channelName = Text(args, "channel") ?? throw new DeviceCheckFailedException(Name, "expect needs 'channel' (or 'event')");
        var field = _dictionary.FindField(channelName.StartsWith(Name + ".", StringComparison.Ordinal) ? channelName[(Name.Length + 1)..] : channelName);
        if (field is null || field.Channel < 0)
        {
            throw new DeviceCheckFailedException(Name, $"no telemetry channel '{channelName}' in dictionary '{_dictionary.Name}'");
        }

        var c = field.Channel;
        try
        {
            if (args.TryGetValue("changes", out var changesArg))
            {
                var wanted = (int)(changesArg.Number ?? double.Parse(changesArg.Text, CultureInfo.InvariantCulture));
                var startCount = _store.UpdateCount(c);
                var previous = _store.Latest(c);
                var changes = 0;
                long seen = startCount;
                var ok = await WaitForAsync(() =>
                {
                    var hist = _store.History(c);
                    var fresh = (int)Math.Min(_store.UpdateCount(c) - seen, hist.Count);
                    foreach (var s in hist.Skip(hist.Count - fresh))
                    {
                        if (!double.IsNaN(previous) && s.Value != previous)
                        {
                            changes++;
                        }

                        previous = s.Value;
                    }

                    seen += fresh;
                    return changes >= wanted;
                }, timeout, ct);
                if (!ok)
                {
                    throw new DeviceCheckFailedException(Name, $"{field.Name} changed {changes} times, expected {wanted}, within {Duration.Format(timeout)}");
                }

                return new ActionResult(new Dictionary<string, double> { ["value"] = _store.Latest(c), ["time"] = Elapsed(), ["changes"] = changes });
            }

            if (Text(args, "sequence") is { } seqText)
            {
                var wanted = seqText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(v => TelemetryCondition.ParseValue(field, v, seqText)).ToArray();
                var matched = 0;
                long seen = _store.UpdateCount(c) - 1; // the present value may be the first of the sequence
                var ok = await WaitForAsync(() =>
                {
                    var hist = _store.History(c);
                    var fresh = (int)Math.Min(_store.UpdateCount(c) - seen, hist.Count);
                    foreach (var s in hist.Skip(hist.Count - fresh))
                    {
                        if (matched < wanted.Length && s.Value == wanted[matched])
                        {
                            matched++;
                        }
                    }

                    seen += fresh;
                    return matched == wanted.Length;
                }, timeout, ct);
                if (!ok)
                {
                    throw new DeviceCheckFailedException(Name, $"{field.Name} showed {matched} of the sequence [{seqText}] within {Duration.Format(timeout)} (last {field.Format(_store.Latest(c))})");
                }

                return new ActionResult(new Dictionary<string, double> { ["value"] = _store.Latest(c), ["time"] = Elapsed(), ["changes"] = matched });
            }

            var low = NumberArg(args, "low");
            var high = NumberArg(args, "high");
            double? exact = Text(args, "value") is { } vt ? TelemetryCondition.ParseValue(field, vt, vt) : null;
            if (low is null && high is null && exact is null)
            {
                throw new DeviceCheckFailedException(Name, "expect needs low/high, value, changes, sequence or event");
            }

            bool Within(double v) => !double.IsNaN(v) && (exact is not { } e || v == e) && (low is not { } lo || v >= lo) && (high is not { } hi || v <= hi);
            var met = await WaitForAsync(() => Within(_store.Latest(c)), timeout, ct);
            if (!met)
            {
                var want = exact is { } x ? "== " + field.Format(x) : string.Create(CultureInfo.InvariantCulture, $"in [{low?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {high?.ToString(CultureInfo.InvariantCulture) ?? "+inf"}]");
                throw new DeviceCheckFailedException(Name, $"{field.Name} = {field.Format(_store.Latest(c))} not {want} within {Duration.Format(timeout)}");
            }

            return new ActionResult(new Dictionary<string, double> { ["value"] = _store.Latest(c), ["time"] = Elapsed(), ["changes"] = 0 });
        }
        catch (FormatException e)
        {
            throw new DeviceCheckFailedException(Name, e.Message);
        }
    }

    private async ValueTask<ActionResult> WaitPacketAsync(IReadOnlyDictionary<string, ArgumentValue> args, CancellationToken ct)
    {
        var timeout = DurationArg(args, "timeout") ?? TimeSpan.FromSeconds(30);
        var packetName = Text(args, "packet")
            ?? (_dictionary.Commands.FirstOrDefault()?.AcceptCounter is { } counter ? _dictionary.FindField(counter)?.Packet : null)
            ?? _dictionary.Packets.FirstOrDefault()?.Name
            ?? throw new DeviceCheckFailedException(Name, "dictionary has no telemetry packets");
        var index = _dictionary.Packets.ToList().FindIndex(p => p.Name == packetName);
        if (index < 0)
        {
            throw new DeviceCheckFailedException(Name, $"no telemetry packet '{packetName}' in dictionary '{_dictionary.Name}'");
        }

        var start = _services.Time.GetTimestamp();
        var baseCount = _store.PacketCount(index);
        if (!await WaitForAsync(() => _store.PacketCount(index) > baseCount, timeout, ct))
        {
            throw new DeviceTimeoutException(Name, $"packet {packetName}", timeout);
        }

        return new ActionResult(new Dictionary<string, double> { ["time"] = _services.Time.GetElapsedTime(start).TotalSeconds }, $"{packetName} received");
    }

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
        _archive?.Write(now, PacketDirection.Received, LinkPath, packet);
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
            evt = new TelemetryEvent(now, (long)id, (long)type, text, ev.ErrorTypes.Contains((long)type));
            _services.Log.Information("Event {EventId} from {Device}: {Text}", (long)id, Name, text);
            Note("event", evt.IsError ? "yellow" : "info", text, new Dictionary<string, string>
            {
                ["id"] = ((long)id).ToString(CultureInfo.InvariantCulture),
                ["type"] = ((long)type).ToString(CultureInfo.InvariantCulture),
            });
        }

        CheckLimits(index);
        _store.Commit(index, now, evt);
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
            _archive?.Write(_services.Time.GetUtcNow(), PacketDirection.Sent, link.Path, packet.Span);
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
