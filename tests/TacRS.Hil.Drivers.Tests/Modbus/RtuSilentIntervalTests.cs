using System.Diagnostics;
using TacRS.Hil.Drivers.Modbus;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Modbus;
using TacRS.Hil.Simulation.Modbus;

namespace TacRS.Hil.Drivers.Tests.Modbus;

/// <summary>
/// The RTU silent interval on the system clock (a real line): kept in full, and slept, not spun
/// (issue 17: the 1.75 ms gap was a Thread.SpinWait loop costing ~1.8 ms of CPU per transaction).
/// The virtual-time path is <c>SilentInterval_IsKeptBetweenTransactions</c> (FakeTimeProvider).
/// </summary>
[NonParallelizable] // measures this process's CPU time
public sealed class RtuSilentIntervalTests
{
    private const byte Unit = 17;
    private static readonly TimeSpan Gap = TimeSpan.FromMicroseconds(1750);

    [Test]
    public async Task SystemClock_HundredGaps_KeptInFull_SleptNotSpun()
    {
        var store = new ModbusDataStore();
        store.Define(RegisterTable.HoldingRegister, 0, 10);
        var slave = new ModbusSlave(TimeProvider.System).AddUnit(Unit, store);
        var (dev, emu) = InProcessPipe.Create("gap");
        using var stop = new CancellationTokenSource();
        _ = slave.ServeAsync(emu, ModbusFraming.Rtu, stop.Token);
        var line = new StampingTransport(dev);
        await using var m = new ModbusMaster(line, new ModbusMasterOptions { Framing = ModbusFraming.Rtu, RtuSilentInterval = Gap }, TimeProvider.System);
        var dest = new ushort[1];
        for (var i = 0; i < 20; i++)
        {
            await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, dest, CancellationToken.None)); // warm-up (JIT)
        }

        const int N = 100;
        var each = new double[N]; // line quiet: from the answer's last byte read to the next request's write
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var start = TimeProvider.System.GetTimestamp();
        for (var i = 0; i < N; i++)
        {
            var answered = line.LastRead;
            await Bounded(m.ReadHoldingRegistersAsync(Unit, 0, dest, CancellationToken.None));
            each[i] = TimeProvider.System.GetElapsedTime(answered, line.FirstWrite).TotalMilliseconds;
        }

        var wall = TimeProvider.System.GetElapsedTime(start);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        stop.Cancel();
        Array.Sort(each);
        TestContext.Out.WriteLine($"{N} transactions with a {Gap.TotalMilliseconds} ms gap: wall {wall.TotalMilliseconds:0} ms, process CPU {cpu.TotalMilliseconds:0.0} ms, median {each[N / 2]:0.000} ms");

        Assert.That(each[0], Is.GreaterThanOrEqualTo(Gap.TotalMilliseconds), "no gap is cut short");
        Assert.That(cpu.TotalMilliseconds, Is.LessThan(0.5 * wall.TotalMilliseconds), "sleeps: a spin costs about the wall time (measured 186 ms of 224 ms); the rest of the test process adds some");

        // Task.Delay(1.75 ms) sleeps ~3–4 ms on Linux (millisecond timer granularity); the precise timer does not.
        Assert.That(each[N / 2], Is.LessThan(Gap.TotalMilliseconds + 0.75), "no millisecond-granular oversleep");
    }

    /// <summary>Stamps when each request starts going out and when the last read returned.</summary>
    private sealed class StampingTransport(IByteTransport inner) : IByteTransport
    {
        public long FirstWrite { get; private set; }

        public long LastRead { get; private set; }

        public string Path => inner.Path;

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            LastRead = TimeProvider.System.GetTimestamp();
            return n;
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            FirstWrite = TimeProvider.System.GetTimestamp();
            return inner.WriteAsync(data, cancellationToken);
        }

        public void DiscardInput() => inner.DiscardInput();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private static async Task Bounded(ValueTask t) => await t.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TimeProvider.System);
}
