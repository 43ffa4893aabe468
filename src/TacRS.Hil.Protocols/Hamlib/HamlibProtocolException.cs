namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>Bytes that are not a Hamlib reply or command: names the byte offset where they stop making sense.</summary>
public sealed class HamlibProtocolException(string message, int offset)
    : FormatException($"{message} (at byte {offset.ToString(System.Globalization.CultureInfo.InvariantCulture)})")
{
    public int Offset { get; } = offset;
}
