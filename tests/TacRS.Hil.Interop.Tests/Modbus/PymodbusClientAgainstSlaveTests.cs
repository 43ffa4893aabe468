using System.Net;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Interop.Tests.Modbus.Peers;
using TacRS.Hil.Simulation.Modbus;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Interop.Tests.Modbus;

/// <summary>pymodbus's client (FC22 mask write, FC8 return query data) against our emulated slave, over TCP and RTU.</summary>
[NonParallelizable]
public class PymodbusClientAgainstSlaveTests
{
    private static string Script => Path.Combine(RepoPaths.Root, "tests", "TacRS.Hil.Interop.Tests", "Modbus", "Peers", "pymodbus_client.py");

    private static (ModbusSlave Slave, ModbusDataStore Store) NewSlave()
    {
        var store = new ModbusDataStore();
        store.Define(RegisterTable.HoldingRegister, 0, 10);
        store.SetRegister(RegisterTable.HoldingRegister, 4, 0x12);
        return (new ModbusSlave(TimeProvider.System).AddUnit(1, store), store);
    }

    [Test]
    public async Task Tcp_MaskWriteAndReturnQueryData()
    {
        var (slave, store) = NewSlave();
        await using var listener = slave.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        var (code, output, err) = Peers.Peers.Run(Peers.Peers.PythonWithPymodbus(), [Script, "tcp", listener.Endpoint.Port.ToString()], Peers.Peers.Bound);
        Assert.That((code, output.Trim()), Is.EqualTo((0, "mask=00f2,0025 read=0017 echo=a537")), err);
        Assert.That(store.GetRegister(RegisterTable.HoldingRegister, 4), Is.EqualTo(0x17));
    }

    [Test]
    public async Task Rtu_MaskWriteAndReturnQueryData()
    {
        var (slave, store) = NewSlave();
        using var pty = await PtyPair.CreateAsync();
        await using var transport = SerialTransport.Open(new SerialSpec(pty.A, 115200));
        using var stop = new CancellationTokenSource();
        var serving = slave.ServeAsync(transport, ModbusFraming.Rtu, stop.Token);
        var (code, output, err) = Peers.Peers.Run(Peers.Peers.PythonWithPymodbus(), [Script, "rtu", pty.B], Peers.Peers.Bound);
        stop.Cancel();
        await serving;
        Assert.That((code, output.Trim()), Is.EqualTo((0, "mask=00f2,0025 read=0017 echo=a537")), err);
        Assert.That(store.GetRegister(RegisterTable.HoldingRegister, 4), Is.EqualTo(0x17));
    }
}
