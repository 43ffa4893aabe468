using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Drivers.Tests.Transports;

/// <summary>The in-process link's ring: bytes come out in order across its wrap-around and its growth.</summary>
public sealed class InProcessPipeTests
{
    [Test]
    public async Task Bytes_come_out_in_order_across_wraparound_and_growth()
    {
        var (device, emulator) = InProcessPipe.Create("ring", capacity: 1 << 16);
        try
        {
            var sent = new List<byte>();
            var received = new List<byte>();
            var buffer = new byte[700];
            byte next = 0;

            // Writes of 1..3,000 bytes and reads of up to 700, so the head wraps past the end of the initial
            // 4 KiB ring many times and the ring grows while it holds a wrapped run.
            for (var round = 0; round < 200; round++)
            {
                var chunk = new byte[1 + ((round * 577) % 3000)];
                for (var i = 0; i < chunk.Length; i++)
                {
                    chunk[i] = next++;
                }

                await device.WriteAsync(chunk, CancellationToken.None);
                sent.AddRange(chunk);
                while (received.Count < sent.Count - 2000)
                {
                    var n = await emulator.ReadAsync(buffer, CancellationToken.None);
                    received.AddRange(buffer.AsSpan(0, n).ToArray());
                }
            }

            while (received.Count < sent.Count)
            {
                var n = await emulator.ReadAsync(buffer, CancellationToken.None);
                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }

            Assert.That(received, Is.EqualTo(sent));
        }
        finally
        {
            await device.DisposeAsync();
            await emulator.DisposeAsync();
        }
    }
}
