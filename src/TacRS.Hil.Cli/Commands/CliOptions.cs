using System.CommandLine;
using System.Globalization;

namespace TacRS.Hil.Cli.Commands;

/// <summary>
/// Options whose values are parsed here, so a bad value reads like every other usage error
/// (<c>--seed 'abc': expected a whole number such as 42</c>) instead of naming a .NET type.
/// </summary>
internal static class CliOptions
{
    public static Option<long?> Whole(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => Parse<long>(r, name, "a whole number such as 42", t => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : (long?)null),
    };

    public static Option<int?> Count(string name, string description, int min = 1) => new(name)
    {
        Description = description,
        CustomParser = r => Parse<int>(r, name, $"a whole number of at least {min.ToString(CultureInfo.InvariantCulture)}", t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min ? v : (int?)null),
    };

    public static Option<double?> Number(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => Parse<double>(r, name, "a number such as 12.5", t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : (double?)null),
    };

    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => Parse<TimeSpan>(r, name, "a duration such as 30s, 10min or 2h", t => Core.Config.Duration.TryParse(t, out var v) && v > TimeSpan.Zero ? v : (TimeSpan?)null),
    };

    private static T? Parse<T>(System.CommandLine.Parsing.ArgumentResult result, string name, string expected, Func<string, T?> parse)
        where T : struct
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (parse(text) is { } value)
        {
            return value;
        }

        result.AddError($"{name} '{text}': expected {expected}");
        return null;
    }
}
