using System.Diagnostics;
using System.Text;

namespace TacRS.Hil.Testing;

/// <summary>Runs the real <c>tacrs-hil</c> as a child process from the repository root (end-to-end tests).</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "tacrs-hil.dll");

    /// <summary>
    /// Where the test processes of this test run keep their rig locks: a temporary directory of this test
    /// process, never the machine's /run/lock (another suite on the machine must not see these rigs as busy).
    /// </summary>
    public static string LockDirectory { get; } = CreateLockDirectory();

    private static string CreateLockDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("tacrs-test-locks-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // a child still holds a lock file open: the temp directory is cleaned later
            }
        };
        Environment.SetEnvironmentVariable("TACRS_HIL_LOCK_DIR", dir);

        // The default results history lives in the user's data directory: for tests, this run's temporary one.
        Environment.SetEnvironmentVariable("XDG_DATA_HOME", Path.Combine(dir, "data"));
        return dir;
    }

    public int Pid => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_err)
            {
                return _err.ToString();
            }
        }
    }

    public static CliProcess Start(params string[] args) => StartWith(null, args);

    /// <summary>Starts the CLI with extra environment variables (a PATH without a peer, say).</summary>
    public static CliProcess StartWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // The child gets SIGINT's default disposition, as a person's foreground command has: a suite started
        // from a background job (`tools/test.sh &`) inherits SIGINT ignored, which .NET rightly respects, and
        // the Ctrl+C tests would then signal a process that cannot hear it. (coreutils env ≥ 8.31.)
        var psi = new ProcessStartInfo("env")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.Environment["TACRS_HIL_LOCK_DIR"] = LockDirectory;
        psi.Environment["XDG_DATA_HOME"] = Path.Combine(LockDirectory, "data");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = new Process { StartInfo = psi };
        var cli = new CliProcess(p);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (cli._out)
                {
                    cli._out.AppendLine(e.Data);
                }
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (cli._err)
                {
                    cli._err.AppendLine(e.Data);
                }
            }
        };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.StandardInput.Close();
        return cli;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] args)
    {
        using var cli = Start(args);
        var code = cli.WaitForExit(timeout);
        return (code, cli.Stdout, cli.Stderr);
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tacrs-hil did not exit within {timeout}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (INT, TERM, KILL) the way a shell or a CI runner would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits (on real time: this is a real child process) until <paramref name="condition"/> holds.</summary>
    public void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"tacrs-hil exited ({_process.ExitCode}) before {what}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            if (TimeProvider.System.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"timed out waiting for {what}; stdout:\n{Stdout}");
            }

            // Polling a real child process: there is no virtual clock to advance here.
            using var tick = new ManualResetEventSlim();
            tick.Wait(TimeSpan.FromMilliseconds(50));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
