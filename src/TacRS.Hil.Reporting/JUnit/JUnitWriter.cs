using System.Globalization;
using System.Xml.Linq;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;

namespace TacRS.Hil.Reporting.JUnit;

/// <summary>
/// JUnit XML for CI from a run's events: a testsuite per run, a testcase per step (its last
/// attempt), failures carrying the measurement, its value, unit and limits. Safing is its own
/// testcase so a failed safing action is never hidden.
/// </summary>
public static class JUnitWriter
{
    public const string FileName = "junit.xml";

    public static XElement BuildSuite(IReadOnlyList<RunEvent> events, string? suiteName = null)
    {
        var start = events.OfType<RunStarted>().FirstOrDefault();
        var end = events.OfType<RunEnded>().LastOrDefault();
        var name = suiteName ?? (start is null ? "run" : $"{start.Rig}/{start.Procedure}");
        var suite = new XElement("testsuite", new XAttribute("name", name));
        if (start is not null)
        {
            suite.Add(new XAttribute("timestamp", start.At.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)));
            suite.Add(new XElement(
                "properties",
                Prop("rig", start.Rig),
                Prop("procedure", start.Procedure),
                Prop("procedure-hash", start.ProcedureHash),
                Prop("seed", start.Seed.ToString(CultureInfo.InvariantCulture)),
                Prop("run-id", start.RunId),
                Prop("mode", start.Mode),
                Prop("tool-version", start.ToolVersion)));
        }

        int tests = 0, failures = 0, errors = 0;
        var stepEnds = events.OfType<StepEnded>().GroupBy(s => (s.Phase, s.Step)).Select(g => g.Last()).ToList();
        foreach (var step in stepEnds)
        {
            tests++;
            var className = step.Phase is null ? name : $"{name}/{step.Phase}";
            var tc = new XElement(
                "testcase",
                new XAttribute("classname", className),
                new XAttribute("name", step.Step),
                new XAttribute("time", step.DurationSeconds.ToString("0.###", CultureInfo.InvariantCulture)));
            var measurements = events.OfType<MeasurementRecorded>()
                .Where(m => m.Step == step.Step && m.Phase == step.Phase && m.Attempt == step.Attempt)
                .ToList();
            var outcome = Outcome.Pass;
            try
            {
                outcome = OutcomeExtensions.FromWire(step.Outcome);
            }
            catch (FormatException)
            {
                outcome = Outcome.Error;
            }

            var lines = measurements.Select(Describe).ToList();
            switch (outcome)
            {
                case Outcome.Pass:
                    break;
                case Outcome.Fail:
                    failures++;
                    var failed = measurements.Where(m => m.Outcome != "PASS").ToList();
                    var message = failed.Count > 0 ? string.Join("; ", failed.Select(Describe)) : step.Reason ?? "step failed";
                    tc.Add(new XElement("failure", new XAttribute("message", message), new XAttribute("type", "FAIL"), string.Join("\n", lines.Append(step.Reason ?? string.Empty))));
                    break;
                default:
                    errors++;
                    tc.Add(new XElement("error", new XAttribute("message", step.Reason ?? step.Outcome), new XAttribute("type", step.Outcome), string.Join("\n", lines)));
                    break;
            }

            if (lines.Count > 0)
            {
                tc.Add(new XElement("system-out", string.Join("\n", lines)));
            }

            suite.Add(tc);
        }

        var safing = events.OfType<SafingAction>().ToList();
        var safingEnd = events.OfType<SafingEnded>().LastOrDefault();
        if (safingEnd is not null)
        {
            tests++;
            var tc = new XElement("testcase", new XAttribute("classname", name), new XAttribute("name", "safe-state"), new XAttribute("time", "0"));
            var text = string.Join("\n", safing.Select(s => $"{s.Index}: {s.Action} {s.Outcome}{(s.Error is null ? string.Empty : " — " + s.Error)}"));
            if (safingEnd.Failed > 0 || safingEnd.Outcome != "PASS")
            {
                errors++;
                tc.Add(new XElement("error", new XAttribute("message", $"safing: {safingEnd.Failed} of {safingEnd.Actions} actions failed"), new XAttribute("type", "SAFING"), text));
            }
            else
            {
                tc.Add(new XElement("system-out", text));
            }

            suite.Add(tc);
        }

        if (end is null)
        {
            errors++;
            tests++;
            suite.Add(new XElement(
                "testcase",
                new XAttribute("classname", name),
                new XAttribute("name", "run-complete"),
                new XElement("error", new XAttribute("message", "the record has no run-end: the run was killed"), new XAttribute("type", "INCOMPLETE"))));
        }

        suite.Add(new XAttribute("tests", tests), new XAttribute("failures", failures), new XAttribute("errors", errors));
        suite.Add(new XAttribute("time", (end?.DurationSeconds ?? 0).ToString("0.###", CultureInfo.InvariantCulture)));
        return suite;
    }

    public static void Write(string path, IEnumerable<XElement> suites)
    {
        var list = suites.ToList();
        var root = new XElement(
            "testsuites",
            new XAttribute("tests", list.Sum(s => (int)s.Attribute("tests")!)),
            new XAttribute("failures", list.Sum(s => (int)s.Attribute("failures")!)),
            new XAttribute("errors", list.Sum(s => (int)s.Attribute("errors")!)),
            list);
        new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(path);
    }

    public static string Describe(MeasurementRecorded m)
    {
        var unit = m.Unit is "" or "bool" ? string.Empty : " " + m.Unit;
        var value = m.Value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) + unit : "no value";
        var limits = new Limits(m.Low, m.High, m.Marginal, m.Expected).Describe(Core.Units.Unit.TryParse(m.Unit, out var u) ? u : Core.Units.Unit.None);
        return $"{m.Name} = {value}, limits {limits}: {m.Outcome}";
    }

    private static XElement Prop(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));
}
