using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Devices.Station.Simulated;

/// <summary>An emulated transceiver: frequency, mode and passband, PTT. Starts where Hamlib's dummy rig does (145 MHz FM 15 kHz).</summary>
public sealed class RadioModel(RadioLimits? limits = null)
{
    private readonly Lock _gate = new();

    public RadioLimits Limits { get; } = limits ?? new RadioLimits();

    public double FrequencyHz { get; private set; } = 145_000_000;

    public string Mode { get; private set; } = "FM";

    public int PassbandHz { get; private set; } = 15_000;

    public bool Ptt { get; private set; }

    /// <summary>Where the S-meter reading comes from (the RF link model); without one the receiver hears only noise.</summary>
    public Func<double>? SignalStrength { get; set; }

    /// <summary>The S-meter now, dB relative to S9 (Hamlib STRENGTH).</summary>
    public double StrengthDb => SignalStrength?.Invoke() ?? RfLink.NoiseFloorDb;

    /// <summary>Times PTT went on (RF transmissions, for the record and the uplink model).</summary>
    public int Transmissions { get; private set; }

    /// <summary>Levels rigctld reads (<c>get_level</c>), the dummy rig's names; STRENGTH and RAWSTR follow the S-meter.</summary>
    public static IReadOnlyList<string> Levels { get; } = ["PREAMP", "ATT", "AF", "RF", "SQL", "CWPITCH", "RFPOWER", "MICGAIN", "KEYSPD", "COMP", "AGC", "RAWSTR", "SWR", "ALC", "STRENGTH"];

    /// <summary>Levels <c>set_level</c> accepts (the meters are read-only).</summary>
    public static IReadOnlyList<string> SettableLevels { get; } = ["PREAMP", "ATT", "AF", "RF", "SQL", "CWPITCH", "RFPOWER", "MICGAIN", "KEYSPD", "COMP", "AGC"];

    private static readonly HashSet<string> IntegerLevels = ["PREAMP", "ATT", "CWPITCH", "KEYSPD", "AGC", "RAWSTR", "STRENGTH"];

    private readonly Dictionary<string, double> _levels = new(StringComparer.Ordinal) { ["SWR"] = 1.0 };

    /// <summary>The VFO <c>set_vfo</c> selected (one receive chain: the choice is remembered, not modelled).</summary>
    public string Vfo { get; set; } = "VFOA";

    public int RitHz { get; set; }

    public int XitHz { get; set; }

    public bool LockMode { get; set; }

    /// <summary>Carrier detect: a signal above the noise floor (one S unit or more).</summary>
    public bool CarrierDetected => StrengthDb >= RfLink.NoiseFloorDb + 6;

    /// <summary>A level's value and whether rigctld prints it as an integer; false for a level this radio does not have.</summary>
    public bool TryGetLevel(string name, out double value, out bool integer)
    {
        integer = IntegerLevels.Contains(name);
        switch (name)
        {
            case "STRENGTH":
                value = StrengthDb;
                return true;
            case "RAWSTR":
                // An 8-bit S-meter reading: 0 at the noise floor, 2 counts a dB.
                value = Math.Clamp(Math.Round((StrengthDb - RfLink.NoiseFloorDb) * 2), 0, 255);
                return true;
            default:
                lock (_gate)
                {
                    var known = Levels.Contains(name);
                    value = known ? _levels.GetValueOrDefault(name) : 0;
                    return known;
                }
        }
    }

    /// <summary>Sets a settable level; false for a value that is not a number.</summary>
    public bool SetLevel(string name, double value)
    {
        if (!SettableLevels.Contains(name) || !double.IsFinite(value))
        {
            return false;
        }

        lock (_gate)
        {
            _levels[name] = IntegerLevels.Contains(name) ? Math.Round(value) : value;
        }

        return true;
    }

    public bool SetFrequency(double hz)
    {
        if (!double.IsFinite(hz) || hz < Limits.MinFrequencyHz || hz > Limits.MaxFrequencyHz)
        {
            return false;
        }

        lock (_gate)
        {
            FrequencyHz = Math.Round(hz);
        }

        return true;
    }

    public bool SetMode(string mode, int passbandHz)
    {
        if (!HamlibRadio.Modes.Contains(mode) || passbandHz < 0)
        {
            return false;
        }

        lock (_gate)
        {
            Mode = mode;
            // rigctl: passband 0 means "the normal passband for this mode".
            PassbandHz = passbandHz == 0 ? NormalPassband(mode) : passbandHz;
        }

        return true;
    }

    public void SetPtt(bool on)
    {
        lock (_gate)
        {
            if (on && !Ptt)
            {
                Transmissions++;
            }

            Ptt = on;
        }
    }

    /// <summary>The passband a mode gets when <c>set_mode</c> asks for 0 ("normal").</summary>
    public static int NormalPassband(string mode) => mode switch
    {
        "CW" or "CWR" => 500,
        "USB" or "LSB" or "PKTUSB" or "PKTLSB" => 2400,
        "AM" => 8000,
        "WFM" => 230_000,
        _ => 15_000,
    };
}
