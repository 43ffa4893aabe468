namespace TacRS.Hil.Core;

/// <summary>The process exit codes of <c>tacrs-hil</c>, documented in <c>--help</c> and README.</summary>
public static class ExitCodes
{
    /// <summary>Everything ran and passed, and the rig reached its safe state.</summary>
    public const int Passed = 0;

    /// <summary>A step failed, errored or timed out, a budget was broken, or the safe state was not reached.</summary>
    public const int Failed = 1;

    /// <summary>Usage or configuration error, or the rig is in use: nothing ran, no device was touched.</summary>
    public const int ConfigError = 2;

    /// <summary>Aborted: a signal (INT, TERM, HUP, QUIT) or a lost device (the rig was safed).</summary>
    public const int Aborted = 3;

    /// <summary>The run ended (and was safed), but an artifact (record, JUnit, report, history) could not be written.</summary>
    public const int ArtifactsIncomplete = 4;

    public const string Help = """
        Exit codes:
          0  every step passed and the rig reached its safe state
          1  a step failed, errored or timed out, a phase broke its budget, or the safe state was not reached (the rig was safed)
          2  usage or configuration error, or the rig is in use by another run (nothing ran; no device was touched)
          3  aborted: Ctrl+C, SIGTERM, SIGHUP, SIGQUIT or a lost device (the rig was safed)
          4  the run ended and the rig was safed, but an artifact (record.jsonl, junit.xml, report.html, history) could not be written
        """;
}
