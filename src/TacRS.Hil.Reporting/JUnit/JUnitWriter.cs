using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using TacRS.Hil.Core.Measurements;
using TacRS.Hil.Core.Recording;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.JUnit;

/// <summary>
/// What a nightly suite expected of a run, and whether the run kept to it. A single run expects a pass.
/// </summary>
public sealed record JUnitExpectation(string Expected, bool Met, string Reason);

/// <summary>One run as a JUnit test suite: its record, and for a nightly entry its name, expectation and extra properties.</summary>
public sealed record JUnitRun(
    RunRecord Record,
    string? Name = null,
    JUnitExpectation? Expectation = null,
    IReadOnlyDictionary<string, string>? Properties = null,
    double? WallSeconds = null);

/// <summary>
/// The one JUnit XML writer, for a single run's <c>junit.xml</c> and for the nightly suite's aggregated
/// file alike (the de-facto "junit-10" shape Jenkins, GitLab and GitHub reporters read), derived from
/// the run's record and verdict:
/// <list type="bullet">
/// <item>a testcase per planned step (its last attempt): a FAIL is a <c>failure</c>; ERROR, TIMEOUT,
/// ABORTED, LOST-DEVICE and a step that never finished are an <c>error</c>; a step the run never reached is
/// <c>skipped</c>;</item>
/// <item><c>safe-state</c> (a failure when it was not reached, never expected), a <c>budget</c> case per
/// campaign phase that ran past its budget (a failure under <c>on-over-budget: fail</c>), and
/// <c>run-complete</c> (an error when the record has no run-end);</item>
/// <item>in a suite, an <c>expectation</c> case; a failure the suite expected is a passing testcase with the
/// expectation in a property, so <c>failures + errors</c> counts exactly the unexpected.</item>
/// </list>
/// Testcase times are wall-clock seconds; the run clock's durations (virtual in simulation) are properties.
/// </summary>
public static class JUnitWriter
{
    public const string FileName = "junit.xml";

    public static XElement Suite(JUnitRun run, int id = 0)
    {
        var record = run.Record;
        var start = record.Start;
        var procedure = start?.Procedure ?? "run";
        var rig = start?.Rig ?? "unknown-rig";
        var baseClass = $"{procedure}.{rig}.seed{(start?.Seed ?? 0).ToString(CultureInfo.InvariantCulture)}";
        var expectedFailure = run.Expectation is { Met: true } && !OutcomeExtensions.IsPassWord(record.Outcome);
        var cases = new List<XElement>();

        foreach (var group in record.Steps.Where(s => s.Step != "safing").GroupBy(s => s.PlanKey))
        {
            var last = group.Last();
            var tc = Case(last.Step, last.Phase is null ? baseClass : $"{baseClass}.{last.Phase}", last.WallSeconds);
            var props = new List<XElement> { Property("run-clock-seconds", Seconds(last.End?.DurationSeconds ?? 0)), Property("attempts", last.Attempt.ToString(CultureInfo.InvariantCulture)) };
            foreach (var m in last.Measurements)
            {
                props.Add(Property("measurement." + m.Name, Describe(m)));
            }

            if (!last.Passed)
            {
                var failed = last.Measurements.Where(m => !OutcomeExtensions.IsPassWord(m.Outcome)).Select(Describe).ToList();
                var reason = last.End is null ? "the step never finished: the run was killed during it" : last.End.Reason is { Length: > 0 } r ? r : $"step {last.Outcome}";

                // A failed measurement is named the way the console names it; any other failure by its reason.
                var message = last.Outcome == OutcomeExtensions.FailWord && failed.Count > 0 ? string.Join("; ", failed) : reason;
                var detail = string.Join("\n", failed.Append(reason));
                if (expectedFailure)
                {
                    props.Add(Property("expected-failure", $"{run.Expectation!.Expected}: {last.Outcome} — {message}"));
                }
                else if (last.Outcome == OutcomeExtensions.FailWord)
                {
                    tc.Add(new XElement("failure", new XAttribute("message", message), new XAttribute("type", last.Outcome), detail));
                }
                else
                {
                    tc.Add(new XElement("error", new XAttribute("message", message), new XAttribute("type", last.Outcome), detail));
                }
            }

            var earlier = group.Take(group.Count() - 1).ToList();
            tc.AddFirst(new XElement("properties", props));
            if (earlier.Count > 0)
            {
                tc.Add(new XElement("system-out", string.Join("\n", earlier.Select(e => $"attempt {e.Attempt}: {e.Outcome} {e.End?.Reason}"))));
            }

            cases.Add(tc);
        }

        foreach (var key in record.NotRun)
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            var tc = Case(slash < 0 ? key : key[(slash + 1)..], slash < 0 ? baseClass : $"{baseClass}.{key[..slash]}", 0);
            tc.Add(new XElement("skipped", new XAttribute("message", $"not run: the run ended {record.Outcome} before this step ({record.End?.Reason ?? "no run-end"})")));
            cases.Add(tc);
        }

        if (record.End is { } end)
        {
            var safe = Case("safe-state", baseClass, 0);
            var safing = record.Events.OfType<SafingAction>().Select(a => $"{a.Index}: {a.Action} {a.Outcome}{(a.Error is null ? string.Empty : " — " + a.Error)}");
            if (!end.SafeStateReached)
            {
                var why = record.Events.OfType<SafingEnded>().LastOrDefault()?.Verification ?? "a safing action failed or did not run";
                safe.Add(new XElement("failure", new XAttribute("message", "SAFE STATE NOT REACHED: " + why), new XAttribute("type", "SAFING"), string.Join("\n", safing)));
            }
            else
            {
                safe.Add(new XElement("system-out", string.Join("\n", safing)));
            }

            cases.Add(safe);

            foreach (var phase in end.OverBudget ?? [])
            {
                var budget = Case("budget", $"{baseClass}.{phase.Split(' ')[0]}", 0);
                var message = $"over budget: {phase}";
                if (end.BudgetPolicy == "fail" && !expectedFailure)
                {
                    budget.Add(new XElement("failure", new XAttribute("message", message), new XAttribute("type", "BUDGET")));
                }
                else
                {
                    budget.Add(new XElement("system-out", message + (end.BudgetPolicy == "fail" ? " (expected)" : " (on-over-budget: warn)")));
                }

                cases.Add(budget);
            }
        }
        else
        {
            var incomplete = Case("run-complete", baseClass, 0);
            incomplete.Add(new XElement("error", new XAttribute("message", "the record has no run-end: the run was killed"), new XAttribute("type", "INCOMPLETE")));
            cases.Add(incomplete);
        }

        if (record.End is { } ended && !OutcomeExtensions.IsPassWord(ended.Outcome) && !expectedFailure
            && !cases.Any(c => c.Element("failure") is not null || c.Element("error") is not null))
        {
            // The run did not pass, yet no step carries why (it was aborted or lost a device before its first
            // step): the run itself is the failing testcase, so JUnit never says "all green" for it.
            var tc = Case("run", baseClass, 0);
            tc.Add(new XElement(ended.Outcome == OutcomeExtensions.FailWord ? "failure" : "error", new XAttribute("message", ended.Reason), new XAttribute("type", ended.Outcome)));
            cases.Add(tc);
        }

        if (run.Expectation is { } expect)
        {
            var tc = Case("expectation", baseClass, run.WallSeconds ?? 0);
            if (!expect.Met)
            {
                tc.Add(new XElement("failure", new XAttribute("message", $"expected {expect.Expected}, got {record.Outcome}"), new XAttribute("type", record.Outcome), expect.Reason));
            }
            else
            {
                tc.Add(new XElement("system-out", $"as expected ({expect.Expected}): {expect.Reason}"));
            }

            cases.Add(tc);
        }

        var properties = new List<XElement>
        {
            Property("run-id", start?.RunId ?? string.Empty),
            Property("rig", rig),
            Property("procedure", procedure),
            Property("procedure-hash", start?.ProcedureHash ?? string.Empty),
            Property("seed", (start?.Seed ?? 0).ToString(CultureInfo.InvariantCulture)),
            Property("mode", start?.Mode ?? string.Empty),
            Property("tool-version", start?.ToolVersion ?? string.Empty),
            Property("outcome", record.Outcome),
            Property("exit-code", record.End?.ExitCode.ToString(CultureInfo.InvariantCulture) ?? string.Empty),
            Property("run-clock-seconds", Seconds(record.End?.DurationSeconds ?? record.LastEventSeconds)),
        };
        if (run.Expectation is { } e)
        {
            properties.Add(Property("expect", e.Expected));
            properties.Add(Property("verdict", !e.Met ? "unexpected" : expectedFailure ? "expected-failure" : "expected"));
        }

        foreach (var kv in run.Properties ?? new Dictionary<string, string>())
        {
            properties.Add(Property(kv.Key, kv.Value));
        }

        var wall = run.WallSeconds ?? Math.Max(0, ((record.Events.Count > 0 ? record.Events[^1].WallOrAt : default) - (start?.WallOrAt ?? default)).TotalSeconds);
        return new XElement(
            "testsuite",
            new XAttribute("name", run.Name ?? procedure),
            new XAttribute("id", id),
            new XAttribute("package", procedure),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", cases.Count(c => c.Element("failure") is not null)),
            new XAttribute("errors", cases.Count(c => c.Element("error") is not null)),
            new XAttribute("skipped", cases.Count(c => c.Element("skipped") is not null)),
            new XAttribute("time", Seconds(wall)),
            new XAttribute("timestamp", Timestamp(start?.WallClockStart ?? default)),
            new XElement("properties", properties),
            cases,
            new XElement("system-out", $"{record.Outcome}: {record.End?.Reason ?? "the record has no run-end"}"));
    }

    /// <summary>Writes <c>testsuites</c> around <paramref name="suites"/>: UTF-8 without a byte-order mark, totals summed.</summary>
    public static void Write(string path, string name, IReadOnlyList<XElement> suites, double wallSeconds, DateTimeOffset startedAt)
    {
        var root = new XElement(
            "testsuites",
            new XAttribute("name", name),
            new XAttribute("tests", Sum(suites, "tests")),
            new XAttribute("failures", Sum(suites, "failures")),
            new XAttribute("errors", Sum(suites, "errors")),
            new XAttribute("skipped", Sum(suites, "skipped")),
            new XAttribute("time", Seconds(wallSeconds)),
            new XAttribute("timestamp", Timestamp(startedAt)),
            suites);
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        var temp = path + ".tmp";
        using (var writer = XmlWriter.Create(temp, settings))
        {
            new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(writer);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A single run's <c>junit.xml</c>: one testsuite, the run expected to pass.</summary>
    public static void WriteRun(string path, RunRecord record) =>
        Write(path, record.Start?.RunId ?? "run", [Suite(new JUnitRun(record, record.Start?.RunId))], Math.Max(0, ((record.Events.Count > 0 ? record.Events[^1].WallOrAt : default) - (record.Start?.WallOrAt ?? default)).TotalSeconds), record.Start?.WallClockStart ?? default);

    public static string Describe(MeasurementRecorded m)
    {
        var unit = m.Unit is "" or "bool" ? string.Empty : " " + m.Unit;
        var value = m.Value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) + unit : "no value";
        var limits = new Limits(m.Low, m.High, m.Marginal, m.Expected).Describe(Core.Units.Unit.TryParse(m.Unit, out var u) ? u : Core.Units.Unit.None);
        return $"{m.Name} = {value}, limits {limits}: {m.Outcome}";
    }

    private static int Sum(IReadOnlyList<XElement> suites, string attribute) =>
        suites.Sum(s => int.Parse(s.Attribute(attribute)!.Value, CultureInfo.InvariantCulture));

    private static XElement Case(string name, string className, double seconds) =>
        new("testcase", new XAttribute("name", name), new XAttribute("classname", className), new XAttribute("time", Seconds(seconds)));

    private static XElement Property(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    private static string Seconds(double s) => s.ToString("0.000", CultureInfo.InvariantCulture);

    // JUnit's timestamp is ISO 8601 without a zone (junit-10.xsd); these are UTC.
    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
}
