using TacRS.Hil.Orbit;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Devices.Station.Simulated;

/// <summary>What the RF link needs to know besides the antenna: the satellite, the mask, the beam.</summary>
public sealed record RfLinkOptions(Tracker Satellite, double BeamwidthDeg = 10, double MaskDeg = 0)
{
    /// <summary>Frame loss probability on the beam axis (a clean link still drops the odd frame).</summary>
    public double LossOnAxis { get; init; } = 0.001;

    /// <summary>Downlink centre frequency; when set, the radio must be tuned within its passband of the Doppler-shifted carrier.</summary>
    public double? DownlinkHz { get; init; }
}

/// <summary>
/// Decides, frame by frame, whether the satellite's downlink reaches the harness: only while the
/// satellite is above the mask and inside the antenna's half-power beam, with loss rising toward the
/// beam edge like the gain rolls off (∝ (error / half-beamwidth)²·²). Deterministic from the seeded
/// <see cref="Random"/> and the clock.
/// </summary>
public sealed class RfLink(RfLinkOptions options, RotatorModel rotator, RadioModel radio, TimeProvider time, Random random)
{
    public RfLinkOptions Options { get; } = options;

    public int Delivered { get; private set; }

    public int Lost { get; private set; }

    /// <summary>Angle between the antenna boresight and the satellite now, degrees.</summary>
    public double PointingErrorDeg() => PointingError(time.GetUtcNow().UtcDateTime).Error;

    /// <summary>The chance a frame sent now gets through (0 below the mask or outside the beam).</summary>
    public double DeliveryProbability()
    {
        var (error, look) = PointingError(time.GetUtcNow().UtcDateTime);
        if (look.ElevationDeg < Options.MaskDeg)
        {
            return 0;
        }

        var half = Options.BeamwidthDeg / 2;
        if (error > half)
        {
            return 0;
        }

        if (Options.DownlinkHz is { } f)
        {
            var heard = Doppler.Downlink(f, look.RangeRateKmPerS);
            if (Math.Abs(radio.FrequencyHz - heard) > radio.PassbandHz / 2.0)
            {
                return 0;
            }
        }

        var x = error / half;
        return Math.Clamp(1 - Options.LossOnAxis - Math.Pow(x, 4.4), 0, 1);
    }

    /// <summary>The receiver's noise floor on Hamlib's STRENGTH scale (dB relative to S9): S0.</summary>
    public const double NoiseFloorDb = -54;

    /// <summary>Received level on the beam axis at 1000 km slant range, dB relative to S9 (an S8 UHF beacon).</summary>
    public const double ReferenceDb = -10;

    /// <summary>
    /// What the radio's S-meter shows now (Hamlib <c>get_level STRENGTH</c>): the noise floor unless
    /// the satellite is above the mask, inside the beam's main lobe and (when a downlink is set)
    /// within the passband; then the reference level less free-space loss against 1000 km
    /// (20·log10(range/1000 km)) and the beam's roll-off 12·(error/beamwidth)² dB (3 dB at the
    /// half-power edge), with 1 dB (1σ) of seeded scintillation.
    /// </summary>
    public double StrengthDb()
    {
        var (error, look) = PointingError(time.GetUtcNow().UtcDateTime);
        var heard = look.ElevationDeg >= Options.MaskDeg && error <= Options.BeamwidthDeg
            && (Options.DownlinkHz is not { } f || Math.Abs(radio.FrequencyHz - Doppler.Downlink(f, look.RangeRateKmPerS)) <= radio.PassbandHz / 2.0);
        var scintillation = random.NextGaussian(1.0);
        if (!heard)
        {
            return NoiseFloorDb;
        }

        var x = error / Options.BeamwidthDeg;
        var level = ReferenceDb - (20 * Math.Log10(Math.Max(look.RangeKm, 1) / 1000)) - (12 * x * x) + scintillation;
        return Math.Max(NoiseFloorDb, level);
    }

    /// <summary>Is a frame from the satellite delivered now? Draws once from the seeded generator.</summary>
    public bool IsFrameDelivered()
    {
        var p = DeliveryProbability();
        var ok = p > 0 && random.NextDouble() < p;
        if (ok)
        {
            Delivered++;
        }
        else
        {
            Lost++;
        }

        return ok;
    }

    private (double Error, LookAngles Look) PointingError(DateTime utc)
    {
        var look = Options.Satellite.Look(utc);
        var (az, el) = rotator.Position;
        return (Separation(az, el, look.AzimuthDeg, look.ElevationDeg), look);
    }

    /// <summary>Great-circle angle between two az/el directions, degrees.</summary>
    public static double Separation(double az1, double el1, double az2, double el2)
    {
        const double d = Math.PI / 180;
        var c = (Math.Sin(el1 * d) * Math.Sin(el2 * d)) + (Math.Cos(el1 * d) * Math.Cos(el2 * d) * Math.Cos((az1 - az2) * d));
        return Math.Acos(Math.Clamp(c, -1, 1)) / d;
    }
}
