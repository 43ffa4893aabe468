namespace TacRS.Hil.Cli.Tests;

/// <summary>Runs <c>tacrs-hil</c> in this process (fast) with the console captured, from the repository root.</summary>
internal static class InProcessCli
{
    private static readonly Lock Gate = new();

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        // Rig locks of in-process runs go where the child processes' go: a temporary directory of this test run.
        _ = TacRS.Hil.Testing.CliProcess.LockDirectory;
        lock (Gate)
        {
            var oldOut = System.Console.Out;
            var oldErr = System.Console.Error;
            var oldDir = Environment.CurrentDirectory;
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            try
            {
                System.Console.SetOut(stdout);
                System.Console.SetError(stderr);
                Environment.CurrentDirectory = TacRS.Hil.Testing.RepoPaths.Root;
                using var abort = new TacRS.Hil.Core.Runs.RunAbort();
                var code = Program.Run(args, () => abort);
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                System.Console.SetOut(oldOut);
                System.Console.SetError(oldErr);
                Environment.CurrentDirectory = oldDir;
            }
        }
    }
}
