using Microsoft.Extensions.Time.Testing;
using TacRS.Hil.Core.Config;

namespace TacRS.Hil.Core.Tests.Config;

/// <summary>
/// Every configuration file goes through one YAML reader: no input crashes it, exhausts the stack or
/// memory, or keeps it busy after cancellation; each failure is one problem at file:line:col.
/// </summary>
public sealed class YamlReaderTests
{
    private static IReadOnlyList<string> Problems(string text) =>
        ConfigDocument.Parse(text, "f.yaml").Problems.Sorted().Select(p => p.ToString()).ToList();

    [Test]
    public void Parse_UnclosedFlowThenPlainValueAtColumnOne_ProblemNotInvalidOperationException()
    {
        // 9 bytes that made YamlDotNet's scanner throw InvalidOperationException: exit 134 with a stack trace.
        Assert.That(Problems("rig: [\nx\n"), Is.EqualTo(new[]
        {
            "f.yaml:2:1: YAML syntax error: cannot read on inside the '[' opened at line 1, column 6 (indent its content and close it with ']')",
        }));
    }

    [TestCase(100_000)]
    [TestCase(1_000_000)]
    public void Parse_FlowNestedFarTooDeep_OneProblemAtTheLimitNotStackOverflow(int depth)
    {
        var text = "rig: " + new string('[', depth) + new string(']', depth) + "\n";

        Assert.That(Problems(text), Is.EqualTo(new[]
        {
            $"f.yaml:1:{6 + YamlReader.MaxDepth - 1}: YAML nested more than {YamlReader.MaxDepth} levels deep (mappings and lists inside each other); configuration files are limited to {YamlReader.MaxDepth}",
        }));
    }

    [Test]
    public void Parse_BlockMappingsNestedTooDeep_ProblemAtTheLimit()
    {
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i) + "k:\n")) + new string(' ', 200) + "x\n";

        var problems = Problems(text);

        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.StartWith($"f.yaml:{YamlReader.MaxDepth + 1}:").And.Contain("nested more than"));
    }

    [Test]
    public void Parse_NestedExactlyAtTheLimit_Loads()
    {
        // The root list is one level; MaxDepth - 1 more inside it.
        var doc = ConfigDocument.Parse(new string('[', YamlReader.MaxDepth) + new string(']', YamlReader.MaxDepth), "f.yaml");

        Assert.That(doc.Problems.Any, Is.False);
        Assert.That(doc.Root!.IsList, Is.True);
    }

    [Test]
    public void Parse_AliasInsideItsOwnAnchor_ProblemNotALoopingTree()
    {
        Assert.That(Problems("a: &a [1, *a]\n"), Is.EqualTo(new[]
        {
            "f.yaml:1:11: alias '*a' is inside the node its anchor '&a' names: the node would contain itself forever",
        }));
    }

    [Test]
    public void Parse_AliasBeforeItsAnchor_Problem()
    {
        Assert.That(Problems("a: *b\nb: &b 1\n"), Is.EqualTo(new[] { "f.yaml:1:4: alias '*b' has no anchor '&b' before it" }));
    }

    [Test]
    public void Parse_AliasesExpandingPastTheNodeLimit_Problem()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 12; i++)
        {
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        }

        var problems = Problems(string.Join("\n", lines));

        Assert.That(problems, Has.Count.EqualTo(1));
        Assert.That(problems[0], Does.Contain($"more than {YamlReader.MaxNodes} nodes"));
    }

    [Test]
    public void Parse_AliasOfAnEarlierAnchor_StillLoads()
    {
        var doc = ConfigDocument.Parse("base: &b { kind: ina219, bus: 1 }\ncopy: *b\n", "f.yaml");
        var root = doc.Root!.AsMap("root")!;

        Assert.That(doc.Problems.Any, Is.False);
        Assert.That(root.Map("copy")!.String("kind"), Is.EqualTo("ina219"));
    }

    [Test]
    public void Parse_CancelledToken_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => ConfigDocument.Parse("a: 1\n", "f.yaml", cancellationToken: cts.Token));
    }

    [Test]
    public void Load_FileLargerThanTheLimit_ProblemWithoutReadingItAll()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tacrs-big-{Guid.NewGuid():N}.yaml");
        try
        {
            using (var f = File.Create(path))
            {
                f.SetLength(YamlReader.MaxFileBytes + 1);
            }

            var doc = ConfigDocument.Load(path);

            Assert.That(doc.Root, Is.Null);
            Assert.That(doc.Problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[] { $"{path}:1:1: file is larger than 8 MiB, the limit for a configuration file" }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Load_EndlessFile_StopsAtTheLimit()
    {
        var doc = ConfigDocument.Load("/dev/zero");

        Assert.That(doc.Problems.Sorted().Single().Message, Does.StartWith("file is larger than"));
    }

    [Test]
    public void Load_SubstitutedValue_RemembersWhereItCameFrom()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tacrs-subst-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, "a: ${x:-1s} ${y:-2s}\nwait: ${power-on.soak:-10min}\n");
            var doc = ConfigDocument.Load(path, variables: new Dictionary<string, string> { ["power-on.soak"] = "24h" });
            var wait = doc.Root!.AsMap("root")!.Get("wait")!;

            Assert.That(doc.SubstitutionAt(wait.Location), Is.EqualTo(new Substitution("power-on.soak", "24h", wait.Location, FromDefault: false)));
            Assert.That(doc.Substitutions.Select(s => (s.Name, s.At.Column, s.FromDefault)), Is.EqualTo(new[] { ("x", 4, true), ("y", 7, true), ("power-on.soak", 7, false) }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Durations are range-checked where they are read: none may outlast the longest timer .NET has.</summary>
public sealed class DurationRangeTests
{
    [TestCase("1200h")]
    [TestCase("50d")]
    [TestCase("4294967295ms")]
    [TestCase("1e300s")]
    [TestCase("10675199.02:48:05")]
    public void AsDuration_LongerThanTheTimerLimit_ProblemAtItsPosition(string text)
    {
        var doc = ConfigDocument.Parse($"wait: {text}\n", "p.yaml");

        Assert.That(doc.Root!.AsMap("root")!.Duration("wait"), Is.Null);
        Assert.That(doc.Problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[]
        {
            $"p.yaml:1:7: 'wait' must be at most {Duration.MaxText}, not '{text}'",
        }));
    }

    [Test]
    public void AsDuration_ExactlyTheLimit_Accepted()
    {
        var doc = ConfigDocument.Parse("wait: 4294967294ms\n", "p.yaml");

        Assert.That(doc.Root!.AsMap("root")!.Duration("wait"), Is.EqualTo(Duration.Max));
        Assert.That(doc.Problems.Any, Is.False);
    }

    [Test]
    public void Max_IsTheLongestTimeoutATimeProviderAccepts()
    {
        // The bound is .NET's, not ours: the engine turns every duration into one of these.
        var time = new FakeTimeProvider();
        using (new CancellationTokenSource(Duration.Max, time))
        {
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CancellationTokenSource(Duration.Max + TimeSpan.FromMilliseconds(1), time));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = Task.Delay(Duration.Max + TimeSpan.FromMilliseconds(1), time, CancellationToken.None));
        Assert.That(Task.Delay(Duration.Max, time, CancellationToken.None).IsCompleted, Is.False);
    }

    [Test]
    public void Load_FileEditedBetweenTwoLoads_SecondLoadReadsTheNewText()
    {
        // Parsed trees are kept per process by their text (a sweep loads the same files hundreds of times).
        var dir = Directory.CreateTempSubdirectory("yaml-cache-").FullName;
        try
        {
            var path = Path.Combine(dir, "r.yaml");
            File.WriteAllText(path, "rig: first\n");
            var first = ConfigDocument.Load(path).Root!.AsMap("a file")!.Get("rig")!.Text;
            File.WriteAllText(path, "rig: second\n");
            var second = ConfigDocument.Load(path).Root!.AsMap("a file")!.Get("rig")!.Text;
            var again = ConfigDocument.Load(path).Root!.AsMap("a file")!.Get("rig")!.Text;

            Assert.That((first, second, again), Is.EqualTo(("first", "second", "second")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Parse_SameTextTwice_EachDocumentKeepsItsOwnProblems()
    {
        var a = ConfigDocument.Parse("rig: x\nmode: simulated\n", "a.yaml");
        a.Root!.AsMap("a file")!.Get("mode")!.Error("not allowed here");
        var b = ConfigDocument.Parse("rig: x\nmode: simulated\n", "b.yaml");

        Assert.That(a.Problems.Sorted().Select(p => p.ToString()), Is.EqualTo(new[] { "a.yaml:2:7: not allowed here" }));
        Assert.That(b.Problems.Sorted(), Is.Empty);
        Assert.That(b.Root!.Location.File, Is.EqualTo("b.yaml"), "the shared tree is wrapped in each load's own document");
    }
}
