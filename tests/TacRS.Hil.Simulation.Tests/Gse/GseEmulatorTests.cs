using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Models;
using TacRS.Hil.Simulation.Modbus;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Testing;
using TacRS.Hil.Devices.Modbus.Simulated;

namespace TacRS.Hil.Simulation.Tests.Gse;

public class GseEmulatorTests
{
    private static VirtualTimeProvider Clock() => new(SimulationSettings.DefaultStart);

    private static RegisterMap Psu => RegisterMap.Load(RepoPaths.Fixture("registers", "gse-psu.yaml"));

    private static RegisterMap Relays => RegisterMap.Load(RepoPaths.Fixture("registers", "umbilical-relays.yaml"));

    /// <summary>Writes through the protocol handler, as a master would.</summary>
    private static byte[] Request(ModbusDataStore store, Func<byte[], int> write)
    {
        var req = new byte[260];
        var n = write(req);
        var resp = new byte[260];
        var m = ModbusSlave.Handle(store, req.AsSpan(0, n), resp);
        return resp[..m];
    }

    private static void Set(IModbusEmulator e, string point, double value)
    {
        var p = e.Store.Map![point];
        var w = new ushort[2];
        Assert.That(p.TryEncode(value, w, out _), Is.True);
        var resp = p.Table == RegisterTable.Coil
            ? Request(e.Store, b => ModbusPdu.WriteSingleCoilRequest(b, p.Address, value != 0))
            : Request(e.Store, b => ModbusPdu.WriteSingleRegisterRequest(b, p.Address, w[0]));
        Assert.That(resp[0] & 0x80, Is.Zero, $"write {point} refused with code {(resp.Length > 1 ? resp[1] : 0)}");
    }

    [Test]
    public void Psu_OutputSlewsFirstOrderToSetpoint()
    {
        var time = Clock();
        var psu = new PowerSupplyEmulator(Psu, time, new Random(7)) { Load = new ResistiveLoad(100), Noise = 0 };
        Set(psu, "voltage_setpoint", 28);
        Set(psu, "output_enable", 1);
        time.Advance(TimeSpan.FromMilliseconds(100));
        var early = psu.OutputVoltage;
        Assert.That(early, Is.GreaterThan(1).And.LessThan(27), "slew-limited: not there yet after 100 ms");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(psu.OutputVoltage, Is.EqualTo(28).Within(1e-3));
        Assert.That(psu.OutputCurrent, Is.EqualTo(0.28).Within(1e-4));
        Assert.That(psu.Store.Get("cv_mode"), Is.EqualTo(1));
    }

    [Test]
    public void Psu_HeavyLoad_FoldsBackToCurrentLimit()
    {
        var time = Clock();
        var psu = new PowerSupplyEmulator(Psu, time, new Random(7)) { Load = new ResistiveLoad(5), Noise = 0 };
        Set(psu, "current_limit", 3);
        Set(psu, "output_enable", 1);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(psu.OutputCurrent, Is.EqualTo(3).Within(1e-3));
        Assert.That(psu.OutputVoltage, Is.EqualTo(15).Within(1e-2));
        Assert.That(psu.Store.Get("cc_mode"), Is.EqualTo(1));
    }

    [Test]
    public void Psu_AboveOvp_TripsAndLatchesUntilCleared()
    {
        var time = Clock();
        var psu = new PowerSupplyEmulator(Psu, time, new Random(7)) { Noise = 0 };
        Set(psu, "ovp_level", 30);
        Set(psu, "voltage_setpoint", 32);
        Set(psu, "output_enable", 1);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(psu.OutputOn, Is.False, "tripped on the run's clock as the output crossed 30 V, with nobody reading");
        Assert.That(psu.OutputVoltage, Is.LessThan(0.01), "and the output has fallen since");
        psu.Publish();
        Assert.That(psu.Store.Get("ovp_tripped"), Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(psu.OutputOn, Is.False, "latched");
        Set(psu, "voltage_setpoint", 28);
        Set(psu, "clear_faults", 1);
        Assert.That(psu.Store.Get("clear_faults"), Is.EqualTo(0), "command coil clears itself");
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.That(psu.OutputVoltage, Is.EqualTo(28).Within(1e-3));
    }

    [Test]
    public void Psu_SameSeed_SameNoisyReadings()
    {
        double[] Run(int seed)
        {
            var time = Clock();
            var psu = new PowerSupplyEmulator(Psu, time, new Random(seed)) { Load = new ResistiveLoad(50) };
            Set(psu, "output_enable", 1);
            return Enumerable.Range(0, 20).Select(_ => { time.Advance(TimeSpan.FromMilliseconds(50)); psu.Publish(); return psu.Store.Get("output_voltage"); }).ToArray();
        }

        var a = Run(42);
        var b = Run(42);
        var c = Run(43);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
    }

    [Test]
    public void Psu_SetpointOutsideRange_AnswersIllegalDataValue()
    {
        var psu = new PowerSupplyEmulator(Psu, Clock(), new Random(1));
        var resp = Request(psu.Store, b => ModbusPdu.WriteSingleRegisterRequest(b, 0, 3700)); // 37.00 V > 36 V
        Assert.That(resp, Is.EqualTo(new byte[] { 0x86, 0x03 }));
        resp = Request(psu.Store, b => ModbusPdu.WriteSingleRegisterRequest(b, 100, 1)); // read-only model id
        Assert.That(resp, Is.EqualTo(new byte[] { 0x86, 0x02 }));
        resp = Request(psu.Store, b => ModbusPdu.WriteReadRequest(b, ModbusFunction.ReadHoldingRegisters, 50, 1)); // unmapped
        Assert.That(resp, Is.EqualTo(new byte[] { 0x83, 0x02 }));
    }

    [Test]
    public void Relays_ContactFollowsCoilAfterOperateTime_AndStuckContactShows()
    {
        var time = Clock();
        var box = new UmbilicalRelayBoxEmulator(Relays, time);
        Set(box, "relay_umbilical_power", 1);
        Assert.That(box.ContactClosed("relay_umbilical_power"), Is.False, "relay has not operated yet");
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(box.ContactClosed("relay_umbilical_power"), Is.True);
        box.StickContact("relay_umbilical_power", true);
        Set(box, "relay_umbilical_power", 0);
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.That(box.ContactClosed("relay_umbilical_power"), Is.True, "welded contact stays closed");
        box.Publish();
        Assert.That(box.Store.Get("relay_cycles"), Is.EqualTo(2));
        Assert.That(box.Store.Get("connector_j1_mated"), Is.EqualTo(1));
    }
}
