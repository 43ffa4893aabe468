using TacRS.Hil.Core.Threading;
using System.Buffers.Binary;
using System.Device.Gpio;
using System.Device.I2c;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Serilog;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Drivers.Gpio;
using TacRS.Hil.Protocols.Pigpio;
using TacRS.Hil.Simulation.Bench;

namespace TacRS.Hil.Simulation.Serve;

/// <summary>
/// A pigpiod-compatible server (the pigpio daemon's socket protocol, as spoken by pigpio.py,
/// pigpiod_if2 and our <c>PigpioGpioDriver</c>/<c>PigpioI2cDevice</c>) in front of one simulated GPIO chip
/// and the bench's simulated I2C chips. It is how <c>tacrs-hil sim serve</c> gives GPIO and I2C a real
/// endpoint on a machine without gpio-sim or i2c-stub: a hardware-mode rig that points its gpio and
/// i2c devices at <c>pigpio: "127.0.0.1:8888"</c> reaches the simulation through real sockets, just as a
/// bench reaches a Raspberry Pi breakout. Serves GPIO modes, pulls, levels, banks, in-band
/// notifications (NOIB/NB/NP/NC) and the I2C device, SMBus and zip commands; anything else is
/// answered PI_UNKNOWN_COMMAND and the session goes on. Runs in real time (sim serve's clock).
/// </summary>
public sealed class PigpioServer : IAsyncDisposable
{
    /// <summary>pigpio.c PI_NOTIFY_SLOTS.</summary>
    public const int NotifySlots = 32;

    /// <summary>I2C handles served at once: pigpio.h PI_I2C_SLOTS of V79 (older daemons had 64).</summary>
    public const int I2cSlots = 512;

    /// <summary>What HWVER answers: a Raspberry Pi 4 Model B rev 1.1 revision code (GPIO 0-53, bank 1 on the header).</summary>
    public const uint HardwareRevision = 0xA03111;

    /// <summary>What PIGPV answers: the daemon version python3-pigpio 1.78 ships with.</summary>
    public const uint PigpioVersion = 79;

    /// <summary>Reports queued for one notification stream before the oldest are dropped (a client that stops reading cannot grow memory).</summary>
    public const int ReportQueueLength = 4096;

    private const int BankBits = 32;
    private const int MaxGlitchFilterMicroseconds = 300_000;

    private readonly GpioController _gpio;
    private readonly Func<int, int, I2cDevice?> _i2c;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly int _wantedPort;
    private readonly Lock _hardware = new();
    private readonly Lock _notifyGate = new();
    private readonly long _start;
    private readonly PigpioPull[] _pulls;
    private readonly bool[] _pullKnown;
    private readonly Notify?[] _notifies = new Notify?[NotifySlots];
    private readonly I2cHandle?[] _i2cHandles = new I2cHandle?[I2cSlots];
    private readonly Dictionary<int, PinChangeEventHandler> _pinHandlers = [];
    private readonly uint[] _glitchMicroseconds = new uint[BankBits];
    private readonly Dictionary<int, GlitchState> _filters = [];
    private readonly List<Session> _sessions = [];
    private readonly List<IDisposable> _owned = [];
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private int _nextSession;
    private bool _disposed;

    /// <param name="gpio">The GPIO chip to serve (BCM numbers = line numbers), e.g. <c>new GpioController(bench.Chip(0))</c>.</param>
    /// <param name="i2c">The I2C target at (bus, address), or null when nothing answers there (a NACK).</param>
    /// <param name="time">The clock for TICK and glitch filters (sim serve: <see cref="TimeProvider.System"/>).</param>
    /// <param name="port">The TCP port on 127.0.0.1; 0 picks a free one. A busy port falls back to a free one, with a warning.</param>
    public PigpioServer(GpioController gpio, Func<int, int, I2cDevice?> i2c, TimeProvider time, ILogger? log = null, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(gpio);
        ArgumentNullException.ThrowIfNull(i2c);
        ArgumentNullException.ThrowIfNull(time);
        _gpio = gpio;
        _i2c = i2c;
        _time = time;
        _log = (log ?? Serilog.Core.Logger.None).ForContext<PigpioServer>();
        _wantedPort = port;
        _start = time.GetTimestamp();
        _pulls = new PigpioPull[Math.Max(gpio.PinCount, 0)];
        _pullKnown = new bool[_pulls.Length];
    }

    /// <summary>
    /// The pigpio server for a simulated bench, as <c>sim serve</c> needs it: every <c>kind: gpio</c> device on
    /// <paramref name="chip"/> is opened on the bench (which wires its lines to the harness and payload
    /// models) and that chip is served; every device with an <c>i2c: { bus, address }</c> entry gets its
    /// simulated chip created, and is served at its address. Not started: call <see cref="Start"/>.
    /// </summary>
    /// <param name="serveI2c">False for a second chip's daemon: the I2C chips are served (and created on the bench) once.</param>
    public static PigpioServer ForBench(SimulatedBench bench, RigDefinition rig, ILogger? log = null, int port = PigpioCommands.DefaultPort, int chip = 0, bool serveI2c = true)
    {
        ArgumentNullException.ThrowIfNull(bench);
        ArgumentNullException.ThrowIfNull(rig);
        var logger = log ?? Serilog.Core.Logger.None;
        var controllers = new List<GpioController>();
        var devices = new List<string>();
        foreach (var d in rig.Devices)
        {
            if (bench.Simulated(d.Kind) == SimulatedAs.GpioLines && (d.Config.Int("chip") ?? 0) == chip)
            {
                controllers.Add(bench.OpenGpio(d, chip));
                devices.Add(d.Name);
            }
            else if (serveI2c && bench.Simulated(d.Kind) == SimulatedAs.I2cChip && d.Config.Get("i2c") is { IsMap: true } && d.Config.Map("i2c") is { } i2c && i2c.Int("bus") is { } bus && i2c.Int("address") is { } address)
            {
                try
                {
                    bench.OpenI2c(d, bus, address);
                    devices.Add(d.Name);
                }
                catch (IOException e)
                {
                    // No simulated chip for this kind: over pigpio it NACKs, as a missing chip does on a bench.
                    logger.Warning("pigpio: {Device} has no simulated I2C chip and will not answer: {Reason}", d.Name, e.Message);
                }
            }
        }

        var served = controllers.Count > 0 ? controllers[0] : new GpioController(bench.Chip(chip));
        if (controllers.Count == 0)
        {
            controllers.Add(served);
        }

        var server = new PigpioServer(served, bench.I2cChip, bench.Time, log, port);
        server._owned.AddRange(controllers);
        server.Devices = devices;
        return server;
    }

    /// <summary>The rig devices a <see cref="ForBench"/> server covers: what a rehearsal rig points at <see cref="Endpoint"/>.</summary>
    public IReadOnlyList<string> Devices { get; private set; } = [];

    /// <summary>The bound port (after <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:port</c>: what a rig's <c>pigpio:</c> entry points at.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Sockets served at once (command and notification sockets both count); one more is closed as it arrives.</summary>
    public int MaxConnections { get; set; } = ServeLimits.DefaultMaxConnections;

    /// <summary>Sessions currently connected (command and notification sockets both count).</summary>
    public int SessionCount
    {
        get
        {
            lock (_sessions)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Binds 127.0.0.1 and starts accepting; returns once clients can connect.</summary>
    public void Start(CancellationToken cancellationToken = default)
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("the pigpio server is already started");
        }

        _listener = Loopback.Listen(_wantedPort, _log, "pigpio");
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
        _acceptLoop = AcceptLoopAsync(_listener, linked);
        _log.Information("pigpio server on {Endpoint} serving {PinCount} GPIO lines", Endpoint, _gpio.PinCount);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        lock (_hardware)
        {
            _disposed = true;
        }

        _stop.Cancel();
        _listener?.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        lock (_hardware)
        {
            foreach (var (pin, handler) in _pinHandlers)
            {
                try
                {
                    _gpio.UnregisterCallbackForPinValueChangedEvent(pin, handler);
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or ObjectDisposedException)
                {
                    // The controller was closed first: the callback went with it.
                }
            }

            _pinHandlers.Clear();
            foreach (var f in _filters.Values)
            {
                f.Timer?.Dispose();
            }

            _filters.Clear();
        }

        foreach (var o in _owned)
        {
            o.Dispose();
        }

        _stop.Dispose();
    }

    private uint Tick => unchecked((uint)(_time.GetElapsedTime(_start).Ticks / TimeSpan.TicksPerMicrosecond));

    private async Task AcceptLoopAsync(TcpListener listener, CancellationTokenSource linked)
    {
        var cancellationToken = linked.Token;
        var running = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                if (SessionCount >= MaxConnections)
                {
                    _log.Debug("pigpio client {Peer} refused: {Max} sockets already served", socket.RemoteEndPoint, MaxConnections);
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Dispose();
                    continue;
                }

                socket.NoDelay = true;
                var session = new Session(Interlocked.Increment(ref _nextSession), socket, this);
                lock (_sessions)
                {
                    _sessions.Add(session);
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunSessionAsync(session, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                _log.Error(e, "pigpio server on {Endpoint} stopped accepting", Endpoint);
            }
        }

        await Task.WhenAll(running);
        linked.Dispose();
    }

    private async Task RunSessionAsync(Session session, CancellationToken cancellationToken)
    {
        _log.Information("pigpio client {Peer} connected (session {Session})", session.Peer, session.Id);
        try
        {
            await session.ServeAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (PigpioProtocolException e)
        {
            // pigpiod itself drops a socket whose extension does not fit its buffer: nothing after it can be framed.
            _log.Warning("pigpio client {Peer} sent a bad frame, closing: {Reason}", session.Peer, e.Message);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            _log.Debug("pigpio client {Peer} went away: {Reason}", session.Peer, e.Message);
        }
        finally
        {
            Closed(session);
            await session.DisposeAsync();
            lock (_sessions)
            {
                _sessions.Remove(session);
            }

            _log.Information("pigpio client {Peer} disconnected (session {Session})", session.Peer, session.Id);
        }
    }

    /// <summary>
    /// Frees what the session held: its notification handle. I2C handles outlive the connection, as in
    /// pigpiod (one <c>pigs i2co</c> then another <c>pigs i2crw</c>): only <c>i2cc</c> frees one, and a client that
    /// never closes its handles runs out of the 512 slots, as on a Pi.
    /// </summary>
    private void Closed(Session session)
    {
        lock (_notifyGate)
        {
            for (var i = 0; i < _notifies.Length; i++)
            {
                if (_notifies[i]?.Stream == session)
                {
                    _notifies[i] = null;
                }
            }
        }
    }

    /// <summary>Runs one command; returns the result word and, for data commands, fills <paramref name="data"/> with result bytes.</summary>
    private int Execute(Session session, PigpioCommandCode command, uint p1, uint p2, ReadOnlySpan<byte> extension, Span<byte> data)
    {
        lock (_hardware)
        {
            try
            {
                return command switch
                {
                    PigpioCommandCode.Modes => SetMode(p1, p2),
                    PigpioCommandCode.Modeg => GetMode(p1),
                    PigpioCommandCode.Pud => SetPull(p1, p2),
                    PigpioCommandCode.Read => ReadLevel(p1),
                    PigpioCommandCode.Write => WriteLevel(p1, p2),
                    PigpioCommandCode.Br1 => unchecked((int)ReadBank(0)),
                    PigpioCommandCode.Br2 => unchecked((int)ReadBank(BankBits)),
                    PigpioCommandCode.Bs1 => WriteBank(0, p1, PinValue.High),
                    PigpioCommandCode.Bc1 => WriteBank(0, p1, PinValue.Low),
                    PigpioCommandCode.Bs2 => WriteBank(BankBits, p1, PinValue.High),
                    PigpioCommandCode.Bc2 => WriteBank(BankBits, p1, PinValue.Low),
                    PigpioCommandCode.Tick => unchecked((int)Tick),
                    PigpioCommandCode.Hwver => unchecked((int)HardwareRevision),
                    PigpioCommandCode.Pigpv => (int)PigpioVersion,
                    PigpioCommandCode.Noib => OpenNotify(session),
                    PigpioCommandCode.Nb => BeginNotify(p1, p2),
                    PigpioCommandCode.Np => BeginNotify(p1, 0),
                    PigpioCommandCode.Nc => CloseNotify(p1),
                    PigpioCommandCode.Fg => SetGlitchFilter(p1, p2),
                    PigpioCommandCode.I2co => I2cOpen(session, p1, p2, extension),
                    PigpioCommandCode.I2cc => I2cClose(p1),
                    PigpioCommandCode.I2crd => I2cReadDevice(p1, p2, data),
                    PigpioCommandCode.I2cwd => I2cWriteDevice(p1, extension),
                    PigpioCommandCode.I2cwq => I2cWriteQuick(p1, p2),
                    PigpioCommandCode.I2crs => I2cReceiveByte(p1),
                    PigpioCommandCode.I2cws => p2 > byte.MaxValue ? (int)PigpioError.BadParam : I2cWrite(p1, [(byte)p2]),
                    PigpioCommandCode.I2crb => I2cReadRegister(p1, p2, 1),
                    PigpioCommandCode.I2cwb => I2cWriteRegister(p1, p2, extension, 1),
                    PigpioCommandCode.I2crw => I2cReadRegister(p1, p2, 2),
                    PigpioCommandCode.I2cww => I2cWriteRegister(p1, p2, extension, 2),
                    PigpioCommandCode.I2cpc => I2cProcessCall(p1, p2, extension),
                    PigpioCommandCode.I2crk => I2cReadBlock(p1, p2, data),
                    PigpioCommandCode.I2cwk => I2cWriteBlock(p1, p2, extension, smbusCount: true),
                    PigpioCommandCode.I2cri => I2cReadI2cBlock(p1, p2, extension, data),
                    PigpioCommandCode.I2cwi => I2cWriteBlock(p1, p2, extension, smbusCount: false),
                    PigpioCommandCode.I2cz => I2cZip(p1, extension, data),
                    _ => Unknown(session, command),
                };
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException)
            {
                // The simulated chip refused (a line it cannot drive, a closed pin): a refusal, not a crash.
                _log.Warning("pigpio {Command} ({P1}, {P2}) from {Peer} refused by the simulated chip: {Reason}", command, p1, p2, session.Peer, e.Message);
                return (int)PigpioError.NotPermitted;
            }
        }
    }

    private int Unknown(Session session, PigpioCommandCode command)
    {
        _log.Warning("pigpio command {Command} from {Peer} is not served; answering PI_UNKNOWN_COMMAND", command, session.Peer);
        return (int)PigpioError.UnknownCommand;
    }

    private bool TryPin(uint gpio, out int pin)
    {
        pin = (int)Math.Min(gpio, int.MaxValue);
        if (gpio > PigpioCommands.MaxGpio || pin >= _gpio.PinCount)
        {
            return false;
        }

        if (!_gpio.IsPinOpen(pin))
        {
            _gpio.OpenPin(pin);
        }

        if (!_pullKnown[pin])
        {
            // Take over the pull the line already has, so a MODES(input) does not switch it off (pigpio's MODES leaves the pull alone).
            _pullKnown[pin] = true;
            _pulls[pin] = _gpio.GetPinMode(pin) switch
            {
                PinMode.InputPullUp => PigpioPull.Up,
                PinMode.InputPullDown => PigpioPull.Down,
                _ => PigpioPull.Off,
            };
        }

        return true;
    }

    private PinMode InputMode(int pin) => _pulls[pin] switch
    {
        PigpioPull.Up => PinMode.InputPullUp,
        PigpioPull.Down => PinMode.InputPullDown,
        _ => PinMode.Input,
    };

    private int SetMode(uint gpio, uint mode)
    {
        if (!TryPin(gpio, out var pin))
        {
            return (int)PigpioError.BadGpio;
        }

        switch ((PigpioMode)mode)
        {
            case PigpioMode.Input:
                _gpio.SetPinMode(pin, InputMode(pin));
                return 0;
            case PigpioMode.Output:
                _gpio.SetPinMode(pin, PinMode.Output);
                return 0;
            default:
                // ALT0-5 are peripheral functions (UART, SPI, PWM) the simulated chip does not have.
                return (int)PigpioError.BadMode;
        }
    }

    private int GetMode(uint gpio)
    {
        if (!TryPin(gpio, out var pin))
        {
            return (int)PigpioError.BadGpio;
        }

        return _gpio.GetPinMode(pin) == PinMode.Output ? (int)PigpioMode.Output : (int)PigpioMode.Input;
    }

    private int SetPull(uint gpio, uint pull)
    {
        if (!TryPin(gpio, out var pin))
        {
            return (int)PigpioError.BadGpio;
        }

        if (pull > (uint)PigpioPull.Up)
        {
            return (int)PigpioError.BadPud;
        }

        _pulls[pin] = (PigpioPull)pull;
        if (_gpio.GetPinMode(pin) != PinMode.Output)
        {
            _gpio.SetPinMode(pin, InputMode(pin));
        }

        return 0;
    }

    private int ReadLevel(uint gpio) =>
        TryPin(gpio, out var pin) ? (_gpio.Read(pin) == PinValue.High ? 1 : 0) : (int)PigpioError.BadGpio;

    private int WriteLevel(uint gpio, uint level)
    {
        if (!TryPin(gpio, out var pin))
        {
            return (int)PigpioError.BadGpio;
        }

        if (level > 1)
        {
            return (int)PigpioError.BadLevel;
        }

        Drive(pin, level == 1 ? PinValue.High : PinValue.Low);
        return 0;
    }

    /// <summary>pigpio's gpioWrite makes the GPIO an output if it is not one (pigpio.c: "stop a glitch between setting mode then level").</summary>
    private void Drive(int pin, PinValue value)
    {
        if (_gpio.GetPinMode(pin) != PinMode.Output)
        {
            _gpio.SetPinMode(pin, PinMode.Output);
        }

        _gpio.Write(pin, value);
    }

    private uint ReadBank(int first)
    {
        uint levels = 0;
        for (var i = 0; i < BankBits; i++)
        {
            var pin = first + i;
            if (pin > PigpioCommands.MaxGpio || pin >= _gpio.PinCount)
            {
                break;
            }

            if (TryPin((uint)pin, out _) && _gpio.Read(pin) == PinValue.High)
            {
                levels |= 1u << i;
            }
        }

        return levels;
    }

    private int WriteBank(int first, uint bits, PinValue value)
    {
        for (var i = 0; i < BankBits; i++)
        {
            if ((bits & (1u << i)) != 0 && TryPin((uint)(first + i), out var pin))
            {
                Drive(pin, value);
            }
        }

        return 0;
    }

    private int SetGlitchFilter(uint gpio, uint steady)
    {
        if (gpio >= BankBits)
        {
            return (int)PigpioError.BadUserGpio;
        }

        if (steady > MaxGlitchFilterMicroseconds)
        {
            return (int)PigpioError.BadFilter;
        }

        _glitchMicroseconds[gpio] = steady;
        return 0;
    }

    private int OpenNotify(Session session)
    {
        lock (_notifyGate)
        {
            for (var h = 0; h < _notifies.Length; h++)
            {
                if (_notifies[h] is null)
                {
                    _notifies[h] = new Notify(h, session);
                    session.BecomeNotificationStream();
                    _log.Debug("pigpio notification handle {Handle} opened in-band for {Peer}", h, session.Peer);
                    return h;
                }
            }
        }

        return (int)PigpioError.NoHandle;
    }

    private int BeginNotify(uint handle, uint bits)
    {
        Notify? notify;
        lock (_notifyGate)
        {
            notify = handle < NotifySlots ? _notifies[handle] : null;
            if (notify is null)
            {
                return (int)PigpioError.BadHandle;
            }

            notify.Bits = bits;
        }

        for (var pin = 0; pin < BankBits; pin++)
        {
            if ((bits & (1u << pin)) != 0 && !_pinHandlers.ContainsKey(pin) && TryPin((uint)pin, out _))
            {
                // One callback per watched line, kept until the server stops; reports fan out to every handle watching it.
                var line = pin;
                PinChangeEventHandler handler = (_, e) => LineChanged(line, e.ChangeType);
                _gpio.RegisterCallbackForPinValueChangedEvent(pin, PinEventTypes.Rising | PinEventTypes.Falling, handler);
                _pinHandlers[pin] = handler;
            }
        }

        return 0;
    }

    private int CloseNotify(uint handle)
    {
        lock (_notifyGate)
        {
            if (handle >= NotifySlots || _notifies[handle] is null)
            {
                return (int)PigpioError.BadHandle;
            }

            // In-band: the socket stays open (pigpio closes only pipe notifications); it just stops carrying reports.
            _notifies[handle] = null;
            return 0;
        }
    }

    /// <summary>A watched line changed (on whatever thread changed it): a report to every handle watching it, subject to its glitch filter.</summary>
    private void LineChanged(int pin, PinEventTypes change)
    {
        var steady = _glitchMicroseconds[pin];
        if (steady > 0)
        {
            Filter(pin, steady);
            return;
        }

        Report(pin, change == PinEventTypes.Rising ? PinValue.High : PinValue.Low);
    }

    private void Report(int pin, PinValue level)
    {
        lock (_hardware)
        {
            if (_disposed)
            {
                return;
            }

            uint levels;
            try
            {
                levels = ReadBank(0);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or ArgumentException)
            {
                // Runs on whatever thread changed the line (a plant timer, a bounce): never throw back into it.
                _log.Warning("pigpio report for GPIO {Pin} not sent: {Reason}", pin, e.Message);
                return;
            }

            var bit = 1u << pin;
            levels = level == PinValue.High ? levels | bit : levels & ~bit;
            var tick = Tick;
            lock (_notifyGate)
            {
                foreach (var n in _notifies)
                {
                    if (n is not null && (n.Bits & bit) != 0)
                    {
                        n.Stream.Enqueue(new PigpioReport(n.Sequence++, 0, tick, levels));
                    }
                }
            }
        }
    }

    /// <summary>
    /// pigpio's glitch filter: a level change is reported only once the line has held it for the
    /// steady time, and then as the level it settled at (gpioGlitchFilter). Bounces shorter than that vanish.
    /// </summary>
    private void Filter(int pin, uint steadyMicroseconds)
    {
        lock (_hardware)
        {
            var state = _filters.TryGetValue(pin, out var f) ? f : _filters[pin] = new GlitchState();
            state.Timer?.Dispose();
            state.Timer = _time.CreateTimer(
                _ =>
                {
                    PinValue now;
                    lock (_hardware)
                    {
                        if (_disposed)
                        {
                            return;
                        }

                        try
                        {
                            now = _gpio.Read(pin);
                        }
                        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or ArgumentException)
                        {
                            // A timer thread: never throw out of it.
                            _log.Warning("pigpio glitch filter on GPIO {Pin} stopped: {Reason}", pin, e.Message);
                            return;
                        }

                        if (state.Reported == now)
                        {
                            return;
                        }

                        state.Reported = now;
                    }

                    Report(pin, now);
                },
                null,
                TimeSpan.FromTicks(steadyMicroseconds * TimeSpan.TicksPerMicrosecond),
                Timeout.InfiniteTimeSpan);
            state.Reported ??= _gpio.Read(pin) == PinValue.High ? PinValue.Low : PinValue.High;
        }
    }

    private int I2cOpen(Session session, uint bus, uint address, ReadOnlySpan<byte> extension)
    {
        if (address > 0x7F)
        {
            return (int)PigpioError.BadI2cAddr;
        }

        if (bus > byte.MaxValue)
        {
            return (int)PigpioError.BadI2cBus;
        }

        if (extension.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(extension) != 0)
        {
            return (int)PigpioError.BadFlags;
        }

        // Like /dev/i2c-N, opening does not touch the bus: a missing target shows at the first transfer, as a NACK.
        for (var h = 0; h < _i2cHandles.Length; h++)
        {
            if (_i2cHandles[h] is null)
            {
                _i2cHandles[h] = new I2cHandle((int)bus, (int)address);
                return h;
            }
        }

        return (int)PigpioError.NoHandle;
    }

    private int I2cClose(uint handle)
    {
        if (handle >= I2cSlots || _i2cHandles[handle] is null)
        {
            return (int)PigpioError.BadHandle;
        }

        _i2cHandles[handle] = null;
        return 0;
    }

    private I2cHandle? Handle(uint handle) => handle < I2cSlots ? _i2cHandles[handle] : null;

    /// <summary>Runs one transfer against the target; a missing target or a NACK is <paramref name="failure"/>.</summary>
    private int Transfer(uint handle, PigpioError failure, Func<I2cDevice, int> transfer, int? address = null)
    {
        if (Handle(handle) is not { } h)
        {
            return (int)PigpioError.BadHandle;
        }

        var target = _i2c(h.Bus, address ?? h.Address);
        if (target is null)
        {
            return (int)failure;
        }

        try
        {
            return transfer(target);
        }
        catch (IOException e)
        {
            _log.Debug("I2C transfer to i2c-{Bus}@0x{Address:X2} failed: {Reason}", h.Bus, address ?? h.Address, e.Message);
            return (int)failure;
        }
    }

    private int I2cReadDevice(uint handle, uint count, Span<byte> data)
    {
        if (count < 1 || count > (uint)data.Length)
        {
            return (int)PigpioError.BadParam;
        }

        var n = (int)count;
        var buffer = new byte[n];
        var result = Transfer(handle, PigpioError.I2cReadFailed, d =>
        {
            d.Read(buffer);
            return n;
        });
        if (result > 0)
        {
            buffer.CopyTo(data);
        }

        return result;
    }

    private int I2cWriteDevice(uint handle, ReadOnlySpan<byte> extension) =>
        extension.IsEmpty ? (int)PigpioError.BadParam : I2cWrite(handle, extension.ToArray());

    private int I2cWrite(uint handle, byte[] bytes) => Transfer(handle, PigpioError.I2cWriteFailed, d =>
    {
        d.Write(bytes);
        return 0;
    });

    private int I2cWriteQuick(uint handle, uint bit)
    {
        if (bit > 1)
        {
            return (int)PigpioError.BadParam;
        }

        // SMBus quick: the address and the R/W bit, no data.
        return Transfer(handle, PigpioError.I2cWriteFailed, d =>
        {
            if (bit == 0)
            {
                d.Write([]);
            }
            else
            {
                d.Read([]);
            }

            return 0;
        });
    }

    private int I2cReceiveByte(uint handle) => Transfer(handle, PigpioError.I2cReadFailed, d => d.ReadByte());

    /// <summary>SMBus read byte/word data: register write, repeated start, read; a word arrives low byte first (SMBus 3.1 §6.5.5).</summary>
    private int I2cReadRegister(uint handle, uint register, int width)
    {
        if (register > byte.MaxValue)
        {
            return (int)PigpioError.BadParam;
        }

        return Transfer(handle, PigpioError.I2cReadFailed, d =>
        {
            Span<byte> b = stackalloc byte[2];
            d.WriteRead([(byte)register], b[..width]);
            return width == 1 ? b[0] : b[0] | (b[1] << 8);
        });
    }

    private int I2cWriteRegister(uint handle, uint register, ReadOnlySpan<byte> extension, int width)
    {
        if (register > byte.MaxValue || extension.Length < 4)
        {
            return (int)PigpioError.BadParam;
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(extension);
        if (value > (width == 1 ? byte.MaxValue : ushort.MaxValue))
        {
            return (int)PigpioError.BadParam;
        }

        return I2cWrite(handle, width == 1 ? [(byte)register, (byte)value] : [(byte)register, (byte)value, (byte)(value >> 8)]);
    }

    private int I2cProcessCall(uint handle, uint register, ReadOnlySpan<byte> extension)
    {
        if (register > byte.MaxValue || extension.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(extension) > ushort.MaxValue)
        {
            return (int)PigpioError.BadParam;
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(extension);
        return Transfer(handle, PigpioError.I2cReadFailed, d =>
        {
            Span<byte> b = stackalloc byte[2];
            d.WriteRead([(byte)register, (byte)value, (byte)(value >> 8)], b);
            return b[0] | (b[1] << 8);
        });
    }

    /// <summary>SMBus block read: the target sends a count (1-32) and then that many bytes.</summary>
    private int I2cReadBlock(uint handle, uint register, Span<byte> data)
    {
        if (register > byte.MaxValue)
        {
            return (int)PigpioError.BadParam;
        }

        var buffer = new byte[33];
        var result = Transfer(handle, PigpioError.I2cReadFailed, d =>
        {
            d.WriteRead([(byte)register], buffer);
            return buffer[0] is >= 1 and <= 32 ? buffer[0] : (int)PigpioError.I2cReadFailed;
        });
        if (result > 0)
        {
            buffer.AsSpan(1, result).CopyTo(data);
        }

        return result;
    }

    private int I2cReadI2cBlock(uint handle, uint register, ReadOnlySpan<byte> extension, Span<byte> data)
    {
        if (register > byte.MaxValue || extension.Length < 4)
        {
            return (int)PigpioError.BadParam;
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(extension);
        if (count is < 1 or > 32)
        {
            return (int)PigpioError.BadParam;
        }

        var buffer = new byte[count];
        var result = Transfer(handle, PigpioError.I2cReadFailed, d =>
        {
            d.WriteRead([(byte)register], buffer);
            return buffer.Length;
        });
        if (result > 0)
        {
            buffer.CopyTo(data);
        }

        return result;
    }

    private int I2cWriteBlock(uint handle, uint register, ReadOnlySpan<byte> extension, bool smbusCount)
    {
        if (register > byte.MaxValue || extension.Length is < 1 or > 32)
        {
            return (int)PigpioError.BadParam;
        }

        var bytes = new List<byte> { (byte)register };
        if (smbusCount)
        {
            bytes.Add((byte)extension.Length);
        }

        bytes.AddRange(extension);
        return I2cWrite(handle, [.. bytes]);
    }

    /// <summary>
    /// I2CZ: runs the zip's segments transaction by transaction; a write directly followed by a read of
    /// the same target within one transaction is one combined WriteRead (a repeated start), as the
    /// I2C_RDWR ioctl pigpio issues makes it. A NACK fails the zip with PI_BAD_I2C_SEG, as i2cSegments does.
    /// </summary>
    private int I2cZip(uint handle, ReadOnlySpan<byte> sequence, Span<byte> data)
    {
        if (Handle(handle) is not { } h)
        {
            return (int)PigpioError.BadHandle;
        }

        var segments = new List<PigpioZipSegment>();
        var error = PigpioZip.Parse(sequence, h.Address, data.Length, segments);
        if (error != PigpioError.Ok)
        {
            return (int)error;
        }

        var input = sequence.ToArray();
        var output = new byte[data.Length];
        var read = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            int result;
            if (!s.IsRead && i + 1 < segments.Count && segments[i + 1] is { IsRead: true } next
                && next.Transaction == s.Transaction && next.Address == s.Address)
            {
                var at = read;
                result = Transfer(handle, PigpioError.BadI2cSeg, d =>
                {
                    d.WriteRead(input.AsSpan(s.DataOffset, s.Length), output.AsSpan(at, next.Length));
                    return 0;
                }, s.Address);
                read += next.Length;
                i++;
            }
            else if (s.IsRead)
            {
                var at = read;
                result = Transfer(handle, PigpioError.BadI2cSeg, d =>
                {
                    d.Read(output.AsSpan(at, s.Length));
                    return 0;
                }, s.Address);
                read += s.Length;
            }
            else
            {
                result = Transfer(handle, PigpioError.BadI2cSeg, d =>
                {
                    d.Write(input.AsSpan(s.DataOffset, s.Length));
                    return 0;
                }, s.Address);
            }

            if (result < 0)
            {
                return result;
            }
        }

        output.AsSpan(0, read).CopyTo(data);
        return read;
    }

    private sealed class GlitchState
    {
        public ITimer? Timer { get; set; }

        public PinValue? Reported { get; set; }
    }

    private sealed record I2cHandle(int Bus, int Address);

    private sealed class Notify(int handle, Session stream)
    {
        public int Handle { get; } = handle;

        public Session Stream { get; } = stream;

        public uint Bits { get; set; }

        public ushort Sequence { get; set; }
    }

    /// <summary>
    /// One client socket: commands in, answers out; after NOIB, reports out as well. Answers and reports
    /// share the socket under one write lock so frames never interleave; reports wait in a bounded queue.
    /// </summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly PigpioServer _server;
        private readonly AsyncGate _writeLock = new();
        private readonly byte[] _in = new byte[PigpioRequest.HeaderLength + PigpioRequest.MaxExtension];
        private readonly byte[] _out = new byte[PigpioResponse.Length + PigpioRequest.MaxExtension];
        private Channel<PigpioReport>? _reports;
        private Task? _pump;
        private long _dropped;

        public Session(int id, Socket socket, PigpioServer server)
        {
            Id = id;
            _socket = socket;
            _server = server;
            Peer = socket.RemoteEndPoint?.ToString() ?? "?";
        }

        public int Id { get; }

        public string Peer { get; }

        private CancellationToken Token { get; set; }

        public async Task ServeAsync(CancellationToken cancellationToken)
        {
            Token = cancellationToken;
            while (true)
            {
                if (!await ReceiveAsync(_in.AsMemory(0, PigpioRequest.HeaderLength), cancellationToken))
                {
                    return;
                }

                PigpioRequest.TryReadHeader(_in, out var command, out var p1, out var p2, out var length);
                if (length > 0 && !await ReceiveAsync(_in.AsMemory(PigpioRequest.HeaderLength, (int)length), cancellationToken))
                {
                    return;
                }

                var data = _out.AsSpan(PigpioResponse.Length, PigpioRequest.MaxExtension - 1);
                var result = _server.Execute(this, command, p1, p2, _in.AsSpan(PigpioRequest.HeaderLength, (int)length), data);
                var n = new PigpioResponse(command, p1, p2, result).Write(_out);
                if (PigpioCommands.ReturnsData(command) && result > 0)
                {
                    n += result;
                }

                await _writeLock.EnterAsync(cancellationToken);
                try
                {
                    await SendAsync(_out.AsMemory(0, n), cancellationToken);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }

        public void BecomeNotificationStream()
        {
            if (_reports is not null)
            {
                return;
            }

            _reports = Channel.CreateBounded<PigpioReport>(
                new BoundedChannelOptions(ReportQueueLength) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ =>
                {
                    if (Interlocked.Increment(ref _dropped) == 1)
                    {
                        _server._log.Warning("pigpio client {Peer} is not reading its notifications; dropping the oldest reports", Peer);
                    }
                });
            _pump = PumpAsync(_reports.Reader, Token);
        }

        public void Enqueue(PigpioReport report) => _reports?.Writer.TryWrite(report);

        public async ValueTask DisposeAsync()
        {
            _reports?.Writer.TryComplete();
            _socket.Dispose();
            if (_pump is not null)
            {
                try
                {
                    await _pump;
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            }
        }

        private async Task PumpAsync(ChannelReader<PigpioReport> reader, CancellationToken cancellationToken)
        {
            var batch = new byte[PigpioReport.Length * 64];
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                var n = 0;
                while (n + PigpioReport.Length <= batch.Length && reader.TryRead(out var report))
                {
                    n += report.Write(batch.AsSpan(n));
                }

                await _writeLock.EnterAsync(cancellationToken);
                try
                {
                    await SendAsync(batch.AsMemory(0, n), cancellationToken);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }

        private async ValueTask<bool> ReceiveAsync(Memory<byte> into, CancellationToken cancellationToken)
        {
            while (!into.IsEmpty)
            {
                var n = await _socket.ReceiveAsync(into, SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    return false;
                }

                into = into[n..];
            }

            return true;
        }

        private async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            while (!data.IsEmpty)
            {
                var n = await _socket.SendAsync(data, SocketFlags.None, cancellationToken);
                data = data[n..];
            }
        }
    }
}
