using System.Text;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Reporting.Record;

/// <summary>
/// Appends each event to <c>record.jsonl</c> as one line and flushes it to the disk before
/// returning, so a run killed at any moment (SIGKILL, power loss) keeps every event that finished.
/// </summary>
public sealed class JsonlRecorder : IRunRecorder, IDisposable
{
    public const string FileName = "record.jsonl";

    private readonly FileStream _stream;
    private readonly Lock _gate = new();
    private long _seq;

    public JsonlRecorder(string path)
    {
        Path = path;
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
    }

    public string Path { get; }

    public RunEvent Write(RunEvent e)
    {
        lock (_gate)
        {
            var stamped = e with { Seq = _seq++ };
            var bytes = Encoding.UTF8.GetBytes(RunEventJson.Serialize(stamped) + "\n");
            _stream.Write(bytes);
            _stream.Flush(flushToDisk: true);
            return stamped;
        }
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>Reads a record back. A torn last line (the process died mid-write) is reported, not thrown.</summary>
    public static RecordReadResult Read(string path)
    {
        var events = new List<RunEvent>();
        string? torn = null;
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                events.Add(RunEventJson.Deserialize(line));
            }
            catch (System.Text.Json.JsonException ex)
            {
                torn = $"{path}:{lineNo}: unreadable record line ({ex.Message})";
            }
        }

        return new RecordReadResult(events, torn);
    }
}

public sealed record RecordReadResult(IReadOnlyList<RunEvent> Events, string? Problem);
