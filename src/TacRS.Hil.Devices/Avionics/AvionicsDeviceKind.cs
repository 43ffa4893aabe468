using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Units;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Devices.Avionics;

/// <summary>Where the avionics archive goes. The composition root passes the run directory (or a stream factory in tests).</summary>
public sealed record AvionicsOptions
{
    /// <summary>Run directory; the archive is <c>&lt;device&gt;.packets.jsonl</c> in it.</summary>
    public string? ArchiveDirectory { get; init; }

    /// <summary>Overrides <see cref="ArchiveDirectory"/>: given the device name, returns the stream to archive into.</summary>
    public Func<string, Stream>? ArchiveStream { get; init; }

    /// <summary>Samples kept per channel for expect (changes/sequence) and inspection; older ones are overwritten.</summary>
    public int HistoryPerChannel { get; init; } = 1024;
}

/// <summary>The rig's <c>kind: avionics</c> entry, parsed.</summary>
public sealed record AvionicsBlueprint(
    DeviceDefinition Definition,
    DeviceDescription Description,
    TransportSpec? Transport,
    AvionicsDictionary Dictionary,
    string? ToLabEnableIp,
    bool Archive,
    TimeSpan DefaultAcceptWithin,
    TimeSpan DefaultCompleteWithin,
    string? ReplayArchive = null) : DeviceBlueprint(Definition, Description)
{
    public override string Endpoint => ReplayArchive is { } archive ? "replay " + archive : Transport?.Describe() ?? "simulated link";

    /// <summary><c>powered-by: [gse.output_active, payload_io.payload_enable]</c>: the signals that must all read on for the flight computer to be expected to talk.</summary>
    public IReadOnlyList<string> PoweredBy { get; init; } = [];
}

/// <summary>
/// <c>obc: { kind: avionics, transport: { serial: /dev/ttyUSB0, baud: 115200 } | { udp: "127.0.0.1:1234", listen: 1235 },
/// dictionary: fixtures/dictionaries/payload-obc.yaml, dictionary-version: equuleus-rc1, to-lab-enable: { ip: 127.0.0.1 }, archive: true }</c>
/// </summary>
public sealed class AvionicsDeviceKind(AvionicsOptions? options = null) : IDeviceKind
{
    public const string KindName = "avionics";

    /// <summary>Link counters every avionics device offers besides its dictionary's channels.</summary>
    public static readonly IReadOnlyList<string> LinkSignals = ["link_rx_packets", "link_tx_packets", "link_rejects", "link_unknown_packets", "link_events"];

    private readonly AvionicsOptions _options = options ?? new AvionicsOptions();

    public string Kind => KindName;

    public DeviceBlueprint? Describe(DeviceDefinition device, RigDefinition rig)
    {
        var map = device.Config;
        var where = $"device '{device.Name}'";
        map.Get("kind");
        TransportSpec? transport = null;
        if (map.Map("transport") is { } t)
        {
            transport = TransportSpec.Parse(t, $"'transport' of {where}");
        }

        var dictionaryPath = map.String("dictionary", required: true);
        var dictionaryVersion = map.String("dictionary-version");
        string? ip = null;
        if (map.Map("to-lab-enable") is { } tl)
        {
            ip = tl.String("ip") ?? "127.0.0.1";
            if (!System.Net.IPAddress.TryParse(ip, out var addr) || addr.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.Length > 15)
            {
                tl.Get("ip")!.Error($"'ip' of 'to-lab-enable' must be a dotted-quad IPv4 address (TO_LAB takes 16 bytes), not '{ip}'");
            }

            tl.ReportUnknownKeys("'to-lab-enable'");
        }

        var archive = map.Bool("archive") ?? true;
        string? replay = null;
        if (map.String("replay") is { } replayText)
        {
            replay = rig.Document.ResolvePath(replayText);
            if (transport is not null)
            {
                map.Get("replay")!.Error($"{where}: 'replay' plays back an archive instead of a link; remove 'transport' or 'replay'");
            }
            else if (!File.Exists(replay))
            {
                map.Get("replay")!.Error($"replay archive '{replayText}' not found (looked at {replay})");
            }
        }
        // powered-by: one signal or a list; all must read on for the flight computer to be expected to talk.
        var poweredBy = new List<string>();
        if (map.Get("powered-by") is { IsNull: false } pb)
        {
            foreach (var node in pb.IsList ? pb.AsList("'powered-by'") ?? [] : [pb])
            {
                var text = node.AsString("'powered-by'");
                var dot = text?.IndexOf('.', StringComparison.Ordinal) ?? -1;
                if (text is null)
                {
                    continue;
                }

                if (dot <= 0 || dot == text.Length - 1)
                {
                    node.Error($"'powered-by' must be device.signal (a line, relay or supply output that powers the flight computer), not '{text}'");
                }
                else if (rig.FindDevice(text[..dot]) is null)
                {
                    node.Error($"'powered-by' names device '{text[..dot]}', which the rig does not have");
                }
                else
                {
                    poweredBy.Add(text);
                }
            }
        }

        var accept = map.Duration("accept-within") ?? TimeSpan.FromSeconds(5);
        var complete = map.Duration("complete-within") ?? TimeSpan.FromSeconds(10);
        map.ReportUnknownKeys(where);
        if (dictionaryPath is null)
        {
            return null;
        }

        var problems = rig.Document.Problems;
        var resolved = ResolveDictionary(dictionaryPath, rig);
        if (!File.Exists(resolved))
        {
            map.Get("dictionary")!.Error($"dictionary file '{dictionaryPath}' not found (looked at {resolved})");
            return null;
        }

        var dictionary = DictionaryLoader.Load(resolved, problems, dictionaryVersion, map.Get("dictionary-version")?.Location);
        if (dictionary is null)
        {
            return null;
        }

        return new AvionicsBlueprint(device, BuildDescription(device.Name, dictionary), transport, dictionary, ip, archive && replay is null, accept, complete, replay) { PoweredBy = poweredBy };
    }

    public IDevice Create(DeviceBlueprint blueprint, IBusProvider buses, DeviceServices services)
    {
        var bp = (AvionicsBlueprint)blueprint;
        Stream? archive = null;
        if (bp.Archive)
        {
            if (_options.ArchiveStream is { } f)
            {
                archive = f(bp.Definition.Name);
            }
            else if ((_options.ArchiveDirectory ?? services.ArtifactDirectory) is { } dir)
            {
                Directory.CreateDirectory(dir);
                archive = new FileStream(Path.Combine(dir, PacketArchiveWriter.FileName(bp.Definition.Name)), FileMode.Create, FileAccess.Write, FileShare.Read);
            }
        }

        return new AvionicsDevice(bp, buses, services, archive, _options.HistoryPerChannel);
    }

    /// <summary>Dictionary paths are relative to the rig file, or to the repository (fixtures/...) when that is where they exist.</summary>
    private static string ResolveDictionary(string path, RigDefinition rig)
    {
        var beside = rig.Document.ResolvePath(path);
        if (File.Exists(beside) || Path.IsPathRooted(path))
        {
            return beside;
        }

        for (var dir = new DirectoryInfo(rig.Document.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, path);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists(path) ? Path.GetFullPath(path) : beside;
    }

    public static DeviceDescription BuildDescription(string name, AvionicsDictionary dictionary)
    {
        var signals = dictionary.Channels
            .Select(f => new SignalInfo(f.Name, f.Enumeration is null ? f.Unit : Unit.None, SignalAccess.Read, f.Description ?? (f.Enumeration is { } e ? string.Join(", ", e.Select(kv => $"{kv.Key}={kv.Value}")) : null))
            {
                MaxAge = dictionary.Packets.FirstOrDefault(p => p.Name == f.Packet)?.MaxAge,
            })
            .Concat(LinkSignals.Select(s => new SignalInfo(s, Unit.Count, SignalAccess.Read, "avionics link counter")))
            .ToList();

        var verification = new List<ActionParameter>
        {
            new("accept-within", ArgumentType.Text, Required: false, Description: "duration: the command's fate must show within it"),
            new("verify", ArgumentType.Boolean, Required: false, Description: "false: send without verification"),
            new("outcome", ArgumentType.Text, Required: false, Choices: ["accepted", "rejected"], Description: "rejected: the step passes only when the command's app refuses it (error counter up or its error event)"),
        };
        var common = new List<ActionParameter>
        {
            new("command", ArgumentType.Text, Choices: dictionary.Commands.Select(c => c.Name).ToList(), Description: "command name from the dictionary"),
            new("complete-when", ArgumentType.Text, Required: false, Description: "telemetry condition, e.g. 'mode == NOMINAL'"),
            new("complete-within", ArgumentType.Text, Required: false, Description: "duration for complete-when"),
        };
        common.AddRange(verification);
        var commandArguments = new List<ActionParameter>();
        foreach (var a in dictionary.Commands.SelectMany(c => c.Arguments))
        {
            if (common.Any(p => p.Name == a.Name) || commandArguments.Any(p => p.Name == a.Name))
            {
                continue;
            }

            var numeric = a.Type != FieldType.String && a.Enumeration is null;
            commandArguments.Add(new ActionParameter(a.Name, numeric ? ArgumentType.Number : ArgumentType.Text, Required: false, Unit: numeric ? a.Unit : null, Description: a.Description ?? "command argument"));
        }

        common.AddRange(commandArguments);
        var raw = new List<ActionParameter>
        {
            new("like", ArgumentType.Text, Required: false, Choices: dictionary.Commands.Where(c => !c.Hazardous).Select(c => c.Name).ToList(), Description: "start from this command's bytes, app and counters"),
            new("mid", ArgumentType.Text, Required: false, Description: "or: a command message ID (0x1882)"),
            new("function-code", ArgumentType.Number, Required: false, Min: 0, Max: 127, Description: "function code to put in the packet (e.g. one the app does not know)"),
            new("payload", ArgumentType.Text, Required: false, Description: "payload bytes in hex, replacing the command's"),
            new("length", ArgumentType.Number, Required: false, Min: 8, Max: 65542, Description: "whole packet length in bytes (zero-padded or cut; the CCSDS length field follows)"),
            new("checksum", ArgumentType.Text, Required: false, Choices: ["valid", "invalid"]),
        };
        raw.AddRange(verification);
        raw.AddRange(commandArguments);

        var sendOutputs = new List<SignalInfo>
        {
            new("accept_time", Unit.Second, SignalAccess.Read, "seconds from send to acceptance"),
            new("complete_time", Unit.Second, SignalAccess.Read, "seconds from send to completion (NaN when no completion check)"),
            new("accept_delta", Unit.Count, SignalAccess.Read, "change of the command counter in the housekeeping that showed the command's fate"),
            new("reject_delta", Unit.Count, SignalAccess.Read, "change of the error counter in that housekeeping"),
        };
        var actions = new List<ActionInfo>
        {
            new("send", common, sendOutputs, false, "send a command and verify it: sent → accepted → completed (or outcome: rejected)"),
            new("send-hazardous", common, sendOutputs, true, "send a command the dictionary marks hazardous (needs inhibits and confirmation)"),
            new("send-raw", raw, sendOutputs, false, "send a packet the dictionary does not define (negative tests), expected to be rejected; recorded as raw"),
            new("expect",
            [
                new("channel", ArgumentType.Text, Required: false, Choices: dictionary.Channels.Select(c => c.Name).ToList()),
                new("low", ArgumentType.Number, Required: false),
                new("high", ArgumentType.Number, Required: false),
                new("value", ArgumentType.Text, Required: false, Description: "exact value or enumeration label"),
                new("delta", ArgumentType.Number, Required: false, Description: "change since the step's latest command (or its start): 1 = rose by exactly 1, 0 = unchanged"),
                new("changes", ArgumentType.Number, Required: false, Description: "the value must change this many times"),
                new("sequence", ArgumentType.Text, Required: false, Description: "comma-separated values seen in this order"),
                new("event", ArgumentType.Text, Required: false, Description: "an event message containing this text (since the step started)"),
                new("event-id", ArgumentType.Number, Required: false, Min: 0, Max: 65535, Description: "an event with this id (with 'app': that app's event)"),
                new("app", ArgumentType.Text, Required: false, Description: "the app that sent the event (cFS event ids are unique per app only)"),
                new("event-type", ArgumentType.Text, Required: false, Description: "event type: DEBUG, INFORMATION, ERROR, CRITICAL (or its number)"),
                new("timeout", ArgumentType.Text, Required: false),
            ],
            [
                new("value", Unit.None, SignalAccess.Read, "the channel's value (or the event's id) when the expectation was met"),
                new("time", Unit.Second, SignalAccess.Read, "seconds until the expectation was met"),
                new("changes", Unit.Count, SignalAccess.Read, "changes seen"),
                new("delta", Unit.None, SignalAccess.Read, "the change judged by 'delta'"),
            ], false, "wait until telemetry meets an expectation"),
            new("wait-packet",
            [
                new("packet", ArgumentType.Text, Required: false, Choices: dictionary.Packets.Select(p => p.Name).ToList()),
                new("timeout", ArgumentType.Text, Required: false),
            ],
            [new("time", Unit.Second, SignalAccess.Read, "seconds until the packet arrived")], false, "wait for the next packet (housekeeping by default)"),
        };
        return new DeviceDescription(name, KindName, signals, actions);
    }
}
