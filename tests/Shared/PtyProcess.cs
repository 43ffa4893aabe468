using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TacRS.Hil.Testing;

/// <summary>
/// Runs the real <c>tacrs-hil</c> on a pseudo-terminal, as a person at a bench runs it: stdin is a terminal
/// (so prompts go to the console operator), the CLI is a session leader whose controlling terminal is the pty,
/// and <see cref="HangUp"/> closes the terminal the way a dropped ssh session does (the kernel sends SIGHUP).
/// A small Python relay (pty.fork) owns the master side; it reports the child's pid and exit status.
/// </summary>
internal sealed class PtyProcess : IDisposable
{
    private const string Relay = """
        import os, pty, sys, select, signal
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(sys.argv[1], sys.argv[1:])
        sys.stderr.write("PID %d\n" % pid); sys.stderr.flush()
        hung = False
        while True:
            fds = [sys.stdin.fileno()] + ([] if hung else [fd])
            r, _, _ = select.select(fds, [], [], 0.05)
            if fd in r and not hung:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if data:
                    sys.stdout.buffer.write(data); sys.stdout.flush()
            if sys.stdin.fileno() in r:
                line = sys.stdin.readline()
                if not line:
                    break
                cmd = line.rstrip("\n")
                if cmd == "HANGUP":
                    os.close(fd); hung = True
                elif cmd.startswith("SEND "):
                    os.write(fd, (cmd[5:] + "\r").encode())
                elif cmd.startswith("KEY "):
                    os.write(fd, bytes([int(cmd[4:])]))
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                if not hung:
                    try:
                        while True:
                            data = os.read(fd, 4096)
                            if not data: break
                            sys.stdout.buffer.write(data)
                    except OSError:
                        pass
                    sys.stdout.flush()
                code = os.waitstatus_to_exitcode(status)
                sys.stderr.write("EXIT %d\n" % code); sys.stderr.flush()
                break
        """;

    private readonly Process _relay;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private PtyProcess(Process relay) => _relay = relay;

    public string Output
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    /// <summary>The CLI's own pid (not the relay's), once reported.</summary>
    public int Pid { get; private set; }

    public int? ExitCode { get; private set; }

    public static PtyProcess Start(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.Environment["TACRS_HIL_LOCK_DIR"] = CliProcess.LockDirectory;
        psi.Environment["XDG_DATA_HOME"] = Path.Combine(CliProcess.LockDirectory, "data");
        psi.Environment["TERM"] = "dumb";
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Relay);
        psi.ArgumentList.Add("env");
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(CliProcess.Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = new Process { StartInfo = psi };
        var pty = new PtyProcess(p);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith("PID ", StringComparison.Ordinal))
            {
                pty.Pid = int.Parse(e.Data[4..], CultureInfo.InvariantCulture);
            }
            else if (e.Data.StartsWith("EXIT ", StringComparison.Ordinal))
            {
                pty.ExitCode = int.Parse(e.Data[5..], CultureInfo.InvariantCulture);
            }
            else
            {
                lock (pty._err)
                {
                    pty._err.AppendLine(e.Data);
                }
            }
        };
        p.Start();

        // The terminal's bytes as they come: a prompt waits for its answer without ending its line.
        var reader = new Thread(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = p.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (pty._out)
                {
                    pty._out.Append(buffer, 0, n);
                }
            }
        })
        {
            IsBackground = true,
            Name = "pty output",
        };
        reader.Start();
        p.BeginErrorReadLine();
        return pty;
    }

    /// <summary>Types a line at the terminal.</summary>
    public void Type(string line)
    {
        _relay.StandardInput.WriteLine("SEND " + line);
        _relay.StandardInput.Flush();
    }

    /// <summary>Presses one key (a control character such as Ctrl+C, 0x03) with no Enter after it.</summary>
    public void Press(char key)
    {
        _relay.StandardInput.WriteLine("KEY " + ((int)key).ToString(CultureInfo.InvariantCulture));
        _relay.StandardInput.Flush();
    }

    /// <summary>Closes the terminal: the kernel hangs up the CLI's session (SIGHUP), as when an ssh connection drops.</summary>
    public void HangUp()
    {
        _relay.StandardInput.WriteLine("HANGUP");
        _relay.StandardInput.Flush();
    }

    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void WaitFor(string text, TimeSpan timeout) => WaitUntil(() => Output.Contains(text, StringComparison.Ordinal), timeout, $"'{text}' on the terminal");

    public void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (ExitCode is { } code)
            {
                throw new InvalidOperationException($"tacrs-hil exited ({code}) before {what}; terminal:\n{Output}");
            }

            if (TimeProvider.System.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"timed out waiting for {what}; terminal:\n{Output}");
            }

            // A real child process on a real terminal: there is no virtual clock to advance here.
            using var tick = new ManualResetEventSlim();
            tick.Wait(TimeSpan.FromMilliseconds(50));
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        WaitUntil(() => ExitCode is not null || _relay.HasExited, timeout, "the CLI to exit");
        _relay.WaitForExit(5000);
        return ExitCode ?? throw new InvalidOperationException($"the pty relay ended without the CLI's exit status; terminal:\n{Output}\n{_err}");
    }

    public void Dispose()
    {
        if (ExitCode is null && Pid > 0)
        {
            Signal("KILL");
        }

        if (!_relay.HasExited)
        {
            _relay.Kill(entireProcessTree: true);
        }

        _relay.Dispose();
    }
}
