using System.Text;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Protocols.Tests.Hamlib;

/// <summary>The daemons' input reader: words, not lines, as rotctld/rigctld 4.5.4 read them (measured against -m 1).</summary>
public class HamlibRequestTests
{
    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Reads every command from the text: "name(args)" per command, "-" for skipped bytes, "q" for quit, "…" when the rest is incomplete.</summary>
    private static string ReadAll(string text, HamlibCommandTable table)
    {
        var bytes = A(text);
        var parts = new List<string>();
        var at = 0;
        while (true)
        {
            var status = HamlibRequest.TryRead(bytes.AsSpan(at), table, out var r, out var consumed);
            at += consumed;
            switch (status)
            {
                case HamlibReadStatus.Incomplete:
                    parts.Add("…");
                    return string.Join(" ", parts);
                case HamlibReadStatus.Quit:
                    parts.Add("q");
                    return string.Join(" ", parts);
                case HamlibReadStatus.Skipped:
                    if (parts.Count == 0 || parts[^1] != "-")
                    {
                        parts.Add("-");
                    }

                    break;
                default:
                    parts.Add((r.Extended ? "+" : string.Empty) + (r.Separator?.ToString() ?? string.Empty) + r.Command.Name + "(" + string.Join(",", r.Arguments) + ")");
                    break;
            }
        }
    }

    [TestCase("+\\get_pos\n", "+get_pos() - …")]
    [TestCase("p p\n", "get_pos() - get_pos() - …")]
    [TestCase("P 10 20\n", "set_pos(10,20) - …")]
    [TestCase("P10 20\n", "set_pos(10,20) - …")]
    [TestCase("\\set_pos 11\n21\n", "set_pos(11,21) - …")]
    [TestCase("\\set_pos 11\n", "…")]
    [TestCase(";\\get_pos\n", "+;get_pos() - …")]
    [TestCase("|p\n", "+|get_pos() - …")]
    [TestCase("+p;p\n", "+get_pos() +;get_pos() - …")]
    [TestCase("# comment p\np", "- get_pos() …")]
    [TestCase("\\foo 1\n", "- dump_caps() - …")]
    [TestCase("\\foo x\nb\n", "- get_parm(b) - …")]
    [TestCase("R 1\n", "reset(1) - …")]
    [TestCase("s\nq", "get_status() - q")]
    public void Rotctld_ReadsWordsLikeTheDaemon(string input, string expected)
    {
        Assert.That(ReadAll(input, HamlibCommandTable.Rotctld), Is.EqualTo(expected));
    }

    [TestCase("F 145200000\n", "set_freq(145200000) - …")]
    [TestCase("F145100000\n", "set_freq(45100000) - …")]
    [TestCase("+\\set_freq\n3\n", "+set_freq(3) - …")]
    [TestCase("V VFOA\n", "set_vfo(VFOA) - …")]
    [TestCase("\\get_vfo_info VFOA\n", "get_vfo_info(VFOA) - …")]
    [TestCase("\\get_level ?\n", "get_level(?) - …")]
    [TestCase("+\\set_mode ? x\n", "+set_mode(?) - get_split_mode() - …")]
    [TestCase("\\get_status\n", "- …")]
    [TestCase("_\n", "get_info() - …")]
    [TestCase("*\\reset 0\n", "+*reset(0) - …")]
    [TestCase("\\send_morse  CQ CQ\n", "send_morse(  CQ CQ) …")]
    [TestCase("\\send_cmd\nFA;\n", "send_cmd(FA;) …")]
    [TestCase("q\n", "q")]
    public void Rigctld_ReadsWordsLikeTheDaemon(string input, string expected)
    {
        Assert.That(ReadAll(input, HamlibCommandTable.Rigctld), Is.EqualTo(expected));
    }

    [Test]
    public void TryRead_BinaryGarbage_SkippedWithoutReply()
    {
        var garbage = Encoding.Latin1.GetString([0x00, 0xff, 0x80, 0x01, (byte)'\n']);
        Assert.That(ReadAll(garbage + "p", HamlibCommandTable.Rotctld), Is.EqualTo("- get_pos() …"));
    }

    [Test]
    public void TryRead_EndlessWord_ThrowsInsteadOfGrowing()
    {
        var bytes = A("\\" + new string('a', HamlibRequest.MaxLength + 1));
        Assert.Throws<HamlibProtocolException>(() => HamlibRequest.TryRead(bytes, HamlibCommandTable.Rigctld, out _, out _));
        Assert.That(HamlibRequest.TryRead(bytes.AsSpan(0, 100), HamlibCommandTable.Rigctld, out _, out _), Is.EqualTo(HamlibReadStatus.Incomplete));
    }

    [Test]
    public void TryRead_EveryChunkSplit_SameCommands()
    {
        const string text = "+\\set_pos 10 20\n;p\n\\get_level SPEED\n";
        var whole = ReadAll(text, HamlibCommandTable.Rotctld);
        for (var split = 0; split < text.Length; split++)
        {
            // Whatever arrived so far reads as a prefix of the whole.
            var partial = ReadAll(text[..split], HamlibCommandTable.Rotctld).TrimEnd('…', ' ');
            Assert.That(whole, Does.StartWith(partial), $"split {split}");
        }
    }
}
