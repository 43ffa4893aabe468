using System.Globalization;
using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Sequences.Campaigns;

public enum Propulsion
{
    Solid,
    Liquid,
}

/// <summary>
/// A launch vehicle as the checkout sees it: payload mass limits, the separation-system and
/// umbilical interface, and the phase budgets of the timeline. Every value is also a procedure
/// variable (<c>${vehicle.payload-mass.max-kg}</c>), so one procedure serves every vehicle.
/// </summary>
public sealed record VehicleProfile(
    string Id,
    string Name,
    Propulsion Propulsion,
    IReadOnlyDictionary<string, TimeSpan> Budgets,
    IReadOnlyDictionary<string, string> Variables,
    string File);

/// <summary>A payload: its mass, power budget, dictionary and functional test (as variables for procedures).</summary>
public sealed record PayloadProfile(string Id, string Name, IReadOnlyDictionary<string, string> Variables, string File);

public static class ProfileLoader
{
    public static VehicleProfile LoadVehicle(string path, CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, cancellationToken: cancellationToken);
        var root = doc.Root?.AsMap("a vehicle profile");
        VehicleProfile? result = null;
        if (root is not null)
        {
            var id = root.String("vehicle", required: true) ?? Path.GetFileNameWithoutExtension(path);
            var name = root.String("name") ?? id;
            var propulsion = root.OneOf("propulsion", ["solid", "liquid"], required: true) == "liquid" ? Propulsion.Liquid : Propulsion.Solid;
            var budgets = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            if (root.Map("budgets", required: true) is { } b)
            {
                foreach (var (k, _, v) in b.Entries())
                {
                    if (v.AsDuration($"budget of phase '{k}'") is { } t)
                    {
                        budgets[k] = t;
                    }
                }
            }

            var vars = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["vehicle.id"] = id,
                ["vehicle.name"] = name,
                ["vehicle.propulsion"] = propulsion == Propulsion.Liquid ? "liquid" : "solid",
            };
            foreach (var key in root.Keys.Where(k => k is not ("vehicle" or "name" or "propulsion" or "budgets")))
            {
                Flatten("vehicle." + key, root.Get(key)!, vars);
            }

            result = new VehicleProfile(id, name, propulsion, budgets, vars, path);
        }

        doc.Problems.ThrowIfAny();
        return result!;
    }

    public static PayloadProfile LoadPayload(string path, CancellationToken cancellationToken = default)
    {
        var doc = ConfigDocument.Load(path, cancellationToken: cancellationToken);
        var root = doc.Root?.AsMap("a payload profile");
        PayloadProfile? result = null;
        if (root is not null)
        {
            var id = root.String("payload", required: true) ?? Path.GetFileNameWithoutExtension(path);
            var name = root.String("name") ?? id;
            var vars = new Dictionary<string, string>(StringComparer.Ordinal) { ["payload.id"] = id, ["payload.name"] = name };
            foreach (var key in root.Keys.Where(k => k is not ("payload" or "name")))
            {
                Flatten("payload." + key, root.Get(key)!, vars);
            }

            result = new PayloadProfile(id, name, vars, path);
        }

        doc.Problems.ThrowIfAny();
        return result!;
    }

    private static void Flatten(string prefix, ConfigNode node, Dictionary<string, string> into)
    {
        if (node.IsMap)
        {
            foreach (var (k, _, v) in node.AsMap(prefix)!.Entries())
            {
                Flatten(prefix + "." + k, v, into);
            }
        }
        else if (node.IsList)
        {
            var items = node.AsList(prefix)!;
            into[prefix] = string.Join(",", items.Select(i => i.Text ?? string.Empty));
            into[prefix + ".count"] = items.Count.ToString(CultureInfo.InvariantCulture);
        }
        else if (node.Text is { } t)
        {
            into[prefix] = t;
        }
    }
}
