namespace TacRS.Hil.Core;

/// <summary>The process exit codes of <c>tacrs-hil</c>, documented in <c>--help</c> and README.</summary>
public static class ExitCodes
{
    /// <summary>Everything ran and passed.</summary>
    public const int Passed = 0;

    /// <summary>A step failed, errored or timed out (the rig was safed).</summary>
    public const int Failed = 1;

    /// <summary>Usage or configuration error: nothing ran.</summary>
    public const int ConfigError = 2;

    /// <summary>Aborted: Ctrl+C, SIGTERM or a lost device (the rig was safed).</summary>
    public const int Aborted = 3;
}
