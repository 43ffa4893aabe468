using TacRS.Hil.Core.Threading;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Simulation.Time;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Simulation.Tests.Time;

/// <summary>
/// Waits that must stay on the simulation scheduler: a cancelled in-process read must not leave the
/// next read spinning, and a contended gate must wake its waiter at the virtual instant of the release.
/// </summary>
public sealed class SchedulerSafeWaitTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void InProcessRead_AfterACancelledRead_WaitsForDataInsteadOfSpinning()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);

        var (device, emulator) = InProcessPipe.Create("silent");
        var result = HangGuard.Run(() => scheduler.Run(async () =>
        {
            var buffer = new byte[8];

            // A read that times out (the device went silent), as a driver's request timeout does.
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), clock))
            {
                Assert.That(await Cancelled(device.ReadAsync(buffer, timeout.Token).AsTask()), Is.True);
            }

            var executedBefore = scheduler.Executed;

            // The emulator answers 5 s later: the second read must wait for it, not return at once.
            var answer = Answer();
            using var second = new CancellationTokenSource(TimeSpan.FromSeconds(30), clock);
            var n = await device.ReadAsync(buffer, second.Token);
            await answer;
            return (n, At: clock.Elapsed, Work: scheduler.Executed - executedBefore);

            async Task Answer()
            {
                await Task.Delay(TimeSpan.FromSeconds(5), clock);
                await emulator.WriteAsync(new byte[] { 0x42 }, CancellationToken.None);
            }
        }), TimeSpan.FromSeconds(20), "a read after a cancelled read");

        Assert.That(result.n, Is.EqualTo(1));
        Assert.That(result.At, Is.EqualTo(TimeSpan.FromSeconds(6)));

        // A spinning read queues a continuation per turn, hundreds of thousands before the 5 s timer.
        Assert.That(result.Work, Is.LessThan(50));
    }

    [Test]
    public void InProcessRead_CancelledRepeatedly_EachLaterReadStillTimesOutOnItsOwnTimer()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);
        var (device, _) = InProcessPipe.Create("silent");

        var at = HangGuard.Run(() => scheduler.Run(async () =>
        {
            var buffer = new byte[8];
            var times = new List<TimeSpan>();
            for (var i = 0; i < 5; i++)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(250), clock);
                try
                {
                    await device.ReadAsync(buffer, timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    times.Add(clock.Elapsed);
                }
            }

            return times;
        }), TimeSpan.FromSeconds(20), "repeatedly cancelled reads");

        Assert.That(at, Is.EqualTo(Enumerable.Range(1, 5).Select(i => TimeSpan.FromMilliseconds(250 * i)).ToList()));
    }

    [Test]
    public void AsyncGate_ContendedWaiter_WakesAtTheVirtualInstantOfTheRelease([Range(1, 300)] int run)
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);
        var gate = new AsyncGate();

        var woke = scheduler.Run(async () =>
        {
            using var token = new CancellationTokenSource(TimeSpan.FromHours(1), clock);
            async Task Holder()
            {
                using (await gate.EnterAsync(token.Token))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(run), clock);
                }
            }

            var holder = Holder();

            // A timer that is due later than the release: a waiter woken off the scheduler lets the clock jump to it.
            using var later = clock.CreateTimer(_ => { }, null, TimeSpan.FromMilliseconds(run + 100), Timeout.InfiniteTimeSpan);
            using (await gate.EnterAsync(token.Token))
            {
                var at = clock.Elapsed;
                await holder;
                return at;
            }
        });

        Assert.That(woke, Is.EqualTo(TimeSpan.FromMilliseconds(run)));
    }

    [Test]
    public void AsyncGate_CancelledWaiter_LeavesTheQueueAndTheNextWaiterGetsTheSlot()
    {
        var clock = new VirtualTimeProvider(Epoch);
        var scheduler = new SimulationScheduler(clock);
        var gate = new AsyncGate();

        var order = scheduler.Run(async () =>
        {
            var seen = new List<string>();
            var held = await gate.EnterAsync(CancellationToken.None);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1), clock);
            var cancelled = Wait("cancelled", cancel.Token);
            var next = Wait("next", CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(2), clock);
            held.Dispose();
            await next;
            Assert.That(await Cancelled(cancelled), Is.True);
            Assert.That(gate.Free, Is.EqualTo(1));
            return seen;

            async Task Wait(string name, CancellationToken ct)
            {
                using (await gate.EnterAsync(ct))
                {
                    seen.Add($"{name}@{clock.Elapsed.TotalSeconds}");
                }
            }
        });

        Assert.That(order, Is.EqualTo(new[] { "next@2" }));
    }

    // NUnit's Throws on an async delegate blocks the calling thread, which deadlocks the scheduler's own thread.
    private static async Task<bool> Cancelled(Task task)
    {
        try
        {
            await task;
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
