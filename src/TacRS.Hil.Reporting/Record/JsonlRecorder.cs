using System.Buffers;
using System.Text.Json;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Reporting.Record;

/// <summary>
/// Appends each event to <c>record.jsonl</c> as one line, handed to the operating system (one
/// <c>write(2)</c>, no buffer in this process) before returning, so a run killed at any moment (SIGKILL,
/// a crash of the harness) keeps every event that finished: the kernel writes it out whatever becomes of
/// the process. A <em>durable</em> recorder (every run on the system clock: a bench, a rehearsal) also
/// flushes each line to the disk before returning, so a power loss of the bench host keeps it too. A
/// simulated run is not fsynced per event: that cost more than the rest of a simulated campaign together
/// (13 % of its CPU and most of its wall time), and a simulated run lost to a power cut is run again, the same.
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
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly Utf8JsonWriter _json;
    private long _seq;
    private long _written;
    private bool _closed;

    private readonly bool _durable;

    /// <summary>Creates the record file; throws <see cref="IOException"/> when it exists or cannot be created.</summary>
    /// <param name="durable">Flush each event to the disk (fsync) before returning.</param>
    public JsonlRecorder(string path, bool durable = false)
    {
        Path = path;
        _durable = durable;
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = RunEventJson.Options.Encoder, Indented = false, SkipValidation = true });
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
                // The line, newline included, in one write: a reader never sees half an event.
                _line.ResetWrittenCount();
                _json.Reset(_line);
                RunEventJson.Serialize(_json, stamped);
                _json.Flush();
                _line.GetSpan(1)[0] = (byte)'\n';
                _line.Advance(1);
                _stream.Write(_line.WrittenSpan);
                if (_durable)
                {
                    _stream.Flush(flushToDisk: true);
                }

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
                _json.Dispose();
            }
            catch (IOException ex)
            {
                // Closing flushes nothing (every write was flushed), but a dead disk can still refuse the close.
                Failure ??= ex.Message;
            }
        }
    }
}
