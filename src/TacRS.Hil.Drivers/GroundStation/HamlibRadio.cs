using System.Globalization;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Drivers.GroundStation;

/// <summary>Tuning range of the radio. Defaults are Hamlib's dummy rig (dump_state: 150 kHz … 1.5 GHz).</summary>
public sealed record RadioLimits(double MinFrequencyHz = 150e3, double MaxFrequencyHz = 1.5e9);

/// <summary>A transceiver behind rigctld: frequency, mode and passband, PTT.</summary>
public sealed class HamlibRadio(HamlibConnection connection, RadioLimits limits)
{
    /// <summary>
    /// Mode names rigctld accepts (rig.h rmode_t, rig_parse_mode). The dummy rig answers RPRT 0 even
    /// for a mode it does not know, so the driver checks the name itself.
    /// </summary>
    public static readonly IReadOnlyList<string> Modes =
    [
        "AM", "CW", "USB", "LSB", "RTTY", "FM", "WFM", "CWR", "RTTYR", "AMS", "PKTLSB", "PKTUSB", "PKTFM",
        "ECSSUSB", "ECSSLSB", "FAX", "SAM", "SAL", "SAH", "DSB", "FMN", "PKTAM", "P25", "D-STAR", "DPMR", "NXDNVN",
        "NXDN-N", "DCR", "AMN", "PSK", "PSKR", "DD", "C4FM", "PKTFMN", "SPEC", "CWN",
    ];

    public HamlibConnection Connection { get; } = connection;

    public RadioLimits Limits { get; } = limits;

    public async ValueTask<double> GetFrequencyAsync(CancellationToken cancellationToken) =>
        (await Connection.RequestAsync(HamlibCommand.GetFrequency(), cancellationToken)).Number("Frequency");

    public async ValueTask SetFrequencyAsync(double hz, CancellationToken cancellationToken)
    {
        if (!double.IsFinite(hz) || hz < Limits.MinFrequencyHz || hz > Limits.MaxFrequencyHz)
        {
            throw new HamlibRangeException(
                Connection.Device,
                string.Create(CultureInfo.InvariantCulture, $"frequency {hz:0} Hz is outside the radio's range {Limits.MinFrequencyHz:0}…{Limits.MaxFrequencyHz:0} Hz; not sent"));
        }

        await Connection.RequestAsync(HamlibCommand.SetFrequency(hz), cancellationToken);
    }

    public async ValueTask<(string Mode, int PassbandHz)> GetModeAsync(CancellationToken cancellationToken)
    {
        var reply = await Connection.RequestAsync(HamlibCommand.GetMode(), cancellationToken);
        return (reply["Mode"] ?? string.Empty, (int)reply.Number("Passband"));
    }

    /// <summary>Sets mode and passband (0 = the rig's normal passband for the mode).</summary>
    public async ValueTask SetModeAsync(string mode, int passbandHz, CancellationToken cancellationToken)
    {
        if (!Modes.Contains(mode))
        {
            throw new HamlibRangeException(Connection.Device, $"mode '{mode}' is not a Hamlib mode ({string.Join(", ", Modes)}); not sent");
        }

        if (passbandHz is < 0 or > 1_000_000)
        {
            throw new HamlibRangeException(Connection.Device, $"passband {passbandHz} Hz must be 0…1000000; not sent");
        }

        await Connection.RequestAsync(HamlibCommand.SetMode(mode, passbandHz), cancellationToken);
    }

    /// <summary>The S-meter, dB relative to S9 (S0 = −54): how well the downlink is heard.</summary>
    public async ValueTask<double> GetStrengthAsync(CancellationToken cancellationToken) =>
        (await Connection.RequestAsync(HamlibCommand.GetLevel("STRENGTH"), cancellationToken)).Number(string.Empty);

    public async ValueTask<bool> GetPttAsync(CancellationToken cancellationToken) =>
        (await Connection.RequestAsync(HamlibCommand.GetPtt(), cancellationToken)).Number("PTT") != 0;

    public async ValueTask SetPttAsync(bool on, CancellationToken cancellationToken) =>
        await Connection.RequestAsync(HamlibCommand.SetPtt(on), cancellationToken);
}
