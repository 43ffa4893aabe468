using System.CommandLine;
using System.Text.Json;
using TacRS.Hil.Cli.Commands;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Cli.Tests.Commands;

public class PassesCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = PassesCommand.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void Passes_IssOverCambridge_FourPassesAboveTenDegrees()
    {
        var (code, output, _) = Run(RepoPaths.Fixture("tle", "iss-2008.tle"), "--station", "52.2,0.1,50", "--from", "2008-09-20T12:00:00Z", "--hours", "24", "--mask", "10");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(0));
            // skyfield finds AOS 19:53:59 for this pass (tests/TacRS.Hil.Interop.Tests/Orbit).
            Assert.That(output, Does.Contain("2008-09-20 19:53:59"));
            Assert.That(output.Split('\n').Count(l => l.StartsWith("2008-", StringComparison.Ordinal)), Is.EqualTo(4));
        });
    }

    [Test]
    public void Passes_Json_ParsesWithPassFields()
    {
        var (code, output, _) = Run(RepoPaths.Fixture("tle", "iss-2008.tle"), "--station", "52.2,0.1,50", "--from", "2008-09-20T12:00:00Z", "--mask", "10", "--json");
        using var doc = JsonDocument.Parse(output);
        var first = doc.RootElement.GetProperty("passes")[0];
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(0));
            Assert.That(doc.RootElement.GetProperty("norad").GetString(), Is.EqualTo("25544"));
            Assert.That(first.GetProperty("aos").GetString(), Does.StartWith("2008-09-20T19:53:59"));
            Assert.That(first.GetProperty("max_elevation_deg").GetDouble(), Is.InRange(10, 90));
        });
    }

    [Test]
    public void Passes_BadChecksum_Exit2WithFileAndLine()
    {
        var path = RepoPaths.Fixture("tle", "bad-checksum.tle");
        var (code, _, error) = Run(path, "--station", "52.2,0.1,50");
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error, Does.StartWith($"{path}:2: checksum"));
        });
    }

    [TestCase("--station", "52.2,0.1")]
    [TestCase("--from", "yesterday")]
    [TestCase("--hours", "0")]
    public void Passes_BadOption_Exit2(string option, string value)
    {
        var args = new List<string> { RepoPaths.Fixture("tle", "iss-2008.tle"), "--station", "52.2,0.1,50" };
        if (option == "--station")
        {
            args[2] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var (code, _, error) = Run([.. args]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain(option));
    }
}
