namespace TacRS.Hil.Simulation.Serve;

/// <summary>
/// The bounds of what <c>sim serve</c> accepts from outside, so that no client (or flood of clients) can grow
/// the process or starve the others: every listener serves at most <see cref="BenchServerOptions.MaxConnections"/>
/// connections at once and closes any beyond that as it arrives; each protocol bounds its line or frame
/// (Hamlib 1 KB, Modbus 260 bytes, pigpio its extension, the console 512 bytes) and drops a client that exceeds it.
/// </summary>
public static class ServeLimits
{
    /// <summary>Connections one listener serves at once (the default of <c>sim serve --max-connections</c>).</summary>
    public const int DefaultMaxConnections = 64;

    /// <summary>The largest <c>--max-connections</c> accepted.</summary>
    public const int MaxConnectionsLimit = 4096;
}

/// <summary>Settings of a <see cref="BenchServer"/>, checked up front.</summary>
public sealed record BenchServerOptions
{
    /// <summary>Connections each listener (device endpoint, pigpio daemon, bench console) serves at once; 1…4096.</summary>
    public int MaxConnections { get; init; } = ServeLimits.DefaultMaxConnections;

    public void Validate()
    {
        if (MaxConnections is < 1 or > ServeLimits.MaxConnectionsLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections, $"max connections must be 1 to {ServeLimits.MaxConnectionsLimit}");
        }
    }
}
