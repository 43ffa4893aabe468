using System.CommandLine;
using TacRS.Hil.Cli.Composition;
using TacRS.Hil.Cli.Hosting;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Core.Rigs;
using TacRS.Hil.Core.Runs;
using TacRS.Hil.Sequences.Campaigns;
using TacRS.Hil.Sequences.Engine;
using TacRS.Hil.Sequences.Procedures;

namespace TacRS.Hil.Cli.Commands;

/// <summary>run, validate, list and graph: the core harness commands.</summary>
internal static class CoreCommands
{
    public static Command Run(Func<RunAbort> abort)
    {
        var rig = new Argument<string>("RIG") { Description = "rig file (e.g. hil-configs/sim-laptop.yaml)" };
        var procedure = new Option<string?>("--procedure", "-p") { Description = "procedure name (in the rig's procedures folder) or file; default: the rig's default-procedure" };
        var outDir = new Option<string?>("--out", "-o") { Description = "run directory (default: runs/<time>-<rig>-<procedure>-<pid>)" };
        var seed = CliOptions.Whole("--seed", "seed for every emulator's noise and every fault (default: the rig's simulation.seed)");
        var waitForRig = CliOptions.Duration("--wait-for-rig", "when another run holds the rig, wait this long for it (e.g. 10min) instead of refusing at once");
        var unattended = new Option<bool>("--unattended") { Description = "no person at the console: the rig's simulated operator answers prompts; hazardous steps refused unless the rig allows" };
        var realTime = new Option<bool>("--realtime") { Description = "run a simulated rig on the system clock instead of virtual time" };
        var vehicle = new Option<string?>("--vehicle") { Description = "launch vehicle profile for this run (alpha, electron, epsilon-s, kairos), overriding the rig's" };
        var set = new Option<string[]>("--set") { Description = "give a procedure parameter a value for this run (NAME=VALUE, repeatable; e.g. power-on.soak=30s); recorded in the run", AllowMultipleArgumentsPerToken = false };
        var noLiveness = new Option<bool>("--no-liveness") { Description = "do not run the devices' background liveness checks (to measure what they cost, or to diagnose a device by hand); a lost device is then found only when a step uses it" };
        var cmd = new Command("run", "Run a procedure (or the rig's default) on a rig; the rig always ends in its safe state.")
        {
            rig, procedure, outDir, seed, unattended, realTime, vehicle, set, waitForRig, noLiveness,
        };
        cmd.SetAction(pr =>
        {
            var outcome = RunHost.Run(
                new RunRequest(
                    pr.GetRequiredValue(rig),
                    pr.GetValue(procedure),
                    pr.GetValue(outDir),
                    pr.GetValue(seed),
                    pr.GetValue(unattended),
                    pr.GetValue(realTime),
                    System.Console.Out,
                    !System.Console.IsOutputRedirected,
                    pr.GetValue(vehicle),
                    Settings: ParseSettings(pr.GetValue(set)),
                    WaitForRig: pr.GetValue(waitForRig)) { Liveness = !pr.GetValue(noLiveness) },
                abort());
            return outcome.ExitCode;
        });
        return cmd;
    }

    /// <summary>Parses <c>--set NAME=VALUE</c> options; a malformed one is a usage error naming it.</summary>
    internal static IReadOnlyDictionary<string, string> ParseSettings(string[]? values)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in values ?? [])
        {
            var eq = v.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? v[..eq].Trim() : string.Empty;
            if (!RigLoader.IsParameterName(name))
            {
                throw new UsageException($"--set '{v}': must be NAME=VALUE with NAME of lower-case letters, digits, '.', '-' and '_'");
            }

            settings[name] = v[(eq + 1)..].Trim();
        }

        return settings;
    }

    public static Command Validate(Func<RunAbort> abort)
    {
        var files = new Argument<string[]>("FILE") { Description = "rig or procedure files", Arity = ArgumentArity.OneOrMore };
        var rigOption = new Option<string?>("--rig") { Description = "check procedures against this rig's devices (default: every rig under hil-configs/ that names them, else structure only)" };
        var cmd = new Command("validate", "Check rig and procedure files; report every problem as file:line:col.") { files, rigOption };
        cmd.SetAction(pr =>
        {
            var problems = 0;

            // validate touches no hardware: a signal stops it at once, even in the middle of parsing a large file.
            using var stop = abort().Token.Register(() =>
            {
                System.Console.Error.WriteLine($"validate: {abort().Reason}: stopped; {Volatile.Read(ref problems)} problem(s) found so far");
                System.Console.Out.Flush();
                Environment.Exit(Volatile.Read(ref problems) > 0 ? ExitCodes.ConfigError : ExitCodes.Aborted);
            });
            var kinds = Composer.Kinds();
            RigDefinition? rig = null;
            if (pr.GetValue(rigOption) is { } rigPath)
            {
                rig = Composer.LoadRig(rigPath, kinds);
            }

            foreach (var f in pr.GetRequiredValue(files))
            {
                if (abort().IsRequested)
                {
                    // Nothing to safe: stop at once, saying how far it got.
                    System.Console.Error.WriteLine($"validate: {abort().Reason}: stopped before {f}; {problems} problem{(problems == 1 ? string.Empty : "s")} found so far");
                    return problems > 0 ? ExitCodes.ConfigError : ExitCodes.Aborted;
                }

                var found = Check(f, kinds, rig, abort().Token);
                problems += found.Count;
                foreach (var p in found)
                {
                    System.Console.Error.WriteLine(p);
                }

                if (found.Count == 0)
                {
                    System.Console.Out.WriteLine($"{f}: ok");
                }
            }

            return problems == 0 ? ExitCodes.Passed : ExitCodes.ConfigError;
        });
        return cmd;
    }

    /// <summary>Checks one file, deciding by its keys whether it is a rig, a nightly suite, a campaign or a procedure.</summary>
    public static IReadOnlyList<ConfigProblem> Check(string file, Drivers.Devices.DeviceKindRegistry kinds, RigDefinition? rig, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var doc = ConfigDocument.Load(file, cancellationToken: cancellationToken);
        if (doc.Root is null)
        {
            return doc.Problems.Sorted();
        }

        var root = doc.Root.IsMap ? doc.Root.AsMap("a file") : null;
        try
        {
            if (root?.Has("rig") == true)
            {
                var loaded = RigLoader.Load(file, kinds, r => Composer.ReadSimulation(r, kinds), cancellationToken);

                // A rig is valid when the job `run RIG` starts is: its default procedure or campaign, checked
                // against this rig's devices, profiles and parameters exactly as run checks it.
                if (loaded.DefaultProcedure is not null)
                {
                    Hosting.RunPlan.Resolve(new Hosting.RunRequest(file));
                }

                return [];
            }

            if (root?.Has("suite") == true)
            {
                Reporting.Nightly.NightlySuite.Load(file, cancellationToken);
                return [];
            }

            var devices = rig is null ? null : Composer.Describe(rig, kinds);
            if (CampaignLoader.IsCampaign(file))
            {
                if (rig is null)
                {
                    return [];
                }

                CampaignLoader.Load(
                    file,
                    ProfileLoader.LoadVehicle(Composer.Profile(rig, "vehicles", rig.Vehicle ?? "epsilon-s"), cancellationToken),
                    ProfileLoader.LoadPayload(Composer.Profile(rig, "payloads", rig.Payload ?? "sda-rpo"), cancellationToken),
                    rig.ResolveProcedure,
                    devices!,
                    rig.Mode != RigMode.Hardware,
                    cancellationToken: cancellationToken);
                return [];
            }

            return ProcedureLoader.TryLoad(file, devices, rig?.Mode != RigMode.Hardware, rig is null ? null : Composer.Variables(rig), cancellationToken).Problems;
        }
        catch (ConfigException e)
        {
            return e.Problems;
        }
        catch (Hosting.ConfigProblemException e)
        {
            return [e.Problem];
        }
    }

    public static Command List()
    {
        var what = new Argument<string>("WHAT") { Description = "procedures | devices" };
        what.AcceptOnlyFromAmong("procedures", "devices");
        var rigOption = new Option<string>("--rig") { Description = "rig file", DefaultValueFactory = _ => "hil-configs/sim-laptop.yaml" };
        var cmd = new Command("list", "List the procedures a rig can run, or its devices with their signals and actions.") { what, rigOption };
        cmd.SetAction(pr =>
        {
            var kinds = Composer.Kinds();
            var rig = Composer.LoadRig(pr.GetRequiredValue(rigOption), kinds);
            if (pr.GetRequiredValue(what) == "devices")
            {
                foreach (var d in Composer.Describe(rig, kinds).Values)
                {
                    System.Console.Out.WriteLine($"{d.Name} ({d.Kind})");
                    foreach (var s in d.Signals)
                    {
                        var age = s.MaxAge is { } ma ? "max age " + Core.Config.Duration.Format(ma) : "any age";
                        System.Console.Out.WriteLine($"  {d.Name}.{s.Name,-28} {s.Unit.Symbol,-6} {(s.CanWrite ? (s.CanRead ? "read/write" : "write") : "read"),-10}  {age,-14}{(s.Description is null ? string.Empty : "  " + s.Description)}");
                    }

                    foreach (var a in d.Actions)
                    {
                        var args = string.Join(", ", a.Parameters.Select(p => p.Required ? p.Name : $"[{p.Name}]"));
                        System.Console.Out.WriteLine($"  {d.Name}.{a.Name}({args}){(a.Hazardous ? "  HAZARDOUS" : string.Empty)}{(a.Description is null ? string.Empty : "  " + a.Description)}");
                    }
                }

                return ExitCodes.Passed;
            }

            var devices = Composer.Describe(rig, kinds);
            var bad = 0;
            foreach (var f in Directory.Exists(rig.ProceduresDirectory) ? Directory.GetFiles(rig.ProceduresDirectory, "*.yaml").Order(StringComparer.Ordinal).ToArray() : [])
            {
                if (CampaignLoader.IsCampaign(f))
                {
                    System.Console.Out.WriteLine($"{Path.GetFileNameWithoutExtension(f),-32} campaign{(Path.GetFileNameWithoutExtension(f) == rig.DefaultProcedure ? "  (default)" : string.Empty)}");
                    continue;
                }

                var (proc, problems) = ProcedureLoader.TryLoad(f, devices, rig.Mode == RigMode.Simulated, Composer.Variables(rig));
                var name = Path.GetFileNameWithoutExtension(f);
                if (proc is not null)
                {
                    System.Console.Out.WriteLine($"{name,-32} {proc.Steps.Count,3} steps  {proc.Title}{(name == rig.DefaultProcedure ? "  (default)" : string.Empty)}");
                }
                else
                {
                    bad++;
                    System.Console.Out.WriteLine($"{name,-32}  not runnable on rig '{rig.Name}': {problems[0].Message}{(problems.Count > 1 ? $" (+{problems.Count - 1} more)" : string.Empty)}");
                }
            }

            return ExitCodes.Passed;
        });
        return cmd;
    }

    public static Command Graph()
    {
        var procedure = new Argument<string>("PROCEDURE") { Description = "procedure file, or a name in hil-configs/procedures" };
        var format = new Option<string>("--format") { Description = "mermaid | dot", DefaultValueFactory = _ => "mermaid" };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var cmd = new Command("graph", "Draw a procedure's state machine from the configured Stateless machine itself.") { procedure, format };
        cmd.SetAction(pr =>
        {
            var p = pr.GetRequiredValue(procedure);
            var path = File.Exists(p) ? p : Path.Combine("hil-configs", "procedures", p + ".yaml");
            if (!File.Exists(path))
            {
                throw new ConfigProblemException(p, $"procedure not found (looked for {p} and {path})");
            }

            var proc = ProcedureLoader.Load(path, devices: null, simulated: true);
            System.Console.Out.WriteLine(pr.GetValue(format) == "dot" ? ProcedureMachine.Dot(proc) : ProcedureMachine.Mermaid(proc));
            return ExitCodes.Passed;
        });
        return cmd;
    }
}
