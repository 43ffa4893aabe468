using System.Globalization;

namespace TacRS.Hil.Cli.Hosting;

/// <summary>
/// Run ids that never collide: a readable prefix (UTC second, rig, procedure) and a ULID (48-bit
/// millisecond time + 80 random bits, Crockford base32). Two runs started in the same second on the same
/// rig — the nightly's seed-1 and seed-42 variants, say — still get distinct ids, so neither replaces
/// the other in the history.
/// </summary>
internal static class RunIds
{
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(string rig, string procedure, DateTimeOffset now) =>
        $"{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{rig}-{procedure}-{Ulid(now)}";

    /// <summary>A ULID for <paramref name="now"/>: 26 characters, sortable by time.</summary>
    public static string Ulid(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = (ulong)now.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(ms >> (8 * (5 - i)));
        }

        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes[6..]);
        var value = new UInt128(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        Span<char> text = stackalloc char[26];
        for (var i = 25; i >= 0; i--)
        {
            text[i] = Crockford[(int)(value & 31)];
            value >>= 5;
        }

        return new string(text);
    }
}
