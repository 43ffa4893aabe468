using TacRS.Hil.Drivers.Transports;

namespace TacRS.Hil.Devices.Station.Simulated;

public enum StationEndpoint
{
    Rotator,
    Radio,
}

/// <summary>
/// The whole emulated ground station: rotator, radio, optional RF link, and their Hamlib servers.
/// <see cref="Connect"/> hands a driver an in-process pipe whose far end is served by the emulator
/// (what the simulated <c>IBusProvider.OpenStreamAsync</c> returns for a station's rotator/radio
/// transport); <see cref="HamlibServer.ListenAsync"/> on <see cref="RotatorServer"/>/<see cref="RadioServer"/>
/// serves real TCP for <c>sim serve</c>.
/// </summary>
public sealed class StationEmulator(TimeProvider time, RotatorModelOptions? rotator = null, Drivers.GroundStation.RadioLimits? radio = null)
{
    private readonly List<Task> _sessions = [];
    private int _connections;

    public RotatorModel Rotator { get; } = new(time, rotator);

    public RadioModel Radio { get; } = new(radio);

    public HamlibRotatorServer RotatorServer => new(Rotator);

    public HamlibRadioServer RadioServer => new(Radio, time);

    /// <summary>The RF link gate, once <see cref="AttachLink"/> has given it a satellite.</summary>
    public RfLink? Link { get; private set; }

    public IReadOnlyList<Task> Sessions => _sessions;

    /// <summary>Gives the station a satellite to hear: frames are gated by the link and the radio's S-meter follows it.</summary>
    public RfLink AttachLink(RfLinkOptions options, Random random)
    {
        Link = new RfLink(options, Rotator, Radio, time, random);
        Radio.SignalStrength = Link.StrengthDb;
        return Link;
    }

    /// <summary>Is a frame from the satellite delivered now? False when no link is attached.</summary>
    public bool IsFrameDelivered() => Link?.IsFrameDelivered() ?? false;

    /// <summary>Opens a client connection to one of the emulator's daemons; the session ends when the device side is disposed or <paramref name="cancellationToken"/> fires.</summary>
    public IByteTransport Connect(StationEndpoint endpoint, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _connections);
        var (device, emulator) = InProcessPipe.Create($"station-{endpoint.ToString().ToLowerInvariant()}-{n}");
        Attach(endpoint, emulator, cancellationToken);
        return device;
    }

    /// <summary>Serves one client connection on a byte stream the caller made (a pty, a socket, a test pipe).</summary>
    public Task Attach(StationEndpoint endpoint, IByteTransport emulatorSide, CancellationToken cancellationToken)
    {
        HamlibServer server = endpoint == StationEndpoint.Rotator ? RotatorServer : RadioServer;
        _sessions.RemoveAll(t => t.IsCompleted);
        var session = server.RunAsync(emulatorSide, cancellationToken);
        _sessions.Add(session);
        return session;
    }
}
