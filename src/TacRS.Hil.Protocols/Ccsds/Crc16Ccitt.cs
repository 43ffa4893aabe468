namespace TacRS.Hil.Protocols.Ccsds;

/// <summary>
/// CRC-16-CCITT as CCSDS uses it (CCSDS 131.0-B / 132.0-B frame error control): polynomial 0x1021,
/// initial value 0xFFFF, no reflection, no final XOR ("CRC-16/CCITT-FALSE"; check value of "123456789" is 0x29B1).
/// </summary>
public static class Crc16Ccitt
{
    private static readonly ushort[] Table = BuildTable();

    public static ushort Compute(ReadOnlySpan<byte> data, ushort crc = 0xFFFF)
    {
        var table = Table;
        foreach (var b in data)
        {
            crc = (ushort)((crc << 8) ^ table[((crc >> 8) ^ b) & 0xFF]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        var t = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var c = (ushort)(i << 8);
            for (var k = 0; k < 8; k++)
            {
                c = (c & 0x8000) != 0 ? (ushort)((c << 1) ^ 0x1021) : (ushort)(c << 1);
            }

            t[i] = c;
        }

        return t;
    }
}
