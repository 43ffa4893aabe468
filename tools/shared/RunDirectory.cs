using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TacRS.Hil.Tools;

/// <summary>
/// A benchmark's private temporary folder (built binaries, pty links, data files): a fresh one per run,
/// and removed — with the child processes the benchmark registered (servers, socat) killed first — when
/// the run ends, normally, by an exception, or by SIGINT/SIGTERM/SIGHUP. Nothing is left in /tmp.
/// </summary>
internal sealed class RunDirectory : IDisposable
{
    private readonly List<Process> _children = [];
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _done;

    public RunDirectory(string prefix)
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                Dispose();
                context.Cancel = false; // then terminate as the signal asks
            }));
        }
    }

    public string Path { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Kills <paramref name="child"/> (and its descendants) before the folder goes, if it is still running.</summary>
    public Process Own(Process child)
    {
        lock (_children)
        {
            _children.Add(child);
        }

        return child;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        lock (_children)
        {
            foreach (var c in _children)
            {
                try
                {
                    if (!c.HasExited)
                    {
                        c.Kill(entireProcessTree: true);
                        c.WaitForExit(2000);
                    }
                }
                catch (InvalidOperationException)
                {
                    // Never started or already reaped.
                }
            }
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
