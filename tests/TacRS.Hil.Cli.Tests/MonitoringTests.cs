using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// Issue 14's done-when cases on the shipped rig in simulation: a lost device is found within its documented
/// bound of virtual time wherever the run is (mid-soak), a monitor fails the soak at the moment of the excursion,
/// and a value older than its signal's max age is an ERROR, never a pass or a fail.
/// </summary>
[NonParallelizable]
public sealed class MonitoringTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-monitoring-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Stdout, RunRecord Record) Run(string fault, string procedure = "payload-power-on", Func<string, string>? edit = null)
    {
        var rig = RepoPaths.WriteRig(_dir, t => (edit ?? (x => x))(t.Replace("  seed: 42", "  seed: 42\n  faults:\n    - " + fault, StringComparison.Ordinal)));
        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", procedure, "--out", outDir);
        return (code, stdout + stderr, RunRecord.Load(Path.Combine(outDir, "record.jsonl")));
    }

    private static DateTimeOffset Start => new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void LinkLoss_OnTheFlightComputerFiveMinutesIntoTheSoak_LostDeviceWithinFourSecondsOfVirtualTime()
    {
        var (code, stdout, record) = Run("{ device: obc, fault: link-loss, at: 5min }");

        Assert.That(code, Is.EqualTo(3), stdout);
        var lost = record.Events.OfType<Note>().Single(n => n.Category == "device-lost");
        Assert.That(lost.Source, Is.EqualTo("obc"));
        Assert.That(lost.Fields!["endpoint"], Does.Contain("/dev/ttyUSB0"), "the rig's endpoint of the flight computer's link");
        Assert.That(lost.Message, Does.Contain("no telemetry for"));
        Assert.That(lost.At - Start, Is.GreaterThan(TimeSpan.FromMinutes(5)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(4)), "the documented bound: housekeeping max age (3 s) + one 1 s check after the last packet");
        Assert.That(record.Steps.Single(s => s.Step == "soak").Outcome, Is.EqualTo("LOST-DEVICE"));
        Assert.That(record.End!.SafeStateReached, Is.True, "the flight computer is not needed to safe the rig");
    }

    [Test]
    public void PsuTrip_ThirtySecondsInTheMiddleOfTheSoak_TheSoakFailsAtTheTrip()
    {
        var (code, stdout, record) = Run("{ device: gse, fault: psu-trip, at: 5min, for: 30s }");

        Assert.That(code, Is.EqualTo(1), stdout);
        var soak = record.Steps.Single(s => s.Step == "soak");
        Assert.That(soak.Outcome, Is.EqualTo("FAIL"));
        Assert.That(soak.End!.Reason, Does.Contain("monitor soak_rail_voltage: rail.bus_voltage = "));
        Assert.That(soak.End.At - Start, Is.GreaterThanOrEqualTo(TimeSpan.FromMinutes(5)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1)), "failed at the trip (1 s sampling), not at the end of the 10-minute soak");
        var samples = record.Events.OfType<MonitorSamples>().Where(m => m.Monitor == "soak_rail_voltage").ToList();
        Assert.That(samples.Sum(m => m.Excursions), Is.EqualTo(1));
        Assert.That(samples[^1].Final, Is.True);

        // The report plots every monitored sample with the excursion marked, rebuilt from record.jsonl alone.
        var report = Path.Combine(_dir, "run", "report.html");
        File.Delete(report);
        var (reportCode, reportOut, _) = InProcessCli.Run("report", Path.Combine(_dir, "run"));
        Assert.That(reportCode, Is.EqualTo(0), reportOut);
        var html = File.ReadAllText(report);
        Assert.That(html, Does.Contain("<section id=\"monitors\">"));
        Assert.That(html, Does.Contain("soak: soak_rail_voltage (rail.bus_voltage, " + samples.Sum(m => m.Values.Count) + " samples, 1 excursion)"));
        Assert.That(html, Does.Contain("outside the limits"));
    }

    [Test]
    public void RailNack_AtTwoMinutes_IsALostDeviceAtTwoMinutesNotAtTheEndOfTheSoak()
    {
        var (code, stdout, record) = Run("{ device: rail, fault: nack, at: 2min }");

        Assert.That(code, Is.EqualTo(3), stdout);
        var lost = record.Events.OfType<Note>().Single(n => n.Category == "device-lost");
        Assert.That(lost.Source, Is.EqualTo("rail"));
        Assert.That(lost.Fields!["endpoint"], Is.EqualTo("i2c-1@0x40"));
        Assert.That(lost.At - Start, Is.GreaterThanOrEqualTo(TimeSpan.FromMinutes(2)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Monitors_OnACleanSoak_LeaveStatisticsAndEverySampleInTheRecord()
    {
        var rig = RepoPaths.WriteRig(_dir);
        var (code, stdout, _) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--out", Path.Combine(_dir, "run"));
        var record = RunRecord.Load(Path.Combine(_dir, "run", "record.jsonl"));

        Assert.That(code, Is.EqualTo(0), stdout);
        var batches = record.Events.OfType<MonitorSamples>().Where(m => m.Monitor == "soak_rail_current").ToList();
        Assert.That(batches.Sum(b => b.Values.Count), Is.EqualTo(600), "one sample a second for 10 minutes");
        Assert.That(batches.All(b => b.Unit == "mA" && b.Low == 300 && b.High == 1200), Is.True);
        var measured = record.Events.OfType<MeasurementRecorded>().Where(m => m.Step == "soak").Select(m => m.Name).ToList();
        Assert.That(measured, Is.SupersetOf(new[] { "soak_rail_current_min", "soak_rail_current_max", "soak_rail_current_mean", "soak_rail_current_samples", "soak_rail_current_time_outside" }));
        Assert.That(record.Events.OfType<MeasurementRecorded>().Single(m => m.Name == "soak_voltage").SampledAt, Is.Not.Null, "a measurement records when its value was sampled");
    }

    // ---- stale samples are refused, per device family (a rig max-age shorter than the value's age)

    [Test]
    public void Stale_AvionicsTelemetryOlderThanItsMaxAge_IsAnErrorNotAPass()
    {
        // Housekeeping comes once a second; with max-age 100ms the value the step reads is older than that.
        var (code, stdout, record) = RunStale(
            "obc:\n    kind: avionics", "obc:\n    max-age: { mode: 100ms }\n    kind: avionics",
            "      - call: obc.expect\n        with: { channel: mode, value: SAFE, timeout: 60s }\n      - wait: 500ms\n    measure:\n      - name: m\n        signal: obc.mode\n        expect: 2\n");

        Assert.That(code, Is.EqualTo(1), stdout);
        Assert.That(StepReason(record), Does.Match(@"stale: obc\.mode last received 0\.\d s ago \(max age 100ms\)"));
    }

    [Test]
    public void Stale_ModbusReadSlowerThanItsMaxAge_IsAnErrorNotAPass()
    {
        var (code, stdout, record) = RunStale(
            "gse:\n    kind: modbus", "gse:\n    max-age: 100ms\n    kind: modbus",
            "      - wait: 1s\n    measure:\n      - name: m\n        signal: gse.voltage_setpoint\n        limits: { low: 0 }\n",
            "{ device: gse, fault: delay, at-step: read, delay: 150ms }");

        Assert.That(code, Is.EqualTo(1), stdout);
        Assert.That(StepReason(record), Does.Match(@"stale: gse\.voltage_setpoint last received 0\.\d s ago \(max age 100ms\)"));
    }

    [Test]
    public void Stale_HamlibStationReadSlowerThanItsMaxAge_IsAnErrorNotAPass()
    {
        var (code, stdout, record) = RunStale(
            "station:\n    kind: station", "station:\n    max-age: { azimuth: 100ms }\n    kind: station",
            "      - wait: 1s\n    measure:\n      - name: m\n        signal: station.azimuth\n        limits: { low: -360 }\n",
            "{ device: station, fault: delay, at-step: read, delay: 300ms }");

        Assert.That(code, Is.EqualTo(1), stdout);
        Assert.That(StepReason(record), Does.Match(@"stale: station\.azimuth last received 0\.\d s ago \(max age 100ms\)"));
    }

    [Test]
    public void Stale_NeverReceivedTelemetry_NeverSatisfiesAHazardInhibitNorAMeasurement()
    {
        // The payload is off: the flight computer has never sent anything, so obc.rf_transmit has no value.
        var (code, stdout, record) = RunStale(null, null, "      - wait: 1s\n    measure:\n      - name: m\n        signal: obc.rf_transmit\n        expect: 0\n");

        Assert.That(code, Is.EqualTo(1), stdout);
        Assert.That(StepReason(record), Does.Contain("stale: obc.rf_transmit has no value (never received)"));
    }

    [Test]
    public void RotatorLostWhileWaitingForAos_WithoutLiveness_TheWaitsOwnPollFindsItWithinNineSeconds()
    {
        // The wait for AOS lasts hours of virtual time; even with the liveness checks off, its own poll of the
        // rotator (every 5 s, 2 s timeout) must end it within the station's documented bound of 9 s.
        var rig = RepoPaths.WriteRig(_dir, t => t.Replace("  seed: 42", "  seed: 42\n  faults:\n    - { device: station, fault: link-loss, at: 10min }", StringComparison.Ordinal));
        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", "ground-segment-checkout", "--no-liveness", "--out", outDir);

        Assert.That(code, Is.Not.Zero, stdout + stderr);
        var step = RunRecord.Load(Path.Combine(outDir, "record.jsonl")).Steps.Single(s => s.Step == "wait-aos");
        Assert.That(step.Passed, Is.False, step.End?.Reason);
        var start = RunRecord.Load(Path.Combine(outDir, "record.jsonl")).Start!.At;
        Assert.That(step.StartedAt - start, Is.LessThan(TimeSpan.FromMinutes(10)), "the link is lost in the middle of the wait");
        Assert.That((step.End!.At - start).TotalSeconds, Is.InRange(600.0, 609.0), step.End.Reason);
    }

    [Test]
    public void NoLiveness_TheRecordSaysTheChecksWereOff()
    {
        var rig = RepoPaths.WriteRig(_dir);
        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", "payload-power-on", "--set", "power-on.soak=5s", "--no-liveness", "--out", outDir);
        Assert.That(code, Is.Zero, stdout + stderr);
        var notes = RunRecord.Load(Path.Combine(outDir, "record.jsonl")).Events.OfType<Note>().Where(n => n.Category == "liveness").ToList();
        Assert.That(notes.Select(n => n.Message), Has.One.Contains("liveness checks are off"), "a pass without liveness checks says so");
    }

    private static string StepReason(RunRecord record) => record.Steps.Single(s => s.Step == "read").End!.Reason ?? string.Empty;

    private (int Code, string Stdout, RunRecord Record) RunStale(string? find, string? replace, string body, string? fault = null)
    {
        var rig = RepoPaths.WriteRig(_dir, t =>
        {
            var edited = find is null ? t : t.Replace(find, replace!, StringComparison.Ordinal);
            return fault is null ? edited : edited.Replace("  seed: 42", "  seed: 42\n  faults:\n    - " + fault, StringComparison.Ordinal);
        });
        var procedure = Path.Combine(_dir, "stale.yaml");
        File.WriteAllText(procedure, $$"""
            procedure: stale
            safe-state:
              - set: payload_io.payload_enable
                value: 0
            steps:
              - id: power
                do:
                  - call: gse.output_on
                  - set: umbilical.relay_umbilical_power
                    value: 1
                  - set: payload_io.payload_enable
                    value: {{(body.Contains("rf_transmit", StringComparison.Ordinal) ? 0 : 1)}}
              - id: read
                do:
            {{body}}
            """);
        var outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = InProcessCli.Run("run", rig, "-p", procedure, "--out", outDir);
        return (code, stdout + stderr, RunRecord.Load(Path.Combine(outDir, "record.jsonl")));
    }
}
