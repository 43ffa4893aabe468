using System.Globalization;
using Serilog;
using Serilog.Formatting.Compact;
using TacRS.Hil.Cli.Terminal;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.JUnit;
using TacRS.Hil.Reporting.Record;

namespace TacRS.Hil.Cli.Hosting;

/// <summary>What a finished run leaves: its verdict (artifacts counted), its directory and record, and where the report and history went.</summary>
internal sealed record HostedRun(RunVerdict Verdict, string? RunDirectory, RunRecord? Record, string? ReportPath = null, string? HistoryNote = null)
{
    public int ExitCode => Verdict.ExitCode;
}

/// <summary>
/// A run's artifacts, fed from the events as the run produces them: <c>record.jsonl</c> (flushed per
/// event), the events in memory, the console, and <c>log.clef</c>; at the end JUnit, the HTML report and
/// the history rows are built once from the events in memory (not by reading the record back).
/// A file that cannot be written never stops the run or its safing: it is named, with the OS error,
/// in the verdict (exit 4), and the console's last line announces the exit code the process returns.
/// </summary>
internal sealed class RunArtifacts : IDisposable
{
    /// <summary>How long a run waits for a history another process holds locked before it reports it (exit 4).</summary>
    public static readonly TimeSpan HistoryBusyTimeout = TimeSpan.FromSeconds(10);

    private readonly JsonlRecorder _jsonl;
    private readonly MemoryRecorder _memory = new();
    private readonly Serilog.Core.Logger _log;
    private readonly TextWriter? _console;
    private readonly bool _colour;
    private bool _completed;

    private RunArtifacts(string directory, JsonlRecorder jsonl, TimeProvider clock, bool virtualClock, string runId, TextWriter? console, bool colour, IReadOnlyList<IRunRecorder> observers)
    {
        Directory = directory;
        _jsonl = jsonl;
        _console = console;
        _colour = colour;

        // The record file first (it numbers the events), then memory, the console, and any observer of the run
        // (a live station page, a shared results database): each sees every event, numbered, as it happens.
        IRunRecorder[] sinks = [jsonl, _memory, .. console is null ? Array.Empty<IRunRecorder>() : [new ConsoleReporter(console, colour)], .. observers];
        IRunRecorder tee = new TeeRecorder(sinks);
        Recorder = virtualClock ? new WallStamp(tee) : tee;
        _log = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .Enrich.WithProperty("RunId", runId)
            .Enrich.With(new ClockEnricher(clock))
            .WriteTo.File(new CompactJsonFormatter(), Path.Combine(directory, "log.clef"))
            .CreateLogger();
    }

    public string Directory { get; }

    /// <summary>Where every event goes: the record file, memory, the console; stamped with the wall clock when the run's clock is virtual.</summary>
    public IRunRecorder Recorder { get; }

    public ILogger Log => _log;

    /// <summary>
    /// Creates the run directory and its record file. A directory that already holds a run, or one that cannot
    /// be written, is refused before anything runs (<see cref="UsageException"/>, exit 2).
    /// </summary>
    public static RunArtifacts Create(string directory, string runId, TimeProvider clock, bool virtualClock, TextWriter? console, bool colour, IReadOnlyList<IRunRecorder>? observers = null)
    {
        var record = Path.Combine(directory, JsonlRecorder.FileName);
        if (File.Exists(record))
        {
            var previous = RunRecord.Load(record).Start?.RunId ?? "unknown";
            throw new UsageException($"--out {directory} already holds run {previous} ({record}); a run never appends to another's record: give a new directory (or leave --out out for runs/<run id>/)");
        }

        JsonlRecorder jsonl;
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            // On the system clock (a bench, a rehearsal) every event is on the disk before the run goes on.
            jsonl = new JsonlRecorder(record, durable: !virtualClock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{record}: cannot create the run's record: {e.Message}; nothing was run");
        }

        return new RunArtifacts(directory, jsonl, clock, virtualClock, runId, console, colour, observers ?? []);
    }

    /// <summary>Writes JUnit, the report and the history rows from the events in memory, then prints the RESULT line.</summary>
    public HostedRun Complete(RunVerdict verdict, string? historyPath, Func<string, ResultsStore>? openHistory = null)
    {
        _completed = true;
        var record = RunRecord.FromEvents(_memory.Events, _jsonl.Path);
        var problems = new List<ArtifactProblem>();
        Try(problems, LogPath, _log.Dispose);
        Try(problems, Path.Combine(Directory, JUnitWriter.FileName), () => JUnitWriter.WriteRun(Path.Combine(Directory, JUnitWriter.FileName), record));
        string? report = null;
        Try(problems, Path.Combine(Directory, HtmlReport.FileName), () => report = HtmlReport.Write(record, Directory));
        string? historyNote = null;
        if (historyPath is not null)
        {
            try
            {
                using var store = (openHistory ?? (p => ResultsStore.Open(p, HistoryBusyTimeout)))(historyPath);
                var stored = store.Record(record);
                historyNote = Reporting.Nightly.NightlyRunner.HistoryNoteFor(stored.Measurements, historyPath);
            }
            catch (Exception e) when (e is ResultsStoreException or IOException or UnauthorizedAccessException)
            {
                var message = e.Message.StartsWith(historyPath + ": ", StringComparison.Ordinal) ? e.Message[(historyPath.Length + 2)..] : e.Message;
                problems.Add(new ArtifactProblem(historyPath, message));
            }
        }

        if (_jsonl.Failure is { } recordFailure)
        {
            problems.Insert(0, new ArtifactProblem(_jsonl.Path, recordFailure));
        }

        var final = verdict with { ArtifactProblems = problems };
        if (problems.Count > 0)
        {
            // Into the record too, when it can still be written: `report RUN_DIR` then says why junit.xml is missing.
            Recorder.Write(new Note("artifacts", "run-host", "red", "artifacts incomplete: " + string.Join("; ", problems), new Dictionary<string, string> { ["exit-code"] = final.ExitCode.ToString(CultureInfo.InvariantCulture) }) { At = record.Events.Count > 0 ? record.Events[^1].At : default });
        }

        _jsonl.Dispose();
        if (_console is not null)
        {
            var end = record.End;
            var detail = end is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" ({end.StepsPassed} passed, {end.StepsFailed} not) in {ConsoleReporter.FormatHours(end.DurationSeconds)} of run time");
            foreach (var p in problems)
            {
                Console.Error.WriteLine($"tacrs-hil: artifact not written: {p}");
            }

            ConsoleReporter.WriteResult(_console, _colour, final, detail);
            _console.WriteLine($"run directory: {Directory} (record.jsonl, junit.xml, report.html, log.clef){(historyPath is null ? string.Empty : "; history: " + historyPath)}");
        }

        return new HostedRun(final, Directory, record, report, historyNote);
    }

    private string LogPath => Path.Combine(Directory, "log.clef");

    public void Dispose()
    {
        if (!_completed)
        {
            Try([], LogPath, _log.Dispose);
            _jsonl.Dispose();
        }
    }

    private static void Try(List<ArtifactProblem> problems, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(new ArtifactProblem(path, e.Message));
        }
    }

    /// <summary>Stamps every event with the wall clock (the composition root's one reading of it) beside the run's virtual time.</summary>
    private sealed class WallStamp(IRunRecorder inner) : IRunRecorder
    {
        public RunEvent Write(RunEvent e) => inner.Write(e with { Wall = TimeProvider.System.GetUtcNow() });
    }

    /// <summary>Stamps every log event with the run's clock (virtual in simulation), next to Serilog's wall-clock timestamp.</summary>
    private sealed class ClockEnricher(TimeProvider time) : Serilog.Core.ILogEventEnricher
    {
        public void Enrich(Serilog.Events.LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory) =>
            logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("RunClock", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
    }
}
