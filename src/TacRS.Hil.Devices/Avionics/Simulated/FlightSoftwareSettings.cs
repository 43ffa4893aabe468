using TacRS.Hil.Core.Config;
using TacRS.Hil.Drivers.Avionics;

namespace TacRS.Hil.Devices.Avionics.Simulated;

/// <summary>
/// The flight software a rig's <c>sim:</c> asks the emulated computer to run: <c>software: payload-obc</c>
/// (default) or <c>software: cfs-lab</c> with <c>cfs-version:</c> (default: the version the device's dictionary
/// is read at, when the emulator knows it, else equuleus-rc1). The emulator's layouts are its own, written from
/// the cFS sources, so a rig that emulates one version and decodes with another sees what a real mismatch shows.
/// </summary>
public static class FlightSoftwareSettings
{
    public static FlightComputerOptions Read(ConfigMap? sim, AvionicsDictionary dictionary)
    {
        var software = sim?.OneOf("software", ["payload-obc", "cfs-lab"]) == "cfs-lab" ? FlightSoftware.CfsLab : FlightSoftware.PayloadObc;
        var version = dictionary.Version?.Name is { } v && CfsLabVersion.Find(v) is { } known ? known : CfsLabVersion.EquuleusRc1;
        if (sim?.OneOf("cfs-version", CfsLabVersion.All.Select(x => x.Name).ToList()) is { } chosen)
        {
            version = CfsLabVersion.Find(chosen)!;
            if (software != FlightSoftware.CfsLab)
            {
                sim.Get("cfs-version")!.Error("'cfs-version' applies to 'software: cfs-lab' only");
            }
        }

        return new FlightComputerOptions { Software = software, CfsVersion = version };
    }
}
