using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TacRS.Hil.Testing;

namespace TacRS.Hil.Interop.Tests.Modbus.Peers;

/// <summary>
/// Starts and stops the real third-party peers (pymodbus, mbpoll, libmodbus, socat) on loopback,
/// with bounded waits. A missing peer fails the test with the Debian package to install; it never skips.
/// </summary>
internal static class Peers
{
    public const string Python = "/usr/bin/python3";
    private static readonly Lazy<string> LibmodbusBin = new(BuildLibmodbus);

    public static TimeSpan Bound { get; } = TimeSpan.FromSeconds(15);

    public static string Require(string program, string package)
    {
        if (Path.IsPathRooted(program))
        {
            if (!File.Exists(program))
            {
                Assert.Fail($"{program} is missing: install the Debian package '{package}'");
            }

            return program;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var p = Path.Combine(dir, program);
            if (File.Exists(p))
            {
                return p;
            }
        }

        Assert.Fail($"'{program}' is not on PATH: install the Debian package '{package}'");
        return program;
    }

    public static string PythonWithPymodbus()
    {
        var py = Require(Python, "python3");
        var (code, _, err) = Run(py, ["-c", "import pymodbus"], Bound);
        if (code != 0)
        {
            Assert.Fail($"{py} cannot import pymodbus: install the Debian package 'python3-pymodbus' ({err.Trim()})");
        }

        return py;
    }

    public static string PymodbusServerScript => Path.Combine(RepoPaths.Root, "tests", "TacRS.Hil.Interop.Tests", "Modbus", "Peers", "pymodbus_server.py");

    public static string LibmodbusServer => Path.Combine(LibmodbusBin.Value, "modbus-server");

    public static string LibmodbusClient => Path.Combine(LibmodbusBin.Value, "modbus-client");

    private static string BuildLibmodbus()
    {
        Require("gcc", "gcc");
        Require("pkg-config", "pkg-config");
        var outDir = Path.Combine(Path.GetTempPath(), "tacrs-libmodbus-" + Environment.ProcessId);
        var (code, stdout, stderr) = Run("/bin/bash", [Path.Combine(RepoPaths.Tools, "libmodbus", "build.sh"), outDir], TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            Assert.Fail($"building tools/libmodbus failed (install Debian 'libmodbus-dev'): {stdout}{stderr}");
        }

        return outDir;
    }

    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Runs a program to completion (bounded) and returns its exit code and output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        using var p = new Process { StartInfo = Start(file, args) };
        p.Start();
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }

        p.WaitForExit();
        return (p.ExitCode, so.Result, se.Result);
    }

    internal static ProcessStartInfo Start(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }
}

/// <summary>A long-running peer (server, socat) killed on dispose.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _readyText;

    public PeerProcess(string file, IEnumerable<string> args, string readyText = "READY")
    {
        _readyText = readyText;
        Name = $"{Path.GetFileName(file)} {string.Join(' ', args)}";
        _process = new Process { StartInfo = Peers.Start(file, args), EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(_out, e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(_err, e.Data);
        _process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"{Name} exited early: {Output}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public string Output
    {
        get
        {
            lock (_out)
            {
                lock (_err)
                {
                    return $"stdout: {_out} stderr: {_err}";
                }
            }
        }
    }

    public bool HasExited => _process.HasExited;

    private void OnLine(StringBuilder sb, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sb)
        {
            sb.AppendLine(line);
        }

        if (line.Contains(_readyText, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    public async Task WaitReadyAsync()
    {
        try
        {
            await _ready.Task.WaitAsync(Peers.Bound, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{Name} did not report '{_readyText}' within {Peers.Bound.TotalSeconds} s: {Output}");
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>A socat pty pair: two linked pseudo-terminals, as two ends of a serial cable.</summary>
internal sealed class PtyPair : IDisposable
{
    private readonly PeerProcess _socat;
    private readonly string _dir;

    private PtyPair(PeerProcess socat, string dir)
    {
        _socat = socat;
        _dir = dir;
    }

    public string A => Path.Combine(_dir, "a");

    public string B => Path.Combine(_dir, "b");

    public static async Task<PtyPair> CreateAsync()
    {
        var socat = Peers.Require("socat", "socat");
        var dir = Path.Combine(Path.GetTempPath(), "tacrs-pty-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var p = new PeerProcess(socat, ["-d", "-d", $"pty,raw,echo=0,link={dir}/a", $"pty,raw,echo=0,link={dir}/b"], "starting data transfer loop");
        var pair = new PtyPair(p, dir);
        await p.WaitReadyAsync();
        var start = TimeProvider.System.GetTimestamp();
        while (!(File.Exists(pair.A) && File.Exists(pair.B)))
        {
            if (TimeProvider.System.GetElapsedTime(start) > Peers.Bound)
            {
                pair.Dispose();
                Assert.Fail($"socat pty links did not appear in {dir}: {p.Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }

        return pair;
    }

    /// <summary>Pulls the cable: both ptys vanish.</summary>
    public void Kill() => _socat.Kill();

    public void Dispose()
    {
        _socat.Dispose();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }
}
