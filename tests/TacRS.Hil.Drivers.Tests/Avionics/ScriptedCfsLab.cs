using System.Buffers.Binary;
using System.Text;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Tests.Avionics;

/// <summary>
/// A scripted cFS lab build at the far end of a datagram link, with the timing of the real one made explicit:
/// housekeeping is generated on a fixed tick (as SCH_LAB requests it), a command is processed
/// <see cref="ProcessingDelay"/> after it arrives, and its event goes out at once (EVS → TO_LAB), long before
/// the next housekeeping shows the counters. Layouts are the ones measured on the wire against cFS
/// equuleus-rc1: TO_LAB [16] CommandCounter [17] CommandErrorCounter, SAMPLE_APP [16] CommandErrorCounter
/// [17] CommandCounter; payload little-endian; EVS long events (0x0808) with the app name.
/// </summary>
internal sealed class ScriptedCfsLab(IDatagramTransport link, TimeProvider time)
{
    public TimeSpan HousekeepingPeriod { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ProcessingDelay { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>An unrelated app's ERROR event sent along with every SAMPLE_APP command's response.</summary>
    public bool NoisyNeighbour { get; init; }

    public byte ToLabCommands { get; set; }

    public byte ToLabErrors { get; set; }

    public byte SampleCommands { get; set; }

    public byte SampleErrors { get; set; }

    public List<byte[]> Received { get; } = [];

    private ushort _seq;

    public async Task RunAsync(CancellationToken ct)
    {
        var hk = HousekeepingLoopAsync(ct);
        try
        {
            var buffer = new byte[2048];
            while (!ct.IsCancellationRequested)
            {
                var n = await link.ReceiveAsync(buffer, ct);
                var packet = buffer.AsSpan(0, n).ToArray();
                Received.Add(packet);
                _ = ProcessLaterAsync(packet, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (TransportException)
        {
        }

        try
        {
            await hk;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ProcessLaterAsync(byte[] packet, CancellationToken ct)
    {
        try
        {
            await Task.Delay(ProcessingDelay, time, ct);
            await ProcessAsync(packet, ct);
        }
        catch (OperationCanceledException)
        {
        }
        catch (TransportException)
        {
        }
    }

    private async Task ProcessAsync(byte[] packet, CancellationToken ct)
    {
        var mid = BinaryPrimitives.ReadUInt16BigEndian(packet);
        var fc = packet[6] & 0x7F;
        switch (mid)
        {
            case 0x1880 when fc == 0:
                ToLabCommands++;
                await EventAsync("TO_LAB", 16, 2, "TO: NOOP command. TO Lab DEVELOPMENT BUILD", ct);
                break;
            case 0x1880 when fc == 1:
                ToLabCommands = 0;
                ToLabErrors = 0;
                await EventAsync("TO_LAB", 12, 2, "Reset counters command", ct);
                break;
            case 0x1880 when fc == 6:
                ToLabCommands++;
                await EventAsync("TO_LAB", 3, 2, "TO telemetry output enabled for IP 127.0.0.1", ct);
                break;
            case 0x1880:
                ToLabErrors++;
                await EventAsync("TO_LAB", 9, 3, $"L85 TO: Invalid Function Code Rcvd In Ground Command 0x{fc:x}", ct);
                break;
            case 0x1882 when fc is 0 or 1 && packet.Length != 8:
                SampleErrors++;
                await EventAsync("SAMPLE_APP", 6, 3, $"Invalid Msg length: ID = 0x1882,  CC = {fc}, Len = {packet.Length}, Expected = 8", ct);
                break;
            case 0x1882 when fc == 0:
                SampleCommands++;
                await EventAsync("SAMPLE_APP", 3, 2, "SAMPLE: NOOP command  v1.3.0-rc4+dev56", ct);
                break;
            case 0x1882 when fc == 1:
                SampleCommands = 0;
                SampleErrors = 0;
                await EventAsync("SAMPLE_APP", 4, 2, "SAMPLE: RESET command", ct);
                break;
            case 0x1882:
                // This SAMPLE_APP only sends an event for an unknown function code: its error counter stays.
                await EventAsync("SAMPLE_APP", 2, 3, $"Invalid ground command code: CC = {fc}", ct);
                break;
        }

        if (NoisyNeighbour && mid == 0x1882)
        {
            await EventAsync("CFE_SB", 25, 3, "Pipe Overflow,MsgId 0x808,pipe TO_LAB_TLM_PIPE,sender CFE_EVS", ct);
        }
    }

    private async Task HousekeepingLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var to = Telemetry(0x0880, 18);
            to[16] = ToLabCommands;
            to[17] = ToLabErrors;
            await link.SendAsync(to, ct);
            var sample = Telemetry(0x0883, 20);
            sample[16] = SampleErrors;
            sample[17] = SampleCommands;
            await link.SendAsync(sample, ct);
            await Task.Delay(HousekeepingPeriod, time, ct);
        }
    }

    private async Task EventAsync(string app, ushort id, ushort type, string text, CancellationToken ct)
    {
        var p = Telemetry(0x0808, 172);
        Encoding.ASCII.GetBytes(app).CopyTo(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(36), id);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(38), type);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(40), 0x42);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(44), 1);
        Encoding.ASCII.GetBytes(text).CopyTo(p.AsSpan(48));
        await link.SendAsync(p, ct);
    }

    private byte[] Telemetry(ushort mid, int length)
    {
        var p = new byte[length];
        CfsTelemetryHeader.WriteHeader(p, mid, _seq++, length, 0, 0);
        return p;
    }
}
