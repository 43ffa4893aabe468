using System.Reflection;
using System.Text.RegularExpressions;
using TacRS.Hil.Devices;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Architecture.Tests;

/// <summary>
/// One module per device kind (issue 15): a kind's driver, emulator and faults sit in one folder of TacRS.Hil.Devices,
/// namespace <c>TacRS.Hil.Devices.&lt;Folder&gt;</c> (emulators in <c>.Simulated</c>), and simulation stays below the
/// driver: the driver part never touches the simulation.
/// </summary>
public sealed partial class DeviceModuleTests
{
    private static readonly Assembly Devices = typeof(DeviceModules).Assembly;

    private static string DevicesSource => Path.Combine(RepoPaths.Root, "src", "TacRS.Hil.Devices");

    public static IEnumerable<IDeviceModule> Modules() => DeviceModules.All;

    private static string Folder(IDeviceModule module) => module.GetType().Namespace!["TacRS.Hil.Devices.".Length..];

    [TestCaseSource(nameof(Modules))]
    public void Module_ItsDriverAndEmulatorLiveInItsFolder(IDeviceModule module)
    {
        var ns = module.GetType().Namespace!;
        var folder = Path.Combine(DevicesSource, Folder(module));

        Assert.Multiple(() =>
        {
            Assert.That(ns, Does.Match(@"^TacRS\.Hil\.Devices\.[A-Za-z0-9]+$"));
            Assert.That(module.Driver.GetType().Namespace, Is.EqualTo(ns), "the driver kind");
            Assert.That(module.Driver.Kind, Is.EqualTo(module.Kind));
            Assert.That(File.Exists(Path.Combine(folder, module.GetType().Name + ".cs")), Is.True, $"{folder}/{module.GetType().Name}.cs");

            // Every file of the folder belongs to the kind: its namespace, or the kind's .Simulated below it.
            foreach (var file in Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories))
            {
                var declared = NamespaceLine().Match(File.ReadAllText(file)).Groups[1].Value;
                var expected = Path.GetDirectoryName(file) == folder ? ns : ns + ".Simulated";
                Assert.That(declared, Is.EqualTo(expected), file);
            }
        });
    }

    /// <summary>
    /// Issue 14: every device kind declares its liveness check, so a device that stops answering is found while nothing
    /// references it. A kind added without one fails here (lm75 and relay-bank once did).
    /// </summary>
    [TestCaseSource(nameof(Modules))]
    public void Module_ItsDevicesDeclareALivenessCheck(IDeviceModule module)
    {
        var devices = Devices.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(Core.Devices.IDevice).IsAssignableFrom(t) && t.Namespace == module.GetType().Namespace)
            .ToList();

        Assert.That(devices, Is.Not.Empty, $"{module.Kind}: no device class in {module.GetType().Namespace}");
        Assert.That(devices.Where(t => !typeof(Core.Devices.ILiveDevice).IsAssignableFrom(t)).Select(t => t.Name), Is.Empty, $"{module.Kind}: device classes without ILiveDevice");
    }

    [Test]
    public void Modules_EveryKindFolderIsRegistered_AndEveryKindOnce()
    {
        var folders = Directory.GetDirectories(DevicesSource).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Order(StringComparer.Ordinal).ToList();

        Assert.That(DeviceModules.All.Select(Folder).Order(StringComparer.Ordinal), Is.EqualTo(folders));
        Assert.That(DeviceModules.All.Select(m => m.Kind), Is.Unique);
    }

    [Test]
    public void Types_EveryTypeOfTheProjectLivesInAModuleOrIsTheModuleSeam()
    {
        var kinds = DeviceModules.All.Select(m => m.GetType().Namespace!).ToHashSet(StringComparer.Ordinal);
        var stray = Devices.GetTypes()
            .Where(t => !IsCompilerGenerated(t) && t.Namespace is { } n && n.StartsWith("TacRS.Hil.", StringComparison.Ordinal))
            .Where(t => t.Namespace != "TacRS.Hil.Devices" && !kinds.Contains(t.Namespace!) && !kinds.Contains(t.Namespace!.Replace(".Simulated", string.Empty, StringComparison.Ordinal)))
            .Select(t => t.FullName)
            .ToList();

        Assert.That(stray, Is.Empty);
    }

    /// <summary>
    /// The driver part of every module (its namespace, not <c>.Simulated</c>, not the module class that wires the two)
    /// runs unchanged on a bench: no simulation type in any signature or base, and no simulation namespace in its source.
    /// </summary>
    [TestCaseSource(nameof(Modules))]
    public void DriverPart_NeverUsesTheSimulation(IDeviceModule module)
    {
        var ns = module.GetType().Namespace!;
        var driverTypes = Devices.GetTypes().Where(t => t.Namespace == ns && !typeof(IDeviceModule).IsAssignableFrom(Outermost(t))).ToList();
        var offenders = new List<string>();
        foreach (var t in driverTypes)
        {
            foreach (var used in Referenced(t).Where(IsSimulation))
            {
                offenders.Add($"{t.FullName} uses {used.FullName}");
            }
        }

        var folder = Path.Combine(DevicesSource, Folder(module));
        foreach (var file in Directory.GetFiles(folder, "*.cs").Where(f => Path.GetFileName(f) != module.GetType().Name + ".cs"))
        {
            var text = File.ReadAllText(file);
            if (SimulationReference().Match(text) is { Success: true } m)
            {
                offenders.Add($"{Path.GetFileName(file)}: {m.Value}");
            }
        }

        Assert.That(driverTypes, Is.Not.Empty);
        Assert.That(offenders, Is.Empty);
    }

    /// <summary>A kind name is spelled once, in its module's folder: no other file keys a list, switch or comparison on it.</summary>
    [TestCaseSource(nameof(Modules))]
    public void KindName_NoStringKeyedListOrSwitchOutsideItsModule(IDeviceModule module)
    {
        var folder = Path.Combine(DevicesSource, Folder(module)) + Path.DirectorySeparatorChar;
        var k = Regex.Escape(module.Kind);
        var keyed = new Regex($@"(\[\s*""{k}""\s*\]|case\s+""{k}""|[=!]=\s*""{k}""|Kind\s*=>\s*""{k}""|KindName\s*=\s*""{k}""|Register\(\s*""{k}""|Stream\(\s*""{k}""|Datagram\(\s*""{k}"")");
        var hits = Directory.GetFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.StartsWith(folder, StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => keyed.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(RepoPaths.Root, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.That(hits, Is.Empty);
    }

    private static bool IsSimulation(Type t) =>
        t.Assembly.GetName().Name == "TacRS.Hil.Simulation" || (t.Namespace?.EndsWith(".Simulated", StringComparison.Ordinal) ?? false);

    private static bool IsCompilerGenerated(Type t) => t.Name.Contains('<', StringComparison.Ordinal) || Outermost(t).Name.Contains('<', StringComparison.Ordinal);

    private static Type Outermost(Type t)
    {
        while (t.DeclaringType is { } d)
        {
            t = d;
        }

        return t;
    }

    /// <summary>The types in a type's base, interfaces, fields, properties, method and constructor signatures (generic arguments included).</summary>
    private static IEnumerable<Type> Referenced(Type t)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var direct = new List<Type?> { t.BaseType };
        direct.AddRange(t.GetInterfaces());
        direct.AddRange(t.GetFields(all).Select(f => f.FieldType));
        direct.AddRange(t.GetProperties(all).Select(p => p.PropertyType));
        foreach (var m in t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
        {
            if (m is MethodInfo mi)
            {
                direct.Add(mi.ReturnType);
            }

            direct.AddRange(m.GetParameters().Select(p => p.ParameterType));
            direct.AddRange(m.GetMethodBody()?.LocalVariables.Select(l => l.LocalType) ?? []);
        }

        return direct.OfType<Type>().SelectMany(Expand).Distinct();
    }

    private static IEnumerable<Type> Expand(Type t)
    {
        yield return t;
        if (t.HasElementType)
        {
            foreach (var e in Expand(t.GetElementType()!))
            {
                yield return e;
            }
        }

        if (t.IsGenericType)
        {
            foreach (var a in t.GetGenericArguments().SelectMany(Expand))
            {
                yield return a;
            }
        }
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"TacRS\.Hil\.Simulation\b|\.Simulated\b|\bSimulation\.\w+")]
    private static partial Regex SimulationReference();
}
