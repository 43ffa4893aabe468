using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TacRS.Hil.Drivers.Avionics;

public enum PacketDirection
{
    Received,
    Sent,
}

/// <summary>One archived packet: when (the run's clock), which way, over which link, and its bytes.</summary>
public sealed record ArchivedPacket(DateTimeOffset At, PacketDirection Direction, string Link, byte[] Bytes);

/// <summary>
/// Archive of every packet sent and received on an avionics link, as JSON lines (one header line naming the
/// device and dictionary, then one line per packet with receive time, direction, link and hex bytes). Text,
/// so it survives a killed run line by line and can be read without this tool; decoded again by
/// <see cref="TelemetryReplay"/> with a (possibly corrected) dictionary.
/// </summary>
public sealed class PacketArchiveWriter : IDisposable
{
    public const string FileSuffix = ".packets.jsonl";

    private readonly Lock _gate = new();
    private readonly Stream _stream;
    private byte[] _line = new byte[512];
    private string? _link;
    private byte[] _linkJson = [];

    public PacketArchiveWriter(Stream stream, string device, string dictionaryFile, string? dictionaryVersion = null)
    {
        _stream = stream;
        var header = new JsonObject
        {
            ["archive"] = "tacrs-avionics",
            ["version"] = 1,
            ["device"] = device,
            ["dictionary"] = dictionaryFile,
        };
        if (dictionaryVersion is not null)
        {
            // Replay decodes with the same layouts the run used (a dictionary may describe several flight-software versions).
            header["dictionary-version"] = dictionaryVersion;
        }

        _stream.Write(System.Text.Encoding.UTF8.GetBytes(header.ToJsonString() + "\n"));
        _stream.Flush();
    }

    public static string FileName(string device) => device + FileSuffix;

    /// <summary>
    /// Appends one line, handed to the operating system before returning (a killed run keeps it). The line is
    /// formatted as UTF-8 into a buffer kept for the next: a 24-hour soak archives 86,400 housekeeping packets,
    /// and building each line as strings first was most of what the harness allocated in it.
    /// </summary>
    public void Write(DateTimeOffset at, PacketDirection direction, string link, ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(link, _link))
            {
                _linkJson = JsonSerializer.SerializeToUtf8Bytes(link);
                _link = link;
            }

            // {"t":"<round-trip time>","dir":"rx","link":<JSON string>,"hex":"<HEX>"}
            var need = 64 + 40 + _linkJson.Length + (2 * packet.Length);
            if (_line.Length < need)
            {
                _line = new byte[Math.Max(need, _line.Length * 2)];
            }

            var line = _line.AsSpan();
            var n = Append(line, "{\"t\":\""u8);
            at.TryFormat(line[n..], out var written, "O", CultureInfo.InvariantCulture);
            n += written;
            n += Append(line[n..], direction == PacketDirection.Received ? "\",\"dir\":\"rx\",\"link\":"u8 : "\",\"dir\":\"tx\",\"link\":"u8);
            n += Append(line[n..], _linkJson);
            n += Append(line[n..], ",\"hex\":\""u8);
            Convert.TryToHexString(packet, line[n..], out written);
            n += written;
            n += Append(line[n..], "\"}\n"u8);
            _stream.Write(line[..n]);
            _stream.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stream.Dispose();
        }
    }

    private static int Append(Span<byte> to, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(to);
        return bytes.Length;
    }
}

/// <summary>Reads an archive written by <see cref="PacketArchiveWriter"/>.</summary>
public static class PacketArchiveReader
{
    public sealed record ArchiveHeader(string Device, string Dictionary, string? DictionaryVersion = null);

    public static (ArchiveHeader Header, IReadOnlyList<ArchivedPacket> Packets) Read(string path)
    {
        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    public static (ArchiveHeader Header, IReadOnlyList<ArchivedPacket> Packets) Read(TextReader reader, string name)
    {
        var first = reader.ReadLine() ?? throw new InvalidDataException($"{name}:1: empty archive");
        var h = JsonNode.Parse(first) as JsonObject;
        if (h?["archive"]?.GetValue<string>() != "tacrs-avionics")
        {
            throw new InvalidDataException($"{name}:1: not a TacRS avionics packet archive");
        }

        var header = new ArchiveHeader(h["device"]?.GetValue<string>() ?? "?", h["dictionary"]?.GetValue<string>() ?? string.Empty, h["dictionary-version"]?.GetValue<string>());
        var packets = new List<ArchivedPacket>();
        var lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                var o = JsonNode.Parse(line)!.AsObject();
                packets.Add(new ArchivedPacket(
                    DateTimeOffset.Parse(o["t"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                    o["dir"]!.GetValue<string>() == "tx" ? PacketDirection.Sent : PacketDirection.Received,
                    o["link"]!.GetValue<string>(),
                    Convert.FromHexString(o["hex"]!.GetValue<string>())));
            }
            catch (Exception e) when (e is JsonException or FormatException or NullReferenceException or InvalidOperationException)
            {
                // A run killed mid-line leaves a torn last line; anything else torn is reported.
                if (reader.Peek() < 0)
                {
                    break;
                }

                throw new InvalidDataException($"{name}:{lineNo}: bad archive line: {e.Message}", e);
            }
        }

        return (header, packets);
    }
}

/// <summary>
/// Decodes an archive again with a dictionary and writes the telemetry record: one JSON line per received
/// packet with its engineering values (and event text), the same for a live run and a replay.
/// </summary>
public static class TelemetryReplay
{
    public const string FileSuffix = ".telemetry.jsonl";

    public sealed record Summary(int Packets, int Decoded, int Unknown, int Events);

    public static Summary Write(IEnumerable<ArchivedPacket> packets, AvionicsDictionary dictionary, TextWriter output)
    {
        var decom = new Decommutator(dictionary);
        var values = new double[decom.ChannelCount];
        int total = 0, decoded = 0, unknown = 0, events = 0;
        foreach (var p in packets)
        {
            if (p.Direction != PacketDirection.Received)
            {
                continue;
            }

            total++;
            var o = new JsonObject { ["t"] = p.At.ToString("O", CultureInfo.InvariantCulture), ["link"] = p.Link };
            var index = decom.Decode(p.Bytes, values);
            if (index < 0)
            {
                unknown++;
                o["unknown"] = Convert.ToHexString(p.Bytes);
                output.WriteLine(o.ToJsonString());
                continue;
            }

            decoded++;
            var def = decom.Packet(index);
            o["packet"] = def.Name;
            if (Protocols.Ccsds.SpacePacketHeader.TryRead(p.Bytes, out var h, out _))
            {
                o["seq"] = h.SequenceCount;
            }

            var vals = new JsonObject();
            foreach (var f in def.Fields)
            {
                if (f.Type == FieldType.String)
                {
                    vals[f.Name] = Decommutator.ReadText(p.Bytes, f);
                }
                else
                {
                    var v = values[f.Channel];
                    vals[f.Name] = double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(v.ToString(CultureInfo.InvariantCulture));
                    if (f.Enumeration is not null)
                    {
                        vals[f.Name + "_label"] = f.Format(v);
                    }

                    if (f.Judge(v) is var state and not LimitState.Nominal)
                    {
                        vals[f.Name + "_limit"] = state.ToString().ToLowerInvariant();
                    }
                }
            }

            if (dictionary.Events is { } ev && ev.Packet == def.Name)
            {
                events++;
            }

            o["values"] = vals;
            output.WriteLine(o.ToJsonString());
        }

        output.Flush();
        return new Summary(total, decoded, unknown, events);
    }
}
