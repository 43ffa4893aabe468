namespace TacRS.Hil.Cli.Tests;

/// <summary>
/// The coupled plant through the whole harness: small procedures on the default simulated rig, run by the real
/// run host, judged on the rail. A procedure that would fail on the bench (the payload enabled without the supply
/// switched on, or with the umbilical power relay open) fails here too, on the rail measurement; the supply's trip
/// stays latched until reset; the payload's current follows the flight computer's mode.
/// </summary>
public sealed class PlantEndToEndTests
{
    private const string SafeState = """
        safe-state:
          actions:
            - set: payload_io.payload_enable
              value: 0
            - call: gse.output_off
            - call: umbilical.all_open
            - wait: 2s
          verify:
            - name: rail_off
              signal: rail.bus_voltage
              unit: V
              limits: { high: 2.0 }
              settle: 5s
        """;

    private const string SupplyOn = """
              - set: gse.voltage_setpoint
                value: 28
                unit: V
              - set: gse.current_limit
                value: 3
                unit: A
              - call: gse.output_on

        """;

    private const string RelayClosed = """
              - set: umbilical.relay_umbilical_power
                value: 1

        """;

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("tacrs-plant-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(false, true, TestName = "Procedure_EnablesThePayloadWithoutSwitchingTheSupplyOn_FailsOnTheRail")]
    [TestCase(true, false, TestName = "Procedure_EnablesThePayloadWithTheUmbilicalPowerRelayOpen_FailsOnTheRail")]
    public void WrongProcedure_FailsOnTheRailMeasurement(bool supply, bool relay)
    {
        var (code, stdout, stderr) = Run(PowerUp(supply, relay));

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stdout + stderr);
            Assert.That(stdout, Does.Match(@"✗ bus_voltage = 0(\.0\d*)? V, limits \[26, 30\] V: FAIL"), "the rail is dead, as on the bench");
            Assert.That(stdout, Does.Contain("■ power-up FAIL"));
            Assert.That(stdout, Does.Contain("SAFE STATE REACHED"));
        });
    }

    [Test]
    public void Procedure_SupplyOnRelayClosedThenEnable_PassesOnTheRail()
    {
        var (code, stdout, stderr) = Run(PowerUp(supply: true, relay: true));

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("bus_voltage"), Is.InRange(27.5, 28.0));
    }

    [Test]
    public void SupplySwitchedOff_RailDecays_WithinSeconds()
    {
        var (code, stdout, stderr) = Run(PowerUp(true, true) + """

              - id: supply-off
                do:
                  - call: gse.output_off
                  - wait: 5s
                measure:
                  - name: rail_after_supply_off
                    signal: rail.bus_voltage
                    unit: V
                    limits: { high: 1.0 }
                timeout: 30s
            """);

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("rail_after_supply_off"), Is.LessThan(0.1), "5 s after supply-off the rail is dead");
    }

    [Test]
    public void SupplyTrip_StaysLatchedAfterItsCauseIsGone_UntilTheProcedureResetsIt()
    {
        var (code, stdout, stderr) = Run(
            PowerUp(true, true) + """

              - id: trip
                do:
                  - wait: 10s
                measure:
                  - name: rail_tripped
                    signal: rail.bus_voltage
                    unit: V
                    limits: { high: 1.0 }
                  - name: gse_fault_latched
                    signal: gse.fault
                    expect: 1
                timeout: 30s

              - id: reset
                do:
                  - call: gse.reset_faults
                  - wait-until: rail.bus_voltage
                    limits: { low: 26 }
                    timeout: 5s
                  - wait: 2s
                measure:
                  - name: rail_after_reset
                    signal: rail.bus_voltage
                    unit: V
                    limits: { low: 26, high: 30 }
                timeout: 30s
            """,
            "    - { device: gse, fault: psu-trip, at-step: trip, for: 1s }");

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("rail_tripped"), Is.LessThan(0.1), "9 s after the trip's cause ended the supply is still off");
        Assert.That(Measurement("rail_after_reset"), Is.InRange(27.5, 28.0));
    }

    [Test]
    public void PayloadCurrent_FollowsTheFlightComputersMode()
    {
        static string Current(string name, double low, double high) => $$"""
                  - name: {{name}}
                    signal: rail.current
                    unit: A
                    limits: { low: {{low}}, high: {{high}} }
            """;

        var (code, stdout, stderr) = Run(PowerUp(true, true) + $$"""

              - id: safe
                do:
                  - call: obc.expect
                    with: { channel: mode, value: SAFE, timeout: 30s }
                measure:
            {{Current("current_safe", 0.55, 0.7)}}
                timeout: 1min
              - id: nominal
                do:
                  - call: obc.send
                    with: { command: SET_MODE, mode: NOMINAL, complete-when: "mode == NOMINAL", complete-within: 10s }
                measure:
            {{Current("current_nominal", 0.8, 0.9)}}
                timeout: 1min
              - id: active
                do:
                  - call: obc.send
                    with: { command: SET_MODE, mode: PAYLOAD_ACTIVE, complete-when: "mode == PAYLOAD_ACTIVE", complete-within: 10s }
                measure:
            {{Current("current_active", 1.3, 1.4)}}
                timeout: 1min
              - id: imaging
                do:
                  - call: obc.send
                    with: { command: TAKE_IMAGE, exposure: 5000, complete-when: "mode == PAYLOAD_ACTIVE" }
                measure:
            {{Current("current_imaging", 2.0, 2.2)}}
                timeout: 1min
              - id: imaged
                do:
                  - call: obc.expect
                    with: { channel: images_taken, low: 1, timeout: 30s }
                measure:
            {{Current("current_after_image", 1.3, 1.4)}}
                timeout: 1min
            """);

        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(Measurement("current_imaging") - Measurement("current_safe"), Is.GreaterThan(1.3), "an exposure draws far more than SAFE");
    }

    /// <summary>A procedure that powers the payload up (with or without the supply switched on and the power relay closed) and measures the rail.</summary>
    private static string PowerUp(bool supply, bool relay) => $$"""
        procedure: plant-power-up
        {{SafeState}}
        steps:
          - id: power-up
            do:
        {{(supply ? SupplyOn : string.Empty)}}{{(relay ? RelayClosed : string.Empty)}}      - set: payload_io.payload_enable
                value: 1
              - wait: 3s
            measure:
              - name: bus_voltage
                signal: rail.bus_voltage
                unit: V
                limits: { low: 26, high: 30 }
            timeout: 1min
        """;

    private (int Code, string Stdout, string Stderr) Run(string procedure, string faults = "")
    {
        var rig = DefaultRigCopy.WithSimulation(_dir, faults.Length > 0 ? "  faults:\n" + faults : string.Empty);
        var procPath = Path.Combine(_dir, "procedure.yaml");
        File.WriteAllText(procPath, procedure);
        return InProcessCli.Run("run", rig, "-p", procPath, "--out", Path.Combine(_dir, "run"));
    }

    private double Measurement(string name) => DefaultRigCopy.Measurement(Path.Combine(_dir, "run"), name);
}
