using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Protocols.Ccsds;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Devices.Avionics;

/// <summary>
/// <c>send</c>, <c>send-hazardous</c> and <c>send-raw</c>: a command goes out, then is judged on telemetry received
/// after it was sent — accepted (its accept counter rose, or its <c>accept-when</c> holds, after its app's
/// <c>accept-event</c> when the dictionary names one), rejected (its error counter rose, or an ERROR event came
/// from its own app), completed (<c>complete-when</c>). A step may require the rejection (<c>outcome: rejected</c>),
/// which is how negative tests pass. Outputs the counters' changes so a step can measure "rose by exactly 1".
/// </summary>
public sealed partial class AvionicsDevice
{
    private enum ExpectedOutcome
    {
        Accepted,
        Rejected,
    }

    /// <summary>
    /// A command ready to go out: the bytes, the dictionary entry whose app and counters judge it, and for a raw
    /// packet what makes it raw (it goes into the record as such).
    /// </summary>
    private sealed record OutgoingCommand(string Name, CommandDefinition Judge, byte[] Packet, bool ValidChecksum, string? Raw);

    private async ValueTask<ActionResult> SendCommandAsync(IReadOnlyDictionary<string, ArgumentValue> args, bool hazardousAllowed, CancellationToken ct)
    {
        var name = Text(args, "command") ?? throw new DeviceCheckFailedException(Name, "send needs a 'command' argument");
        var command = FindCommand(name);
        if (command.Hazardous && !hazardousAllowed)
        {
            throw new DeviceCheckFailedException(Name, $"command {name} is hazardous: use {Name}.send-hazardous in a hazardous step (inhibits and confirmation)");
        }

        var packet = Encode(command, args);
        return await SendAndVerifyAsync(new OutgoingCommand(name, command, packet, ValidChecksum: true, Raw: null), args, ExpectedOutcome.Accepted, ct);
    }

    /// <summary>
    /// A packet the dictionary does not define, for negative tests: <c>like: CMD</c> (that command's bytes, app and
    /// counters) or <c>mid: 0x1882</c>, then <c>function-code</c>, <c>payload</c> (hex), <c>length</c> (whole packet,
    /// the CCSDS length field follows it) and <c>checksum: invalid</c>. Expected to be rejected unless
    /// <c>outcome: accepted</c>. Never a hazardous command in disguise.
    /// </summary>
    private async ValueTask<ActionResult> SendRawAsync(IReadOnlyDictionary<string, ArgumentValue> args, CancellationToken ct)
    {
        CommandDefinition judge;
        byte[] packet;
        string basis;
        if (Text(args, "like") is { } like)
        {
            judge = FindCommand(like);
            packet = Encode(judge, args);
            basis = $"like {like}";
        }
        else if (args.ContainsKey("mid"))
        {
            var mid = IntegerArg(args, "mid", 0, 0xFFFF);
            if ((mid & 0x1000) == 0)
            {
                throw new DeviceCheckFailedException(Name, $"send-raw: 'mid' 0x{mid:X4} is a telemetry message ID (type bit 0); a command ID has 0x1000 set");
            }

            // The app and counters of the dictionary's commands on that message ID judge it (the app that receives it).
            var sibling = _dictionary.Commands.FirstOrDefault(c => c.MessageId == mid);
            judge = sibling is not null
                ? sibling with { Name = $"MID 0x{mid:X4}", AcceptWhen = null, CompleteWhen = null, AcceptEvent = null, Arguments = [] }
                : new CommandDefinition($"MID 0x{mid:X4}", (ushort)mid, 0, [], CfsCommandHeader.Size, false, null, null, null, null, null, default, Text(args, "app"));
            packet = new byte[CfsCommandHeader.Size];
            CfsCommandHeader.WritePacket(packet, (ushort)mid, 0, 0, []);
            basis = $"MID 0x{mid:X4}";
        }
        else
        {
            throw new DeviceCheckFailedException(Name, "send-raw needs 'like' (a dictionary command to start from) or 'mid'");
        }

        var dictionaryLength = packet.Length;
        if (args.ContainsKey("function-code"))
        {
            packet[6] = (byte)IntegerArg(args, "function-code", 0, 127);
        }

        if (Text(args, "payload") is { } hex)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
            }
            catch (FormatException)
            {
                throw new DeviceCheckFailedException(Name, $"send-raw: 'payload' must be hex bytes such as \"01 02 ff\", not '{hex}'");
            }

            packet = [.. packet.AsSpan(0, CfsCommandHeader.Size), .. bytes];
        }

        if (args.ContainsKey("length"))
        {
            var length = IntegerArg(args, "length", CfsCommandHeader.Size, 65542);
            var resized = new byte[length];
            packet.AsSpan(0, Math.Min(length, packet.Length)).CopyTo(resized);
            packet = resized;
        }

        // The header says what was sent: a "wrong length" is a consistent packet of the wrong size, as a ground tool makes it.
        SpacePacketHeader.ForMessageId(SpacePacketHeader.ReadStreamId(packet), 0, packet.Length).Write(packet);
        var validChecksum = (Text(args, "checksum") ?? "valid") switch
        {
            "valid" => true,
            "invalid" => false,
            var other => throw new DeviceCheckFailedException(Name, $"send-raw: 'checksum' must be valid or invalid, not '{other}'"),
        };

        var fc = (byte)(packet[6] & 0x7F);
        var streamId = SpacePacketHeader.ReadStreamId(packet);
        if (_dictionary.Commands.FirstOrDefault(c => c.Hazardous && c.MessageId == streamId && c.FunctionCode == fc) is { } hazardous)
        {
            throw new DeviceCheckFailedException(Name, $"send-raw: MID 0x{streamId:X4} function code {fc} is the hazardous command {hazardous.Name}: use {Name}.send-hazardous in a hazardous step");
        }

        var raw = string.Create(CultureInfo.InvariantCulture,
            $"raw packet ({basis}): MID 0x{streamId:X4}, function code {fc}, {packet.Length} bytes{(packet.Length != dictionaryLength ? $" (dictionary: {dictionaryLength})" : string.Empty)}, checksum {(validChecksum ? "valid" : "invalid")}");
        return await SendAndVerifyAsync(new OutgoingCommand($"raw {basis}", judge, packet, validChecksum, raw), args, ExpectedOutcome.Rejected, ct);
    }

    private CommandDefinition FindCommand(string name) =>
        _dictionary.FindCommand(name)
        ?? throw new DeviceCheckFailedException(Name, $"unknown command '{name}' (dictionary '{_dictionary.Describe()}' has: {string.Join(", ", _dictionary.Commands.Select(c => c.Name))})");

    private byte[] Encode(CommandDefinition command, IReadOnlyDictionary<string, ArgumentValue> args)
    {
        var buffer = new byte[Math.Max(command.Length, CfsCommandHeader.Size)];
        try
        {
            var length = CommandEncoder.Encode(command, args, 0, buffer);
            return buffer[..length];
        }
        catch (CommandArgumentException e)
        {
            throw new DeviceCheckFailedException(Name, e.Message);
        }
    }

    private async ValueTask<ActionResult> SendAndVerifyAsync(OutgoingCommand cmd, IReadOnlyDictionary<string, ArgumentValue> args, ExpectedOutcome defaultOutcome, CancellationToken ct)
    {
        var command = cmd.Judge;
        var name = cmd.Name;
        var verify = args.TryGetValue("verify", out var vv) ? vv.Boolean ?? !string.Equals(vv.Text, "false", StringComparison.OrdinalIgnoreCase) : true;
        var outcome = (Text(args, "outcome") ?? (defaultOutcome == ExpectedOutcome.Accepted ? "accepted" : "rejected")) switch
        {
            "accepted" => ExpectedOutcome.Accepted,
            "rejected" => ExpectedOutcome.Rejected,
            var other => throw new DeviceCheckFailedException(Name, $"'outcome' must be accepted or rejected, not '{other}'"),
        };
        var acceptWithin = DurationArg(args, "accept-within") ?? _blueprint.DefaultAcceptWithin;
        var completeWithin = DurationArg(args, "complete-within") ?? _blueprint.DefaultCompleteWithin;
        var completeText = Text(args, "complete-when") ?? command.CompleteWhen;
        TelemetryCondition? complete = null, acceptWhen = null;
        try
        {
            if (completeText is not null && outcome == ExpectedOutcome.Accepted)
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

        var judge = new CommandJudge(_store, _dictionary, command, acceptWhen);
        if (verify && outcome == ExpectedOutcome.Rejected && !judge.CanSeeRejection)
        {
            throw new DeviceCheckFailedException(Name, $"command {name}: a rejection cannot be seen (no error counter and no events in dictionary '{_dictionary.Describe()}')");
        }

        if (verify && judge.CountersUnknown)
        {
            var start = _services.Time.GetTimestamp();
            if (!await WaitForAsync(() => !judge.CountersUnknown, acceptWithin, ct))
            {
                throw new DeviceTimeoutException(Name, $"housekeeping with '{(judge.Accept ?? judge.Reject)!.Name}' before sending {name}", acceptWithin);
            }

            acceptWithin -= _services.Time.GetElapsedTime(start);
        }

        var completeBase = complete is null ? double.NaN : _store.Latest(complete.Field.Channel);
        var packet = Stamp(cmd, out var seq);

        // Everything judged from here on arrived after the command went out.
        var sent = _store.Mark(_services.Time.GetTimestamp());
        _lastSend = sent;
        judge.Sending(sent);
        await SendPacketAsync(packet, ct);
        Record(cmd, packet, seq);

        var prefix = cmd.Raw ?? name;
        var outputs = new Dictionary<string, double> { ["accept_time"] = double.NaN, ["complete_time"] = double.NaN, ["accept_delta"] = double.NaN, ["reject_delta"] = double.NaN };
        if (!verify || (outcome == ExpectedOutcome.Accepted && !judge.CanSeeAcceptance && complete is null))
        {
            return new ActionResult(outputs, $"{prefix} sent (not verified)");
        }

        CommandEvidence? rejected = null, accepted = null;
        var decided = await WaitForAsync(() => (rejected = judge.Rejection()) is not null || (accepted = judge.Acceptance()) is not null, acceptWithin, ct);
        var decideTime = _services.Time.GetElapsedTime(sent.Timestamp);
        if (outcome == ExpectedOutcome.Rejected)
        {
            return await ExpectedRejectionAsync(prefix, judge, rejected, decided ? accepted : null, acceptWithin, decideTime, outputs, ct);
        }

        if (rejected is not null)
        {
            Note("command", "red", $"{prefix} rejected: {rejected.What}");
            throw new DeviceCheckFailedException(Name, $"command {name} rejected: {rejected.What}");
        }

        if (!decided || accepted is null)
        {
            Note("command", "red", $"{prefix} not accepted: no {judge.AwaitedAcceptance} within {Duration.Format(acceptWithin)}");
            throw new DeviceTimeoutException(Name, $"command {name} (waiting for {judge.AwaitedAcceptance})", acceptWithin);
        }

        outputs["accept_time"] = decideTime.TotalSeconds;
        (outputs["accept_delta"], outputs["reject_delta"]) = await DeltasAsync(judge, accepted.After, acceptWithin - decideTime, ct);
        if (complete is not null)
        {
            var met = await WaitForAsync(() => (rejected = judge.Rejection()) is not null || complete.IsMet(_store.LatestSince(complete.Field.Channel, sent), completeBase), completeWithin, ct);
            if (rejected is not null)
            {
                Note("command", "red", $"{prefix} failed after acceptance: {rejected.What}");
                throw new DeviceCheckFailedException(Name, $"command {name} accepted but failed: {rejected.What}");
            }

            if (!met)
            {
                var now = complete.Field.Format(_store.Latest(complete.Field.Channel));
                Note("command", "red", $"{prefix} accepted but not completed: '{complete.Text}' not met within {Duration.Format(completeWithin)} ({complete.Field.Name} = {now})");
                throw new DeviceCheckFailedException(Name, $"command {name} accepted but not completed: '{complete.Text}' not met within {Duration.Format(completeWithin)} ({complete.Field.Name} = {now})");
            }

            outputs["complete_time"] = _services.Time.GetElapsedTime(sent.Timestamp).TotalSeconds;
        }

        var detail = string.Create(CultureInfo.InvariantCulture, $"{prefix} accepted in {outputs["accept_time"]:0.###} s") +
            (accepted.What.Length > 0 ? $" ({accepted.What})" : string.Empty) +
            (complete is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", completed ('{complete.Text}') in {outputs["complete_time"]:0.###} s"));
        return new ActionResult(outputs, detail);
    }

    /// <summary>A fresh sequence count (the encoder wrote 0) and the checksum, deliberately wrong for a raw packet that asks for it.</summary>
    private byte[] Stamp(OutgoingCommand cmd, out ushort seq)
    {
        var packet = cmd.Packet;
        seq = NextSequence();
        SpacePacketHeader.TryRead(packet, out var h, out _);
        (h with { SequenceCount = seq }).Write(packet);
        packet[7] = CfsCommandHeader.ComputeChecksum(packet);
        if (!cmd.ValidChecksum)
        {
            packet[7] ^= 0xFF;
        }

        return packet;
    }

    private void Record(OutgoingCommand cmd, byte[] packet, ushort seq)
    {
        if (cmd.Raw is { } raw)
        {
            _services.Log.Information("Sent {Raw} on {Device}: {Hex}", raw, Name, Convert.ToHexString(packet));
            Note("command", "info", $"{raw} sent (not a dictionary command)", new Dictionary<string, string> { ["raw"] = "true", ["hex"] = Convert.ToHexString(packet) });
        }
        else
        {
            _services.Log.Information("Sent {Command} ({Bytes} bytes, seq {Sequence}) on {Device}", cmd.Name, packet.Length, seq, Name);
        }
    }

    /// <summary><c>outcome: rejected</c>: the step passes when the command's app refused it, and fails when it was executed.</summary>
    private async ValueTask<ActionResult> ExpectedRejectionAsync(
        string prefix, CommandJudge judge, CommandEvidence? rejected, CommandEvidence? accepted, TimeSpan window, TimeSpan decideTime, Dictionary<string, double> outputs, CancellationToken ct)
    {
        if (rejected is null)
        {
            var why = accepted is not null
                ? $"it was accepted{(accepted.What.Length > 0 ? $" ({accepted.What})" : string.Empty)}"
                : $"no rejection within {Duration.Format(window)} (watched for {judge.RejectionSigns})";
            Note("command", "red", $"{prefix} was expected to be rejected, but {why}");
            throw new DeviceCheckFailedException(Name, $"{prefix} was expected to be rejected, but {why}");
        }

        (outputs["accept_delta"], outputs["reject_delta"]) = await DeltasAsync(judge, rejected.After, window - decideTime, ct);
        if (outputs["accept_delta"] > 0)
        {
            var both = string.Create(CultureInfo.InvariantCulture, $"{prefix} was refused ({rejected.What}) but {judge.Accept!.Name} also rose by {outputs["accept_delta"]}");
            Note("command", "red", both);
            throw new DeviceCheckFailedException(Name, both);
        }

        var detail = string.Create(CultureInfo.InvariantCulture, $"{prefix} rejected as expected in {decideTime.TotalSeconds:0.###} s: {rejected.What}");
        Note("command", "info", detail);
        return new ActionResult(outputs, detail);
    }

    /// <summary>
    /// The counters' change in the first housekeeping after <paramref name="after"/> (the packet that showed the
    /// command's fate, or the event that did), waiting for it up to <paramref name="remaining"/>: NaN when none came.
    /// </summary>
    private async Task<(double Accept, double Reject)> DeltasAsync(CommandJudge judge, TelemetryMark after, TimeSpan remaining, CancellationToken ct)
    {
        if (!judge.CountersFreshAfter(after) && remaining > TimeSpan.Zero)
        {
            await WaitForAsync(() => judge.CountersFreshAfter(after), remaining, ct);
        }

        return judge.DeltasAfter(after);
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

    private int IntegerArg(IReadOnlyDictionary<string, ArgumentValue> args, string key, int min, int max)
    {
        var text = args[key].Text;
        int value;
        if (args[key].Number is { } n && n == Math.Floor(n) && Math.Abs(n) <= int.MaxValue)
        {
            value = (int)n;
        }
        else if (!ConfigNode.TryParseInteger(text, out value))
        {
            throw new DeviceCheckFailedException(Name, $"'{key}' must be a whole number (decimal or 0x hex), not '{text}'");
        }

        if (value < min || value > max)
        {
            throw new DeviceCheckFailedException(Name, $"'{key}' must be {min} to {max}, not {value}");
        }

        return value;
    }
}
