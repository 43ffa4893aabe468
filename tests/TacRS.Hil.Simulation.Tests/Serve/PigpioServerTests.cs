using System.Buffers.Binary;
using System.Device.Gpio;
using System.Device.I2c;
using System.Net;
using System.Net.Sockets;
using Iot.Device.Mcp9808;
using TacRS.Hil.Drivers.Gpio.Pigpio;
using TacRS.Hil.Drivers.I2c;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Pigpio;
using TacRS.Hil.Simulation.Gpio;
using TacRS.Hil.Simulation.I2c;
using TacRS.Hil.Simulation.Serve;
using TacRS.Hil.Devices.Ina219;
using TacRS.Hil.Devices.Ina219.Simulated;
using TacRS.Hil.Devices.Mcp9808.Simulated;

namespace TacRS.Hil.Simulation.Tests.Serve;

/// <summary>
/// Our pigpio client (PigpioGpioDriver under a real GpioController, PigpioI2cDevice under an Iot.Device
/// binding) against our pigpio server in front of the simulated chips, over real loopback sockets.
/// Real time, bounded: every wait has a TimeProvider-based timeout.
/// </summary>
public class PigpioServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private SimulatedGpioDriver _chip = null!;
    private GpioController _served = null!;
    private SimulatedMcp9808 _thermometer = null!;
    private SimulatedIna219 _rail = null!;
    private PigpioServer _server = null!;
    private readonly List<IDisposable> _clients = [];

    [SetUp]
    public void SetUp()
    {
        _chip = new SimulatedGpioDriver(TimeProvider.System);
        _served = new GpioController(_chip);
        _thermometer = new SimulatedMcp9808(new I2cConnectionSettings(1, 0x18), () => 21.5);
        _rail = new SimulatedIna219(new I2cConnectionSettings(1, 0x40), 0.1, () => 28.0, () => 1.5);
        _server = new PigpioServer(_served, Target, TimeProvider.System);
        _server.Start();
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }

        _clients.Clear();
        await _server.DisposeAsync();
        _served.Dispose();
        _chip.Dispose();
        _thermometer.Dispose();
        _rail.Dispose();
    }

    [Test]
    public void Write_OutputLine_DrivesTheSimulatedChip()
    {
        var gpio = Client();
        gpio.OpenPin(23, PinMode.Output);
        gpio.Write(23, PinValue.High);

        Assert.That(_chip.IsOutput(23), Is.True);
        Assert.That(_chip.Level(23), Is.EqualTo(PinValue.High));
        gpio.Write(23, PinValue.Low);
        Assert.That(_chip.Level(23), Is.EqualTo(PinValue.Low));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void OpenPin_OutputWithInitialValue_ComesUpAtThatLevel(bool high)
    {
        var initial = high ? PinValue.High : PinValue.Low;
        var gpio = Client();
        gpio.OpenPin(24, PinMode.Output, initial);

        Assert.That(_chip.IsOutput(24), Is.True);
        Assert.That(_chip.Level(24), Is.EqualTo(initial));
    }

    [Test]
    public void Read_InputWithPullUp_FollowsTheSwitchToGround()
    {
        var gpio = Client();
        gpio.OpenPin(17, PinMode.InputPullUp);

        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.High), "open switch: the pull-up decides");
        _chip.Drive(17, PinValue.Low);
        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.Low), "closed switch to ground");
        Assert.That(gpio.GetPinMode(17), Is.EqualTo(PinMode.InputPullUp));
    }

    [Test]
    public void Modes_Input_KeepsThePullTheLineAlreadyHas()
    {
        // Someone (the bench wiring, an earlier session) left GPIO 27 an input with its pull-up on.
        _served.OpenPin(27, PinMode.InputPullUp);
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);

        Assert.That(connection.Execute(PigpioCommandCode.Modes, 27, (uint)PigpioMode.Input), Is.Zero);

        Assert.That(_chip.Level(27), Is.EqualTo(PinValue.High));
        Assert.That(_chip.Transitions(27), Is.EqualTo(1), "pigpio's MODES leaves the pull alone: no glitch low");
    }

    [Test]
    public void SetPinMode_PullDown_ReachesTheChip()
    {
        var gpio = Client();
        gpio.OpenPin(27, PinMode.InputPullUp);
        Assert.That(gpio.Read(27), Is.EqualTo(PinValue.High));

        gpio.SetPinMode(27, PinMode.InputPullDown);

        Assert.That(gpio.Read(27), Is.EqualTo(PinValue.Low));
        Assert.That(gpio.GetPinMode(27), Is.EqualTo(PinMode.InputPullDown));
    }

    [Test]
    public async Task Callback_EdgesOnAWatchedLine_ArriveInOrder()
    {
        var gpio = Client();
        gpio.OpenPin(17, PinMode.InputPullUp);
        var seen = new List<(int Pin, PinEventTypes Change)>();
        var three = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Rising | PinEventTypes.Falling, (_, e) =>
        {
            lock (seen)
            {
                seen.Add((e.PinNumber, e.ChangeType));
                if (seen.Count == 3)
                {
                    three.TrySetResult();
                }
            }
        });

        _chip.Drive(17, PinValue.Low);
        _chip.Drive(17, null);
        _chip.Drive(17, PinValue.Low);
        await Within(three.Task);

        Assert.That(seen, Is.EqualTo(new[] { (17, PinEventTypes.Falling), (17, PinEventTypes.Rising), (17, PinEventTypes.Falling) }));
    }

    [Test]
    public async Task Callback_FallingOnly_IgnoresRisingEdgesAndOtherLines()
    {
        var gpio = Client();
        gpio.OpenPin(17, PinMode.InputPullUp);
        gpio.OpenPin(22, PinMode.InputPullUp);
        var falls = 0;
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Falling, (_, e) =>
        {
            if (Interlocked.Increment(ref falls) == 2)
            {
                second.TrySetResult();
            }
        });
        gpio.RegisterCallbackForPinValueChangedEvent(22, PinEventTypes.Falling, (_, _) => Interlocked.Add(ref falls, 100));

        _chip.Drive(17, PinValue.Low);
        _chip.Drive(17, null);
        _chip.Drive(17, PinValue.Low);
        await Within(second.Task);

        Assert.That(Volatile.Read(ref falls), Is.EqualTo(2));
    }

    [Test]
    public async Task WaitForEventAsync_RisingEdge_Completes()
    {
        var gpio = Client();
        gpio.OpenPin(22, PinMode.InputPullDown);
        using var timeout = new CancellationTokenSource(Bound, TimeProvider.System);
        var wait = gpio.WaitForEventAsync(22, PinEventTypes.Rising, timeout.Token).AsTask();

        _chip.Drive(22, PinValue.High);
        var result = await wait;

        Assert.That(result.TimedOut, Is.False);
        Assert.That(result.EventTypes, Is.EqualTo(PinEventTypes.Rising));
    }

    [Test]
    public void WaitForEvent_NoEdge_TimesOut()
    {
        var gpio = Client();
        gpio.OpenPin(22, PinMode.InputPullDown);

        var result = gpio.WaitForEvent(22, PinEventTypes.Rising, TimeSpan.FromMilliseconds(200));

        Assert.That(result.TimedOut, Is.True);
    }

    [Test]
    public void TwoClients_OneWritesAnOutput_TheOtherReadsIt()
    {
        var writer = Client();
        var reader = Client();
        writer.OpenPin(23, PinMode.Output);
        reader.OpenPin(23, PinMode.Output);

        writer.Write(23, PinValue.High);

        Assert.That(reader.Read(23), Is.EqualTo(PinValue.High));
    }

    [Test]
    public async Task TwoClients_OneWatches_EdgesFromTheOthersWritesArrive()
    {
        var writer = Client();
        var watcher = Client();
        writer.OpenPin(23, PinMode.Output, PinValue.Low);
        watcher.OpenPin(23);
        var rose = new TaskCompletionSource<PinEventTypes>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.RegisterCallbackForPinValueChangedEvent(23, PinEventTypes.Rising, (_, e) => rose.TrySetResult(e.ChangeType));

        writer.Write(23, PinValue.High);

        Assert.That(await Within(rose.Task), Is.EqualTo(PinEventTypes.Rising));
    }

    [Test]
    public void Mcp9808Binding_OverPigpio_ReadsTheSimulatedChip()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var device = new PigpioI2cDevice(connection, new I2cConnectionSettings(1, 0x18));
        using var sensor = new Mcp9808(device);

        Assert.That(sensor.Temperature.DegreesCelsius, Is.EqualTo(21.5).Within(0.0625));
    }

    [Test]
    public void Ina219RawRegisters_OverPigpio_ReadTheTwentyEightVoltBus()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var device = new PigpioI2cDevice(connection, new I2cConnectionSettings(1, 0x40));
        Span<byte> raw = stackalloc byte[2];

        device.WriteRead([0x02], raw);

        Assert.That(Ina219Device.DecodeBusVoltage(BinaryPrimitives.ReadUInt16BigEndian(raw)), Is.EqualTo(28.0).Within(0.004));
        Assert.That(_rail.Transactions, Is.EqualTo(1), "pointer write and read are one combined transaction (I2CZ)");
    }

    [Test]
    public void I2cWriteThenRead_SeparateTransfers_WriteTheRegisterPointer()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var device = new PigpioI2cDevice(connection, new I2cConnectionSettings(1, 0x40));
        Span<byte> raw = stackalloc byte[2];

        device.Write([0x05, 0x10, 0x00]);
        device.Write([0x05]);
        device.Read(raw);

        Assert.That(_rail.Calibration, Is.EqualTo(0x1000));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(raw), Is.EqualTo(0x1000));
    }

    [TestCase("read", "PI_I2C_READ_FAILED")]
    [TestCase("write", "PI_I2C_WRITE_FAILED")]
    [TestCase("write-read", "PI_BAD_I2C_SEG")]
    public void I2c_NobodyAtTheAddress_IOExceptionNamesErrorBusAndAddress(string transfer, string error)
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var device = new PigpioI2cDevice(connection, new I2cConnectionSettings(1, 0x55));

        var e = Assert.Throws<PigpioException>(() => Transfer(device, transfer));

        Assert.That(e, Is.InstanceOf<IOException>());
        Assert.That(e!.ErrorName, Is.EqualTo(error));
        Assert.That(e.Message, Does.Contain(error).And.Contain("i2c-1@0x55").And.Contain(_server.Endpoint));
    }

    [Test]
    public void I2c_SensorGoneFromTheBus_IsANack()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var device = new PigpioI2cDevice(connection, new I2cConnectionSettings(1, 0x18));
        _thermometer.Present = false;

        var e = Assert.Throws<PigpioException>(() => device.ReadByte());

        Assert.That(e!.Error, Is.EqualTo((int)PigpioError.I2cReadFailed));
        _thermometer.Present = true;
        Assert.That(() => device.ReadByte(), Throws.Nothing, "the handle survives a NACK, as on a bench");
    }

    [Test]
    public void Execute_UnknownCommand_AnswersPiUnknownCommandAndKeepsTheSession()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);

        Assert.That(connection.Execute(PigpioCommandCode.Pwm, 18, 128), Is.EqualTo((int)PigpioError.UnknownCommand));
        Assert.That(connection.Execute((PigpioCommandCode)4000, 1, 2), Is.EqualTo((int)PigpioError.UnknownCommand));
        Assert.That(connection.Execute(PigpioCommandCode.Write, 23, 1), Is.Zero);
        Assert.That(connection.Execute(PigpioCommandCode.Read, 23), Is.EqualTo(1));
    }

    [TestCase(PigpioCommandCode.Read, 54u, 0u, PigpioError.BadGpio)]
    [TestCase(PigpioCommandCode.Write, 23u, 2u, PigpioError.BadLevel)]
    [TestCase(PigpioCommandCode.Modes, 23u, 9u, PigpioError.BadMode)]
    [TestCase(PigpioCommandCode.Pud, 23u, 3u, PigpioError.BadPud)]
    [TestCase(PigpioCommandCode.Nb, 31u, 1u, PigpioError.BadHandle)]
    [TestCase(PigpioCommandCode.I2cc, 63u, 0u, PigpioError.BadHandle)]
    [TestCase(PigpioCommandCode.I2crd, 63u, 2u, PigpioError.BadHandle)]
    [TestCase(PigpioCommandCode.Fg, 32u, 100u, PigpioError.BadUserGpio)]
    [TestCase(PigpioCommandCode.Fg, 17u, 300001u, PigpioError.BadFilter)]
    public void Execute_BadParameter_AnswersPigpiosErrorCode(PigpioCommandCode command, uint p1, uint p2, PigpioError expected)
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);

        Assert.That(connection.Execute(command, p1, p2), Is.EqualTo((int)expected));
    }

    [Test]
    public void Driver_BadGpio_ThrowsNamingPigpioError()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);

        var e = Assert.Throws<PigpioException>(() => connection.Check(connection.Execute(PigpioCommandCode.Read, 60), "read GPIO 60"));

        Assert.That(e!.Message, Does.Contain("PI_BAD_GPIO").And.Contain("read GPIO 60"));
    }

    [Test]
    public void Br1_ReportsBankOneLevels()
    {
        _chip.Drive(17, PinValue.High);
        _chip.Drive(27, PinValue.High);
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);

        Assert.That(connection.ExecuteUnsigned(PigpioCommandCode.Br1), Is.EqualTo((1u << 17) | (1u << 27)));
    }

    [Test]
    public async Task Session_OversizedExtension_IsDroppedAndOthersCarryOn()
    {
        using var good = PigpioConnection.Connect(_server.Endpoint, Bound);
        using var bad = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await bad.ConnectAsync(IPAddress.Loopback, _server.Port);
        var frame = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(0), (uint)PigpioCommandCode.I2cwd);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), 1u << 20);
        await bad.SendAsync(frame);

        using var timeout = new CancellationTokenSource(Bound, TimeProvider.System);
        var n = await bad.ReceiveAsync(new byte[16], timeout.Token);

        Assert.That(n, Is.Zero, "the server hangs up on a frame it cannot buffer");
        Assert.That(good.Execute(PigpioCommandCode.Hwver), Is.EqualTo((int)PigpioServer.HardwareRevision));
    }

    [Test]
    public async Task Connection_ServerStops_NextCommandThrowsTransportExceptionNamingTheEndpoint()
    {
        var gpio = Client();
        gpio.OpenPin(23, PinMode.Output);
        var endpoint = _server.Endpoint;

        await _server.DisposeAsync();
        _server = new PigpioServer(_served, Target, TimeProvider.System);

        var e = Assert.Throws<TransportException>(() => gpio.Write(23, PinValue.High));
        Assert.That(e!.TransportPath, Is.EqualTo("pigpio://" + endpoint));
    }

    [Test]
    public async Task Notifications_StreamLostWhileCommandsStillWork_ReadsFailSoTheChipIsLost()
    {
        // Through a relay that can cut one connection: the driver's command socket is the first, its notification
        // socket (opened when a line is first watched) the second. Cut only the second.
        using var relay = new CuttableRelay(_server.Port);
        var driver = new PigpioGpioDriver(relay.Endpoint, Bound);
        var gpio = new GpioController(driver);
        _clients.Add(gpio);
        gpio.OpenPin(17, PinMode.InputPullUp);
        gpio.OpenPin(23, PinMode.Output, PinValue.Low);
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Falling, (_, _) => { });
        Assert.That(gpio.Read(17), Is.EqualTo(PinValue.High), "both connections up");
        Assert.That(relay.Connections, Is.EqualTo(2));

        relay.Cut(1);
        var deadline = TimeProvider.System.GetTimestamp();
        TransportException? e = null;
        while (e is null && TimeProvider.System.GetElapsedTime(deadline) < Bound)
        {
            try
            {
                gpio.Read(17);
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
            }
            catch (TransportException x)
            {
                e = x;
            }
        }

        Assert.That(e, Is.Not.Null, "a read after the edge reports stopped must not answer as if they still came");
        Assert.That(e!.Message, Does.Contain("pigpio notifications lost"));

        // An unwatched line (an output driven low by safing, read back) still works over the command socket.
        gpio.Write(23, PinValue.High);
        Assert.That(gpio.Read(23), Is.EqualTo(PinValue.High), "an output's read-back does not depend on the edge reports");
    }

    /// <summary>A loopback relay in front of the server that can cut one of the connections through it.</summary>
    private sealed class CuttableRelay : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<(TcpClient Client, TcpClient Server)> _pairs = [];
        private readonly CancellationTokenSource _stop = new();

        public CuttableRelay(int target)
        {
            _listener.Start();
            _ = AcceptAsync(target);
        }

        public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public int Connections
        {
            get
            {
                lock (_pairs)
                {
                    return _pairs.Count;
                }
            }
        }

        public void Cut(int index)
        {
            lock (_pairs)
            {
                _pairs[index].Client.Client.Shutdown(SocketShutdown.Both);
                _pairs[index].Server.Dispose();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_pairs)
            {
                foreach (var (c, srv) in _pairs)
                {
                    c.Dispose();
                    srv.Dispose();
                }
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync(int target)
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var server = new TcpClient();
                    await server.ConnectAsync(IPAddress.Loopback, target, _stop.Token);
                    lock (_pairs)
                    {
                        _pairs.Add((client, server));
                    }

                    _ = PumpAsync(client, server);
                    _ = PumpAsync(server, client);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task PumpAsync(TcpClient from, TcpClient to)
        {
            var buffer = new byte[4096];
            try
            {
                while (await from.GetStream().ReadAsync(buffer, _stop.Token) is var n and > 0)
                {
                    await to.GetStream().WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Cut or stopped.
            }
            finally
            {
                from.Dispose();
                to.Dispose();
            }
        }
    }

    [Test]
    public void Connect_NothingListening_ThrowsTransportExceptionNamingTheEndpoint()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();

        var e = Assert.Throws<TransportException>(() => PigpioConnection.Connect($"127.0.0.1:{port}", Bound));

        Assert.That(e!.Message, Does.Contain($"pigpio://127.0.0.1:{port}"));
    }

    [Test]
    public async Task Daemons_SharedConnection_IsReplacedOnceLost()
    {
        using var daemons = new PigpioDaemons(Bound);
        var first = daemons.Connection(_server.Endpoint);
        using var gpio = daemons.OpenGpio(_server.Endpoint);
        using var i2c = daemons.OpenI2c(_server.Endpoint, 1, 0x18);
        Assert.That(daemons.Connection(_server.Endpoint), Is.SameAs(first));
        gpio.OpenPin(23, PinMode.Output);
        Assert.That(() => i2c.ReadByte(), Throws.Nothing);
        var endpoint = _server.Endpoint;

        await _server.DisposeAsync();
        Assert.Throws<TransportException>(() => gpio.Write(23, PinValue.High));

        Assert.That(first.IsLost, Is.True);
        Assert.Throws<TransportException>(() => daemons.Connection(endpoint), "reconnects (and finds nobody) rather than reusing the dead socket");
    }

    [Test]
    public async Task GlitchFilter_BounceShorterThanSteadyTime_IsOneReport()
    {
        using var connection = PigpioConnection.Connect(_server.Endpoint, Bound);
        Assert.That(connection.Execute(PigpioCommandCode.Fg, 17, 50_000), Is.Zero);
        var gpio = Client(connection);
        gpio.OpenPin(17, PinMode.InputPullUp);
        var edges = new List<PinEventTypes>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Rising | PinEventTypes.Falling, (_, e) =>
        {
            lock (edges)
            {
                edges.Add(e.ChangeType);
            }

            first.TrySetResult();
        });

        // A contact closing with bounce: low, high, low, high, low within microseconds, then steady low.
        foreach (var level in new PinValue?[] { PinValue.Low, null, PinValue.Low, null, PinValue.Low })
        {
            _chip.Drive(17, level);
        }

        await Within(first.Task);

        // A second, real edge after the first settled proves nothing else was queued behind it.
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gpio.RegisterCallbackForPinValueChangedEvent(17, PinEventTypes.Rising, (_, _) => second.TrySetResult());
        _chip.Drive(17, null);
        await Within(second.Task);
        lock (edges)
        {
            Assert.That(edges, Is.EqualTo(new[] { PinEventTypes.Falling, PinEventTypes.Rising }));
        }
    }

    private static void Transfer(I2cDevice device, string transfer)
    {
        switch (transfer)
        {
            case "read":
                device.ReadByte();
                break;
            case "write":
                device.Write([0x05, 0x00]);
                break;
            default:
                device.WriteRead([0x05], new byte[2]);
                break;
        }
    }

    private static async Task<T> Within<T>(Task<T> task)
    {
        await Within((Task)task);
        return await task;
    }

    private static async Task Within(Task task)
    {
        var finished = await Task.WhenAny(task, Task.Delay(Bound, TimeProvider.System));
        Assert.That(finished, Is.SameAs(task), $"nothing arrived within {Bound}");
        await task;
    }

    private I2cDevice? Target(int bus, int address) => (bus, address) switch
    {
        (1, 0x18) => _thermometer,
        (1, 0x40) => _rail,
        _ => null,
    };

    private GpioController Client(PigpioConnection? connection = null)
    {
        var driver = connection is null ? new PigpioGpioDriver(_server.Endpoint, Bound) : new PigpioGpioDriver(connection);
        var controller = new GpioController(driver);
        _clients.Add(controller);
        return controller;
    }
}
