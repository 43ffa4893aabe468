using System.Diagnostics;
using System.Text;

namespace TacRS.Hil.Reporting.Tests.Html;

/// <summary>
/// Debian's Chromium driven from the command line: no WebDriver, no network, a throw-away profile.
/// Console messages go to stderr through <c>--enable-logging=stderr --v=0</c> as
/// <c>INFO:CONSOLE(..)] "Uncaught Error: ..."</c>, which is how a JavaScript error is detected.
/// </summary>
internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>Console lines Chromium logged for the page (log, warnings, uncaught errors).</summary>
        public IReadOnlyList<string> ConsoleLines =>
            StdErr.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();

        public IReadOnlyList<string> JavaScriptErrors =>
            ConsoleLines.Where(l => l.Contains("Uncaught", StringComparison.Ordinal) || l.Contains("ERROR:CONSOLE", StringComparison.Ordinal)).ToList();
    }

    public static void RequireInstalled()
    {
        if (!File.Exists(Executable))
        {
            Assert.Fail($"Chromium not found at {Executable}: the report's browser test needs the Debian package 'chromium' (apt-get install chromium).");
        }
    }

    public static Task<Result> DumpDomAsync(string htmlFile) => RunAsync(htmlFile, "--dump-dom");

    public static Task<Result> ScreenshotAsync(string htmlFile, string pngFile) =>
        RunAsync(htmlFile, "--screenshot=" + pngFile, "--window-size=1280,2000", "--hide-scrollbars");

    private static async Task<Result> RunAsync(string htmlFile, params string[] extra)
    {
        RequireInstalled();
        var profile = Directory.CreateTempSubdirectory("tacrs-chromium-");
        try
        {
            var psi = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile.FullName,
                "--enable-logging=stderr", "--v=0",
            }.Concat(extra))
            {
                psi.ArgumentList.Add(a);
            }

            psi.ArgumentList.Add(new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("chromium did not start");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(Timeout, TimeProvider.System);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"chromium did not finish within {Timeout.TotalSeconds} s loading {htmlFile}");
            }

            return new Result(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A crashed renderer can leave a lock file behind for a moment; the temp folder is disposable.
            }
        }
    }

    public static string Describe(Result r)
    {
        var sb = new StringBuilder();
        sb.Append("exit ").Append(r.ExitCode).AppendLine();
        foreach (var l in r.ConsoleLines)
        {
            sb.AppendLine(l);
        }

        return sb.ToString();
    }
}
