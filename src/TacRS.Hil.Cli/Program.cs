using System.CommandLine;
using System.Runtime.InteropServices;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Cli.Terminal;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Runs;

namespace TacRS.Hil.Cli;

/// <summary>The <c>tacrs-hil</c> command: the composition root, and the only place that configures log sinks or reads the wall clock.</summary>
public static class Program
{
    public const string ExitCodeHelp = ExitCodes.Help;

    public static int Main(string[] args)
    {
        // A dropped terminal (SIGHUP) makes console writes fail: that must never stop a run before its safe state.
        Console.SetOut(new TolerantWriter(Console.Out));
        Console.SetError(new TolerantWriter(Console.Error));

        using var abort = new RunAbort();
        var signals = 0;
        void OnSignal(string name, string meaning)
        {
            if (Interlocked.Increment(ref signals) == 1)
            {
                Console.Error.WriteLine($"{name}: aborting — going to the safe state (safing is not interrupted by further signals)");
                abort.Request($"{name} ({meaning})");
            }
            else
            {
                Console.Error.WriteLine($"{name}: safing in progress, please wait (SIGKILL would leave the rig unsafed)");
            }
        }

        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            OnSignal("SIGINT", "Ctrl+C");
        };

        // TERM (a CI runner or systemd stopping the job), HUP (the ssh session or terminal dropped), QUIT
        // (Ctrl+\): each is an abort that safes the rig, never a death that leaves it powered.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; OnSignal("SIGTERM", "terminate"); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => { ctx.Cancel = true; OnSignal("SIGHUP", "the terminal hung up"); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, ctx => { ctx.Cancel = true; OnSignal("SIGQUIT", "quit"); });

        return Run(args, () => abort);
    }

    public static int Run(string[] args, Func<RunAbort> abort)
    {
        var root = BuildRoot(abort);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                Console.Error.WriteLine($"tacrs-hil: {e.Message}");
            }

            Console.Error.WriteLine("(tacrs-hil --help for usage); nothing was run.");
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
                Console.Error.WriteLine(p);
            }

            Console.Error.WriteLine($"{e.Problems.Count} problem{(e.Problems.Count == 1 ? string.Empty : "s")}; nothing was run.");
            return ExitCodes.ConfigError;
        }
        catch (ConfigProblemException e)
        {
            Console.Error.WriteLine(e.Message);
            return ExitCodes.ConfigError;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"tacrs-hil: {e.Message}");
            return ExitCodes.ConfigError;
        }
        catch (RigBusyException e)
        {
            Console.Error.WriteLine($"tacrs-hil: {e.Message}");
            return ExitCodes.ConfigError;
        }
    }

    public static RootCommand BuildRoot(Func<RunAbort> abort)
    {
        var root = new RootCommand("tacrs-hil — hardware-in-the-loop payload, mating and ground-segment checkout for Tactically Responsive Space.\n\n" + ExitCodeHelp)
        {
            CoreCommands.Run(abort),
            CoreCommands.Validate(abort),
            CoreCommands.List(),
            CoreCommands.Graph(),
            ModbusCommand.Build(),
            PassesCommand.Build(),
            ReplayCommand.Build(),
            ReportCommand.Build(),
            HistoryCommand.Build(() => Reporting.History.ResultsStore.DefaultPath),
            NightlyCommand.Build(Composition.NightlyRuns.RunAsync, abort),
            SimServeCommand.Build(() => abort().Token),
        };
        return root;
    }
}
