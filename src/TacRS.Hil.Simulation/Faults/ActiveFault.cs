namespace TacRS.Hil.Simulation.Faults;

/// <summary>A fault of the schedule at run time: armed, then active (perhaps for a while), then over.</summary>
public sealed class ActiveFault
{
    private readonly FaultInjector _owner;
    private long _transactions;

    internal ActiveFault(FaultInjector owner, FaultSpec spec, Random random)
    {
        _owner = owner;
        Spec = spec;
        Random = random;
    }

    public FaultSpec Spec { get; }

    /// <summary>This fault's own stream of the run's seeded random source.</summary>
    public Random Random { get; }

    public bool IsActive { get; private set; }

    public bool HasFired { get; private set; }

    /// <summary>When it became active, on the run's clock.</summary>
    public DateTimeOffset ActivatedAt { get; private set; }

    public event Action<ActiveFault>? Activated;

    public event Action<ActiveFault>? Deactivated;

    /// <summary>Subscribes to activation and deactivation, applying the fault at once if it is already active.</summary>
    public void Bind(Action<ActiveFault> activate, Action<ActiveFault> deactivate)
    {
        Activated += activate;
        Deactivated += deactivate;
        if (IsActive)
        {
            activate(this);
        }
    }

    /// <summary>Counts one transaction of the faulted device; fires an <c>after-transactions</c> trigger.</summary>
    public void CountTransaction()
    {
        _transactions++;
        if (!HasFired && Spec.Trigger is AfterTransactions a && _transactions >= a.Count)
        {
            _owner.Fire(this);
        }
    }

    /// <summary>True with the fault's probability (drawn from its own stream).</summary>
    public bool Roll() => Spec.Probability >= 1.0 || Random.NextDouble() < Spec.Probability;

    internal void Activate(DateTimeOffset at)
    {
        HasFired = true;
        IsActive = true;
        ActivatedAt = at;
        Activated?.Invoke(this);
    }

    internal void Deactivate()
    {
        if (!IsActive)
        {
            return;
        }

        IsActive = false;
        Deactivated?.Invoke(this);
    }
}
