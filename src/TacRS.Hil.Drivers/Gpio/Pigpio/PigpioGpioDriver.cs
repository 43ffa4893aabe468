using System.Device.Gpio;
using System.Globalization;
using System.Net.Sockets;
using Serilog;
using TacRS.Hil.Drivers.Transports;
using TacRS.Hil.Protocols.Pigpio;

namespace TacRS.Hil.Drivers.Gpio.Pigpio;

/// <summary>
/// GPIO on a pigpio daemon (a Raspberry Pi as the bench's GSE I/O breakout, BCM numbering), plugged
/// in below <see cref="GpioController"/> exactly where the libgpiod driver sits on a local chip, so
/// the same <c>GpioDevice</c> code runs over the network. Modes, pulls, reads and writes are socket
/// commands on a shared <see cref="PigpioConnection"/>. Edges come from a second socket in
/// notification mode (NOIB, then NB with the watched pins' mask on the command socket, as
/// pigpio.py's callback thread does): each report carries the levels of GPIO 0-31, and a change of
/// level on a watched pin becomes a <see cref="PinValueChangedEventArgs"/>. pigpio only notifies
/// bank 1, so edges on GPIO 32-53 are not supported.
/// </summary>
public sealed class PigpioGpioDriver : GpioDriver
{
    /// <summary>GPIO 0-53 of the BCM283x.</summary>
    public const int GpioCount = PigpioCommands.MaxGpio + 1;

    private const int NotifiableGpioCount = 32;

    private readonly PigpioConnection _connection;
    private readonly bool _ownsConnection;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly Lock _setup = new();
    private readonly PigpioPull[] _pulls = new PigpioPull[GpioCount];
    private readonly Dictionary<int, List<(PinEventTypes Types, PinChangeEventHandler Handler)>> _callbacks = [];
    private readonly List<Waiter> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private Socket? _notify;
    private int _notifyHandle = -1;
    private uint _watched;
    private uint _levels;
    private string? _notifyBroken;
    private bool _disposed;

    /// <summary>A driver over a shared connection (the connection outlives it unless <paramref name="ownsConnection"/>).</summary>
    public PigpioGpioDriver(PigpioConnection connection, ILogger? log = null, bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _ownsConnection = ownsConnection;
        _log = (log ?? Serilog.Core.Logger.None).ForContext<PigpioGpioDriver>();
    }

    /// <summary>Connects to pigpiod at <c>host:port</c> with its own connection.</summary>
    public PigpioGpioDriver(string endpoint, TimeSpan timeout, ILogger? log = null)
        : this(PigpioConnection.Connect(endpoint, timeout), log, ownsConnection: true)
    {
    }

    public PigpioConnection Connection => _connection;

    protected override int PinCount => GpioCount;

    protected override void OpenPin(int pinNumber) => Gpio(pinNumber);

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            _callbacks.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        var gpio = Gpio(pinNumber);
        switch (mode)
        {
            case PinMode.Output:
                Run(PigpioCommandCode.Modes, gpio, (uint)PigpioMode.Output, $"set GPIO {pinNumber} to output");
                return;
            case PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown:
                var pull = mode switch
                {
                    PinMode.InputPullUp => PigpioPull.Up,
                    PinMode.InputPullDown => PigpioPull.Down,
                    _ => PigpioPull.Off,
                };
                Run(PigpioCommandCode.Modes, gpio, (uint)PigpioMode.Input, $"set GPIO {pinNumber} to input");
                Run(PigpioCommandCode.Pud, gpio, (uint)pull, $"set the pull of GPIO {pinNumber} to {pull}");
                _pulls[pinNumber] = pull;
                return;
            default:
                throw new ArgumentException($"pigpio GPIO {pinNumber}: mode {mode} is not supported", nameof(mode));
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue)
    {
        if (mode == PinMode.Output)
        {
            // pigpio's WRITE sets the level before it makes the line an output: no glitch to the wrong level.
            Write(pinNumber, initialValue);
        }

        SetPinMode(pinNumber, mode);
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        var mode = (PigpioMode)Run(PigpioCommandCode.Modeg, Gpio(pinNumber), 0, $"read the mode of GPIO {pinNumber}");
        return mode switch
        {
            PigpioMode.Output => PinMode.Output,

            // pigpio cannot read a pull back: report the one we set.
            PigpioMode.Input => _pulls[pinNumber] switch
            {
                PigpioPull.Up => PinMode.InputPullUp,
                PigpioPull.Down => PinMode.InputPullDown,
                _ => PinMode.Input,
            },
            _ => throw new InvalidOperationException($"pigpio GPIO {pinNumber} is in alternate function {mode}, not a GPIO mode"),
        };
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.Output or PinMode.InputPullUp or PinMode.InputPullDown;

    protected override PinValue Read(int pinNumber)
    {
        // A watched line is known to its users from its edge reports: once that stream is gone, what they hold
        // may be old, so a read of it fails (the device is lost, and its liveness check finds it) rather than
        // answer for a line whose edges go unseen. Unwatched lines (an output read back) are still read.
        if (Volatile.Read(ref _notifyBroken) is { } why && pinNumber < NotifiableGpioCount && (Volatile.Read(ref _watched) & (1u << pinNumber)) != 0)
        {
            throw new TransportException(_connection.Path, $"pigpio notifications lost ({why})");
        }

        return Run(PigpioCommandCode.Read, Gpio(pinNumber), 0, $"read GPIO {pinNumber}") != 0 ? PinValue.High : PinValue.Low;
    }

    protected override void Write(int pinNumber, PinValue value) =>
        Run(PigpioCommandCode.Write, Gpio(pinNumber), value == PinValue.High ? 1u : 0u, $"write {(value == PinValue.High ? 1 : 0)} to GPIO {pinNumber}");

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        var waiter = AddWaiter(pinNumber, eventTypes);
        try
        {
            waiter.Completion.Task.Wait(cancellationToken);
            return waiter.Completion.Task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Like the Linux drivers: a cancelled wait is a timeout, not an exception.
            RemoveWaiter(waiter);
            return new WaitForEventResult { TimedOut = true, EventTypes = PinEventTypes.None };
        }
        catch (AggregateException e) when (e.InnerException is TransportException t)
        {
            throw new TransportException(t.TransportPath, t.Reason, t);
        }
    }

    protected override ValueTask<WaitForEventResult> WaitForEventAsync(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        var waiter = AddWaiter(pinNumber, eventTypes);
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() =>
            {
                RemoveWaiter(waiter);
                waiter.Completion.TrySetResult(new WaitForEventResult { TimedOut = true, EventTypes = PinEventTypes.None });
            });
        }

        return new ValueTask<WaitForEventResult>(waiter.Completion.Task);
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        Notifiable(pinNumber);
        lock (_gate)
        {
            if (!_callbacks.TryGetValue(pinNumber, out var list))
            {
                list = [];
                _callbacks[pinNumber] = list;
            }

            list.Add((eventTypes, callback));
        }

        Watch();
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            if (_callbacks.TryGetValue(pinNumber, out var list))
            {
                list.RemoveAll(c => c.Handler == callback);
                if (list.Count == 0)
                {
                    _callbacks.Remove(pinNumber);
                }
            }
        }

        Watch();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _stop.Cancel();
            if (_notifyHandle >= 0)
            {
                try
                {
                    _connection.Execute(PigpioCommandCode.Nc, (uint)_notifyHandle);
                }
                catch (IOException e)
                {
                    _log.Debug(e, "Closing pigpio notification handle {Handle} at {Endpoint} failed", _notifyHandle, _connection.Endpoint);
                }
                catch (ObjectDisposedException)
                {
                    // The shared connection went first.
                }
            }

            // Closing the socket ends the report reader; it is not awaited, so a callback may dispose the controller.
            _notify?.Dispose();
            _stop.Dispose();
            if (_ownsConnection)
            {
                _connection.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private static uint Gpio(int pinNumber)
    {
        if ((uint)pinNumber >= GpioCount)
        {
            throw new ArgumentOutOfRangeException(nameof(pinNumber), pinNumber, "pigpio GPIO numbers are BCM 0-53");
        }

        return (uint)pinNumber;
    }

    private static void Notifiable(int pinNumber)
    {
        Gpio(pinNumber);
        if (pinNumber >= NotifiableGpioCount)
        {
            throw new NotSupportedException($"pigpio reports edges on GPIO 0-31 only, not GPIO {pinNumber}");
        }
    }

    private int Run(PigpioCommandCode command, uint p1, uint p2, string what) =>
        _connection.Check(_connection.Execute(command, p1, p2), what);

    private Waiter AddWaiter(int pinNumber, PinEventTypes eventTypes)
    {
        Notifiable(pinNumber);
        var waiter = new Waiter(pinNumber, eventTypes);
        lock (_gate)
        {
            _waiters.Add(waiter);
        }

        Watch();
        return waiter;
    }

    private void RemoveWaiter(Waiter waiter)
    {
        lock (_gate)
        {
            _waiters.Remove(waiter);
        }

        waiter.Registration.Dispose();
    }

    /// <summary>Opens the notification stream on first use and tells the daemon which pins to watch.</summary>
    private void Watch()
    {
        lock (_setup)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_notifyBroken is { } why)
            {
                throw new TransportException(_connection.Path, $"pigpio notifications lost earlier ({why})");
            }

            uint wanted;
            lock (_gate)
            {
                wanted = 0;
                foreach (var pin in _callbacks.Keys)
                {
                    wanted |= 1u << pin;
                }

                foreach (var w in _waiters)
                {
                    wanted |= 1u << w.Pin;
                }
            }

            if (wanted == _watched)
            {
                return;
            }

            OpenNotifications();
            var added = wanted & ~_watched;
            if (added != 0)
            {
                // A pin not watched until now may have changed unreported: take its level now as the baseline.
                var bank = _connection.ExecuteUnsigned(PigpioCommandCode.Br1);
                lock (_gate)
                {
                    _levels = (_levels & ~added) | (bank & added);
                }
            }

            lock (_gate)
            {
                // Before NB: a report for a newly watched pin may arrive before NB's answer does.
                _watched = wanted;
            }

            Run(PigpioCommandCode.Nb, (uint)_notifyHandle, wanted, string.Create(CultureInfo.InvariantCulture, $"watch GPIO mask 0x{wanted:X8}"));
        }
    }

    private void OpenNotifications()
    {
        if (_notify is not null)
        {
            return;
        }

        var socket = _connection.OpenSocket();
        try
        {
            // The levels first, then NOIB turns this socket into the report stream (pigpio.py's order).
            Span<byte> frame = stackalloc byte[PigpioRequest.HeaderLength];
            _levels = unchecked((uint)Exchange(socket, PigpioCommandCode.Br1, frame));
            var handle = _connection.Check(Exchange(socket, PigpioCommandCode.Noib, frame), "open pigpio notifications (NOIB)");
            socket.ReceiveTimeout = 0;
            _notify = socket;
            _notifyHandle = handle;
            _ = ReadReportsAsync(socket, _stop.Token);
            _log.Debug("pigpio notifications open at {Endpoint} with handle {Handle}", _connection.Endpoint, handle);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportException(_connection.Path, $"opening the pigpio notification socket failed: {e.SocketErrorCode}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private int Exchange(Socket socket, PigpioCommandCode command, Span<byte> frame)
    {
        var n = PigpioRequest.Write(frame, command, 0, 0, []);
        socket.Send(frame[..n]);
        var got = 0;
        while (got < PigpioResponse.Length)
        {
            var r = socket.Receive(frame[got..PigpioResponse.Length]);
            if (r == 0)
            {
                throw new TransportException(_connection.Path, $"pigpiod closed the notification socket during {command}");
            }

            got += r;
        }

        PigpioResponse.TryRead(frame, out var response, out _);
        return response.Result;
    }

    private async Task ReadReportsAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[PigpioReport.Length * 256];
        var count = 0;
        string why;
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    why = "pigpiod closed the notification socket";
                    break;
                }

                count += n;
                var at = 0;
                while (PigpioReport.TryRead(buffer.AsSpan(at, count - at), out var report, out var used))
                {
                    at += used;
                    Deliver(report);
                }

                buffer.AsSpan(at, count - at).CopyTo(buffer);
                count -= at;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            why = e.Message;
        }

        _log.Error("pigpio notifications from {Endpoint} stopped: {Reason}", _connection.Endpoint, why);
        List<Waiter> stranded;
        lock (_gate)
        {
            _notifyBroken = why;
            stranded = [.. _waiters];
            _waiters.Clear();
        }

        foreach (var w in stranded)
        {
            w.Completion.TrySetException(new TransportException(_connection.Path, $"pigpio notifications lost ({why})"));
        }
    }

    private void Deliver(PigpioReport report)
    {
        if (!report.IsLevelChange)
        {
            // Keep-alives and watchdog/event reports carry no level change for us.
            return;
        }

        var handlers = new List<(PinChangeEventHandler Handler, PinValueChangedEventArgs Args)>();
        var woken = new List<(Waiter Waiter, PinEventTypes Change)>();
        lock (_gate)
        {
            var changed = (report.Levels ^ _levels) & _watched;
            _levels = report.Levels;
            for (var pin = 0; changed != 0 && pin < NotifiableGpioCount; pin++)
            {
                var bit = 1u << pin;
                if ((changed & bit) == 0)
                {
                    continue;
                }

                changed &= ~bit;
                var change = (report.Levels & bit) != 0 ? PinEventTypes.Rising : PinEventTypes.Falling;
                if (_callbacks.TryGetValue(pin, out var list))
                {
                    var args = new PinValueChangedEventArgs(change, pin);
                    handlers.AddRange(list.Where(c => (c.Types & change) != 0).Select(c => (c.Handler, args)));
                }

                foreach (var w in _waiters.Where(w => w.Pin == pin && (w.Types & change) != 0).ToList())
                {
                    _waiters.Remove(w);
                    woken.Add((w, change));
                }
            }
        }

        foreach (var (handler, args) in handlers)
        {
            try
            {
                handler(this, args);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A throwing callback must not end the report stream for every other watcher.
                _log.Error(e, "A GPIO {Pin} edge callback failed", args.PinNumber);
            }
        }

        foreach (var (w, change) in woken)
        {
            w.Registration.Dispose();
            w.Completion.TrySetResult(new WaitForEventResult { TimedOut = false, EventTypes = change });
        }
    }

    private sealed class Waiter(int pin, PinEventTypes types)
    {
        public int Pin { get; } = pin;

        public PinEventTypes Types { get; } = types;

        public TaskCompletionSource<WaitForEventResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
