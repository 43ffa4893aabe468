using System.CommandLine;
using System.Runtime.InteropServices;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Cli;

/// <summary>The <c>tacrs-hil</c> command: the composition root, and the only place that reads the wall clock or configures log sinks.</summary>
public static class Program
{
    public const string ExitCodeHelp = """
        Exit codes:
          0  every step passed and the rig reached its safe state
          1  a step failed, errored or timed out (the rig was safed), or the safe state was not reached
          2  usage or configuration error (nothing ran; every problem is listed as file:line:col)
          3  aborted: Ctrl+C, SIGTERM or a lost device (the rig was safed)
        """;

    public static int Main(string[] args)
    {
        using var abort = new CancellationTokenSource();
        var signals = 0;
        void OnSignal(string name)
        {
            if (Interlocked.Increment(ref signals) == 1)
            {
                System.Console.Error.WriteLine($"{name}: aborting — going to the safe state (safing is not interrupted by further signals)");
                abort.Cancel();
            }
            else
            {
                System.Console.Error.WriteLine($"{name}: safing in progress, please wait (SIGKILL would leave the rig unsafed)");
            }
        }

        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            OnSignal("SIGINT");
        };
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            OnSignal("SIGTERM");
        });

        return Run(args, () => abort.Token);
    }

    public static int Run(string[] args, Func<CancellationToken> abortToken)
    {
        var root = BuildRoot(abortToken);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                System.Console.Error.WriteLine($"tacrs-hil: {e.Message}");
            }

            System.Console.Error.WriteLine("(tacrs-hil --help for usage)");
            return ExitCodes.ConfigError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ConfigException e)
        {
            foreach (var p in e.Problems)
            {
                System.Console.Error.WriteLine(p);
            }

            System.Console.Error.WriteLine($"{e.Problems.Count} problem{(e.Problems.Count == 1 ? string.Empty : "s")}; nothing was run.");
            return ExitCodes.ConfigError;
        }
        catch (Composition.ConfigProblemException e)
        {
            System.Console.Error.WriteLine(e.Message);
            return ExitCodes.ConfigError;
        }
        catch (Composition.UsageException e)
        {
            System.Console.Error.WriteLine($"tacrs-hil: {e.Message}; nothing was run.");
            return ExitCodes.ConfigError;
        }
    }

    public static RootCommand BuildRoot(Func<CancellationToken> abortToken)
    {
        var root = new RootCommand("tacrs-hil — hardware-in-the-loop payload, mating and ground-segment checkout for Tactically Responsive Space.\n\n" + ExitCodeHelp)
        {
            CoreCommands.Run(abortToken),
            CoreCommands.Validate(),
            CoreCommands.List(),
            CoreCommands.Graph(),
            ModbusCommand.Build(),
            PassesCommand.Build(),
            ReplayCommand.Build(),
            ReportCommand.Build(),
            HistoryCommand.Build(() => Reporting.History.ResultsStore.DefaultPath),
            NightlyCommand.Build(Composition.NightlyRuns.RunAsync),
            SimServeCommand.Build(() => Composition.Composer.Kinds(), b => Composition.Composer.RegisterEmulators(b, Composition.Composer.Kinds()), abortToken),
        };
        return root;
    }
}
