using System.Buffers.Binary;
using System.Text;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;
using static TacRS.Hil.Drivers.Tests.Avionics.AvionicsRig;
using TacRS.Hil.Devices.Avionics;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>The store behind the avionics device, fed through the device's receive path (<see cref="AvionicsDevice.OnPacket"/>).</summary>
public class TelemetryStoreTests
{
    private static AvionicsDevice NewDevice() =>
        Create($"{{ kind: avionics, dictionary: {Dictionary("cfs-lab.yaml")}, archive: false }}", new TestBuses(TimeProvider.System), DeviceServices.Detached(TimeProvider.System));

    private static byte[] Event(ushort id)
    {
        var p = new byte[172];
        CfsTelemetryHeader.WriteHeader(p, 0x0808, 0, 172, 0, 0);
        Encoding.ASCII.GetBytes("SAMPLE_APP").CopyTo(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(36), id);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(38), 3);
        Encoding.ASCII.GetBytes("Invalid Msg length").CopyTo(p.AsSpan(48));
        return p;
    }

    private static byte[] SampleHousekeeping(byte commands)
    {
        var p = new byte[20];
        CfsTelemetryHeader.WriteHeader(p, 0x0883, 0, 20, 0, 0);
        p[17] = commands;
        return p;
    }

    [Test]
    public async Task Events_FloodOfErrorEvents_KeepsTheLastOnesAndCountsAll()
    {
        await using var device = NewDevice();
        for (var i = 1; i <= 10_000; i++)
        {
            device.OnPacket(Event((ushort)i));
        }

        var store = device.Telemetry;
        Assert.That(store.EventCount, Is.EqualTo(10_000));
        Assert.That(store.Events, Has.Count.EqualTo(4096));
        Assert.That(store.Events[0].Id, Is.EqualTo(10_000 - 4096 + 1));
        Assert.That(store.Events[^1].Sequence, Is.EqualTo(10_000));
        Assert.That(store.Events[^1].App, Is.EqualTo("SAMPLE_APP"));
        Assert.That(store.EventsSince(9_998).Select(e => e.Id), Is.EqualTo(new long[] { 9_999, 10_000 }));
    }

    [Test]
    public async Task LatestSince_ValueFromBeforeTheMark_IsStale()
    {
        await using var device = NewDevice();
        var store = device.Telemetry;
        var c = device.Dictionary.FindField("sample_cmd_count")!.Channel;
        device.OnPacket(SampleHousekeeping(4));
        var mark = store.Mark(0);

        Assert.That(store.LatestSince(c, mark), Is.NaN);
        Assert.That(store.ValueAt(c, mark), Is.EqualTo(4));

        device.OnPacket(SampleHousekeeping(5));
        Assert.That(store.LatestSince(c, mark), Is.EqualTo(5));
        Assert.That(store.ValueAt(c, mark), Is.EqualTo(4));
        Assert.That(store.HistorySince(c, mark).Select(s => s.Value), Is.EqualTo(new[] { 5.0 }));
    }
}
