using System.Device.Gpio;
using System.Device.I2c;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Devices.Ina219.Simulated;

namespace TacRS.Hil.Interop.Tests.Pigpio;

/// <summary>What the third-party pigpio clients talk to: our server over a simulated chip and an INA219 at i2c-1@0x40 (28 V, 1.5 A).</summary>
internal sealed class ServedChip : IAsyncDisposable
{
    private readonly GpioController _served;

    public ServedChip()
    {
        Chip = new SimulatedGpioDriver(TimeProvider.System);
        _served = new GpioController(Chip);
        Rail = new SimulatedIna219(new I2cConnectionSettings(1, 0x40), 0.1, () => 28.0, () => 1.5);
        Server = new PigpioServer(_served, (bus, address) => (bus, address) == (1, 0x40) ? Rail : null, TimeProvider.System);
        Server.Start();
    }

    public SimulatedGpioDriver Chip { get; }

    public SimulatedIna219 Rail { get; }

    public PigpioServer Server { get; }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _served.Dispose();
        Chip.Dispose();
        Rail.Dispose();
    }
}
