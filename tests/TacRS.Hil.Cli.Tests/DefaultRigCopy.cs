using System.Text.Json;

namespace TacRS.Hil.Cli.Tests;

/// <summary>The default simulated rig copied into a test's directory (its paths made absolute), and what a run of it recorded.</summary>
internal static class DefaultRigCopy
{
    /// <summary>Writes <c>hil-configs/sim-laptop.yaml</c> to <paramref name="dir"/>/rig.yaml with <paramref name="edit"/> applied to its text.</summary>
    public static string Write(string dir, Func<string, string>? edit = null) => TacRS.Hil.Testing.RepoPaths.WriteRig(dir, edit, name: "rig.yaml");

    /// <summary>The default rig with these lines added at the top of its <c>simulation:</c> block.</summary>
    public static string WithSimulation(string dir, string simulationLines) =>
        Write(dir, t => t.Replace("simulation:\n", "simulation:\n" + (simulationLines.Length > 0 ? simulationLines + "\n" : string.Empty), StringComparison.Ordinal));

    /// <summary>The first value recorded for measurement <paramref name="name"/> in the run directory's record.</summary>
    public static double Measurement(string runDirectory, string name)
    {
        foreach (var line in File.ReadLines(Path.Combine(runDirectory, "record.jsonl")))
        {
            var e = JsonDocument.Parse(line).RootElement;
            if (e.GetProperty("event").GetString() == "measurement" && e.GetProperty("name").GetString() == name)
            {
                return e.GetProperty("value").GetDouble();
            }
        }

        Assert.Fail($"no measurement '{name}' in the record");
        return double.NaN;
    }
}
