using System.Globalization;
using Microsoft.Data.Sqlite;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.History;

/// <summary>One run's value of one measurement, as the trend query returns it (oldest first).</summary>
public sealed record TrendPoint(
    string RunId,
    string Rig,
    string Procedure,
    long Seed,
    DateTimeOffset WallTime,
    string Step,
    double? Value,
    string Unit,
    double? Low,
    double? High,
    double? Marginal,
    double? Expected,
    string Outcome,
    string RunOutcome);

/// <summary>What <see cref="ResultsStore.Record"/> wrote.</summary>
public sealed record StoredRun(string RunId, int Measurements, bool Replaced, bool Complete);

/// <summary>A results history that cannot be used (bad file, wrong schema, record without run-start).</summary>
public sealed class ResultsStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The results history: a row per measurement per run in SQLite, for trends across nightly runs
/// (TestStand's and OpenTAP's result databases). A run is written in ONE transaction, runs row and
/// measurement rows together, so a reader never sees half a run and a writer killed mid-run leaves
/// the store as it was before (SQLite's journal rolls the transaction back on next open).
/// Re-recording a run id replaces it in the same transaction, so importing twice is harmless.
/// </summary>
public sealed class ResultsStore : IDisposable
{
    public const int SchemaVersion = 1;

    /// <summary>Used when neither <c>--history</c> nor the rig names a store.</summary>
    /// <summary>
    /// Where a run's measurements go when neither the rig (<c>history:</c>) nor the command line names a store:
    /// the user's data directory (<c>$XDG_DATA_HOME/tacrs-hil/history.db</c>, else
    /// <c>~/.local/share/tacrs-hil/history.db</c>), never the directory the command happens to run in.
    /// </summary>
    public static string DefaultPath
    {
        get
        {
            var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
                ? xdg
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return System.IO.Path.Combine(data, "tacrs-hil", "history.db");
        }
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS runs (
            run_id TEXT PRIMARY KEY,
            rig TEXT NOT NULL,
            procedure TEXT NOT NULL,
            seed INTEGER NOT NULL,
            mode TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            outcome TEXT NOT NULL,
            complete INTEGER NOT NULL,
            wall_start TEXT NOT NULL,
            wall_start_ms INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            measurements INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS measurements (
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            seq INTEGER NOT NULL,
            rig TEXT NOT NULL,
            procedure TEXT NOT NULL,
            seed INTEGER NOT NULL,
            step TEXT NOT NULL CHECK (step <> ''),
            attempt INTEGER NOT NULL,
            name TEXT NOT NULL CHECK (name <> ''),
            value REAL,
            unit TEXT NOT NULL,
            low REAL,
            high REAL,
            marginal REAL,
            expected REAL,
            outcome TEXT NOT NULL,
            is_marginal INTEGER NOT NULL,
            virtual_time TEXT NOT NULL,
            virtual_seconds REAL NOT NULL,
            wall_time TEXT NOT NULL,
            wall_time_ms INTEGER NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE INDEX IF NOT EXISTS ix_measurements_name ON measurements (name, rig, wall_time_ms);
        """;

    private readonly SqliteConnection _connection;

    private ResultsStore(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    public string Path { get; }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    /// <param name="busyTimeout">How long to wait for another writer's lock (default a minute; the run host waits less, so a
    /// database someone holds locked is reported, not waited on for ever).</param>
    public static ResultsStore Open(string path, TimeSpan? busyTimeout = null)
    {
        var busy = (int)(busyTimeout ?? TimeSpan.FromMinutes(1)).TotalMilliseconds;
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = Math.Max(1, busy / 1000),
        }.ToString());
        try
        {
            connection.Open();
            // WAL: the nightly runner's parallel runs append while someone reads trends; readers never block.
            Execute(connection, $"PRAGMA busy_timeout={busy.ToString(CultureInfo.InvariantCulture)}; PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;");
            using (var tx = connection.BeginTransaction())
            {
                Execute(connection, Schema, tx);
                var version = Scalar(connection, "SELECT version FROM schema_info LIMIT 1", tx);
                if (version is null)
                {
                    Execute(connection, $"INSERT INTO schema_info (version) VALUES ({SchemaVersion.ToString(CultureInfo.InvariantCulture)})", tx);
                }
                else if (Convert.ToInt64(version, CultureInfo.InvariantCulture) != SchemaVersion)
                {
                    throw new ResultsStoreException($"{path}: results history has schema version {version}, this tool writes version {SchemaVersion}");
                }

                tx.Commit();
            }

            return new ResultsStore(full, connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new ResultsStoreException($"{path}: cannot open results history: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Writes every measurement of <paramref name="record"/> in one transaction.</summary>
    public StoredRun Record(RunRecord record) => Record(record, afterRow: null);

    /// <param name="afterRow">Called after each measurement row is inserted (tests use it to fail mid-run).</param>
    public StoredRun Record(RunRecord record, Action<int>? afterRow)
    {
        var start = record.Start ?? throw new ResultsStoreException($"{record.Source}: no run-start event, the run cannot be identified");
        var measurements = record.Events.OfType<MeasurementRecorded>().ToList();
        var hardware = string.Equals(start.Mode, "hardware", StringComparison.OrdinalIgnoreCase);
        using var tx = _connection.BeginTransaction();
        try
        {
            var replaced = Convert.ToInt64(Scalar(_connection, "SELECT COUNT(*) FROM runs WHERE run_id = $id", tx, ("$id", start.RunId)), CultureInfo.InvariantCulture) > 0;
            if (replaced)
            {
                Execute(_connection, "DELETE FROM measurements WHERE run_id = $id; DELETE FROM runs WHERE run_id = $id;", tx, ("$id", start.RunId));
            }

            using (var run = _connection.CreateCommand())
            {
                run.Transaction = tx;
                run.CommandText = """
                    INSERT INTO runs (run_id, rig, procedure, seed, mode, tool_version, outcome, complete, wall_start, wall_start_ms, duration_seconds, measurements)
                    VALUES ($id, $rig, $procedure, $seed, $mode, $tool, $outcome, $complete, $wall, $wallms, $duration, $count)
                    """;
                run.Parameters.AddWithValue("$id", start.RunId);
                run.Parameters.AddWithValue("$rig", start.Rig);
                run.Parameters.AddWithValue("$procedure", start.Procedure);
                run.Parameters.AddWithValue("$seed", start.Seed);
                run.Parameters.AddWithValue("$mode", start.Mode);
                run.Parameters.AddWithValue("$tool", start.ToolVersion);
                run.Parameters.AddWithValue("$outcome", record.Outcome);
                run.Parameters.AddWithValue("$complete", record.End is null ? 0 : 1);
                run.Parameters.AddWithValue("$wall", Iso(start.WallClockStart));
                run.Parameters.AddWithValue("$wallms", start.WallClockStart.ToUnixTimeMilliseconds());
                run.Parameters.AddWithValue("$duration", record.End?.DurationSeconds ?? record.LastEventSeconds);
                run.Parameters.AddWithValue("$count", measurements.Count);
                run.ExecuteNonQuery();
            }

            using var insert = _connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = """
                INSERT INTO measurements (run_id, seq, rig, procedure, seed, step, attempt, name, value, unit, low, high, marginal, expected,
                                          outcome, is_marginal, virtual_time, virtual_seconds, wall_time, wall_time_ms)
                VALUES ($id, $seq, $rig, $procedure, $seed, $step, $attempt, $name, $value, $unit, $low, $high, $marginal, $expected,
                        $outcome, $ismarginal, $vt, $vs, $wt, $wtms)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (var name in new[] { "$id", "$seq", "$rig", "$procedure", "$seed", "$step", "$attempt", "$name", "$value", "$unit", "$low", "$high", "$marginal", "$expected", "$outcome", "$ismarginal", "$vt", "$vs", "$wt", "$wtms" })
            {
                // Untyped: SQLite stores each value with the type of the bound .NET value (REAL, INTEGER, TEXT, NULL).
                var parameter = insert.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = DBNull.Value;
                insert.Parameters.Add(parameter);
                p[name] = parameter;
            }

            insert.Prepare();
            var row = 0;
            foreach (var m in measurements)
            {
                // On a bench the run clock is the wall clock; in simulation a measurement has no wall
                // time of its own, so it carries the wall-clock start of its run (what trends sort by).
                var wall = hardware ? m.At : start.WallClockStart;
                p["$id"].Value = start.RunId;
                p["$seq"].Value = m.Seq;
                p["$rig"].Value = start.Rig;
                p["$procedure"].Value = start.Procedure;
                p["$seed"].Value = start.Seed;
                p["$step"].Value = m.Step;
                p["$attempt"].Value = m.Attempt;
                p["$name"].Value = m.Name;
                p["$value"].Value = Db(m.Value);
                p["$unit"].Value = m.Unit;
                p["$low"].Value = Db(m.Low);
                p["$high"].Value = Db(m.High);
                p["$marginal"].Value = Db(m.Marginal);
                p["$expected"].Value = Db(m.Expected);
                p["$outcome"].Value = m.Outcome;
                p["$ismarginal"].Value = m.IsMarginal ? 1 : 0;
                p["$vt"].Value = Iso(m.At);
                p["$vs"].Value = record.SecondsSinceStart(m.At);
                p["$wt"].Value = Iso(wall);
                p["$wtms"].Value = wall.ToUnixTimeMilliseconds();
                insert.ExecuteNonQuery();
                afterRow?.Invoke(++row);
            }

            tx.Commit();
            return new StoredRun(start.RunId, measurements.Count, replaced, record.End is not null);
        }
        catch (SqliteException e)
        {
            tx.Rollback();
            throw new ResultsStoreException($"{Path}: run {start.RunId} not recorded (nothing of it was kept): {e.Message}", e);
        }
        catch
        {
            tx.Rollback();
            throw;
        }
    }

    /// <summary>Reads <c>RUN_DIR/record.jsonl</c> and records it.</summary>
    public StoredRun RecordRunDirectory(string runDirectory) =>
        Record(RunRecord.Load(System.IO.Path.Combine(runDirectory, RunRecord.FileName)));

    /// <summary>
    /// The last <paramref name="last"/> runs that measured <paramref name="measurement"/>, oldest first,
    /// one point per run: the run's final value of it (the last attempt is the one that was judged).
    /// </summary>
    public IReadOnlyList<TrendPoint> Trend(string measurement, string? rig = null, int last = 10, string? procedure = null)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT m.run_id, m.rig, m.procedure, m.seed, r.wall_start, m.step, m.value, m.unit, m.low, m.high, m.marginal, m.expected, m.outcome, r.outcome
            FROM measurements m JOIN runs r ON r.run_id = m.run_id
            WHERE m.name = $name AND ($rig IS NULL OR m.rig = $rig) AND ($procedure IS NULL OR m.procedure = $procedure)
              AND m.seq = (SELECT MAX(seq) FROM measurements x WHERE x.run_id = m.run_id AND x.name = m.name)
            ORDER BY r.wall_start_ms DESC, m.run_id DESC
            LIMIT $last
            """;
        cmd.Parameters.AddWithValue("$name", measurement);
        cmd.Parameters.AddWithValue("$rig", (object?)rig ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$procedure", (object?)procedure ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$last", Math.Max(1, last));
        var points = new List<TrendPoint>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            double? D(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            points.Add(new TrendPoint(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                reader.GetString(5), D(6), reader.GetString(7), D(8), D(9), D(10), D(11), reader.GetString(12), reader.GetString(13)));
        }

        points.Reverse();
        return points;
    }

    /// <summary>Measurement names in the store (for "did you mean" when a name has no history).</summary>
    public IReadOnlyList<string> MeasurementNames(string? rig = null)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT name FROM measurements WHERE ($rig IS NULL OR rig = $rig) ORDER BY name";
        cmd.Parameters.AddWithValue("$rig", (object?)rig ?? DBNull.Value);
        var names = new List<string>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    public long RunCount() => Convert.ToInt64(Scalar(_connection, "SELECT COUNT(*) FROM runs", null), CultureInfo.InvariantCulture);

    public long MeasurementCount(string? runId = null) => Convert.ToInt64(
        Scalar(_connection, "SELECT COUNT(*) FROM measurements WHERE ($id IS NULL OR run_id = $id)", null, ("$id", (object?)runId ?? DBNull.Value)),
        CultureInfo.InvariantCulture);

    /// <summary>
    /// The store's own invariants: SQLite's integrity check passes and every run has exactly the
    /// measurement rows it says it has. Returns the problems found (empty when consistent).
    /// </summary>
    public IReadOnlyList<string> CheckConsistency()
    {
        var problems = new List<string>();
        var integrity = Convert.ToString(Scalar(_connection, "PRAGMA integrity_check", null), CultureInfo.InvariantCulture);
        if (!string.Equals(integrity, "ok", StringComparison.Ordinal))
        {
            problems.Add("integrity check: " + integrity);
        }

        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT r.run_id, r.measurements, (SELECT COUNT(*) FROM measurements m WHERE m.run_id = r.run_id) FROM runs r
            UNION ALL
            SELECT DISTINCT m.run_id, -1, 0 FROM measurements m WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = m.run_id)
            """;
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var (id, expected, actual) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
            if (expected < 0)
            {
                problems.Add($"measurements of run {id} without a runs row");
            }
            else if (expected != actual)
            {
                problems.Add($"run {id} says {expected} measurements, store has {actual}");
            }
        }

        return problems;
    }

    public void Dispose() => _connection.Dispose();

    private static object Db(double? v) => v is { } x && double.IsFinite(x) ? x : DBNull.Value;

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static void Execute(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string Name, object Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection c, string sql, SqliteTransaction? tx, params (string Name, object Value)[] args)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in args)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        return cmd.ExecuteScalar();
    }
}
