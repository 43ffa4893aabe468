using System.Text;

namespace TacRS.Hil.Drivers.Transports;

/// <summary>
/// Reads newline-terminated UTF-8 lines (CR before LF dropped) from a byte transport, for small
/// line protocols such as the rehearsal bench console. Bounded: a line longer than the buffer is
/// an error, never unbounded growth.
/// </summary>
public sealed class LineReader(IByteTransport link, int maxLine = 1024)
{
    private readonly byte[] _buffer = new byte[maxLine + 1];
    private int _count;

    /// <summary>The next line, or null once the peer has closed the link.</summary>
    /// <exception cref="TransportException">A line longer than the maximum.</exception>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', 0, _count);
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, 0, newline).TrimEnd('\r');
                _buffer.AsSpan(newline + 1, _count - newline - 1).CopyTo(_buffer);
                _count -= newline + 1;
                return line;
            }

            if (_count == _buffer.Length)
            {
                throw new TransportException(link.Path, $"a line longer than {_buffer.Length - 1} bytes");
            }

            var n = await link.ReadAsync(_buffer.AsMemory(_count), cancellationToken);
            if (n == 0)
            {
                return null;
            }

            _count += n;
        }
    }
}
