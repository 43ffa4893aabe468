using System.Threading.Channels;
using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Simulation.Bench;

/// <summary>A pair of connected in-process datagram ends (the UDP twin of <see cref="InProcessPipe"/>).</summary>
public static class InProcessDatagramPipe
{
    public static (IDatagramTransport DeviceSide, IDatagramTransport EmulatorSide) Create(string name)
    {
        var toEmulator = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var toDevice = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        return (new End($"sim://{name}", toDevice, toEmulator), new End($"sim://{name}#emulator", toEmulator, toDevice));
    }

    private sealed class End(string path, Channel<byte[]> inbound, Channel<byte[]> outbound) : IDatagramTransport
    {
        public string Path { get; } = path;

        public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!outbound.Writer.TryWrite(datagram.ToArray()))
            {
                throw new TransportException(Path, "the other end of the in-process link is closed");
            }

            return ValueTask.CompletedTask;
        }

        public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            byte[] d;
            try
            {
                d = await inbound.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException e)
            {
                throw new TransportException(Path, "the other end of the in-process link is closed", e);
            }

            if (d.Length > buffer.Length)
            {
                throw new TransportException(Path, $"datagram of {d.Length} bytes does not fit a {buffer.Length}-byte buffer");
            }

            d.CopyTo(buffer);
            return d.Length;
        }

        public ValueTask DisposeAsync()
        {
            inbound.Writer.TryComplete();
            outbound.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
