using System.Buffers.Binary;
using System.Device.I2c;
using System.Globalization;
using Iot.Device.Adc;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.I2c;

namespace TacRS.Hil.Devices.Ina219;

using Ina219 = Iot.Device.Adc.Ina219;

/// <summary>
/// The INA219 driver. Configuration and calibration go through the Iot.Device binding; the four
/// measurement registers are read raw through the same <see cref="I2cDevice"/> and decoded per
/// TI SBOS448G, because <see cref="Ina219"/> 4.2.0 decodes them wrongly where a satellite bench
/// lives: it casts the bus register to <c>short</c> before the shift, so anything above 16.38 V
/// reads negative (a 28 V bus reads −4.77 V), and it treats the shunt and current registers as
/// unsigned, so reverse current reads as a large positive value. The pinned-defect test in
/// tests/TacRS.Hil.Drivers.Tests/I2c notices the day an upgrade fixes this.
/// </summary>
public sealed class Ina219Device(Ina219Blueprint blueprint, IBusProvider buses, DeviceServices services) : IDevice, ILiveDevice
{
    /// <summary>How often the run checks the chip acknowledges (a configuration-register read, skipped after a good read).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    // One register exchange at a time: a liveness read on a bench's thread pool must not split a step's pointer write and read.
    private readonly Lock _bus = new();
    private long _reads;
    private long _readsSeen;
    private I2cDevice? _i2c;
    private Ina219? _binding;
    private ushort _calibration;
    private double _currentLsb;
    private bool _overflowNoted;

    public DeviceDescription Description => blueprint.Description;

    private string Name => blueprint.Definition.Name;

    /// <summary>
    /// Datasheet §8.5.1: Current_LSB = max expected current / 2^15, Cal = trunc(0.04096 / (Current_LSB × R_shunt)).
    /// Returns the register value and the LSB the calibration really gives (after truncation).
    /// </summary>
    public static (ushort Calibration, double CurrentLsb) Calibrate(double shuntOhms, double maxCurrent)
    {
        var lsb = maxCurrent / 32768.0;
        var cal = Math.Truncate(0.04096 / (lsb * shuntOhms));

        // The register is 15 bits wide above the void FS0 bit.
        cal = Math.Clamp(cal, 2, 0xFFFE);
        var calibration = (ushort)((ushort)cal & 0xFFFE);
        return (calibration, 0.04096 / (calibration * shuntOhms));
    }

    /// <summary>The PGA range (shunt full scale) needed for <c>max-current × shunt-ohms</c>, with the smallest step that fits.</summary>
    public static Ina219PgaSensitivity PgaFor(double shuntVolts) => shuntVolts switch
    {
        <= 0.04 => Ina219PgaSensitivity.PlusOrMinus40mv,
        <= 0.08 => Ina219PgaSensitivity.PlusOrMinus80mv,
        <= 0.16 => Ina219PgaSensitivity.PlusOrMinus160mv,
        _ => Ina219PgaSensitivity.PlusOrMinus320mv,
    };

    /// <summary>Bus voltage register: bits 15..3 are the value in 4 mV steps, unsigned (§8.6.3.2).</summary>
    public static double DecodeBusVoltage(ushort raw) => (raw >> 3) * 0.004;

    /// <summary>Shunt voltage register: two's complement, 10 µV LSB (§8.6.3.1); returned in mV.</summary>
    public static double DecodeShuntMillivolts(ushort raw) => (short)raw * 0.01;

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var t = blueprint.Target;
        Guard(() =>
        {
            _i2c = buses.OpenI2c(blueprint.Definition, t);
            _binding = new Ina219(_i2c);
            _binding.Reset();
            _binding.BusVoltageRange = blueprint.Range32V ? Ina219BusVoltageRange.Range32v : Ina219BusVoltageRange.Range16v;
            _binding.PgaSensitivity = PgaFor(blueprint.MaxCurrent * blueprint.ShuntOhms);
            (_calibration, _currentLsb) = Calibrate(blueprint.ShuntOhms, blueprint.MaxCurrent);
            _binding.SetCalibration(_calibration, (float)_currentLsb);

            // Something answered at the address; make sure it is an INA219 that took the calibration.
            var back = ReadRegister(0x05);
            if (back != _calibration)
            {
                throw new DeviceLostException(Name, t.ToString(), string.Create(CultureInfo.InvariantCulture, $"calibration register reads 0x{back:X4} after writing 0x{_calibration:X4}: not an INA219?"));
            }

            return 0;
        });
        services.Log.Information("Connected {Device} INA219 at {Target}: calibration {Calibration}, current LSB {Lsb} A", Name, t.ToString(), _calibration, _currentLsb);
        return ValueTask.CompletedTask;
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Guard(signal, static (self, signal) => signal switch
        {
            "bus_voltage" => self.BusVoltage(),
            "shunt_voltage" => DecodeShuntMillivolts(self.ReadRegister(0x01)),
            "current" => self.Current(),
            "power" => self.Power(),
            _ => throw new DeviceCheckFailedException(self.Name, $"no signal '{signal}'"),
        }));
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"'{signal}' is read-only");

    public ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken) =>
        throw new DeviceCheckFailedException(Name, $"no action '{action}'");

    public ValueTask DisposeAsync()
    {
        // The binding does not own a device it was handed; dispose the bus ourselves.
        _binding?.Dispose();
        _i2c?.Dispose();
        _binding = null;
        _i2c = null;
        return ValueTask.CompletedTask;
    }

    private double BusVoltage()
    {
        var raw = ReadRegister(0x02);
        if ((raw & 0x1) != 0 && !_overflowNoted)
        {
            // OVF: the power or current calculation is out of range (§8.6.3.2) — the current reading is clipped.
            _overflowNoted = true;
            services.Note("i2c", Name, "warning", "INA219 math overflow flag set: current or power out of range for the calibration");
        }

        return DecodeBusVoltage(raw);
    }

    private double Current()
    {
        EnsureCalibrated();
        return (short)ReadRegister(0x04) * _currentLsb;
    }

    /// <summary>Power register: unsigned, LSB = 20 × Current_LSB (§8.5.1).</summary>
    private double Power()
    {
        EnsureCalibrated();
        return ReadRegister(0x03) * 20 * _currentLsb;
    }

    /// <summary>
    /// A brown-out resets the chip and zeroes the calibration register, after which current and power
    /// read 0 forever; the binding rewrites the register before every current read for the same reason.
    /// </summary>
    private void EnsureCalibrated()
    {
        if (ReadRegister(0x05) != _calibration)
        {
            services.Note("i2c", Name, "warning", "INA219 calibration register lost (chip reset?); rewritten");
            WriteRegister(0x05, _calibration);
        }
    }

    private ushort ReadRegister(byte register)
    {
        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        Span<byte> buffer = stackalloc byte[2];
        i2c.WriteByte(register);
        i2c.Read(buffer);
        return BinaryPrimitives.ReadUInt16BigEndian(buffer);
    }

    private void WriteRegister(byte register, ushort value)
    {
        var i2c = _i2c ?? throw new InvalidOperationException($"device '{Name}' is not connected");
        Span<byte> buffer = [register, (byte)(value >> 8), (byte)value];
        i2c.Write(buffer);
    }

    /// <summary>A read of the configuration register once a second unless a step read the chip since: a NACK is a lost device, found within 2 s.</summary>
    public LivenessSpec Liveness => new(LivenessInterval, LivenessInterval * 2, "configuration register read");

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var reads = Interlocked.Read(ref _reads);
        if (reads > _readsSeen)
        {
            _readsSeen = reads;
            return ValueTask.FromResult(new LivenessReport("read by a step since the last check"));
        }

        var config = Guard(() => ReadRegister(0x00));
        _readsSeen = Interlocked.Read(ref _reads);
        return ValueTask.FromResult(new LivenessReport(string.Create(CultureInfo.InvariantCulture, $"configuration register 0x{config:X4}")));
    }

    private T Guard<T>(Func<T> read) => Guard(read, static (_, read) => read());

    /// <summary>As <see cref="Guard{T}(Func{T})"/> with the read's argument passed in, so a monitor's read every second allocates no closure.</summary>
    private T Guard<TArg, T>(TArg arg, Func<Ina219Device, TArg, T> read)
    {
        try
        {
            lock (_bus)
            {
                var value = read(this, arg);
                Interlocked.Increment(ref _reads);
                return value;
            }
        }
        catch (IOException e)
        {
            // A NACK or bus error: the chip is gone from the bus (unpowered, disconnected, address wrong).
            throw new DeviceLostException(Name, blueprint.Target.ToString(), e.Message, e);
        }
    }
}
