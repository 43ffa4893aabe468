using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Protocols.Ccsds;

/// <summary>
/// CRC-16-CCITT as CCSDS uses it (CCSDS 131.0-B / 132.0-B frame error control): polynomial 0x1021,
/// initial value 0xFFFF, no reflection, no final XOR ("CRC-16/CCITT-FALSE"; check value of "123456789" is 0x29B1).
/// Sliced by 8 (Kounavis and Berry's slicing-by-8, for a non-reflected 16-bit CRC): eight bytes per step
/// through eight 256-entry tables, table k giving a byte's contribution followed by k zero bytes, so the
/// steps are independent loads instead of a chain of eight dependent ones (issue 17: the byte-at-a-time
/// table was most of the serial telemetry path).
/// </summary>
public static class Crc16Ccitt
{
    private static readonly ushort[] Tables = BuildTables(); // 8 × 256: Tables[k * 256 + b]

    public static ushort Compute(ReadOnlySpan<byte> data, ushort crc = 0xFFFF)
    {
        ref var t = ref MemoryMarshal.GetArrayDataReference(Tables);
        ref var p = ref MemoryMarshal.GetReference(data);
        var n = data.Length;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var w = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i))) ^ ((ulong)crc << 48);
            crc = (ushort)(Unsafe.Add(ref t, (7 * 256) + (int)(w >> 56))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((w >> 48) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((w >> 40) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)((w >> 32) & 0xFF))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)((w >> 24) & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((w >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (int)((w >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(w & 0xFF)));
        }

        for (; i < n; i++)
        {
            crc = (ushort)((crc << 8) ^ Unsafe.Add(ref t, ((crc >> 8) ^ Unsafe.Add(ref p, i)) & 0xFF));
        }

        return crc;
    }

    private static ushort[] BuildTables()
    {
        var t = new ushort[8 * 256];
        for (var i = 0; i < 256; i++)
        {
            var c = (ushort)(i << 8);
            for (var k = 0; k < 8; k++)
            {
                c = (c & 0x8000) != 0 ? (ushort)((c << 1) ^ 0x1021) : (ushort)(c << 1);
            }

            t[i] = c;
        }

        // Table k: a byte followed by k zero bytes (one more zero byte: shift out the high byte through table 0).
        for (var k = 1; k < 8; k++)
        {
            for (var i = 0; i < 256; i++)
            {
                var prev = t[((k - 1) * 256) + i];
                t[(k * 256) + i] = (ushort)((prev << 8) ^ t[prev >> 8]);
            }
        }

        return t;
    }
}
