namespace TacRS.Hil.Protocols.Modbus;

/// <summary>
/// CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF, transmitted low byte first
/// (Modbus over Serial Line V1.02, §6.2.2). Table-driven: one lookup per byte.
/// </summary>
public static class ModbusCrc
{
    private static readonly ushort[] Table = BuildTable();

    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        ushort crc = 0xFFFF;
        var table = Table;
        foreach (var b in data)
        {
            crc = (ushort)((crc >> 8) ^ table[(crc ^ b) & 0xFF]);
        }

        return crc;
    }

    /// <summary>Adds one byte to a running CRC (start from 0xFFFF).</summary>
    public static ushort Update(ushort crc, byte b) => (ushort)((crc >> 8) ^ Table[(crc ^ b) & 0xFF]);

    /// <summary>True when the last two bytes of <paramref name="frame"/> are the CRC (low byte first) of the rest.</summary>
    public static bool Check(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 3)
        {
            return false;
        }

        var crc = Compute(frame[..^2]);
        return frame[^2] == (byte)crc && frame[^1] == (byte)(crc >> 8);
    }

    private static ushort[] BuildTable()
    {
        var t = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var c = (ushort)i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (ushort)((c >> 1) ^ 0xA001) : (ushort)(c >> 1);
            }

            t[i] = c;
        }

        return t;
    }
}
