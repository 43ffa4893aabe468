using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Devices.Avionics;

/// <summary>
/// <c>expect</c> and <c>wait-packet</c>. An event expectation matches any event since its step started (the NOOP
/// event that arrived while the step's <c>send</c> waited for housekeeping counts); a telemetry expectation is
/// judged on values received since the step's latest command (or since the step started), never on a value
/// that was already there.
/// </summary>
public sealed partial class AvionicsDevice
{
    private async ValueTask<ActionResult> ExpectAsync(IReadOnlyDictionary<string, ArgumentValue> args, CancellationToken ct)
    {
        var timeout = DurationArg(args, "timeout") ?? TimeSpan.FromSeconds(10);
        if (args.ContainsKey("event") || args.ContainsKey("event-id") || args.ContainsKey("app") || args.ContainsKey("event-type"))
        {
            return await ExpectEventAsync(args, timeout, ct);
        }

        var channelName = Text(args, "channel") ?? throw new DeviceCheckFailedException(Name, "expect needs 'channel' (or 'event', 'event-id', 'app')");
        var field = _dictionary.FindField(channelName.StartsWith(Name + ".", StringComparison.Ordinal) ? channelName[(Name.Length + 1)..] : channelName);
        if (field is null || field.Channel < 0)
        {
            throw new DeviceCheckFailedException(Name, $"no telemetry channel '{channelName}' in dictionary '{_dictionary.Describe()}'");
        }

        try
        {
            if (args.ContainsKey("changes"))
            {
                return await ExpectChangesAsync(field, args, timeout, ct);
            }

            if (Text(args, "sequence") is { } seqText)
            {
                return await ExpectSequenceAsync(field, seqText, timeout, ct);
            }

            if (args.ContainsKey("delta"))
            {
                return await ExpectDeltaAsync(field, NumberArg(args, "delta")!.Value, timeout, ct);
            }

            return await ExpectValueAsync(field, args, timeout, ct);
        }
        catch (FormatException e)
        {
            throw new DeviceCheckFailedException(Name, e.Message);
        }
    }

    private async ValueTask<ActionResult> ExpectEventAsync(IReadOnlyDictionary<string, ArgumentValue> args, TimeSpan timeout, CancellationToken ct)
    {
        var spec = _dictionary.Events ?? throw new DeviceCheckFailedException(Name, $"dictionary '{_dictionary.Describe()}' defines no event packet ('events:')");
        var text = Text(args, "event");
        var app = Text(args, "app");
        long? id = args.ContainsKey("event-id") ? IntegerArg(args, "event-id", 0, 65535) : null;
        long? type = null;
        if (Text(args, "event-type") is { } typeText)
        {
            var typeField = spec.TypeField is { } tf ? _dictionary.FindField(tf) : null;
            try
            {
                type = typeField is null ? long.Parse(typeText, CultureInfo.InvariantCulture) : (long)TelemetryCondition.ParseValue(typeField, typeText, "event-type");
            }
            catch (FormatException e)
            {
                throw new DeviceCheckFailedException(Name, e.Message);
            }
        }

        if (app is not null && spec.AppField is null)
        {
            throw new DeviceCheckFailedException(Name, $"dictionary '{_dictionary.Describe()}': its events carry no app name, so 'app' cannot be matched");
        }

        var wanted = string.Join(" ", new[]
        {
            app is null ? null : app,
            type is { } t ? spec.TypeField is { } tfn && _dictionary.FindField(tfn) is { } tff ? tff.Format(t) : $"type {t}" : null,
            id is { } i ? $"event {i}" : "event",
            text is null ? null : $"containing '{text}'",
        }.Where(w => w is not null));

        bool Matches(TelemetryEvent e) =>
            (text is null || e.Text.Contains(text, StringComparison.OrdinalIgnoreCase))
            && (id is null || e.Id == id)
            && (app is null || string.Equals(e.App, app, StringComparison.Ordinal))
            && (type is null || e.Type == type);

        var window = EventWindow;
        var start = _services.Time.GetTimestamp();
        TelemetryEvent? hit = null;
        if (!await WaitForAsync(() => (hit = _store.EventsSince(window.Events).FirstOrDefault(Matches)) is not null, timeout, ct))
        {
            var seen = _store.EventsSince(window.Events);
            var listing = seen.Count == 0
                ? "no events since the step started"
                : "seen: " + string.Join("; ", seen.TakeLast(5).Select(e => $"{e.Describe()} '{e.Text}'"));
            throw new DeviceCheckFailedException(Name, $"no {wanted} within {Duration.Format(timeout)} ({listing})");
        }

        return new ActionResult(
            new Dictionary<string, double> { ["value"] = hit!.Id, ["time"] = _services.Time.GetElapsedTime(start).TotalSeconds, ["changes"] = 0, ["delta"] = double.NaN },
            $"{hit.Describe()} '{hit.Text}'");
    }

    private async ValueTask<ActionResult> ExpectChangesAsync(TelemetryField field, IReadOnlyDictionary<string, ArgumentValue> args, TimeSpan timeout, CancellationToken ct)
    {
        var changesArg = args["changes"];
        var wanted = (int)(changesArg.Number ?? double.Parse(changesArg.Text, CultureInfo.InvariantCulture));
        var c = field.Channel;
        var window = ValueWindow;
        var start = _services.Time.GetTimestamp();
        var changes = 0;
        var ok = await WaitForAsync(() =>
        {
            changes = 0;
            var previous = _store.ValueAt(c, window);
            foreach (var s in _store.HistorySince(c, window))
            {
                if (!double.IsNaN(previous) && s.Value != previous)
                {
                    changes++;
                }

                previous = s.Value;
            }

            return changes >= wanted;
        }, timeout, ct);
        if (!ok)
        {
            throw new DeviceCheckFailedException(Name, $"{field.Name} changed {changes} times, expected {wanted}, within {Duration.Format(timeout)}");
        }

        return Result(field, start, changes, double.NaN);
    }

    private async ValueTask<ActionResult> ExpectSequenceAsync(TelemetryField field, string seqText, TimeSpan timeout, CancellationToken ct)
    {
        var wanted = seqText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => TelemetryCondition.ParseValue(field, v, seqText)).ToArray();
        var c = field.Channel;
        var window = ValueWindow;
        var start = _services.Time.GetTimestamp();
        var matched = 0;
        var ok = await WaitForAsync(() =>
        {
            // The value when the window opened may be the first of the sequence.
            matched = 0;
            foreach (var v in _store.HistorySince(c, window).Select(s => s.Value).Prepend(_store.ValueAt(c, window)))
            {
                if (matched < wanted.Length && v == wanted[matched])
                {
                    matched++;
                }
            }

            return matched == wanted.Length;
        }, timeout, ct);
        if (!ok)
        {
            throw new DeviceCheckFailedException(Name, $"{field.Name} showed {matched} of the sequence [{seqText}] within {Duration.Format(timeout)} (last {field.Format(_store.Latest(c))})");
        }

        return Result(field, start, matched, double.NaN);
    }

    /// <summary>
    /// <c>delta: 1</c> — "rose by exactly 1" since the step's latest command (or the step's start), without zeroing
    /// anything first: the first received value that differs from the one at the window's start must differ by
    /// exactly the delta; <c>delta: 0</c> — the first value received in the window equals it.
    /// </summary>
    private async ValueTask<ActionResult> ExpectDeltaAsync(TelemetryField field, double delta, TimeSpan timeout, CancellationToken ct)
    {
        var c = field.Channel;
        var window = ValueWindow;
        var start = _services.Time.GetTimestamp();
        var baseline = _store.ValueAt(c, window);
        if (double.IsNaN(baseline))
        {
            throw new DeviceCheckFailedException(Name, $"{field.Name} had no value when the step (or its latest command) started, so a change cannot be judged");
        }

        TelemetrySample? judged = null;
        var ok = await WaitForAsync(() =>
        {
            var fresh = _store.HistorySince(c, window);
            judged = fresh.Where(s => delta == 0 || s.Value != baseline).Select(s => (TelemetrySample?)s).FirstOrDefault();
            return judged is not null;
        }, timeout, ct);
        string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        var want = delta == 0 ? "unchanged" : $"a change of exactly {(delta > 0 ? "+" : string.Empty)}{F(delta)}";
        if (!ok || judged is null)
        {
            throw new DeviceCheckFailedException(Name, delta == 0
                ? $"{field.Name}: no value received within {Duration.Format(timeout)} to show it {want} (was {F(baseline)})"
                : $"{field.Name} stayed {F(baseline)} for {Duration.Format(timeout)}, expected {want}");
        }

        var seen = judged.Value.Value - baseline;
        if (seen != delta)
        {
            throw new DeviceCheckFailedException(Name, $"{field.Name} went {F(baseline)} → {F(judged.Value.Value)} ({(seen > 0 ? "+" : string.Empty)}{F(seen)}), expected {want}");
        }

        return Result(field, start, seen == 0 ? 0 : 1, seen);
    }

    private async ValueTask<ActionResult> ExpectValueAsync(TelemetryField field, IReadOnlyDictionary<string, ArgumentValue> args, TimeSpan timeout, CancellationToken ct)
    {
        var c = field.Channel;
        var low = NumberArg(args, "low");
        var high = NumberArg(args, "high");
        double? exact = Text(args, "value") is { } vt ? TelemetryCondition.ParseValue(field, vt, vt) : null;
        if (low is null && high is null && exact is null)
        {
            throw new DeviceCheckFailedException(Name, "expect needs low/high, value, delta, changes, sequence or an event");
        }

        bool Within(double v) => !double.IsNaN(v) && (exact is not { } e || v == e) && (low is not { } lo || v >= lo) && (high is not { } hi || v <= hi);
        var window = ValueWindow;
        var start = _services.Time.GetTimestamp();
        if (!await WaitForAsync(() => Within(_store.LatestSince(c, window)), timeout, ct))
        {
            var want = exact is { } x ? "== " + field.Format(x) : string.Create(CultureInfo.InvariantCulture, $"in [{low?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {high?.ToString(CultureInfo.InvariantCulture) ?? "+inf"}]");
            var fresh = double.IsNaN(_store.LatestSince(c, window)) ? " (no value received since the step's start or its latest command)" : string.Empty;
            throw new DeviceCheckFailedException(Name, $"{field.Name} = {field.Format(_store.Latest(c))} not {want} within {Duration.Format(timeout)}{fresh}");
        }

        return Result(field, start, 0, double.NaN);
    }

    private ActionResult Result(TelemetryField field, long start, double changes, double delta) =>
        new(new Dictionary<string, double>
        {
            ["value"] = _store.Latest(field.Channel),
            ["time"] = _services.Time.GetElapsedTime(start).TotalSeconds,
            ["changes"] = changes,
            ["delta"] = delta,
        });

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
            throw new DeviceCheckFailedException(Name, $"no telemetry packet '{packetName}' in dictionary '{_dictionary.Describe()}'");
        }

        var start = _services.Time.GetTimestamp();
        var baseCount = _store.PacketCount(index);
        if (!await WaitForAsync(() => _store.PacketCount(index) > baseCount, timeout, ct))
        {
            throw new DeviceTimeoutException(Name, $"packet {packetName}", timeout);
        }

        return new ActionResult(new Dictionary<string, double> { ["time"] = _services.Time.GetElapsedTime(start).TotalSeconds }, $"{packetName} received");
    }
}
