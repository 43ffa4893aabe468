namespace TacRS.Hil.Simulation.Faults;

/// <summary>What a faulted Modbus slave does with a request.</summary>
public enum ModbusFaultKind
{
    /// <summary>Answer normally.</summary>
    None,

    /// <summary>Answer with an exception response (function | 0x80, <see cref="ModbusFaultAction.ExceptionCode"/>).</summary>
    Exception,

    /// <summary>Do not answer at all (the master times out).</summary>
    Silence,
}

public readonly record struct ModbusFaultAction(ModbusFaultKind Kind, byte ExceptionCode = 0)
{
    public static readonly ModbusFaultAction None = new(ModbusFaultKind.None);
}

/// <summary>
/// Consulted by the Modbus slave emulator (Simulation/Modbus) for every request it receives, before it
/// answers: faults from the rig (<c>modbus-exception</c>, <c>modbus-silence</c>) become exception
/// replies or silence here, so the slave needs no knowledge of the fault schedule.
/// </summary>
public interface IModbusFaultHook
{
    ModbusFaultAction OnRequest(byte unitId, byte functionCode);
}

internal sealed class ModbusFaults(DeviceFaults faults) : IModbusFaultHook
{
    public ModbusFaultAction OnRequest(byte unitId, byte functionCode)
    {
        faults.CountTransaction();
        foreach (var f in faults.All)
        {
            if (!f.IsActive)
            {
                continue;
            }

            if (f.Spec.Fault == "modbus-silence" && f.Roll())
            {
                return new ModbusFaultAction(ModbusFaultKind.Silence);
            }

            if (f.Spec.Fault == "modbus-exception" && f.Roll())
            {
                return new ModbusFaultAction(ModbusFaultKind.Exception, (byte)f.Spec.Code);
            }
        }

        return ModbusFaultAction.None;
    }
}
