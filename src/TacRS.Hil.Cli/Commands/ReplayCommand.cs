using System.CommandLine;
using TacRS.Hil.Core;
using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// <c>tacrs-hil replay RUN_DIR [--dictionary FILE] [--output DIR]</c>: decodes every avionics packet archive
/// (<c>*.packets.jsonl</c>) of a run again and regenerates its telemetry record (<c>*.telemetry.jsonl</c>),
/// e.g. after a calibration or limit in the dictionary was corrected.
/// </summary>
public static class ReplayCommand
{
    public static Command Build()
    {
        var runDir = new Argument<DirectoryInfo>("RUN_DIR") { Description = "run directory holding <device>.packets.jsonl archives" };
        var dictionary = new Option<FileInfo?>("--dictionary") { Description = "dictionary to decode with (default: the one named in each archive)" };
        var output = new Option<DirectoryInfo?>("--output") { Description = "where to write <device>.telemetry.jsonl (default: RUN_DIR)" };
        var command = new Command("replay", "Decode a run's avionics packet archive again and regenerate its telemetry record");
        command.Arguments.Add(runDir);
        command.Options.Add(dictionary);
        command.Options.Add(output);
        command.SetAction(parse => Run(parse.GetValue(runDir)!, parse.GetValue(dictionary), parse.GetValue(output), Console.Out, Console.Error));
        return command;
    }

    /// <summary>The command's work, separated from parsing so tests call it directly.</summary>
    public static int Run(DirectoryInfo runDir, FileInfo? dictionaryFile, DirectoryInfo? output, TextWriter stdout, TextWriter stderr)
    {
        if (!runDir.Exists)
        {
            stderr.WriteLine($"replay: run directory '{runDir.FullName}' does not exist");
            return ExitCodes.ConfigError;
        }

        var archives = runDir.GetFiles("*" + PacketArchiveWriter.FileSuffix).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (archives.Count == 0)
        {
            stderr.WriteLine($"replay: no avionics packet archive (*{PacketArchiveWriter.FileSuffix}) in '{runDir.FullName}'");
            return ExitCodes.ConfigError;
        }

        var outDir = output ?? runDir;
        outDir.Create();
        foreach (var archive in archives)
        {
            try
            {
                var (header, packets) = PacketArchiveReader.Read(archive.FullName);
                var dictPath = dictionaryFile?.FullName ?? header.Dictionary;
                if (string.IsNullOrEmpty(dictPath) || !File.Exists(dictPath))
                {
                    stderr.WriteLine($"replay: {archive.Name}: dictionary '{dictPath}' not found; pass --dictionary FILE");
                    return ExitCodes.ConfigError;
                }

                var dictionary = AvionicsDictionary.Load(dictPath, dictionaryFile is null ? header.DictionaryVersion : null); // the run's layouts
                var target = Path.Combine(outDir.FullName, header.Device + TelemetryReplay.FileSuffix);
                using var writer = new StreamWriter(target, append: false, new System.Text.UTF8Encoding(false));
                var summary = TelemetryReplay.Write(packets, dictionary, writer);
                stdout.WriteLine($"{header.Device}: {summary.Packets} packets received, {summary.Decoded} decoded, {summary.Unknown} unknown, {summary.Events} events -> {target}");
            }
            catch (ConfigException e)
            {
                stderr.WriteLine(e.Message);
                return ExitCodes.ConfigError;
            }
            catch (InvalidDataException e)
            {
                stderr.WriteLine($"replay: {e.Message}");
                return ExitCodes.ConfigError;
            }
        }

        return ExitCodes.Passed;
    }
}
