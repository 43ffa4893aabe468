using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Core.Tests.Config;

public sealed class SubstitutionTests
{
    private static readonly Dictionary<string, string> Values = new(StringComparer.Ordinal)
    {
        ["vehicle.umbilical.voltage-low"] = "27.0",
        ["power-on.soak"] = "30s",
    };

    [TestCase("v: ${vehicle.umbilical.voltage-low}", "v: 27.0")]
    [TestCase("wait: ${power-on.soak:-10min}", "wait: 30s")]
    [TestCase("wait: ${other.soak:-10min}", "wait: 10min")]
    [TestCase("wait: ${ other.soak :- 2s }", "wait: 2s")]
    [TestCase("x: ${other:-}", "x: ")]
    [TestCase("no: $ {x} or ${ unclosed\n", "no: $ {x} or ${ unclosed\n")]
    public void Substitute_KnownNameOrDefault_Replaced(string text, string expected)
    {
        var problems = new ConfigProblems();

        var result = ConfigDocument.Substitute(text, "p.yaml", Values, problems);

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(expected));
            Assert.That(problems.Any, Is.False);
        });
    }

    [Test]
    public void Substitute_NotStrict_DefaultsAppliedUnknownLeftAsWritten()
    {
        var problems = new ConfigProblems();

        var result = ConfigDocument.Substitute("a: ${x.y:-5s}\nb: ${vehicle.mass}\n", "p.yaml", new Dictionary<string, string>(), problems, strict: false);

        Assert.That(result, Is.EqualTo("a: 5s\nb: ${vehicle.mass}\n"));
        Assert.That(problems.Any, Is.False);
    }

    [Test]
    public void Substitute_UnknownNameWithoutDefault_ProblemAtItsLineAndColumn()
    {
        var problems = new ConfigProblems();

        ConfigDocument.Substitute("a: 1\nb:   ${nope}\n", "p.yaml", Values, problems);

        Assert.That(problems.Sorted().Select(p => p.ToString()), Has.Exactly(1).StartsWith("p.yaml:2:6: unknown profile value '${nope}'"));
    }
}
