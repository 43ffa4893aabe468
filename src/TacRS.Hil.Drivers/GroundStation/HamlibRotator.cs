using System.Globalization;
using TacRS.Hil.Protocols.Hamlib;

namespace TacRS.Hil.Drivers.GroundStation;

/// <summary>Mechanical travel of the rotator. Defaults are Hamlib's dummy rotator (rotctld -m 1, dump_state: az −180…450, el 0…90).</summary>
public sealed record RotatorLimits(double MinAzimuth = -180, double MaxAzimuth = 450, double MinElevation = 0, double MaxElevation = 90)
{
    public bool Contains(double azimuth, double elevation) =>
        azimuth >= MinAzimuth && azimuth <= MaxAzimuth && elevation >= MinElevation && elevation <= MaxElevation;
}

/// <summary>Directions of rot_move (rotator.h ROT_MOVE_*).</summary>
public enum RotatorDirection
{
    Up = 2,
    Down = 4,
    Left = 8,
    Right = 16,
}

/// <summary>An azimuth/elevation antenna rotator behind rotctld.</summary>
public sealed class HamlibRotator(HamlibConnection connection, RotatorLimits limits)
{
    public HamlibConnection Connection { get; } = connection;

    public RotatorLimits Limits { get; } = limits;

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(double Azimuth, double Elevation)> GetPositionAsync(CancellationToken cancellationToken)
    {
        var reply = await Connection.RequestAsync(HamlibCommand.GetPosition(), cancellationToken);
        return (reply.Number("Azimuth"), reply.Number("Elevation"));
    }

    /// <summary>Commands a position; refuses (without sending) one outside <see cref="Limits"/>.</summary>
    public ValueTask SetPositionAsync(double azimuth, double elevation, CancellationToken cancellationToken)
    {
        if (!double.IsFinite(azimuth) || !double.IsFinite(elevation) || !Limits.Contains(azimuth, elevation))
        {
            throw new HamlibRangeException(
                Connection.Device,
                string.Create(CultureInfo.InvariantCulture, $"position az {azimuth:0.##}° el {elevation:0.##}° is outside the rotator limits az {Limits.MinAzimuth:0.##}…{Limits.MaxAzimuth:0.##}°, el {Limits.MinElevation:0.##}…{Limits.MaxElevation:0.##}°; not sent"));
        }

        return Discard(Connection.RequestAsync(HamlibCommand.SetPosition(azimuth, elevation), cancellationToken));
    }

    /// <summary>Sends a position without the local range check and returns the daemon's RPRT (0 or negative): proves the rotator's own limits.</summary>
    public async ValueTask<int> ProbePositionAsync(double azimuth, double elevation, CancellationToken cancellationToken) =>
        (await Connection.ExchangeAsync(HamlibCommand.SetPosition(azimuth, elevation), cancellationToken)).Code;

    public ValueTask StopAsync(CancellationToken cancellationToken) => Discard(Connection.RequestAsync(HamlibCommand.Stop(), cancellationToken));

    public ValueTask ParkAsync(CancellationToken cancellationToken) => Discard(Connection.RequestAsync(HamlibCommand.Park(), cancellationToken));

    public ValueTask MoveAsync(RotatorDirection direction, int speed, CancellationToken cancellationToken)
    {
        if (speed is < 1 or > 100)
        {
            throw new HamlibRangeException(Connection.Device, $"move speed {speed} must be 1…100; not sent");
        }

        return Discard(Connection.RequestAsync(HamlibCommand.Move((int)direction, speed), cancellationToken));
    }

    private static async ValueTask Discard(ValueTask<HamlibReply> request) => await request;
}
