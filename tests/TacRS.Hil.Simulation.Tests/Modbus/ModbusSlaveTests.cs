using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Simulation.Tests.Modbus;

/// <summary>The slave's framing decisions: bad MBAP headers, units it does not serve, FC22 and FC8.</summary>
public class ModbusSlaveTests
{
    private static ModbusDataStore Store()
    {
        var s = new ModbusDataStore();
        s.Define(RegisterTable.HoldingRegister, 0, 10);
        return s;
    }

    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", string.Empty, StringComparison.Ordinal));

    /// <summary>Sends bytes to a slave serving one session and returns what came back before it went quiet or closed, and whether it closed.</summary>
    private static async Task<(string Reply, bool Closed)> Exchange(ModbusSlave slave, ModbusFraming framing, params string[] frames)
    {
        var (client, emulator) = InProcessPipe.Create("t");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), TimeProvider.System);
        var session = slave.ServeAsync(emulator, framing, cts.Token);
        var closed = false;
        foreach (var f in frames)
        {
            try
            {
                await client.WriteAsync(Hex(f), cts.Token);
            }
            catch (TransportException)
            {
                // The slave already dropped the connection (a bad frame before this one): nothing more reaches it.
                closed = true;
                break;
            }
        }

        // The slave runs synchronously on the writes here: whatever it answered is already queued.
        var buf = new byte[1024];
        var reply = new List<byte>();
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        try
        {
            int n;
            while ((n = await client.ReadAsync(buf, quiet.Token)) > 0)
            {
                reply.AddRange(buf[..n]);
            }

            closed = true;
        }
        catch (OperationCanceledException)
        {
        }

        await client.DisposeAsync();
        await session;
        return (Convert.ToHexString(reply.ToArray()), closed);
    }

    [TestCase("0001 0001 0006 01 03 0000 0001", TestName = "Tcp_ProtocolIdNotZero_DropsTheConnection")]
    [TestCase("0001 0000 0000 01", TestName = "Tcp_MbapLengthZero_DropsTheConnection")]
    [TestCase("0001 0000 0001 01", TestName = "Tcp_MbapLengthOne_DropsTheConnection")]
    [TestCase("0001 0000 00FF 01 03 0000 0001", TestName = "Tcp_MbapLengthOver254_DropsTheConnection")]
    public async Task Tcp_BadMbapHeader_NoReplyAndTheConnectionClosed(string frame)
    {
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, Store());
        var (reply, closed) = await Exchange(slave, ModbusFraming.Tcp, frame, "0002 0000 0006 01 03 0000 0001");
        Assert.Multiple(() =>
        {
            Assert.That(reply, Is.Empty, "nothing answered, not even the valid request behind it");
            Assert.That(closed, Is.True, "the client is dropped at once, not left hanging");
            Assert.That(slave.FramesRejected, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Tcp_UnitNotServed_SilentUnlessGateway()
    {
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, Store());
        var (silent, _) = await Exchange(slave, ModbusFraming.Tcp, "0007 0000 0006 09 03 0000 0001");
        slave.Gateway = true;
        var (gateway, closed) = await Exchange(slave, ModbusFraming.Tcp, "0007 0000 0006 09 03 0000 0001");
        Assert.Multiple(() =>
        {
            Assert.That(silent, Is.Empty, "pymodbus's answer: none");
            Assert.That(gateway, Is.EqualTo("00070000000309830B"), "exception 0x0B, gateway target device failed to respond");
            Assert.That(closed, Is.False);
        });
    }

    [Test]
    public async Task Rtu_UnitNotServed_SilentEvenAsGateway()
    {
        var slave = new ModbusSlave(TimeProvider.System) { Gateway = true }.AddUnit(1, Store());
        var (reply, _) = await Exchange(slave, ModbusFraming.Rtu, "09 03 0000 0001 " + Crc("09 03 0000 0001"));
        Assert.That(reply, Is.Empty);
    }

    [TestCase(ModbusFraming.Tcp)]
    [TestCase(ModbusFraming.Rtu)]
    public async Task Fc22_MaskWrite_SpecExample_RegisterBecomes0x17(ModbusFraming framing)
    {
        var store = Store();
        store.SetRegister(RegisterTable.HoldingRegister, 4, 0x12);
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, store);
        var (reply, _) = await Exchange(slave, framing, Frame(framing, "01 16 0004 00F2 0025"));
        Assert.Multiple(() =>
        {
            Assert.That(reply, Is.EqualTo(Frame(framing, "01 16 0004 00F2 0025").Replace(" ", string.Empty, StringComparison.Ordinal)), "the response echoes the request");
            Assert.That(store.GetRegister(RegisterTable.HoldingRegister, 4), Is.EqualTo(0x17));
        });
    }

    [TestCase(ModbusFraming.Tcp, "01 08 0000 A537")]
    [TestCase(ModbusFraming.Rtu, "01 08 0000 A537")]
    [TestCase(ModbusFraming.Tcp, "01 08 0000 0102030405060708")]
    [TestCase(ModbusFraming.Rtu, "01 08 0000 0102030405060708")]
    public async Task Fc8_ReturnQueryData_EchoesAnyLength(ModbusFraming framing, string adu)
    {
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, Store());
        var (reply, _) = await Exchange(slave, framing, Frame(framing, adu));
        Assert.That(reply, Is.EqualTo(Frame(framing, adu).Replace(" ", string.Empty, StringComparison.Ordinal)));
    }

    [Test]
    public async Task Fc8_OtherSubFunction_IllegalFunction()
    {
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, Store());
        var (reply, _) = await Exchange(slave, ModbusFraming.Tcp, Frame(ModbusFraming.Tcp, "01 08 0001 0000"));
        Assert.That(reply, Is.EqualTo("00010000000301" + "8801"));
    }

    /// <summary>The ADU for "unit pdu…": MBAP (transaction 1) in front for TCP, the CRC behind for RTU.</summary>
    private static string Frame(ModbusFraming framing, string unitAndPdu)
    {
        var bytes = Hex(unitAndPdu);
        return framing == ModbusFraming.Tcp
            ? $"0001 0000 {bytes.Length:X4} " + unitAndPdu
            : unitAndPdu + " " + Crc(unitAndPdu);
    }

    private static string Crc(string hex)
    {
        var crc = ModbusCrc.Compute(Hex(hex));
        return $"{crc & 0xFF:X2}{crc >> 8:X2}";
    }
}
