using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Simulation.Tests.Modbus;

/// <summary>
/// The stateful stream decoders (slave request side, master response side) under garbage: no
/// unhandled exception, typed errors only, bounded buffers, and a working link afterwards.
/// </summary>
public class ModbusStreamFuzzTests
{
    private static ModbusDataStore Store()
    {
        var s = new ModbusDataStore();
        s.Define(RegisterTable.HoldingRegister, 0, 100);
        s.Define(RegisterTable.Coil, 0, 100);
        s.SetRegister(RegisterTable.HoldingRegister, 0, 4242);
        return s;
    }

    [TestCase(ModbusFraming.Rtu)]
    [TestCase(ModbusFraming.Tcp)]
    public async Task Slave_100kRandomAndMutatedFrames_KeepsServing(ModbusFraming framing)
    {
        var r = new Random(7);
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(1, Store());
        var served = 0;
        var frames = 0;
        while (frames < 100_000)
        {
            // One connection per batch: a TCP slave drops a connection after a bad MBAP header, like a real one.
            var (dev, emu) = InProcessPipe.Create("fuzz");
            var serving = slave.ServeAsync(emu, framing, CancellationToken.None);
            var batch = new List<byte>();
            for (var i = 0; i < 2000; i++, frames++)
            {
                var wellFormed = r.Next(2) == 0; // half are FC1-6 requests of the right length (quantities still random)
                var pdu = new byte[wellFormed ? 5 : r.Next(1, 12)];
                r.NextBytes(pdu);
                pdu[0] = (byte)(wellFormed ? r.Next(1, 7) : new[] { 1, 2, 3, 4, 5, 6, 8, 15, 16, 22, 23, r.Next(256) }[r.Next(12)]);
                var adu = new byte[pdu.Length + 7];
                pdu.CopyTo(adu, framing == ModbusFraming.Rtu ? 1 : 7);
                var n = framing == ModbusFraming.Rtu ? ModbusRtu.Seal(adu, (byte)r.Next(3), pdu.Length) : ModbusTcp.Seal(adu, (ushort)i, 1, pdu.Length);
                if (r.Next(3) == 0)
                {
                    // TCP: a damaged MBAP header ends the connection (as it should), so mostly damage the PDU.
                    var at = framing == ModbusFraming.Tcp && r.Next(50) != 0 ? 7 + r.Next(n - 7) : r.Next(n);
                    adu[at] ^= (byte)(1 << r.Next(8));
                }

                batch.AddRange(adu.AsSpan(0, n));
            }

            var drain = Drain(dev);
            await dev.WriteAsync(batch.ToArray(), CancellationToken.None);
            for (var (last, quiet) = (-1L, 0); quiet < 4; quiet = last == slave.RequestsServed + slave.FramesRejected ? quiet + 1 : 0)
            {
                // Let the slave work through the batch (bounded by the serving wait below).
                last = slave.RequestsServed + slave.FramesRejected;
                await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
            }

            await dev.DisposeAsync();
            await drain;
            await serving.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System); // must end cleanly, not throw
            served++;
        }

        Assert.That(slave.RequestsServed, Is.GreaterThan(1000));
        Assert.That(served, Is.EqualTo(50));

        // And the slave still answers a clean master afterwards.
        var (d, e) = InProcessPipe.Create("clean");
        _ = slave.ServeAsync(e, framing, CancellationToken.None);
        await using var m = new ModbusMaster(d, new ModbusMasterOptions { Framing = framing }, TimeProvider.System);
        Assert.That(await m.ReadHoldingRegistersAsync(1, 0, 1, CancellationToken.None), Is.EqualTo(new ushort[] { 4242 }));
    }

    private static async Task Drain(IByteTransport t)
    {
        var buf = new byte[4096];
        try
        {
            while (await t.ReadAsync(buf, CancellationToken.None) > 0)
            {
            }
        }
        catch (TransportException)
        {
        }
    }

    [TestCase(ModbusFraming.Rtu)]
    [TestCase(ModbusFraming.Tcp)]
    public async Task Master_GarbageResponses_OnlyTypedErrors(ModbusFraming framing)
    {
        var r = new Random(11);
        var kinds = new Dictionary<string, int>();
        for (var i = 0; i < 400; i++)
        {
            var (dev, peer) = InProcessPipe.Create("junk");
            await using var m = new ModbusMaster(dev, new ModbusMasterOptions { Framing = framing, Timeout = TimeSpan.FromMilliseconds(10) }, TimeProvider.System);
            var pending = m.ReadHoldingRegistersAsync(1, 0, 2, CancellationToken.None).AsTask();
            var junk = new byte[r.Next(1, 1500)];
            r.NextBytes(junk);
            if (framing == ModbusFraming.Tcp && junk.Length >= 4 && r.Next(2) == 0)
            {
                junk[2] = 0;
                junk[3] = 0; // valid protocol id: exercise length and transaction handling
            }

            await peer.WriteAsync(junk, CancellationToken.None);
            try
            {
                await pending.WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
                kinds["ok"] = kinds.GetValueOrDefault("ok") + 1;
            }
            catch (ModbusException e)
            {
                kinds[e.GetType().Name] = kinds.GetValueOrDefault(e.GetType().Name) + 1;
            }

            Assert.That(m.Counters.GarbageBytes, Is.LessThanOrEqualTo(junk.Length));
        }

        Assert.That(kinds.Keys, Has.Some.EqualTo("ModbusTimeoutException").Or.Some.EqualTo("ModbusMalformedFrameException"));
    }
}
