using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// Reads a dictionary YAML file (see fixtures/dictionaries/payload-obc.yaml for the shape), reporting every
/// problem as <c>file:line:col: message</c> through <see cref="ConfigProblems"/>: overlapping fields, a field
/// past its packet's end, unknown types and units, duplicate names.
/// </summary>
public static class DictionaryLoader
{
    /// <summary>
    /// Loads <paramref name="path"/> at <paramref name="version"/> (null: the file's <c>default-version</c>);
    /// <paramref name="versionAt"/> is where the caller's choice was written, for the message when the file
    /// does not declare it.
    /// </summary>
    public static AvionicsDictionary? Load(string path, ConfigProblems problems, string? version = null, SourceLocation? versionAt = null) =>
        Read(ConfigDocument.Load(path, problems), version, versionAt);

    public static AvionicsDictionary? Parse(string text, string file, ConfigProblems problems, string? version = null) =>
        Read(ConfigDocument.Parse(text, file, null, problems), version, null);

    private static AvionicsDictionary? Read(ConfigDocument doc, string? requested, SourceLocation? requestedAt)
    {
        var problems = doc.Problems;
        var before = problems.Items.Count;
        var root = doc.Root?.AsMap("a dictionary");
        if (root is null)
        {
            return null;
        }

        var name = root.String("dictionary", required: true) ?? "?";
        root.String("description");
        var versions = ReadVersions(root, name, out var defaultVersion);
        DictionaryVersion? selected = null;
        if (requested is not null)
        {
            selected = versions.FirstOrDefault(v => v.Name == requested);
            if (selected is null)
            {
                problems.Add(requestedAt ?? root.Location, versions.Count == 0
                    ? $"dictionary '{name}' declares no versions, so 'dictionary-version: {requested}' selects nothing (remove it)"
                    : $"dictionary '{name}' has no version '{requested}' (it declares: {string.Join(", ", versions.Select(v => v.Name))})");
            }
        }
        else
        {
            selected = defaultVersion;
        }

        // An unknown choice is reported above; the file is still checked, at its default.
        selected ??= defaultVersion;
        var result = ReadVersion(root, name, doc.File, selected, versions);

        // Every declared layout is checked, not only the selected one: validate finds a mistake in a version nobody runs today.
        foreach (var other in versions.Where(v => v != selected))
        {
            ReadVersion(root, name, doc.File, other, versions);
        }

        // restart: { boot-count: CHANNEL, uptime: CHANNEL }: how a restart of the flight software shows in telemetry.
        if (root.Map("restart") is { } restart && result is not null)
        {
            string? Channel(string key)
            {
                var channel = restart.String(key);
                if (channel is not null && result.FindField(channel) is not { Channel: >= 0 })
                {
                    restart.Get(key)!.Error($"'restart' {key} names channel '{channel}', which dictionary '{name}' does not have");
                    return null;
                }

                return channel;
            }

            result = result.WithRestart(Channel("boot-count"), Channel("uptime"));
            restart.ReportUnknownKeys("'restart'");
        }

        root.ReportUnknownKeys("a dictionary");
        return problems.Items.Count > before ? null : result;
    }

    /// <summary><c>versions: { NAME: { description } }</c> and <c>default-version: NAME</c>.</summary>
    private static List<DictionaryVersion> ReadVersions(ConfigMap root, string dictionary, out DictionaryVersion? defaultVersion)
    {
        var versions = new List<DictionaryVersion>();
        foreach (var (key, _, value) in root.Map("versions")?.Entries() ?? [])
        {
            var v = value.AsMap($"version '{key}'");
            var description = v?.String("description", required: true);
            v?.ReportUnknownKeys($"version '{key}'");
            if (description is not null)
            {
                versions.Add(new DictionaryVersion(key, description));
            }
        }

        defaultVersion = null;
        var defaultName = root.String("default-version");
        if (defaultName is not null)
        {
            defaultVersion = versions.FirstOrDefault(v => v.Name == defaultName);
            if (defaultVersion is null && root.Has("versions"))
            {
                root.Get("default-version")!.Error($"'default-version' {defaultName} is not one of the dictionary's versions ({string.Join(", ", versions.Select(v => v.Name))})");
            }
            else if (!root.Has("versions"))
            {
                root.Get("default-version")!.Error($"'default-version' needs 'versions:' that declares it");
            }
        }
        else if (root.Has("versions"))
        {
            // Not silently one of them: the file says which build its default layouts were checked against.
            root.Get("versions")!.Error($"dictionary '{dictionary}' declares versions, so it must name its 'default-version'");
        }

        return versions;
    }

    /// <summary>
    /// True when the entry belongs to <paramref name="selected"/>: an entry without <c>versions:</c> belongs to all
    /// of them, one with <c>versions: [a, b]</c> only to those.
    /// </summary>
    private static bool InVersion(ConfigMap map, DictionaryVersion? selected, IReadOnlyList<DictionaryVersion> declared, string what)
    {
        if (map.List("versions") is not { } list)
        {
            return true;
        }

        var names = list.Select(n => n.AsString($"a 'versions' entry of {what}")).Where(n => n is not null).ToList();
        foreach (var (n, node) in names.Zip(list))
        {
            if (declared.All(v => v.Name != n))
            {
                node.Error(declared.Count == 0
                    ? $"{what} names version '{n}', but the dictionary declares no 'versions:'"
                    : $"{what} names version '{n}', which is not one of the dictionary's versions ({string.Join(", ", declared.Select(v => v.Name))})");
            }
        }

        return selected is not null && names.Contains(selected.Name);
    }

    private static AvionicsDictionary? ReadVersion(ConfigMap root, string name, string file, DictionaryVersion? selected, IReadOnlyList<DictionaryVersion> versions)
    {
        var problems = root.Node.Document.Problems;
        var before = problems.Items.Count;
        var defaultOrder = ParseOrder(root, "byte-order") ?? FieldByteOrder.Big;
        var defaults = root.Map("defaults");
        var acceptCounter = defaults?.String("accept-counter");
        var rejectCounter = defaults?.String("reject-counter");
        defaults?.ReportUnknownKeys("'defaults'");

        var packets = new List<TelemetryPacket>();
        var channelNames = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var node in root.List("telemetry") ?? [])
        {
            if (ReadPacket(node, defaultOrder, channelNames, packets, selected, versions) is { } p)
            {
                packets.Add(p);
            }
        }

        var commands = new List<CommandDefinition>();
        foreach (var node in root.List("commands") ?? [])
        {
            if (ReadCommand(node, defaultOrder, acceptCounter, rejectCounter, commands, selected, versions) is { } c)
            {
                commands.Add(c);
            }
        }

        EventSpec? events = null;
        if (root.Map("events") is { } ev)
        {
            var packet = ev.String("packet", required: true);
            var id = ev.String("id", required: true);
            var type = ev.String("type");
            var text = ev.String("text", required: true);
            var app = ev.String("app");
            var errors = (ev.List("error-types") ?? []).Select(n => n.AsInt("'error-types' entry")).Where(v => v is not null).Select(v => (long)v!.Value).ToList();
            ev.ReportUnknownKeys("'events'");
            var p = packets.FirstOrDefault(x => x.Name == packet);
            if (packet is not null && p is null)
            {
                ev.Get("packet")!.Error($"events packet '{packet}' is not a telemetry packet of this dictionary");
            }

            foreach (var (key, field) in new[] { ("id", id), ("type", type), ("text", text), ("app", app) })
            {
                if (p is not null && field is not null && p.Fields.All(f => f.Name != field))
                {
                    ev.Get(key)!.Error($"events {key} field '{field}' is not a field of packet '{packet}'");
                }
            }

            if (packet is not null && id is not null && text is not null)
            {
                events = new EventSpec(packet, id, type, text, errors.Count > 0 ? errors : [3, 4], app);
            }
        }

        foreach (var c in commands)
        {
            // Counters and conditions named by commands must be channels.
            foreach (var counter in new[] { c.AcceptCounter, c.RejectCounter })
            {
                if (counter is not null && !channelNames.ContainsKey(counter))
                {
                    problems.Add(c.Location, $"command '{c.Name}' verifies with counter '{counter}', which is not a telemetry channel");
                }
            }

            if (c.App is not null && events?.AppField is null)
            {
                problems.Add(c.Location, $"command '{c.Name}' names app '{c.App}', but the dictionary's events carry no app name ('events: {{ app: FIELD }}')");
            }

            if (c.AcceptEvent is not null && events is null)
            {
                problems.Add(c.Location, $"command '{c.Name}' is accepted on an event ('accept-event'), but the dictionary has no 'events:'");
            }
        }

        return problems.Items.Count > before ? null : new AvionicsDictionary(name, file, commands, packets, events, selected, versions);
    }

    private static TelemetryPacket? ReadPacket(ConfigNode node, FieldByteOrder defaultOrder, Dictionary<string, SourceLocation> channelNames, List<TelemetryPacket> packets, DictionaryVersion? version, IReadOnlyList<DictionaryVersion> versions)
    {
        var map = node.AsMap("a telemetry packet");
        if (map is null)
        {
            return null;
        }

        var name = map.String("name", required: true) ?? "?";
        if (!InVersion(map, version, versions, $"telemetry packet '{name}'"))
        {
            return null;
        }

        var mid = ReadMessageId(map, "mid", name, expectCommand: false);
        var lengthNode = map.Get("length");
        var length = map.Int("length");
        var description = map.String("description");
        var periodNode = map.Get("period");
        var period = map.Duration("period");
        if (period is { } pd && pd <= TimeSpan.Zero)
        {
            periodNode!.Error($"'period' of packet '{name}' must be longer than 0");
            period = null;
        }

        var order = ParseOrder(map, "byte-order") ?? defaultOrder;
        // A nameless packet has already been reported as missing its name: it is no duplicate of another nameless one.
        if (map.Get("name") is { } nameNode && packets.Any(p => p.Name == name))
        {
            nameNode.Error($"duplicate telemetry packet '{name}'");
        }

        if (mid is { } m && packets.FirstOrDefault(p => p.MessageId == m) is { } other)
        {
            map.Get("mid")!.Error($"packet '{name}' has message ID 0x{m:X4}, already used by packet '{other.Name}'");
        }

        var fields = new List<TelemetryField>();
        foreach (var fnode in map.List("fields", required: true) ?? [])
        {
            if (ReadField(fnode, name, order, version, versions) is not { } f)
            {
                continue;
            }

            if (channelNames.TryGetValue(f.Name, out var prev))
            {
                fnode.Error($"duplicate channel '{f.Name}' (first defined at {prev})");
                continue;
            }

            if (f.Offset < CfsTelemetryHeader.Size)
            {
                fnode.Error($"field '{f.Name}' (bytes {f.Offset}..{f.Offset + f.Size - 1}) overlaps the {CfsTelemetryHeader.Size}-byte telemetry header of packet '{name}'");
                continue;
            }

            if (fields.FirstOrDefault(o => f.Offset < o.Offset + o.Size && o.Offset < f.Offset + f.Size) is { } hit)
            {
                fnode.Error($"field '{f.Name}' (bytes {f.Offset}..{f.Offset + f.Size - 1}) overlaps field '{hit.Name}' (bytes {hit.Offset}..{hit.Offset + hit.Size - 1}) in packet '{name}'");
                continue;
            }

            if (length is { } len && f.Offset + f.Size > len)
            {
                fnode.Error($"field '{f.Name}' (bytes {f.Offset}..{f.Offset + f.Size - 1}) runs past the end of packet '{name}' ({len} bytes)");
                continue;
            }

            channelNames[f.Name] = f.Location;
            fields.Add(f);
        }

        map.ReportUnknownKeys($"telemetry packet '{name}'");
        var actualLength = length ?? (fields.Count == 0 ? CfsTelemetryHeader.Size : fields.Max(f => f.Offset + f.Size));
        if (length is { } l && l is < CfsTelemetryHeader.Size or > 65542)
        {
            lengthNode!.Error($"'length' of packet '{name}' must be 16 to 65542 bytes, not {l}");
        }

        return mid is null ? null : new TelemetryPacket(name, mid.Value, actualLength, fields, description, map.Location) { Period = period };
    }

    private static TelemetryField? ReadField(ConfigNode node, string packet, FieldByteOrder defaultOrder, DictionaryVersion? version, IReadOnlyList<DictionaryVersion> versions)
    {
        var map = node.AsMap("a telemetry field");
        if (map is null)
        {
            return null;
        }

        var name = map.String("name", required: true);
        if (!InVersion(map, version, versions, $"field '{name}'"))
        {
            return null;
        }

        var offset = map.Int("offset", required: true);
        var (type, size) = ReadType(map, name ?? "?");
        var order = ParseOrder(map, "byte-order") ?? defaultOrder;
        var unit = ReadUnit(map, name ?? "?");
        var calibration = ReadCalibration(map);
        var limits = ReadLimits(map, name ?? "?");
        var enumeration = ReadEnumeration(map);
        var description = map.String("description");
        map.ReportUnknownKeys($"field '{name}'");
        if (name is null || offset is null || type is null)
        {
            return null;
        }

        if (offset < 0)
        {
            map.Get("offset")!.Error($"'offset' of field '{name}' must not be negative");
            return null;
        }

        return new TelemetryField(name, packet, type.Value, order, offset.Value, size, calibration, unit, limits, enumeration, description, map.Location);
    }

    private static CommandDefinition? ReadCommand(ConfigNode node, FieldByteOrder defaultOrder, string? acceptCounter, string? rejectCounter, List<CommandDefinition> existing, DictionaryVersion? version, IReadOnlyList<DictionaryVersion> versions)
    {
        var map = node.AsMap("a command");
        if (map is null)
        {
            return null;
        }

        var name = map.String("name", required: true) ?? "?";
        if (!InVersion(map, version, versions, $"command '{name}'"))
        {
            return null;
        }

        var mid = ReadMessageId(map, "mid", name, expectCommand: true);
        var fc = map.Int("function-code", required: true);
        var hazardous = map.Bool("hazardous") ?? false;
        var description = map.String("description");
        var accept = map.String("accept-counter") ?? acceptCounter;
        var reject = map.String("reject-counter") ?? rejectCounter;
        var acceptWhen = map.String("accept-when");
        var completeWhen = map.String("complete-when");
        var app = map.String("app");
        var acceptEvent = map.Int("accept-event");
        if (fc is < 0 or > 127)
        {
            map.Get("function-code")!.Error($"'function-code' of command '{name}' must be 0 to 127 (7 bits), not {fc}");
        }

        if (map.Get("name") is { } nameNode && existing.Any(c => c.Name == name))
        {
            nameNode.Error($"duplicate command '{name}'");
        }

        var args = new List<CommandArgument>();
        var next = CfsCommandHeader.Size;
        foreach (var anode in map.List("arguments") ?? [])
        {
            var a = anode.AsMap("a command argument");
            if (a is null)
            {
                continue;
            }

            var aname = a.String("name", required: true);
            var (type, size) = ReadType(a, aname ?? "?");
            var offset = a.Int("offset") ?? next;
            var order = ParseOrder(a, "byte-order") ?? defaultOrder;
            var unit = ReadUnit(a, aname ?? "?");
            var scale = a.Double("scale") ?? 1.0;
            var enumeration = ReadEnumeration(a);
            var def = a.String("default");
            var adesc = a.String("description");
            double? min = null, max = null;
            if (a.List("range") is { } range)
            {
                if (range.Count != 2)
                {
                    a.Get("range")!.Error($"'range' of argument '{aname}' must be [min, max]");
                }
                else
                {
                    min = range[0].AsDouble("'range' minimum");
                    max = range[1].AsDouble("'range' maximum");
                }
            }

            a.ReportUnknownKeys($"argument '{aname}'");
            if (aname is null || type is null)
            {
                continue;
            }

            if (offset < CfsCommandHeader.Size)
            {
                a.Node.Error($"argument '{aname}' (bytes {offset}..{offset + size - 1}) overlaps the {CfsCommandHeader.Size}-byte command header of '{name}'");
                continue;
            }

            if (args.FirstOrDefault(o => offset < o.Offset + o.Size && o.Offset < offset + size) is { } hit)
            {
                a.Node.Error($"argument '{aname}' (bytes {offset}..{offset + size - 1}) overlaps argument '{hit.Name}' (bytes {hit.Offset}..{hit.Offset + hit.Size - 1}) in command '{name}'");
                continue;
            }

            args.Add(new CommandArgument(aname, type.Value, order, offset, size, unit, min, max, scale, enumeration, def, adesc));
            next = offset + size;
        }

        var length = map.Int("length") ?? (args.Count == 0 ? CfsCommandHeader.Size : args.Max(x => x.Offset + x.Size));
        map.ReportUnknownKeys($"command '{name}'");
        return mid is null || fc is null
            ? null
            : new CommandDefinition(name, mid.Value, (byte)fc.Value, args, length, hazardous, accept, reject, acceptWhen, completeWhen, description, map.Location, app, acceptEvent);
    }

    private static ushort? ReadMessageId(ConfigMap map, string key, string name, bool expectCommand)
    {
        var mid = map.Int(key, required: true);
        if (mid is null)
        {
            return null;
        }

        if (mid is < 0 or > 0xFFFF || (mid.Value & 0xE000) != 0 || (mid.Value & 0x0800) == 0)
        {
            map.Get(key)!.Error($"'{key}' of '{name}' must be a 16-bit cFS message ID with version 0 and the secondary-header bit set (e.g. 0x1880, 0x0880), not 0x{mid.Value:X}");
            return null;
        }

        var isCommand = (mid.Value & 0x1000) != 0;
        if (isCommand != expectCommand)
        {
            map.Get(key)!.Error($"'{key}' 0x{mid.Value:X4} of '{name}' is a {(isCommand ? "command" : "telemetry")} message ID (type bit {(isCommand ? 1 : 0)}), expected {(expectCommand ? "a command" : "a telemetry")} ID");
            return null;
        }

        return (ushort)mid.Value;
    }

    private static (FieldType? Type, int Size) ReadType(ConfigMap map, string name)
    {
        var text = map.String("type", required: true);
        if (text is null)
        {
            return (null, 0);
        }

        if (!FieldTypes.TryParse(text, out var type))
        {
            map.Get("type")!.Error($"unknown type '{text}' for '{name}' (expected one of: {string.Join(", ", FieldTypes.Names)})");
            return (null, 0);
        }

        if (type == FieldType.String)
        {
            var len = map.Int("length", required: true);
            if (len is null or < 1)
            {
                if (len is not null)
                {
                    map.Get("length")!.Error($"'length' of string '{name}' must be at least 1");
                }

                return (null, 0);
            }

            return (type, len.Value);
        }

        return (type, FieldTypes.SizeOf(type));
    }

    private static Unit ReadUnit(ConfigMap map, string name)
    {
        var text = map.String("units");
        if (text is null)
        {
            return Unit.None;
        }

        if (Unit.TryParse(text, out var unit))
        {
            return unit;
        }

        map.Get("units")!.Error($"unknown unit '{text}' for '{name}'");
        return Unit.None;
    }

    private static FieldByteOrder? ParseOrder(ConfigMap map, string key) =>
        map.OneOf(key, ["big", "little"]) switch
        {
            "big" => FieldByteOrder.Big,
            "little" => FieldByteOrder.Little,
            _ => null,
        };

    private static Calibration? ReadCalibration(ConfigMap map)
    {
        var c = map.Map("calibration");
        if (c is null)
        {
            return null;
        }

        Calibration? result = null;
        if (c.List("poly") is { } poly)
        {
            var coeffs = poly.Select(n => n.AsDouble("a 'poly' coefficient")).ToList();
            if (coeffs.Count == 0)
            {
                c.Get("poly")!.Error("'poly' needs at least one coefficient (c0, c1, ...)");
            }
            else if (coeffs.All(x => x is not null))
            {
                result = new Calibration(coeffs.Select(x => x!.Value).ToArray());
            }
        }

        if (c.Map("linear") is { } lin)
        {
            var scale = lin.Double("scale") ?? 1.0;
            var offset = lin.Double("offset") ?? 0.0;
            lin.ReportUnknownKeys("'linear'");
            result = new Calibration([offset, scale]);
        }

        if (!c.Has("poly") && !c.Has("linear"))
        {
            c.Node.Error("'calibration' must give 'poly: [c0, c1, ...]' or 'linear: { scale, offset }'");
        }

        c.ReportUnknownKeys("'calibration'");
        return result;
    }

    private static LimitSet? ReadLimits(ConfigMap map, string name)
    {
        var l = map.Map("limits");
        if (l is null)
        {
            return null;
        }

        Limits? Band(string key)
        {
            var b = l.Map(key);
            if (b is null)
            {
                return null;
            }

            var low = b.Double("low");
            var high = b.Double("high");
            b.ReportUnknownKeys($"'{key}' limits");
            if (low is { } lo && high is { } hi && lo > hi)
            {
                b.Node.Error($"{key} limits of '{name}' have low {lo.ToString(CultureInfo.InvariantCulture)} above high {hi.ToString(CultureInfo.InvariantCulture)}");
            }

            return new Limits(low, high);
        }

        var yellow = Band("yellow");
        var red = Band("red");
        if (yellow is not null && red is not null
            && ((red.Low is { } rl && yellow.Low is { } yl && rl > yl) || (red.High is { } rh && yellow.High is { } yh && rh < yh)))
        {
            l.Node.Error($"red limits of '{name}' must lie outside its yellow limits");
        }

        l.ReportUnknownKeys("'limits'");
        return new LimitSet(yellow, red);
    }

    private static Dictionary<long, string>? ReadEnumeration(ConfigMap map)
    {
        var e = map.Map("enum");
        if (e is null)
        {
            return null;
        }

        var d = new Dictionary<long, string>();
        foreach (var (key, keyNode, value) in e.Entries())
        {
            if (!ConfigNode.TryParseInteger(key, out var k))
            {
                keyNode.Error($"enumeration key '{key}' must be a whole number");
                continue;
            }

            if (value.AsString($"label of {key}") is { } label)
            {
                d[k] = label;
            }
        }

        return d;
    }
}
