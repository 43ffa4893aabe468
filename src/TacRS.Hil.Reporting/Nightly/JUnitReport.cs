using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using TacRS.Hil.Reporting.Html;

namespace TacRS.Hil.Reporting.Nightly;

/// <summary>
/// One aggregated JUnit XML file for the nightly run, in the shape Jenkins, GitLab and GitHub
/// reporters read (the de-facto "junit-10" schema): <c>testsuites</c> → a <c>testsuite</c> per run →
/// a <c>testcase</c> per step (its last attempt), plus <c>safe-state</c> and <c>expectation</c> cases.
/// A failure the suite expected is written as <c>skipped</c> ("expected failure", pytest's xfail
/// convention), so CI stays green for it; a faulted variant that passed is a failure of the
/// <c>expectation</c> case.
/// </summary>
public static class JUnitReport
{
    public static void Write(NightlyResult result, string path)
    {
        var doc = Build(result);
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        using var writer = XmlWriter.Create(path, settings);
        doc.Save(writer);
    }

    /// <summary>
    /// JUnit for a single run (<c>tacrs-hil run</c>): reads <c>RUN_DIR/record.jsonl</c>, writes
    /// <c>RUN_DIR/junit.xml</c> with one testsuite, the run expected to pass. Returns the path.
    /// </summary>
    public static string WriteRun(string runDirectory)
    {
        var record = RunRecord.Load(Path.Combine(runDirectory, RunRecord.FileName));
        var start = record.Start;
        var name = start?.Procedure ?? "run";
        var request = new RunRequest(
            start?.RunId ?? Path.GetFileName(Path.GetFullPath(runDirectory)), name, name, start?.Rig ?? "unknown", start?.RigFile ?? string.Empty,
            start?.Seed ?? 0, [], RunExpectation.Pass, Path.GetFullPath(runDirectory), null, default);
        var duration = TimeSpan.FromSeconds(record.End?.DurationSeconds ?? record.LastEventSeconds);
        var startedAt = start?.WallClockStart ?? default;
        var report = Path.Combine(runDirectory, HtmlReport.FileName);
        var run = NightlyRunner.Judge(request, record, record.Outcome, record.End?.Reason ?? "the record has no run-end", duration, startedAt)
            with { ReportPath = File.Exists(report) ? Path.GetFullPath(report) : null };
        var suite = new NightlySuite(name, record.Source, null, 1, null, null, []);
        var path = Path.Combine(runDirectory, "junit.xml");
        Write(new NightlyResult(suite, runDirectory, [run], startedAt, duration, false, path, string.Empty), path);
        return path;
    }

    public static XDocument Build(NightlyResult result)
    {
        var suites = new List<XElement>();
        var id = 0;
        foreach (var run in result.Runs)
        {
            suites.Add(Suite(run, id++));
        }

        var root = new XElement("testsuites",
            new XAttribute("name", result.Suite.Name),
            new XAttribute("tests", Sum(suites, "tests")),
            new XAttribute("failures", Sum(suites, "failures")),
            new XAttribute("errors", Sum(suites, "errors")),
            new XAttribute("skipped", Sum(suites, "skipped")),
            new XAttribute("time", Seconds(result.WallTime.TotalSeconds)),
            new XAttribute("timestamp", Timestamp(result.StartedAt)),
            suites);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static int Sum(List<XElement> suites, string attribute) =>
        suites.Sum(s => int.Parse(s.Attribute(attribute)!.Value, CultureInfo.InvariantCulture));

    private static XElement Suite(RunResult run, int id)
    {
        var request = run.Request;
        var className = $"{request.Name}.{request.Rig}.seed{request.Seed.ToString(CultureInfo.InvariantCulture)}";
        var cases = new List<XElement>();
        var expectedFailure = run.Verdict == RunVerdict.Expected && request.Expect.ExpectsFailure;
        var record = run.Record;
        if (record is not null)
        {
            // The last attempt of each step is the one that was judged; earlier attempts go to system-out.
            foreach (var group in record.Steps.GroupBy(s => s.Step))
            {
                var last = group.Last();
                var tc = Case(last.Step, className, last.End?.DurationSeconds ?? 0);
                if (!last.Passed)
                {
                    var message = last.End?.Reason is { Length: > 0 } r ? r : $"step {last.Outcome}";
                    var detail = Detail(last);
                    tc.Add(expectedFailure
                        ? new XElement("skipped", new XAttribute("message", "expected failure: " + message), detail)
                        : last.Outcome == "FAIL"
                            ? new XElement("failure", new XAttribute("message", message), new XAttribute("type", last.Outcome), detail)
                            : new XElement("error", new XAttribute("message", message), new XAttribute("type", last.Outcome), detail));
                }

                var earlier = group.Take(group.Count() - 1).ToList();
                if (earlier.Count > 0)
                {
                    tc.Add(new XElement("system-out", string.Join("\n", earlier.Select(e => $"attempt {e.Attempt}: {e.Outcome} {e.End?.Reason}"))));
                }

                cases.Add(tc);
            }

            if (record.End is { } end)
            {
                var safe = Case("safe-state", className, 0);
                if (!end.SafeStateReached)
                {
                    safe.Add(new XElement("failure", new XAttribute("message", "the safe state was not verified"), new XAttribute("type", "SAFING")));
                }

                cases.Add(safe);
            }
        }

        var expectation = Case("expectation", className, run.WallTime.TotalSeconds);
        if (run.Verdict == RunVerdict.Unexpected)
        {
            var tag = run.Outcome is "ERROR" or "TIMEOUT" or "ABORTED" ? "error" : "failure";
            expectation.Add(new XElement(tag, new XAttribute("message", $"expected {request.Expect}, got {run.Outcome}"), new XAttribute("type", run.Outcome), run.Reason));
        }
        else if (expectedFailure)
        {
            expectation.Add(new XElement("system-out", $"expected failure ({request.Expect}): {run.Reason}"));
        }

        cases.Add(expectation);

        var properties = new XElement("properties",
            Property("run-id", record?.Start?.RunId ?? request.Id),
            Property("procedure", request.Procedure),
            Property("rig", request.Rig),
            Property("rig-file", request.RigFile),
            Property("seed", request.Seed.ToString(CultureInfo.InvariantCulture)),
            Property("expect", request.Expect.ToString()),
            Property("outcome", run.Outcome),
            Property("verdict", run.Verdict == RunVerdict.Expected ? (expectedFailure ? "expected-failure" : "expected") : "unexpected"),
            Property("run-directory", request.RunDirectory),
            Property("report", run.ReportPath ?? string.Empty));
        var tests = cases.Count;
        return new XElement("testsuite",
            new XAttribute("name", request.Id),
            new XAttribute("id", id),
            new XAttribute("package", request.Procedure),
            new XAttribute("tests", tests),
            new XAttribute("failures", cases.Count(c => c.Element("failure") is not null)),
            new XAttribute("errors", cases.Count(c => c.Element("error") is not null)),
            new XAttribute("skipped", cases.Count(c => c.Element("skipped") is not null)),
            new XAttribute("time", Seconds(run.WallTime.TotalSeconds)),
            new XAttribute("timestamp", Timestamp(run.StartedAt)),
            properties,
            cases,
            new XElement("system-out", $"{run.Outcome}: {run.Reason}\nreport: {run.ReportPath ?? "none"}{(run.HistoryNote is { } h ? "\nhistory: " + h : string.Empty)}"));
    }

    private static XElement Case(string name, string className, double seconds) =>
        new("testcase", new XAttribute("name", name), new XAttribute("classname", className), new XAttribute("time", Seconds(seconds)));

    private static XElement Property(string name, string value) =>
        new("property", new XAttribute("name", name), new XAttribute("value", value));

    private static string Detail(StepAttempt step) =>
        string.Join("\n", step.Measurements
            .Where(m => m.Outcome != "PASS")
            .Select(m => $"{m.Name} = {HtmlText.Num(m.Value)} {m.Unit} (limits {HtmlReport.DescribeLimits(m)}) {m.Outcome}"));

    private static string Seconds(double s) => s.ToString("0.000", CultureInfo.InvariantCulture);

    // JUnit's timestamp is ISO 8601 without a zone (junit-10.xsd); these are UTC.
    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
}
