using TacRS.Hil.Drivers.GroundStation;

namespace TacRS.Hil.Simulation.Station;

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

    private static int NormalPassband(string mode) => mode switch
    {
        "CW" or "CWR" => 500,
        "USB" or "LSB" or "PKTUSB" or "PKTLSB" => 2400,
        "AM" => 8000,
        "WFM" => 230_000,
        _ => 15_000,
    };
}
