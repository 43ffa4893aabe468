using TacRS.Hil.Simulation.I2c;

namespace TacRS.Hil.Simulation.Faults;

/// <summary>
/// Acts out sensor faults below the driver, at the chip: <c>stuck</c> (the reading freezes at its
/// last value), <c>drift</c> (an error growing at <c>rate</c> per second since the fault fired),
/// <c>out-of-range</c> (the quantity jumps to <c>value</c>; the chip's register then saturates as the
/// real ADC would), <c>nack</c> (the chip stops acknowledging its address).
/// </summary>
public static class SensorFaults
{
    /// <summary>Wraps one physical quantity feeding a simulated chip.</summary>
    public static Func<double> Wrap(Func<double> source, DeviceFaults faults, string quantity, TimeProvider time)
    {
        var relevant = faults.All.Where(f => f.Spec.Quantity is null || f.Spec.Quantity == quantity).ToList();
        if (relevant.Count == 0)
        {
            return source;
        }

        var last = double.NaN;
        return () =>
        {
            if (relevant.Any(f => f.IsActive && f.Spec.Fault == "stuck"))
            {
                if (double.IsNaN(last))
                {
                    last = source();
                }

                return last;
            }

            var v = source();
            foreach (var f in relevant)
            {
                if (!f.IsActive)
                {
                    continue;
                }

                if (f.Spec.Fault == "drift")
                {
                    v += f.Spec.Rate * (time.GetUtcNow() - f.ActivatedAt).TotalSeconds;
                }
                else if (f.Spec.Fault == "out-of-range")
                {
                    v = f.Spec.Value;
                }
            }

            last = v;
            return v;
        };
    }

    /// <summary>Makes the chip vanish from the bus while a <c>nack</c> fault is active, and counts its transfers.</summary>
    public static void Attach(SimulatedI2cDevice chip, DeviceFaults faults)
    {
        chip.Transferring += _ => faults.CountTransaction();
        foreach (var f in faults.Named("nack"))
        {
            f.Bind(_ => chip.Present = false, _ => chip.Present = true);
        }
    }
}
