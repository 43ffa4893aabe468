using System.Diagnostics;
using Microsoft.Data.Sqlite;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.History;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Reporting.Tests.Html;

namespace TacRS.Hil.Reporting.Tests.History;

public class ResultsStoreTests
{
    private const int FailFixtureMeasurements = 31;

    [Test]
    public void Record_FailedRun_OneRowPerMeasurementWithItsContext()
    {
        var path = HistoryFixtures.NewStorePath();
        using var store = ResultsStore.Open(path);

        var stored = store.Record(RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Fail)));

        Assert.That(stored, Is.EqualTo(new StoredRun("20261125T020000Z-payload-power-on-s42", FailFixtureMeasurements, false, true)));
        using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT rig, procedure, seed, step, name, value, unit, low, high, marginal, outcome, is_marginal, virtual_seconds, wall_time, typeof(value)
            FROM measurements WHERE name = 'payload.bus_current' AND outcome = 'FAIL'
            """;
        using var r = cmd.ExecuteReader();
        Assert.That(r.Read(), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(r.GetString(0), Is.EqualTo("sim-laptop"));
            Assert.That(r.GetString(1), Is.EqualTo("payload-power-on"));
            Assert.That(r.GetInt64(2), Is.EqualTo(42));
            Assert.That(r.GetString(3), Is.EqualTo("thermal-soak"));
            Assert.That(r.GetDouble(5), Is.EqualTo(1.53));
            Assert.That(r.GetString(6), Is.EqualTo("A"));
            Assert.That(r.IsDBNull(7), Is.True, "no low limit");
            Assert.That(r.GetDouble(8), Is.EqualTo(1.5));
            Assert.That(r.GetDouble(9), Is.EqualTo(0.1));
            Assert.That(r.GetInt64(11), Is.Zero);
            Assert.That(r.GetDouble(12), Is.EqualTo(490));
            Assert.That(r.GetString(13), Is.EqualTo("2026-11-25T02:00:00.0000000+00:00"));
            Assert.That(r.GetString(14), Is.EqualTo("real"));
            Assert.That(r.Read(), Is.False);
        });
    }

    [Test]
    public void Record_SameRunTwice_ReplacesInsteadOfDuplicating()
    {
        using var store = ResultsStore.Open(HistoryFixtures.NewStorePath());
        var record = RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Fail));

        store.Record(record);
        var second = store.Record(record);

        Assert.Multiple(() =>
        {
            Assert.That(second.Replaced, Is.True);
            Assert.That(store.RunCount(), Is.EqualTo(1));
            Assert.That(store.MeasurementCount(), Is.EqualTo(FailFixtureMeasurements));
            Assert.That(store.CheckConsistency(), Is.Empty);
        });
    }

    [Test]
    public void Record_ExceptionMidRun_NothingOfThatRunIsKeptAndStoreStaysUsable()
    {
        using var store = ResultsStore.Open(HistoryFixtures.NewStorePath());
        store.Record(HistoryFixtures.Night(RecordFixtures.Pass, 1));
        var doomed = HistoryFixtures.Night(RecordFixtures.Fail, 2);

        Assert.Throws<IOException>(() => store.Record(doomed, row =>
        {
            if (row == 12)
            {
                throw new IOException("disk pulled out mid-run");
            }
        }));

        Assert.Multiple(() =>
        {
            Assert.That(store.RunCount(), Is.EqualTo(1));
            Assert.That(store.MeasurementCount(doomed.Start!.RunId), Is.Zero);
            Assert.That(store.CheckConsistency(), Is.Empty);
        });
        Assert.That(store.Record(doomed).Measurements, Is.EqualTo(FailFixtureMeasurements));
        Assert.That(store.RunCount(), Is.EqualTo(2));
    }

    [Test]
    public void Record_InvalidRowMidRun_RolledBackWithClearMessage()
    {
        using var store = ResultsStore.Open(HistoryFixtures.NewStorePath());
        var text = File.ReadAllText(RecordFixtures.RecordPath(RecordFixtures.Fail))
            .Replace("\"name\":\"obc.mode\"", "\"name\":\"\"", StringComparison.Ordinal);

        var e = Assert.Throws<ResultsStoreException>(() => store.Record(RunRecord.Parse(text, "record.jsonl")));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("run 20261125T020000Z-payload-power-on-s42 not recorded (nothing of it was kept)"));
            Assert.That(e.Message, Does.Contain("CHECK constraint failed"));
            Assert.That(store.RunCount(), Is.Zero);
            Assert.That(store.MeasurementCount(), Is.Zero);
        });
    }

    [Test]
    public void Record_KilledRunRecord_StoredAsIncomplete()
    {
        using var store = ResultsStore.Open(HistoryFixtures.NewStorePath());

        var stored = store.Record(RunRecord.Load(RecordFixtures.RecordPath(RecordFixtures.Killed)));

        Assert.Multiple(() =>
        {
            Assert.That(stored.Complete, Is.False);
            Assert.That(stored.Measurements, Is.EqualTo(store.MeasurementCount()));
            Assert.That(store.Trend("payload.bus_current").Single().RunOutcome, Is.EqualTo("INCOMPLETE"));
        });
    }

    /// <summary>
    /// A writer process killed (SIGKILL) inside its transaction: on the next open SQLite rolls the
    /// transaction back from its journal and the store holds exactly what was committed before.
    /// The writer is Debian's python3 (its sqlite3 module) on our schema, because it is the one
    /// external process that can be parked mid-transaction reliably.
    /// </summary>
    [Test]
    public async Task Open_AfterWriterKilledMidTransaction_StoreIsConsistentAndWithoutTheRun()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            Assert.Fail($"{python} not found: this test needs the Debian package 'python3'.");
        }

        var path = HistoryFixtures.NewStorePath();
        using (var store = ResultsStore.Open(path))
        {
            store.Record(HistoryFixtures.Night(RecordFixtures.Pass, 1));
        }

        const string writer = """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO runs VALUES ('killed-run','sim-laptop','payload-power-on',9,'simulated','0.1.0','PASS',1,'2026-11-20T02:00:00+00:00',0,1.0,500)")
            for i in range(250):
                c.execute("INSERT INTO measurements VALUES ('killed-run',?,'sim-laptop','payload-power-on',9,'s',1,'payload.bus_current',1.2,'A',NULL,1.5,NULL,NULL,'PASS',0,'t',0,'w',0)", (i,))
            print("mid-transaction", flush=True)
            time.sleep(120)
            """;
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(writer);
        psi.ArgumentList.Add(path);
        using var process = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30), TimeProvider.System);
            var line = await process.StandardOutput.ReadLineAsync(cts.Token);
            if (line != "mid-transaction")
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"writer did not reach its transaction: '{line}' {await process.StandardError.ReadToEndAsync(cts.Token)}");
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        using var reopened = ResultsStore.Open(path);
        Assert.Multiple(() =>
        {
            Assert.That(reopened.CheckConsistency(), Is.Empty);
            Assert.That(reopened.RunCount(), Is.EqualTo(1));
            Assert.That(reopened.MeasurementCount("killed-run"), Is.Zero);
        });
        Assert.That(reopened.Record(HistoryFixtures.Night(RecordFixtures.Fail, 2)).Measurements, Is.EqualTo(FailFixtureMeasurements));
    }

    [Test]
    public void Trend_TwelveNights_LastTenOldestFirstWithFinalValuePerRun()
    {
        using var store = ResultsStore.Open(HistoryFixtures.NewStorePath());
        for (var night = 1; night <= 12; night++)
        {
            store.Record(HistoryFixtures.Night(RecordFixtures.Pass, night, 1.20 + (night * 0.01)));
        }

        store.Record(HistoryFixtures.Night(RecordFixtures.Pass, 13, 1.49, rig: "bench-2"));

        var trend = store.Trend("payload.bus_current", rig: "sim-laptop", last: 10);

        Assert.Multiple(() =>
        {
            Assert.That(trend.Select(p => p.Value!.Value), Is.EqualTo(Enumerable.Range(3, 10).Select(n => 1.20 + (n * 0.01))).Within(1e-12));
            Assert.That(trend[0].RunId, Is.EqualTo("night-003-payload-power-on-pass-sim-laptop"));
            Assert.That(trend.All(p => p.High == 1.5 && p.Unit == "A" && p.Step == "thermal-soak"), Is.True);
            Assert.That(store.Trend("payload.bus_current", last: 1).Single().Rig, Is.EqualTo("bench-2"));
            Assert.That(store.Trend("no.such.measurement"), Is.Empty);
            Assert.That(store.MeasurementNames(), Does.Contain("payload.board_temp"));
        });
    }

    [Test]
    public void Open_FileThatIsNotADatabase_ThrowsNamingTheFile()
    {
        var path = HistoryFixtures.NewStorePath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "this is not sqlite, it is a shopping list\n".PadRight(4096, 'x'));

        var e = Assert.Throws<ResultsStoreException>(() => ResultsStore.Open(path));

        Assert.That(e!.Message, Does.StartWith(path + ": cannot open results history:"));
    }
}
