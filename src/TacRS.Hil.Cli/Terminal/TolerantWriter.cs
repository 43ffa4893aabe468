using System.Text;

namespace TacRS.Hil.Cli.Terminal;

/// <summary>
/// The console's writer, made unable to stop a run: when the terminal goes away (the ssh session drops,
/// SIGHUP) writes fail with EIO or EPIPE; this writer notes the first failure and drops everything after
/// it, so the run carries on to its safe state and writes its record instead of dying on a console line.
/// </summary>
internal sealed class TolerantWriter(TextWriter inner) : TextWriter
{
    private volatile bool _broken;

    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override string NewLine
    {
#pragma warning disable CS8765 // TextWriter.NewLine's setter accepts null; so does the inner writer.
        get => inner.NewLine;
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    /// <summary>True once a write failed (the terminal is gone).</summary>
    public bool Broken => _broken;

    public override void Write(char value) => Guard(() => inner.Write(value));

    public override void Write(string? value) => Guard(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));

    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));

    public override void WriteLine() => Guard(inner.WriteLine);

    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        if (_broken)
        {
            return;
        }

        try
        {
            write();
        }
        catch (IOException)
        {
            _broken = true;
        }
    }
}
