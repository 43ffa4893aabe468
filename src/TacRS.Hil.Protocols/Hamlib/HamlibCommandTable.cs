namespace TacRS.Hil.Protocols.Hamlib;

/// <summary>
/// One command of a daemon's command table (<c>test_list[]</c> in Hamlib's rotctl_parse.c/rigctl_parse.c):
/// its long name, its one-character name (<c>'\0'</c> when it has none, or when the character is
/// punctuation, which the daemons read as a response-mode prefix), how many whitespace-separated
/// input words it reads, and whether it prints values (ARG_OUT: a successful plain-mode reply then
/// carries only the values, no <c>RPRT 0</c>).
/// </summary>
/// <param name="RestOfLine">The single argument is the rest of the line (ARG_IN_LINE: send_cmd, send_morse).</param>
/// <param name="OwnReply">Prints its own reply without the extended-mode header or <c>RPRT</c> (rigctld's chk_vfo).</param>
public sealed record HamlibCommandSpec(string Name, char Short, int Arguments, bool Output, bool RestOfLine = false, bool OwnReply = false);

/// <summary>
/// A daemon's command table and its parsing habits, as measured on Hamlib 4.5.4 (rotctld/rigctld -m 1).
/// Both read the socket as a stream of words, not lines: a missing argument is read from the next line,
/// and what follows an unknown long name is read as further commands.
/// </summary>
public sealed class HamlibCommandTable
{
    private readonly Dictionary<string, HamlibCommandSpec> _byName;
    private readonly Dictionary<char, HamlibCommandSpec> _byShort;

    private HamlibCommandTable(string daemon, bool eatsCharBeforeArgument, bool answersQuit, IEnumerable<HamlibCommandSpec> commands)
    {
        Daemon = daemon;
        EatsCharBeforeArgument = eatsCharBeforeArgument;
        AnswersQuit = answersQuit;
        Commands = commands.ToList();
        _byName = Commands.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _byShort = Commands.Where(c => c.Short != '\0').ToDictionary(c => c.Short);
    }

    public string Daemon { get; }

    /// <summary>
    /// rigctld takes one character (meant to be the separating space) before reading the first and second
    /// argument words: <c>F145100000</c> tunes 45.1 MHz. rotctld does not (<c>P10 20</c> is azimuth 10).
    /// </summary>
    public bool EatsCharBeforeArgument { get; }

    /// <summary>rigctld answers <c>q</c> with <c>RPRT 0</c> before closing; rotctld closes silently.</summary>
    public bool AnswersQuit { get; }

    public IReadOnlyList<HamlibCommandSpec> Commands { get; }

    public HamlibCommandSpec? Find(string name) => _byName.GetValueOrDefault(name);

    public HamlibCommandSpec? Find(char shortName) => _byShort.GetValueOrDefault(shortName);

    private static HamlibCommandSpec Set(string name, char c, int args) => new(name, c, args, false);

    private static HamlibCommandSpec Get(string name, char c, int args = 0) => new(name, c, args, true);

    /// <summary>rotctld 4.5.4 (<c>rotctl -m 1</c>, then <c>?</c>).</summary>
    public static HamlibCommandTable Rotctld { get; } = new("rotctld", false, false,
    [
        Set("set_pos", 'P', 2), Get("get_pos", 'p'), Set("park", 'K', 0), Set("stop", 'S', 0), Set("reset", 'R', 1),
        Set("move", 'M', 2), Set("set_level", 'V', 2), Get("get_level", 'v', 1), Set("set_func", 'U', 2), Get("get_func", 'u', 1),
        Set("set_parm", 'X', 2), Get("get_parm", 'x', 1), Set("set_conf", 'C', 2), Get("get_conf", '\0', 1), Get("get_info", '_'),
        Get("get_status", 's'), new("send_cmd", 'w', 1, true, RestOfLine: true), Set("dump_caps", '1', 0), Get("dump_state", '\0'),
        Get("lonlat2loc", 'L', 3), Get("loc2lonlat", 'l', 1), Get("dms2dec", 'D', 4), Get("dec2dms", 'd', 1), Get("dmmm2dec", 'E', 3),
        Get("dec2dmmm", 'e', 1), Get("qrb", 'B', 4), Get("a_sp2a_lp", 'A', 1), Get("d_sp2d_lp", 'a', 1), Set("pause", '\0', 1),
    ]);

    /// <summary>rigctld 4.5.4 (<c>rigctl -m 1</c>, then <c>?</c>). <c>*</c> (reset) is read as a response-mode prefix on the socket, so reset has only its long name there.</summary>
    public static HamlibCommandTable Rigctld { get; } = new("rigctld", true, true,
    [
        Set("set_freq", 'F', 1), Get("get_freq", 'f'), Set("set_mode", 'M', 2), Get("get_mode", 'm'), Set("set_split_freq", 'I', 1),
        Get("get_split_freq", 'i'), Set("set_split_mode", 'X', 2), Get("get_split_mode", 'x'), Set("set_split_freq_mode", 'K', 3),
        Get("get_split_freq_mode", 'k'), Set("set_split_vfo", 'S', 2), Get("get_split_vfo", 's'), Set("set_ts", 'N', 1), Get("get_ts", 'n'),
        Set("set_level", 'L', 2), Get("get_level", 'l', 1), Set("set_func", 'U', 2), Get("get_func", 'u', 1), Set("set_parm", 'P', 2),
        Get("get_parm", 'p', 1), Set("vfo_op", 'G', 1), Set("scan", 'g', 2), Set("set_trn", 'A', 1), Get("get_trn", 'a'),
        Set("set_rptr_shift", 'R', 1), Get("get_rptr_shift", 'r'), Set("set_rptr_offs", 'O', 1), Get("get_rptr_offs", 'o'),
        Set("set_ctcss_tone", 'C', 1), Get("get_ctcss_tone", 'c'), Set("set_dcs_code", 'D', 1), Get("get_dcs_code", 'd'),
        Set("set_ctcss_sql", '\0', 1), Get("get_ctcss_sql", '\0'), Set("set_dcs_sql", '\0', 1), Get("get_dcs_sql", '\0'),
        Set("set_vfo", 'V', 1), Get("get_vfo", 'v'), Set("set_ptt", 'T', 1), Get("get_ptt", 't'), Set("set_mem", 'E', 1), Get("get_mem", 'e'),
        Set("set_channel", 'H', 1), Get("get_channel", 'h', 2), Set("set_bank", 'B', 1), Get("get_info", '_'), Set("set_rit", 'J', 1),
        Get("get_rit", 'j'), Set("set_xit", 'Z', 1), Get("get_xit", 'z'), Set("set_ant", 'Y', 2), Get("get_ant", 'y', 1),
        Set("set_powerstat", '\0', 1), Get("get_powerstat", '\0'), Set("send_dtmf", '\0', 1), Get("recv_dtmf", '\0'), Set("reset", '\0', 1),
        new("send_cmd", 'w', 1, true, RestOfLine: true), new("send_cmd_rx", 'W', 1, true, RestOfLine: true), new("send_morse", 'b', 1, false, RestOfLine: true),
        Set("stop_morse", '\0', 0), Set("wait_morse", '\0', 0), Set("send_voice_mem", '\0', 1), Get("get_dcd", '\0'), Set("set_twiddle", '\0', 1),
        Get("get_twiddle", '\0'), Set("uplink", '\0', 1), Set("set_cache", '\0', 1), Get("get_cache", '\0'), Get("power2mW", '2', 3),
        Get("mW2power", '4', 3), Set("dump_caps", '1', 0), Set("dump_conf", '3', 0), Get("dump_state", '\0'),
        new("chk_vfo", '\0', 0, true, OwnReply: true), Set("set_vfo_opt", '\0', 1), Get("get_vfo_info", '\0', 1), Get("get_rig_info", '\0'),
        Get("get_vfo_list", '\0'), Get("get_modes", '\0'), Set("get_clock", '\0', 0), Set("set_clock", '\0', 1), Set("halt", '\0', 0),
        Set("pause", '\0', 1), Set("password", '\0', 1), Get("get_mode_bandwidths", '\0', 1), Set("set_separator", '\0', 1),
        Get("get_separator", '\0'), Set("set_lock_mode", '\0', 1), Set("get_lock_mode", '\0', 0), Set("send_raw", '\0', 2),
    ]);
}
