using System.Device.Gpio;
using System.Globalization;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Devices;
using TacRS.Hil.Drivers.Devices;
using TacRS.Hil.Drivers.Gpio;

namespace TacRS.Hil.Devices.Gpio;

/// <summary>
/// The <c>gpio</c> driver: named discrete lines over a <see cref="GpioController"/> it is handed
/// (the Linux driver on a bench, a simulated driver in simulation — the same code either way).
/// Inputs are debounced in software on edge callbacks and the run's clock; a settle that took more
/// than one edge is a bounce and is noted in the record; an output whose read-back disagrees with
/// what was written is stuck, noted, and fails the step.
/// </summary>
public sealed class GpioDevice : IDevice, ILiveDevice
{
    /// <summary>How often the run checks a pigpio daemon still answers for the lines (a level read of the first line).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(1);

    private readonly GpioBlueprint _bp;
    private readonly IBusProvider _buses;
    private readonly DeviceServices _services;
    private readonly Dictionary<string, InputState> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GpioLineSpec> _lines;
    private readonly Lock _gate = new();
    private GpioController? _controller;

    public GpioDevice(GpioBlueprint blueprint, IBusProvider buses, DeviceServices services)
    {
        _bp = blueprint;
        _buses = buses;
        _services = services;
        _lines = blueprint.Lines.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    public DeviceDescription Description => _bp.Description;

    private string Name => _bp.Definition.Name;

    private string Path => _bp.Chip.ToString();

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _controller = _buses.OpenGpio(_bp.Definition, _bp.Chip);
            foreach (var l in _bp.Lines)
            {
                if (l.IsOutput)
                {
                    _controller.OpenPin(l.Line, PinMode.Output, Level(l, l.Initial));
                    continue;
                }

                var mode = l.Pull switch { LinePull.Up => PinMode.InputPullUp, LinePull.Down => PinMode.InputPullDown, _ => PinMode.Input };
                _controller.OpenPin(l.Line, mode);
                var state = new InputState(l);
                state.Timer = _services.Time.CreateTimer(_ => Settle(state), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                state.Stable = Logical(l, _controller.Read(l.Line));
                state.Handler = (_, e) => OnEdge(state, e);
                _inputs[l.Name] = state;
                _controller.RegisterCallbackForPinValueChangedEvent(l.Line, PinEventTypes.Rising | PinEventTypes.Falling, state.Handler);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or PlatformNotSupportedException)
        {
            throw new DeviceLostException(Name, Path, e.Message, e);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<double> ReadAsync(string signal, CancellationToken cancellationToken)
    {
        var c = Controller();
        if (signal.EndsWith("_edges", StringComparison.Ordinal) && _inputs.TryGetValue(signal[..^6], out var counted))
        {
            lock (_gate)
            {
                return ValueTask.FromResult((double)counted.Edges);
            }
        }

        var l = Line(signal);
        if (!l.IsOutput && l.Debounce > TimeSpan.Zero)
        {
            lock (_gate)
            {
                return ValueTask.FromResult(_inputs[l.Name].Stable ? 1.0 : 0.0);
            }
        }

        return ValueTask.FromResult(Logical(l, Lost(() => c.Read(l.Line))) ? 1.0 : 0.0);
    }

    public ValueTask WriteAsync(string signal, double value, CancellationToken cancellationToken)
    {
        var c = Controller();
        var l = Line(signal);
        if (!l.IsOutput)
        {
            throw new DeviceCheckFailedException(Name, $"'{signal}' is an input and cannot be written");
        }

        if (value is not (0 or 1))
        {
            throw new DeviceCheckFailedException(Name, $"'{signal}' takes 0 or 1, not {value.ToString(CultureInfo.InvariantCulture)}");
        }

        var on = value == 1;
        Lost(() =>
        {
            c.Write(l.Line, Level(l, on));
            return PinValue.Low;
        });

        // Read back the line: a driver that cannot pull it (shorted, stuck) is found here, not three steps later.
        var back = Logical(l, Lost(() => c.Read(l.Line)));
        if (back != on)
        {
            var fields = new Dictionary<string, string> { ["line"] = l.Line.ToString(CultureInfo.InvariantCulture), ["wrote"] = on ? "1" : "0", ["reads"] = back ? "1" : "0" };
            _services.Note("gpio", $"{Name}.{l.Name}", "error", $"{l.Name} stuck {(back ? "high" : "low")}: wrote {(on ? 1 : 0)}, line reads {(back ? 1 : 0)}", fields);
            throw new DeviceCheckFailedException(Name, $"{l.Name} (line {l.Line}) is stuck at {(back ? 1 : 0)}: wrote {(on ? 1 : 0)}");
        }

        _services.Log.Debug("Set {Device}.{Line} to {Value}", Name, l.Name, on ? 1 : 0);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ActionResult> InvokeAsync(string action, IReadOnlyDictionary<string, ArgumentValue> arguments, CancellationToken cancellationToken)
    {
        if (action != "wait_line")
        {
            throw new DeviceCheckFailedException(Name, $"no action '{action}'");
        }

        var name = arguments.TryGetValue("line", out var a) ? a.Text : throw new DeviceCheckFailedException(Name, "wait_line needs 'line'");
        var state = arguments.TryGetValue("state", out var s) && s.Number is { } n ? n != 0 : throw new DeviceCheckFailedException(Name, "wait_line needs 'state'");
        var timeout = arguments.TryGetValue("timeout", out var t) && t.Number is { } secs ? TimeSpan.FromSeconds(secs) : TimeSpan.FromSeconds(10);
        var elapsed = await WaitLineAsync(name, state, timeout, cancellationToken);
        return new ActionResult(new Dictionary<string, double> { ["elapsed"] = elapsed.TotalSeconds }, $"{name} reached {(state ? 1 : 0)} after {Duration.Format(elapsed)}");
    }

    /// <summary>
    /// Waits, on edges (not by polling), until an input's logical, debounced state is <paramref name="state"/>.
    /// It wakes when the debouncer settles (or, undebounced, on the edge itself), never on a guess at when
    /// the debouncer will have settled: on the system clock two timers due together fire in either order.
    /// </summary>
    public async ValueTask<TimeSpan> WaitLineAsync(string line, bool state, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Controller();
        var l = Line(line);
        if (!_inputs.TryGetValue(l.Name, out var input))
        {
            throw new DeviceCheckFailedException(Name, $"'{line}' is an output: wait_line watches inputs");
        }

        var time = _services.Time;
        var start = time.GetTimestamp();
        var target = state ? 1 : 0;
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        while (true)
        {
            // Watch before reading, so a change between the read and the wait is not lost.
            var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                input.Watchers.Add(changed);
            }

            try
            {
                if (await ReadAsync(line, cancellationToken) == target)
                {
                    return time.GetElapsedTime(start);
                }

                using (linked.Token.Register(() => changed.TrySetCanceled(linked.Token)))
                {
                    await changed.Task;
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                var now = await ReadAsync(line, cancellationToken);
                if (now == target)
                {
                    return time.GetElapsedTime(start);
                }

                _services.Note("gpio", $"{Name}.{l.Name}", "warning", $"{l.Name} did not reach {target} within {Duration.Format(timeout)}: stuck at {now.ToString(CultureInfo.InvariantCulture)}?");
                throw new DeviceTimeoutException(Name, $"wait_line {l.Name}={target}", timeout);
            }
            finally
            {
                lock (_gate)
                {
                    input.Watchers.Remove(changed);
                }
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_controller is { } c)
        {
            foreach (var s in _inputs.Values)
            {
                s.Timer?.Dispose();
                if (s.Handler is { } h)
                {
                    try
                    {
                        c.UnregisterCallbackForPinValueChangedEvent(s.Spec.Line, h);
                    }
                    catch (InvalidOperationException)
                    {
                        // Pin already closed.
                    }
                }
            }

            c.Dispose();
            _controller = null;
        }

        return ValueTask.CompletedTask;
    }

    private static PinValue Level(GpioLineSpec l, bool logical) => logical != l.ActiveLow ? PinValue.High : PinValue.Low;

    private static bool Logical(GpioLineSpec l, PinValue level) => (level == PinValue.High) != l.ActiveLow;

    private void OnEdge(InputState s, PinValueChangedEventArgs e)
    {
        var level = e.ChangeType == PinEventTypes.Rising ? PinValue.High : PinValue.Low;
        bool? settledNow = null;
        lock (_gate)
        {
            s.Edges++;
            s.Raw = Logical(s.Spec, level);
            if (s.Spec.Debounce > TimeSpan.Zero)
            {
                s.EdgesInWindow++;
                s.Timer?.Change(s.Spec.Debounce, Timeout.InfiniteTimeSpan);
            }
            else if (s.Stable != s.Raw)
            {
                s.Stable = s.Raw;
                settledNow = s.Raw;
            }
        }

        if (settledNow is { } v)
        {
            Changed(s, v, 1);
        }
    }

    /// <summary>Wakes every <see cref="WaitLineAsync"/> watching this input: its logical state changed.</summary>
    private void Wake(InputState s)
    {
        TaskCompletionSource[] watchers;
        lock (_gate)
        {
            watchers = [.. s.Watchers];
        }

        foreach (var w in watchers)
        {
            w.TrySetResult();
        }
    }

    private void Settle(InputState s)
    {
        bool changed;
        int edges;
        bool value;
        lock (_gate)
        {
            edges = s.EdgesInWindow;
            s.EdgesInWindow = 0;
            value = s.Raw;
            changed = s.Stable != value;
            s.Stable = value;
        }

        if (edges > 1 || (edges > 0 && !changed))
        {
            // More than one edge before the line held still for the debounce time: contact bounce, chatter or a glitch.
            var fields = new Dictionary<string, string> { ["line"] = s.Spec.Line.ToString(CultureInfo.InvariantCulture), ["edges"] = edges.ToString(CultureInfo.InvariantCulture), ["settled"] = value ? "1" : "0" };
            _services.Note("gpio", $"{Name}.{s.Spec.Name}", "warning", $"{s.Spec.Name} bounced: {edges} edges before settling at {(value ? 1 : 0)} ({Duration.Format(s.Spec.Debounce)} debounce)", fields);
            _services.Log.Warning("{Device}.{Line} bounced: {Edges} edges before settling at {Value}", Name, s.Spec.Name, edges, value ? 1 : 0);
        }

        if (changed)
        {
            Changed(s, value, edges);
        }
    }

    private void Changed(InputState s, bool value, int edges)
    {
        _services.Log.Information("{Device}.{Line} changed to {Value} after {Edges} edge(s)", Name, s.Spec.Name, value ? 1 : 0, edges);
        Wake(s);
    }

    /// <summary>
    /// Lines behind a pigpio daemon: a level read once a second through the daemon connection, of a debounced input
    /// when there is one (its level comes from the daemon's edge reports, so the read also fails once that stream is
    /// lost), else of the first line; a dropped or silent daemon is a lost device, found within 1 s + the daemon
    /// timeout (3 s by default). A local chip has no check (nothing between it and the kernel can drop).
    /// </summary>
    public LivenessSpec? Liveness => _bp.Chip.Pigpio is { } daemon && _bp.Lines.Count > 0
        ? new LivenessSpec(LivenessInterval, LivenessInterval + daemon.Timeout, "pigpio daemon connection (level read)")
        : null;

    public ValueTask<LivenessReport> CheckLivenessAsync(bool powered, CancellationToken cancellationToken)
    {
        var first = _bp.Lines.FirstOrDefault(l => !l.IsOutput && l.Debounce > TimeSpan.Zero) ?? _bp.Lines[0];
        var level = Lost(() => Controller().Read(first.Line));
        return ValueTask.FromResult(new LivenessReport($"{_bp.Chip} answered: {first.Name} reads {(level == PinValue.High ? 1 : 0)}"));
    }

    /// <summary>A chip that stops answering mid-run (a pigpio daemon's link dropped, a USB GPIO adapter pulled) is a lost device.</summary>
    private PinValue Lost(Func<PinValue> io)
    {
        try
        {
            return io();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new DeviceLostException(Name, Path, e.Message, e);
        }
    }

    private GpioController Controller() =>
        _controller ?? throw new InvalidOperationException($"device '{Name}' is not connected");

    private GpioLineSpec Line(string signal) =>
        _lines.TryGetValue(signal, out var l) ? l : throw new DeviceCheckFailedException(Name, $"no signal '{signal}'");

    private sealed class InputState(GpioLineSpec spec)
    {
        public GpioLineSpec Spec { get; } = spec;

        public ITimer? Timer { get; set; }

        public bool Raw { get; set; }

        public bool Stable { get; set; }

        public long Edges { get; set; }

        public int EdgesInWindow { get; set; }

        public PinChangeEventHandler? Handler { get; set; }

        /// <summary>Pending <see cref="WaitLineAsync"/> calls, woken when the logical state changes.</summary>
        public List<TaskCompletionSource> Watchers { get; } = [];
    }
}
