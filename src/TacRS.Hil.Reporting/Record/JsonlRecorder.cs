using System.Text;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Reporting.Record;

/// <summary>
/// Appends each event to <c>record.jsonl</c> as one line and flushes it to the disk before
/// returning, so a run killed at any moment (SIGKILL, power loss) keeps every event that finished.
/// The file is created new: a record is never appended to another run's.
/// A write that fails (a full disk, a vanished mount) never reaches the engine — recording must not
/// stop a run from safing its rig. The recorder keeps the first failure in <see cref="Failure"/> and
/// writes nothing more; the run's events are still held in memory and the run host reports the
/// record as incomplete.
/// </summary>
public sealed class JsonlRecorder : IRunRecorder, IDisposable
{
    public const string FileName = "record.jsonl";

    private readonly FileStream _stream;
    private readonly Lock _gate = new();
    private long _seq;
    private long _written;
    private bool _closed;

    /// <summary>Creates the record file; throws <see cref="IOException"/> when it exists or cannot be created.</summary>
    public JsonlRecorder(string path)
    {
        Path = path;
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
    }

    public string Path { get; }

    /// <summary>The OS error of the first write that failed; null while every event reached the disk.</summary>
    public string? Failure { get; private set; }

    public RunEvent Write(RunEvent e)
    {
        lock (_gate)
        {
            var stamped = e with { Seq = _seq++ };
            if (Failure is not null || _closed)
            {
                return stamped;
            }

            try
            {
                var bytes = Encoding.UTF8.GetBytes(RunEventJson.Serialize(stamped) + "\n");
                _stream.Write(bytes);
                _stream.Flush(flushToDisk: true);
                _written++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Failure = $"{ex.Message} (the first {_written} events were written; the rest are missing)";
            }

            return stamped;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            try
            {
                _stream.Dispose();
            }
            catch (IOException ex)
            {
                // Closing flushes nothing (every write was flushed), but a dead disk can still refuse the close.
                Failure ??= ex.Message;
            }
        }
    }
}
