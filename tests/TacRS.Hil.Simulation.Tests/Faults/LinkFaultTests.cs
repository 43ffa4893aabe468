using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Bench;
using TacRS.Hil.Simulation.Faults;

namespace TacRS.Hil.Simulation.Tests.Faults;

public class LinkFaultTests
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    private static (FaultyByteTransport Device, IByteTransport Far, FaultInjector Injector, FakeTimeProvider Time) Make(FaultSpec spec, long seed = 1)
    {
        var time = new FakeTimeProvider();
        var injector = new FaultInjector([spec], time, new SimulationRandom(seed), new MemoryRecorder());
        var (device, far) = InProcessPipe.Create("link");
        var faulty = new FaultyByteTransport(device, injector.For("link"), time);
        injector.Start();
        return (faulty, far, injector, time);
    }

    private static FaultSpec Spec(string fault, LinkDirection direction = LinkDirection.Both, double probability = 1, TimeSpan? @for = null) =>
        new(0, "link", fault, new AtTime(TimeSpan.Zero), @for, new SourceLocation("rig.yaml", 1, 1)) { Direction = direction, Probability = probability };

    private static async Task<byte[]> ReadSome(IByteTransport t)
    {
        var buf = new byte[64];
        var n = await t.ReadAsync(buf, CancellationToken.None).AsTask().WaitAsync(Bounded, TimeProvider.System);
        return buf[..n];
    }

    [Test]
    public async Task Drop_FromDevice_WriteNeverArrives()
    {
        var (device, far, _, _) = Make(Spec("drop", LinkDirection.FromDevice));
        await device.WriteAsync(new byte[] { 1, 2, 3 }, CancellationToken.None);
        var pending = far.ReadAsync(new byte[8], CancellationToken.None).AsTask();
        await Task.Yield();
        Assert.That(pending.IsCompleted, Is.False);
    }

    [Test]
    public async Task Corrupt_ToDevice_OneBitFlips()
    {
        var (device, far, _, _) = Make(Spec("corrupt", LinkDirection.ToDevice));
        var sent = new byte[] { 0x01, 0x03, 0x00, 0x10, 0x00, 0x02 };
        await far.WriteAsync(sent, CancellationToken.None);
        var got = await ReadSome(device);
        var flipped = sent.Zip(got, (a, b) => System.Numerics.BitOperations.PopCount((uint)(a ^ b))).Sum();
        Assert.That(got, Has.Length.EqualTo(6));
        Assert.That(flipped, Is.EqualTo(1));
    }

    [Test]
    public async Task Duplicate_FromDevice_ChunkArrivesTwice()
    {
        var (device, far, _, _) = Make(Spec("duplicate", LinkDirection.FromDevice));
        await device.WriteAsync(new byte[] { 7, 8 }, CancellationToken.None);
        Assert.That(await ReadSome(far), Is.EqualTo(new byte[] { 7, 8, 7, 8 }));
    }

    [Test]
    public async Task Delay_ToDevice_ArrivesAfterVirtualDelay()
    {
        var (device, far, _, time) = Make(Spec("delay", LinkDirection.ToDevice));
        await far.WriteAsync(new byte[] { 9 }, CancellationToken.None);
        var read = ReadSome(device);
        await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System); // let the read reach its delay timer
        Assert.That(read.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.That(await read, Is.EqualTo(new byte[] { 9 }));
    }

    [Test]
    public async Task LinkLoss_ForDuration_NothingPassesThenRecovers()
    {
        var (device, far, _, time) = Make(Spec("link-loss", @for: TimeSpan.FromSeconds(5)));
        await device.WriteAsync(new byte[] { 1 }, CancellationToken.None);
        await far.WriteAsync(new byte[] { 2 }, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(5));
        await device.WriteAsync(new byte[] { 3 }, CancellationToken.None);
        await far.WriteAsync(new byte[] { 4 }, CancellationToken.None);
        Assert.That(await ReadSome(far), Is.EqualTo(new byte[] { 3 }));

        // Byte 2 was sent while the link was down: it never arrives.
        Assert.That(await ReadSome(device), Is.EqualTo(new byte[] { 4 }));
    }

    [Test]
    public async Task Drop_HalfProbability_SameSeedSamePattern()
    {
        async Task<string> Pattern(long seed)
        {
            var (device, far, _, _) = Make(Spec("drop", LinkDirection.FromDevice, probability: 0.5), seed);
            for (byte i = 0; i < 32; i++)
            {
                await device.WriteAsync(new[] { i }, CancellationToken.None);
            }

            await device.DisposeAsync();
            var all = new List<byte>();
            while (true)
            {
                var b = await ReadSome(far);
                if (b.Length == 0)
                {
                    break;
                }

                all.AddRange(b);
            }

            return string.Join(",", all);
        }

        var a = await Pattern(5);
        Assert.That(await Pattern(5), Is.EqualTo(a));
        Assert.That(await Pattern(6), Is.Not.EqualTo(a));
        Assert.That(a.Split(',').Length, Is.InRange(8, 24));
    }

    [Test]
    public void ModbusHook_ExceptionAndSilence()
    {
        var time = new FakeTimeProvider();
        var ex = new FaultSpec(0, "gse", "modbus-exception", new AtTime(TimeSpan.Zero), null, default) { Code = 6 };
        var silence = new FaultSpec(1, "gse", "modbus-silence", new AfterTransactions(3), null, default);
        var injector = new FaultInjector([silence, ex], time, new SimulationRandom(1), new MemoryRecorder());
        var hook = injector.For("gse").Modbus;
        Assert.That(hook.OnRequest(1, 3), Is.EqualTo(ModbusFaultAction.None), "not started");
        injector.Start();
        Assert.That(hook.OnRequest(1, 3), Is.EqualTo(new ModbusFaultAction(ModbusFaultKind.Exception, 6)));
        Assert.That(hook.OnRequest(1, 3).Kind, Is.EqualTo(ModbusFaultKind.Silence), "third request arms the silence");
    }
}
