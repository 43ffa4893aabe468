using Models = TacRS.Hil.Simulation.Models;

namespace TacRS.Hil.Devices.Avionics.Simulated;

/// <summary>Modes of the payload flight computer, as reported in housekeeping (OBC_HK.mode).</summary>
public enum FlightComputerMode : byte
{
    Off = 0,
    Boot = 1,
    Safe = 2,
    Nominal = 3,
    PayloadActive = 4,
    PostSeparation = 5,
}

/// <summary>Which payload the flight computer runs (DESIGN.md §1: SDA sensors and X-band SATCOM).</summary>
public enum PayloadProfile
{
    /// <summary>Space-domain-awareness sensor: TAKE_IMAGE reports frame size and checksum.</summary>
    SdaSensor,

    /// <summary>X-band SATCOM: TRANSPONDER_LOOPBACK and RF_TRANSMIT.</summary>
    XBandSatcom,
}

/// <summary>cFS EVS event types.</summary>
public enum FlightEventType : byte
{
    Debug = 1,
    Information = 2,
    Error = 3,
    Critical = 4,
}

/// <summary>An event message the flight computer emitted (sent as an OBC_EVENT packet, or a cFS EVS long event from <see cref="App"/>).</summary>
public sealed record FlightComputerEvent(ushort Id, FlightEventType Type, string Text, TimeSpan MissionTime, string? App = null);

/// <summary>Which flight software the emulated computer runs.</summary>
public enum FlightSoftware
{
    /// <summary>The payload flight computer of fixtures/dictionaries/payload-obc.yaml (modes, payload functions, big-endian).</summary>
    PayloadObc,

    /// <summary>A NASA cFS lab build (TO_LAB, CI_LAB, SAMPLE_APP, cFE core housekeeping) in the layouts of <see cref="FlightComputerOptions.CfsVersion"/>.</summary>
    CfsLab,
}

/// <summary>Event IDs of the emulated flight software (fixtures/dictionaries/payload-obc.yaml OBC_EVENT).</summary>
public static class FlightEventIds
{
    public const ushort Noop = 1;
    public const ushort CountersReset = 2;
    public const ushort BadChecksum = 3;
    public const ushort BadFunctionCode = 4;
    public const ushort BadLength = 5;
    public const ushort ModeChanged = 6;
    public const ushort ModeRefused = 7;
    public const ushort ImageTaken = 8;
    public const ushort BootComplete = 9;
    public const ushort Separation = 10;
    public const ushort Transponder = 11;
    public const ushort CommandRefused = 12;
    public const ushort OutputEnabled = 13;
}

/// <summary>
/// How the emulated flight computer behaves. The electrical model (DESIGN.md's device-layer issue) is wired
/// in through <see cref="BusVoltage"/> / <see cref="BusCurrent"/>; without it the bus reads a nominal 28 V and
/// the OBC's own load.
/// </summary>
public sealed record FlightComputerOptions
{
    public PayloadProfile Profile { get; init; } = PayloadProfile.SdaSensor;

    public TimeSpan HousekeepingPeriod { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan BootTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Command message ID (payload-obc.yaml: 0x1890).</summary>
    public ushort CommandMessageId { get; init; } = 0x1890;

    public ushort HousekeepingMessageId { get; init; } = 0x0890;

    public ushort EventMessageId { get; init; } = 0x0891;

    /// <summary>cFS TO_LAB's command MID; function code 6 there enables telemetry output.</summary>
    public ushort ToLabMessageId { get; init; } = 0x1880;

    /// <summary>
    /// When true (cFS lab style over UDP), no telemetry leaves until a TO_LAB output-enable command arrives.
    /// </summary>
    public bool RequireOutputEnable { get; init; }

    /// <summary>Bus voltage in volts as the electrical model sees it; null = 28 V with a little noise.</summary>
    public Func<double>? BusVoltage { get; init; }

    /// <summary>
    /// The power converter's undervoltage lockout, volts: below it the computer is browned out and can
    /// neither sample nor send — its supervisor holds it in reset at once, whatever the slower rail
    /// sensing of the bench does. Null = no lockout (a bus that never sags).
    /// </summary>
    public double? UndervoltageLockout { get; init; }

    /// <summary>Bus current in amps; null = the OBC's own load (<see cref="FlightComputerEmulator.LoadCurrent"/>).</summary>
    public Func<double>? BusCurrent { get; init; }

    /// <summary>The electrical model's payload load: told the computer's activity whenever it may have changed; null = none.</summary>
    public Models.IPayloadLoad? Load { get; init; }

    /// <summary>Largest command packet accepted on the serial link (bigger frames are line noise).</summary>
    public int MaxPacketLength { get; init; } = 1024;

    public string SoftwareVersion { get; init; } = "1.0.0";

    public FlightSoftware Software { get; init; } = FlightSoftware.PayloadObc;

    /// <summary>The cFS release whose housekeeping layouts a <see cref="FlightSoftware.CfsLab"/> computer sends.</summary>
    public CfsLabVersion CfsVersion { get; init; } = CfsLabVersion.EquuleusRc1;

    /// <summary>Events kept for <see cref="FlightComputerEmulator.Events"/>: a flood of rejected commands must not grow memory.</summary>
    public int EventHistory { get; init; } = 256;

    /// <summary>
    /// Telemetry packets waiting to go out (TO_LAB's pipe depth, in effect): beyond it packets are dropped and
    /// counted, as a full software-bus pipe drops them.
    /// </summary>
    public int TelemetryQueueLimit { get; init; } = 4096;
}
