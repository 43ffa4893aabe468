using System.Text;
using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.GroundStation;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Drivers.Tests.GroundStation;

/// <summary>
/// The request/reply conversation with a Hamlib daemon, the daemon played by the test over an
/// in-process pipe. A reply naming another command is not ours (a late answer, or rigctld's
/// cross-talk between a closing and a new connection): it is skipped, counted, and ours read on.
/// </summary>
public class HamlibConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task<string> ReadRequestAsync(IByteTransport daemon)
    {
        var buffer = new byte[256];
        var count = 0;
        while (Array.IndexOf(buffer, (byte)'\n', 0, count) < 0)
        {
            count += await daemon.ReadAsync(buffer.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(Bound, TimeProvider.System);
        }

        return Encoding.ASCII.GetString(buffer, 0, count);
    }

    private static ValueTask Say(IByteTransport daemon, string text) => daemon.WriteAsync(Encoding.ASCII.GetBytes(text), CancellationToken.None);

    [Test]
    public async Task ReplyForAnotherCommand_IsSkipped_OursIsReturned()
    {
        var (client, daemon) = InProcessPipe.Create("rotctld");
        await using var c = new HamlibConnection("station", _ => ValueTask.FromResult(client), TimeProvider.System, Bound);
        var pending = c.RequestAsync(HamlibCommand.GetPosition(), CancellationToken.None).AsTask();
        Assert.That(await ReadRequestAsync(daemon), Is.EqualTo("+\\get_pos\n"));
        await Say(daemon, "set_pos: 10 20\nRPRT 0\n"); // not ours
        await Say(daemon, "get_pos:\nAzimuth: 10.000000\nElevation: 20.000000\nRPRT 0\n");

        var reply = await pending.WaitAsync(Bound, TimeProvider.System);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Command, Is.EqualTo("get_pos"));
            Assert.That(reply.Number("Azimuth"), Is.EqualTo(10.0));
            Assert.That(c.StaleReplies, Is.EqualTo(1));
            Assert.That(c.Reconnects, Is.Zero, "a stale reply is not a reason to drop the connection");
        });
    }

    [Test]
    public async Task OnlyAStaleReply_TimesOutOnTheRunClock()
    {
        var time = new FakeTimeProvider();
        var (client, daemon) = InProcessPipe.Create("rigctld");
        await using var c = new HamlibConnection("radio", _ => ValueTask.FromResult(client), time, TimeSpan.FromSeconds(2));
        var pending = c.RequestAsync(HamlibCommand.GetFrequency(), CancellationToken.None).AsTask();
        await ReadRequestAsync(daemon);
        await Say(daemon, "set_freq: 437525000\nRPRT 0\n");
        var since = TimeProvider.System.GetTimestamp();
        while (c.StaleReplies == 0 && TimeProvider.System.GetElapsedTime(since) < Bound)
        {
            await Task.Yield();
        }

        Assert.That(pending.IsCompleted, Is.False);
        time.Advance(TimeSpan.FromSeconds(2));
        var e = Assert.ThrowsAsync<DeviceTimeoutException>(async () => await pending.WaitAsync(Bound, TimeProvider.System));
        Assert.That(e!.Message, Does.Contain("get_freq"));
    }
}
