using System.Text;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Drivers.Avionics;

/// <summary>
/// cFS TO_LAB's "output enable" command (TO_LAB_OUTPUT_ENABLE_CC = 6 on TO_LAB_CMD_MID 0x1880): its payload
/// is the receiver's dotted-quad IPv4 address, NUL-padded to 16 bytes (TO_LAB_EnableOutput_Payload_t.dest_IP).
/// TO_LAB sends no telemetry until it arrives, then sends every packet to that address at its telemetry port
/// (TO_LAB_TLM_PORT, 1235). Written by the ground side, read by the flight-computer emulator and sim serve.
/// </summary>
public static class ToLabOutputEnable
{
    public const ushort MessageId = 0x1880;
    public const byte FunctionCode = 6;
    public const int AddressLength = 16;
    public const int PacketLength = CfsCommandHeader.Size + AddressLength;

    /// <summary>Writes the command for <paramref name="ip"/> (at most 15 characters); returns the bytes written.</summary>
    public static int Write(Span<byte> destination, string ip, ushort sequenceCount)
    {
        if (ip.Length >= AddressLength)
        {
            throw new ArgumentException($"TO_LAB takes a dotted-quad IP of at most {AddressLength - 1} characters, not '{ip}'", nameof(ip));
        }

        Span<byte> payload = stackalloc byte[AddressLength];
        payload.Clear();
        Encoding.ASCII.GetBytes(ip, payload);
        return CfsCommandHeader.WritePacket(destination, MessageId, sequenceCount, FunctionCode, payload);
    }

    /// <summary>
    /// True when <paramref name="packet"/> is an output-enable command; <paramref name="ip"/> is the address text
    /// up to the first NUL. Like TO_LAB, the checksum is not checked (TO_LAB's handler does not verify it).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out string ip)
    {
        ip = string.Empty;
        if (!CfsCommandHeader.TryRead(packet, out var header, out _)
            || header.Primary.StreamId != MessageId
            || header.FunctionCode != FunctionCode
            || packet.Length < PacketLength)
        {
            return false;
        }

        var field = packet.Slice(CfsCommandHeader.Size, AddressLength);
        var nul = field.IndexOf((byte)0);
        ip = Encoding.ASCII.GetString(nul >= 0 ? field[..nul] : field);
        return true;
    }
}
