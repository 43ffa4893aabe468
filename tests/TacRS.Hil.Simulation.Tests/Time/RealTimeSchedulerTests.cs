using System.Net;
using System.Net.Sockets;
using TacRS.Hil.Simulation.Time;

namespace TacRS.Hil.Simulation.Tests.Time;

/// <summary>sim serve's single thread in real time: timers, delays, socket I/O and cross-thread posts all run on the pump.</summary>
public sealed class RealTimeSchedulerTests
{
    [Test]
    public void Run_TimersDelaysAndSocketContinuations_AllOnTheCallingThread()
    {
        using var scheduler = new RealTimeScheduler(TimeProvider.System);
        var pump = Environment.CurrentManagedThreadId;
        var seen = new List<(string What, int Thread)>();

        var result = scheduler.Run(async () =>
        {
            var time = scheduler.Time;
            var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (time.CreateTimer(_ => { seen.Add(("timer", Environment.CurrentManagedThreadId)); fired.TrySetResult(); }, null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan))
            {
                await fired.Task;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), time);
            seen.Add(("delay", Environment.CurrentManagedThreadId));

            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            using var client = new TcpClient();
            var accept = listener.AcceptTcpClientAsync();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            using var server = await accept;
            seen.Add(("accept", Environment.CurrentManagedThreadId));
            await client.GetStream().WriteAsync(new byte[] { 42 });
            var buffer = new byte[1];
            var n = await server.GetStream().ReadAsync(buffer);
            seen.Add(("read", Environment.CurrentManagedThreadId));
            return n == 1 ? buffer[0] : -1;
        });

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(42));
            Assert.That(seen.Select(s => s.What), Is.EqualTo(new[] { "timer", "delay", "accept", "read" }));
            Assert.That(seen.Select(s => s.Thread), Is.All.EqualTo(pump));
        });
    }

    [Test]
    public void Run_CancelledFromAnotherThreadThroughPost_StopsAndPropagates()
    {
        using var scheduler = new RealTimeScheduler(TimeProvider.System);
        using var stop = new CancellationTokenSource();
        using var signal = new System.Threading.Timer(_ => scheduler.Post(_ => stop.Cancel(), null), null, 20, Timeout.Infinite);

        Assert.That(
            () => scheduler.Run(() => Task.Delay(Timeout.InfiniteTimeSpan, scheduler.Time, stop.Token)),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void Run_EntryThrows_ExceptionReachesCaller()
    {
        using var scheduler = new RealTimeScheduler(TimeProvider.System);

        Assert.That(
            () => scheduler.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), scheduler.Time);
                throw new InvalidDataException("emulator failed");
            }),
            Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo("emulator failed"));
    }
}
