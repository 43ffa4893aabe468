using System.Buffers.Binary;
using System.Globalization;
using TacRS.Hil.Drivers.Avionics;
using TacRS.Hil.Protocols.Ccsds;

namespace TacRS.Hil.Devices.Avionics.Simulated;

/// <summary>
/// Housekeeping layouts that differ between cFS versions, written from the apps' sources and what was measured on
/// the wire (issue 16) — independently of fixtures/dictionaries/cfs-lab.yaml, so a wrong dictionary fails in
/// simulation as it fails against the real build.
/// </summary>
public sealed record CfsLabVersion(string Name, bool CiLabErrorCounterFirst, bool CiLabSpareBytes, (byte Major, byte Minor, byte Revision, byte Mission) Cfe)
{
    /// <summary>cFS bundle equuleus-rc1 (cFE 7.0.0-rc4+dev370): every counter order measured on the wire.</summary>
    public static readonly CfsLabVersion EquuleusRc1 = new("equuleus-rc1", CiLabErrorCounterFirst: false, CiLabSpareBytes: true, (6, 7, 0, 0xFF));

    /// <summary>cFS v7.0.0 (Draco): CI_LAB's two counters the other way round.</summary>
    public static readonly CfsLabVersion DracoV700 = new("draco-v7.0.0", CiLabErrorCounterFirst: true, CiLabSpareBytes: true, (7, 0, 0, 0));

    /// <summary>nasa/ci_lab main: CI_LAB housekeeping without its spare bytes.</summary>
    public static readonly CfsLabVersion Main = new("main", CiLabErrorCounterFirst: false, CiLabSpareBytes: false, (6, 7, 0, 0xFF));

    public static IReadOnlyList<CfsLabVersion> All { get; } = [EquuleusRc1, DracoV700, Main];

    public static CfsLabVersion? Find(string name) => All.FirstOrDefault(v => v.Name == name);
}

/// <summary>
/// The flight software of a cFS lab build, as the ground sees it through CI_LAB and TO_LAB: TO_LAB, CI_LAB and
/// SAMPLE_APP with their command handling, and the cFE core services' housekeeping (ES, EVS, SB, TBL, TIME).
/// What raises which counter follows the apps' dispatch code: TO_LAB counts an unknown function code as an error
/// (event 9), SAMPLE_APP sends only an ERROR event for one (event 2) and counts a wrong length (event 6), CI_LAB
/// ignores an unknown function code and counts a wrong length (event 16). No app checks the checksum (CI_LAB's
/// checksums are off). Payload fields are little-endian (x86). Owned and locked by <see cref="FlightComputerEmulator"/>.
/// </summary>
internal sealed class CfsLabSoftware(CfsLabVersion version, Action<string, ushort, FlightEventType, string> emit, Action<string> enableOutput)
{
    public const ushort ToLabCommandId = 0x1880;
    public const ushort SampleAppCommandId = 0x1882;
    public const ushort CiLabCommandId = 0x1884;
    public const ushort EventMessageId = 0x0808;
    public const int EventLength = 172;

    private const string SoftwareVersion = "v7.0.0-rc4+dev370";

    private byte _toLabCommands, _toLabErrors, _sampleCommands, _sampleErrors, _ciLabCommands, _ciLabErrors;
    private uint _ciLabIngestPackets, _ciLabIngestErrors;
    private byte _sbNoSubscribers;
    private ushort _sbPipeOverflows;
    private ushort _evsMessagesSent;
    private readonly ushort[] _sequence = new ushort[8];

    public CfsLabVersion Layout => version;

    public byte ToLabCommands => _toLabCommands;

    public byte ToLabErrors => _toLabErrors;

    public byte SampleCommands => _sampleCommands;

    public byte SampleErrors => _sampleErrors;

    public byte CiLabCommands => _ciLabCommands;

    public byte CiLabErrors => _ciLabErrors;

    public uint CiLabIngestPackets => _ciLabIngestPackets;

    /// <summary>A power-on reset: every app restarts with zeroed counters.</summary>
    public void PowerOn()
    {
        _toLabCommands = _toLabErrors = _sampleCommands = _sampleErrors = _ciLabCommands = _ciLabErrors = 0;
        _ciLabIngestPackets = _ciLabIngestErrors = 0;
        _sbNoSubscribers = 0;
        _sbPipeOverflows = 0;
        _evsMessagesSent = 0;
    }

    /// <summary>The apps' initialisation events (sent before TO_LAB's output is enabled, so a ground station never sees them).</summary>
    public void Started()
    {
        emit("CI_LAB", 3, FlightEventType.Information, "CI Lab Initialized. " + SoftwareVersion);
        emit("TO_LAB", 1, FlightEventType.Information, "TO Lab Initialized. " + SoftwareVersion + " Awaiting enable command.");
        emit("SAMPLE_APP", 1, FlightEventType.Information, "SAMPLE App Initialized. " + SoftwareVersion);
    }

    /// <summary>An event went out through EVS (its message-send counter).</summary>
    public void Counted() => _evsMessagesSent++;

    /// <summary>TO_LAB's telemetry pipe was full: the packet was dropped (SB's pipe overflow counter).</summary>
    public void PipeOverflow() => _sbPipeOverflows++;

    /// <summary>One datagram as CI_LAB received it, then routed on the software bus by message ID.</summary>
    public void Ingest(ReadOnlySpan<byte> datagram)
    {
        if (!CfsCommandHeader.TryRead(datagram, out var header, out _) || header.Primary.PacketLength > datagram.Length)
        {
            _ciLabIngestErrors++;
            emit("CI_LAB", 8, FlightEventType.Error, string.Create(CultureInfo.InvariantCulture, $"CI: L145 Bad MSG Length: size = {datagram.Length}"));
            return;
        }

        _ciLabIngestPackets++;
        var packet = datagram[..header.Primary.PacketLength];
        var fc = header.FunctionCode;
        switch (header.Primary.StreamId)
        {
            case ToLabCommandId:
                ToLab(packet, fc);
                break;
            case SampleAppCommandId:
                SampleApp(packet, fc);
                break;
            case CiLabCommandId:
                CiLab(packet, fc);
                break;
            default:
                // Nobody subscribed to it (the core services' commands are not emulated).
                _sbNoSubscribers++;
                break;
        }
    }

    private void ToLab(ReadOnlySpan<byte> packet, byte fc)
    {
        switch (fc)
        {
            case 0:
                _toLabCommands++;
                emit("TO_LAB", 16, FlightEventType.Information, "TO: NOOP command. TO Lab " + SoftwareVersion);
                break;
            case 1:
                _toLabCommands = 0;
                _toLabErrors = 0;
                emit("TO_LAB", 12, FlightEventType.Information, "Reset counters command");
                break;
            case 6 when ToLabOutputEnable.TryRead(packet, out var ip):
                // TO_LAB_EnableOutputCmd counts every enable, repeats included.
                enableOutput(ip);
                emit("TO_LAB", 3, FlightEventType.Information, "TO telemetry output enabled for IP " + ip);
                _toLabCommands++;
                break;
            case 2 or 3 or 4 or 5:
                _toLabCommands++;
                break;
            default:
                emit("TO_LAB", 9, FlightEventType.Error, string.Create(CultureInfo.InvariantCulture, $"L85 TO: Invalid Function Code Rcvd In Ground Command 0x{fc:x}"));
                _toLabErrors++;
                break;
        }
    }

    private void SampleApp(ReadOnlySpan<byte> packet, byte fc)
    {
        if (fc is not (0 or 1 or 2))
        {
            // sample_app_dispatch.c: the default case sends an event and counts nothing.
            emit("SAMPLE_APP", 2, FlightEventType.Error, string.Create(CultureInfo.InvariantCulture, $"Invalid ground command code: CC = {fc}"));
            return;
        }

        if (!LengthVerified(packet, "SAMPLE_APP", 6, "Invalid Msg length", SampleAppCommandId, fc, ref _sampleErrors))
        {
            return;
        }

        switch (fc)
        {
            case 0:
                _sampleCommands++;
                emit("SAMPLE_APP", 3, FlightEventType.Information, "SAMPLE: NOOP command  " + SoftwareVersion);
                break;
            case 1:
                _sampleCommands = 0;
                _sampleErrors = 0;
                emit("SAMPLE_APP", 4, FlightEventType.Information, "SAMPLE: RESET command");
                break;
            default:
                _sampleCommands++; // SAMPLE_APP_PROCESS_CC: uses its table, sends no event
                break;
        }
    }

    private void CiLab(ReadOnlySpan<byte> packet, byte fc)
    {
        if (fc is not (0 or 1))
        {
            return; // ci_lab_dispatch.c: "default case already found during FC vs length test" — nothing happens
        }

        if (!LengthVerified(packet, "CI_LAB", 16, "Invalid msg length", CiLabCommandId, fc, ref _ciLabErrors))
        {
            return;
        }

        if (fc == 0)
        {
            _ciLabCommands++;
            emit("CI_LAB", 5, FlightEventType.Information, "CI: NOOP command");
        }
        else
        {
            emit("CI_LAB", 6, FlightEventType.Information, "CI: RESET command");
            _ciLabCommands = _ciLabErrors = 0;
            _ciLabIngestPackets = _ciLabIngestErrors = 0;
        }
    }

    /// <summary>
    /// The lab apps' VerifyCmdLength (every command they know takes no arguments): a wrong length is an ERROR
    /// event and the app's error counter.
    /// </summary>
    private bool LengthVerified(ReadOnlySpan<byte> packet, string app, ushort eventId, string text, ushort mid, byte fc, ref byte errors)
    {
        if (packet.Length == CfsCommandHeader.Size)
        {
            return true;
        }

        emit(app, eventId, FlightEventType.Error, string.Create(CultureInfo.InvariantCulture,
            $"{text}: ID = 0x{mid:X},  CC = {fc}, Len = {packet.Length}, Expected = {CfsCommandHeader.Size}"));
        errors++;
        return false;
    }

    /// <summary>One housekeeping packet of every app and core service, as SCH_LAB's requests make them.</summary>
    public IEnumerable<byte[]> Housekeeping(TimeSpan missionTime)
    {
        var (s, sub) = CfsTelemetryHeader.FromTime(missionTime);
        byte[] Packet(int index, ushort mid, int length)
        {
            var p = new byte[length];
            CfsTelemetryHeader.WriteHeader(p, mid, _sequence[index]++, length, s, sub);
            return p;
        }

        var es = Packet(0, 0x0800, 164);
        es[20] = version.Cfe.Major;
        es[21] = version.Cfe.Minor;
        es[22] = version.Cfe.Revision;
        es[23] = version.Cfe.Mission;
        (es[24], es[25], es[26], es[27]) = ((byte)6, (byte)0, (byte)0, (byte)0xFF);   // OSAL
        (es[28], es[29], es[30], es[31]) = ((byte)1, (byte)4, (byte)0, (byte)0xFF);   // PSP
        U32(es, 32, 2312);        // syslog bytes used
        U32(es, 36, 3072 * 4);    // syslog size
        U32(es, 40, 14);          // syslog entries
        U32(es, 56, 5);           // core apps: ES, EVS, SB, TBL, TIME
        U32(es, 60, 4);           // CI_LAB, TO_LAB, SAMPLE_APP, SCH_LAB
        U32(es, 64, 10);
        U32(es, 68, 1);           // SAMPLE_LIB
        U32(es, 72, 2);           // POWERON
        U32(es, 76, 1);           // POWER_CYCLE
        U32(es, 80, 0);           // processor resets since power-on
        U32(es, 84, 5);           // CFE_PLATFORM_ES_MAX_PROCESSOR_RESETS
        U32(es, 88, 0);
        U32(es, 152, 1_048_576);
        U32(es, 156, 12);
        U32(es, 160, 524_288);
        yield return es;

        var evs = Packet(1, 0x0801, 160);
        evs[18] = 1;              // long format
        evs[21] = 1;              // output port 1
        evs[23] = 1;              // log mode DISCARD
        U16(evs, 24, _evsMessagesSent);
        evs[28] = 1;
        yield return evs;

        var sb = Packet(2, 0x0803, 44);
        sb[18] = _sbNoSubscribers;
        U16(sb, 28, _sbPipeOverflows);
        U32(sb, 32, 0x00040001);
        U32(sb, 36, 4096);
        U32(sb, 40, 520_000);
        yield return sb;

        var tbl = Packet(3, 0x0804, 188);
        U16(tbl, 18, 3);          // SAMPLE_APP.ExampleTable, SCH_LAB.ScheduleTable, TO_LAB.TO_LAB_Subs
        yield return tbl;

        var time = Packet(4, 0x0805, 48);
        U16(time, 18, 0x2800);    // server, signal primary
        BinaryPrimitives.WriteInt16LittleEndian(time.AsSpan(20), -1); // INVALID: a lab build's clock is never set
        BinaryPrimitives.WriteInt16LittleEndian(time.AsSpan(22), 37); // CFE_MISSION_TIME_DEF_LEAPS
        U32(time, 24, s);
        U32(time, 28, (uint)sub << 16);
        yield return time;

        // TO_LAB_HkTlm_Payload_t { CommandCounter; CommandErrorCounter } in every version here.
        var to = Packet(5, 0x0880, 18);
        to[16] = _toLabCommands;
        to[17] = _toLabErrors;
        yield return to;

        var ci = Packet(6, 0x0884, version.CiLabSpareBytes ? 40 : 28);
        (ci[16], ci[17]) = version.CiLabErrorCounterFirst ? (_ciLabErrors, _ciLabCommands) : (_ciLabCommands, _ciLabErrors);
        ci[18] = 0;               // checksums not enabled
        ci[19] = 1;               // socket connected
        U32(ci, version.CiLabSpareBytes ? 28 : 20, _ciLabIngestPackets);
        U32(ci, version.CiLabSpareBytes ? 32 : 24, _ciLabIngestErrors);
        yield return ci;

        // SAMPLE_APP_HkTlm_Payload_t { CommandErrorCounter; CommandCounter; spare[2] }: the other order from TO_LAB.
        var sample = Packet(7, 0x0883, 20);
        sample[16] = _sampleErrors;
        sample[17] = _sampleCommands;
        yield return sample;
    }

    /// <summary>An EVS long-format event (CFE_EVS_LongEventTlm_t): app name, id, type, spacecraft and processor, message.</summary>
    public static byte[] BuildEvent(string app, ushort id, FlightEventType type, string text, TimeSpan missionTime, ushort sequence)
    {
        var p = new byte[EventLength];
        var (s, sub) = CfsTelemetryHeader.FromTime(missionTime);
        CfsTelemetryHeader.WriteHeader(p, EventMessageId, sequence, EventLength, s, sub);
        var name = System.Text.Encoding.ASCII.GetBytes(app);
        name.AsSpan(0, Math.Min(name.Length, 19)).CopyTo(p.AsSpan(16));
        U16(p, 36, id);
        U16(p, 38, (ushort)type);
        U32(p, 40, 0x42);         // CFE_MISSION_SPACECRAFT_ID
        U32(p, 44, 1);            // CFE_PLATFORM_CPU_ID
        var message = System.Text.Encoding.ASCII.GetBytes(text);
        message.AsSpan(0, Math.Min(message.Length, 121)).CopyTo(p.AsSpan(48));
        return p;
    }

    private static void U16(byte[] p, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(at), v);

    private static void U32(byte[] p, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(at), v);
}
