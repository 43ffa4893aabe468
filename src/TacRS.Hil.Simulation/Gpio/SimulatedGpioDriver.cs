using System.Device.Gpio;

namespace TacRS.Hil.Simulation.Gpio;

/// <summary>
/// A GPIO chip in simulation, plugged in below <see cref="GpioController"/> exactly where the
/// Linux libgpiod driver sits on a bench. Input lines are driven by the physical models
/// (<see cref="Drive"/>: a switch to ground, a sense line); output lines feed them
/// (<see cref="LineChanged"/>). Edge callbacks and <see cref="WaitForEventAsync"/> run on the
/// run's <see cref="TimeProvider"/>: a bounce is a train of timer-scheduled transitions, so
/// it happens in virtual time under the simulation scheduler and under <c>FakeTimeProvider</c> in tests.
/// Faults overlay the physical level: a line can be stuck high/low or bounce on every change.
/// </summary>
public sealed class SimulatedGpioDriver : GpioDriver
{
    private readonly TimeProvider _time;
    private readonly Line[] _lines;
    private readonly Lock _gate = new();

    public SimulatedGpioDriver(TimeProvider time, int pinCount = 64, string name = "sim-gpiochip0")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pinCount, 1);
        _time = time;
        Name = name;
        _lines = new Line[pinCount];
        for (var i = 0; i < pinCount; i++)
        {
            _lines[i] = new Line();
        }
    }

    public string Name { get; }

    /// <summary>Raised whenever the physical level of a line changes (an output written, an input driven, a fault, a bounce).</summary>
    public event Action<int, PinValue>? LineChanged;

    protected override int PinCount => _lines.Length;

    /// <summary>The physical level at the pin now: what a read returns and what the models see.</summary>
    public PinValue Level(int line) => L(line).Level;

    /// <summary>How many transitions the line has made since the chip was created.</summary>
    public long Transitions(int line) => L(line).Transitions;

    public bool IsOutput(int line) => L(line).Mode == PinMode.Output;

    /// <summary>
    /// What the outside world presents at an input: <see cref="PinValue.Low"/> for a switch closed to
    /// ground, <see cref="PinValue.High"/> for a driven-high sense line, null for open (the pull decides).
    /// </summary>
    public void Drive(int line, PinValue? value)
    {
        L(line).Driven = value;
        Recompute(line);
    }

    /// <summary>Fault: the line reads <paramref name="value"/> whatever drives it; null releases it.</summary>
    public void Stick(int line, PinValue? value)
    {
        L(line).Stuck = value;
        Recompute(line);
    }

    /// <summary>
    /// Fault: every change of the line's level is followed by <paramref name="extraTransitions"/> pairs of
    /// contact-bounce transitions, spaced by random intervals up to <paramref name="maxInterval"/>.
    /// Null releases it.
    /// </summary>
    public void SetBounce(int line, int extraTransitions, TimeSpan maxInterval, Random random)
    {
        L(line).Bounce = new BounceSpec(extraTransitions, maxInterval, random);
    }

    public void ClearBounce(int line) => L(line).Bounce = null;

    protected override void OpenPin(int pinNumber) => L(pinNumber).Open = true;

    protected override void ClosePin(int pinNumber)
    {
        var l = L(pinNumber);
        l.Open = false;
        l.Callbacks.Clear();
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        if (!IsPinModeSupported(pinNumber, mode))
        {
            throw new InvalidOperationException($"{Name}: line {pinNumber} does not support mode {mode}");
        }

        L(pinNumber).Mode = mode;
        Recompute(pinNumber);
    }

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue)
    {
        // Latch first so an output comes up at its initial level without a glitch (like libgpiod's request with a default value).
        L(pinNumber).Latch = initialValue;
        SetPinMode(pinNumber, mode);
    }

    protected override PinMode GetPinMode(int pinNumber) => L(pinNumber).Mode;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.Output or PinMode.InputPullUp or PinMode.InputPullDown;

    protected override PinValue Read(int pinNumber) => L(pinNumber).Level;

    protected override void Write(int pinNumber, PinValue value)
    {
        var l = L(pinNumber);
        if (l.Mode != PinMode.Output)
        {
            throw new InvalidOperationException($"{Name}: line {pinNumber} is not an output");
        }

        l.Latch = value;
        Recompute(pinNumber);
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>

        // Blocking would stall the single-threaded simulation scheduler: nothing else could make the edge happen.
        throw new NotSupportedException($"{Name}: use WaitForEventAsync in simulation (a blocking wait cannot advance virtual time)");

    protected override ValueTask<WaitForEventResult> WaitForEventAsync(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        var l = L(pinNumber);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromResult(new WaitForEventResult { TimedOut = true, EventTypes = PinEventTypes.None });
        }

        var waiter = new Waiter(eventTypes, new TaskCompletionSource<WaitForEventResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            l.Waiters.Add(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // The real driver reports a cancelled wait as a timeout rather than throwing; keep that contract.
            waiter.Registration = cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    l.Waiters.Remove(waiter);
                }

                waiter.Completion.TrySetResult(new WaitForEventResult { TimedOut = true, EventTypes = PinEventTypes.None });
            });
        }

        return new ValueTask<WaitForEventResult>(waiter.Completion.Task);
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            L(pinNumber).Callbacks.Add((eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            L(pinNumber).Callbacks.RemoveAll(c => c.Handler == callback);
        }
    }

    protected override void Dispose(bool disposing)
    {
        // The chip is shared by every controller the bench hands out; its lines outlive any one controller.
        base.Dispose(disposing);
    }

    private Line L(int line)
    {
        if ((uint)line >= (uint)_lines.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(line), line, $"{Name} has lines 0..{_lines.Length - 1}");
        }

        return _lines[line];
    }

    private static PinValue Settled(Line l)
    {
        if (l.Stuck is { } s)
        {
            return s;
        }

        if (l.Mode == PinMode.Output)
        {
            return l.Latch;
        }

        if (l.Driven is { } d)
        {
            return d;
        }

        // A floating input: the pull decides; with no pull, a simulated chip reads low (deterministic, unlike copper).
        return l.Mode == PinMode.InputPullUp ? PinValue.High : PinValue.Low;
    }

    private void Recompute(int line)
    {
        var l = L(line);
        var target = Settled(l);
        if (l.BounceGeneration > 0 && l.BouncePending)
        {
            // A bounce train is running; it ends on the newest settled level.
            l.BounceTarget = target;
            return;
        }

        if (target == l.Level)
        {
            return;
        }

        SetLevel(line, target);
        if (l.Bounce is { } b && b.ExtraTransitions > 0)
        {
            StartBounce(line, l, b, target);
        }
    }

    private void StartBounce(int line, Line l, BounceSpec b, PinValue target)
    {
        l.BouncePending = true;
        l.BounceTarget = target;
        var generation = ++l.BounceGeneration;
        var remaining = b.ExtraTransitions * 2;
        ITimer? timer = null;

        void Step()
        {
            timer?.Dispose();
            if (generation != l.BounceGeneration)
            {
                return;
            }

            if (remaining == 0)
            {
                l.BouncePending = false;
                if (l.Level != l.BounceTarget)
                {
                    SetLevel(line, l.BounceTarget);
                }

                return;
            }

            remaining--;
            SetLevel(line, l.Level == PinValue.High ? PinValue.Low : PinValue.High);
            Schedule();
        }

        void Schedule()
        {
            var ticks = Math.Max(1, (long)(b.Random.NextDouble() * b.MaxInterval.Ticks));
            timer = _time.CreateTimer(_ => Step(), null, TimeSpan.FromTicks(ticks), Timeout.InfiniteTimeSpan);
        }

        Schedule();
    }

    private void SetLevel(int line, PinValue value)
    {
        var l = L(line);
        var change = value == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
        List<PinChangeEventHandler> handlers;
        List<Waiter> woken;
        lock (_gate)
        {
            l.Level = value;
            l.Transitions++;
            handlers = l.Callbacks.Where(c => (c.Types & change) != 0).Select(c => c.Handler).ToList();
            woken = l.Waiters.Where(w => (w.Types & change) != 0).ToList();
            l.Waiters.RemoveAll(woken.Contains);
        }

        LineChanged?.Invoke(line, value);
        var args = new PinValueChangedEventArgs(change, line);
        foreach (var h in handlers)
        {
            h(this, args);
        }

        foreach (var w in woken)
        {
            w.Registration.Dispose();
            w.Completion.TrySetResult(new WaitForEventResult { TimedOut = false, EventTypes = change });
        }
    }

    private sealed record BounceSpec(int ExtraTransitions, TimeSpan MaxInterval, Random Random);

    private sealed class Waiter(PinEventTypes types, TaskCompletionSource<WaitForEventResult> completion)
    {
        public PinEventTypes Types { get; } = types;

        public TaskCompletionSource<WaitForEventResult> Completion { get; } = completion;

        public CancellationTokenRegistration Registration { get; set; }
    }

    private sealed class Line
    {
        public bool Open { get; set; }

        public PinMode Mode { get; set; } = PinMode.Input;

        public PinValue Latch { get; set; } = PinValue.Low;

        public PinValue? Driven { get; set; }

        public PinValue? Stuck { get; set; }

        public PinValue Level { get; set; } = PinValue.Low;

        public long Transitions { get; set; }

        public BounceSpec? Bounce { get; set; }

        public bool BouncePending { get; set; }

        public int BounceGeneration { get; set; }

        public PinValue BounceTarget { get; set; }

        public List<(PinEventTypes Types, PinChangeEventHandler Handler)> Callbacks { get; } = [];

        public List<Waiter> Waiters { get; } = [];
    }
}
