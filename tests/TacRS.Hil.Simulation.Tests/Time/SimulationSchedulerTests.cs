using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Simulation.Tests.Time;

public sealed class SimulationSchedulerTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void Run_TwentyMinuteDelay_JumpsVirtualClockWithoutWallTime()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);
        var wall = TimeProvider.System.GetTimestamp();

        var at = scheduler.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMinutes(20), clock);
            return clock.GetUtcNow();
        });

        Assert.That(at, Is.EqualTo(Epoch.AddMinutes(20)));
        Assert.That(TimeProvider.System.GetElapsedTime(wall), Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void Run_ContinuationsStayOnOneThread()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);
        var threads = new HashSet<int>();

        scheduler.Run(async () =>
        {
            var (device, emulator) = InProcessPipe.Create("t");
            async Task Echo()
            {
                var b = new byte[16];
                for (var i = 0; i < 50; i++)
                {
                    threads.Add(Environment.CurrentManagedThreadId);
                    var n = await emulator.ReadAsync(b, CancellationToken.None);
                    await Task.Delay(TimeSpan.FromMilliseconds(3), clock);
                    await emulator.WriteAsync(b.AsMemory(0, n), CancellationToken.None);
                }
            }

            var echo = Echo();
            var buf = new byte[16];
            for (var i = 0; i < 50; i++)
            {
                threads.Add(Environment.CurrentManagedThreadId);
                await device.WriteAsync(new byte[] { (byte)i }, CancellationToken.None);
                await device.ReadAsync(buf, CancellationToken.None);
                Assert.That(buf[0], Is.EqualTo((byte)i));
            }

            await echo;
            return true;
        });

        Assert.That(threads, Has.Count.EqualTo(1));
        Assert.That(clock.Elapsed, Is.EqualTo(TimeSpan.FromMilliseconds(150)));
    }

    [Test]
    public void Run_TimersAtSameInstant_FireInCreationOrder()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var order = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            var n = i;
            clock.CreateTimer(_ => order.Add(n), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        }

        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void Run_PeriodicTimerAndDispose_StopsFiring()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var ticks = 0;
        var timer = clock.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(10));
        timer.Dispose();
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.That(ticks, Is.EqualTo(10));
    }

    [Test]
    public void Run_WaitWithNothingPending_ThrowsStalled()
    {
        var scheduler = new SimulationScheduler(new VirtualTimeProvider(Epoch));
        var never = new TaskCompletionSource();

        Assert.That(() => scheduler.Run(() => never.Task), Throws.TypeOf<SimulationStalledException>());
    }

    [Test]
    public void Run_CancellationTokenSourceOnVirtualClock_CancelsAtDueTime()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);

        var cancelledAt = scheduler.Run(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30), clock);
            try
            {
                await Task.Delay(TimeSpan.FromHours(1), clock, cts.Token);
            }
            catch (OperationCanceledException)
            {
            }

            return clock.Elapsed;
        });

        Assert.That(cancelledAt, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }
}
