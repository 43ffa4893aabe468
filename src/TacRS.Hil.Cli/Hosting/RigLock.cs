using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TacRS.Hil.Core.Runs;

namespace TacRS.Hil.Cli.Hosting;

/// <summary>Who holds a rig: written beside the lock by the run that took it.</summary>
internal sealed record RigHolder(string RunId, int Pid, string User, string Host, DateTimeOffset Since)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"run {RunId} (pid {Pid}, user {User}, since {Since:yyyy-MM-dd HH:mm:ss}Z)");
}

/// <summary>A second run on a rig that another run holds: exit 2, before any device is touched.</summary>
internal sealed class RigBusyException(string message) : Exception(message);

/// <summary>
/// The exclusive lock a hardware-mode run takes on its rig before it touches any device, so a second run
/// can never drive — or safe — someone else's live rig. One lock file per rig id under a runtime
/// directory, locked with <c>flock(2)</c>: the kernel releases it when the holder exits, however it exits
/// (a SIGKILL included), so a dead holder never blocks the rig. Beside it, <c>RIG.owner</c> says who holds
/// it, for the refusal message. The directory is <c>$TACRS_HIL_LOCK_DIR</c>, else <c>/run/lock/tacrs-hil</c>
/// (shared by every user of the machine), else <c>$TMPDIR/tacrs-hil-locks</c>.
/// A simulated rig's bench lives in its own process: it takes no lock (the nightly runs many at once).
/// </summary>
internal sealed class RigLock : IDisposable
{
    public const string DirectoryVariable = "TACRS_HIL_LOCK_DIR";

    private const int OpenReadWrite = 0x2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int WouldBlock = 11; // EAGAIN == EWOULDBLOCK on Linux
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);

    private readonly SafeFileHandle _handle;
    private readonly string _ownerPath;

    private RigLock(SafeFileHandle handle, string ownerPath, RigHolder holder)
    {
        _handle = handle;
        _ownerPath = ownerPath;
        Holder = holder;
    }

    public RigHolder Holder { get; }

    public static string Directory()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        const string shared = "/run/lock/tacrs-hil";
        try
        {
            if (!OperatingSystem.IsWindows() && System.IO.Directory.Exists("/run/lock"))
            {
                // Sticky and world-writable, like /run/lock itself: every user's runs meet in one place.
                System.IO.Directory.CreateDirectory(shared, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.StickyBit);
                return shared;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // fall through to the temporary directory
        }

        return Path.Combine(Path.GetTempPath(), "tacrs-hil-locks");
    }

    /// <summary>
    /// Takes the rig's lock, waiting up to <paramref name="wait"/> for its holder to finish (none: refuse at once).
    /// Throws <see cref="RigBusyException"/> naming the holder, or <see cref="UsageException"/> when the lock
    /// directory cannot be used.
    /// </summary>
    public static RigLock Acquire(string rig, string runId, TimeSpan? wait, RunAbort abort)
    {
        var dir = Directory();
        var name = string.Concat(rig.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        var lockPath = Path.Combine(dir, name + ".lock");
        var ownerPath = Path.Combine(dir, name + ".owner");
        var deadline = wait is { } w ? TimeProvider.System.GetTimestamp() + (long)(w.TotalSeconds * TimeProvider.System.TimestampFrequency) : (long?)null;
        while (true)
        {
            var handle = Open(dir, lockPath);
            if (flock(handle.DangerousGetHandle().ToInt32(), LockExclusive | LockNonBlocking) == 0)
            {
                var holder = new RigHolder(runId, Environment.ProcessId, Environment.UserName, Environment.MachineName, TimeProvider.System.GetUtcNow());
                WriteOwner(ownerPath, holder);
                return new RigLock(handle, ownerPath, holder);
            }

            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            if (errno != WouldBlock)
            {
                throw new UsageException($"{lockPath}: cannot lock rig '{rig}': error {errno}");
            }

            var busy = $"rig '{rig}' is in use by {ReadOwner(ownerPath)?.Describe() ?? "another run (its owner file is missing)"}; lock {lockPath}";
            if (deadline is null)
            {
                throw new RigBusyException(busy + "; nothing was touched (--wait-for-rig DURATION waits for it)");
            }

            if (TimeProvider.System.GetTimestamp() >= deadline)
            {
                throw new RigBusyException($"{busy}; still held after --wait-for-rig {Core.Config.Duration.Format(wait!.Value)}; nothing was touched");
            }

            if (abort.Token.WaitHandle.WaitOne(RetryInterval))
            {
                throw new RigBusyException($"{busy}; aborted ({abort.Reason}) while waiting for it; nothing was touched");
            }
        }
    }

    /// <summary>Releases the rig: the owner file goes first (still under the lock), then the lock itself.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_ownerPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A stale owner file is harmless: it is only read while the lock is held.
        }

        _handle.Dispose();
    }

    private static SafeFileHandle Open(string dir, string lockPath)
    {
        try
        {
            System.IO.Directory.CreateDirectory(dir);

            // Never deleted: removing a lock file while another run waits on it would let two runs hold "the" lock.
            // Opened with open(2) itself: .NET's FileStream takes flock locks of its own for its FileShare modes.
            var fd = open(lockPath, OpenReadWrite | OpenCreate | OpenCloseOnExec, 438 /* 0666: every user's runs share it */);
            if (fd < 0)
            {
                throw new IOException($"error {Marshal.GetLastPInvokeError()}");
            }

            return new SafeFileHandle(fd, ownsHandle: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{lockPath}: cannot open the rig lock: {e.Message} (set {DirectoryVariable} to a writable directory)");
        }
    }

    private static void WriteOwner(string path, RigHolder holder)
    {
        try
        {
            var temp = path + "." + holder.Pid.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(temp, JsonSerializer.Serialize(holder));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lock holds without it; a second run's message then says the owner is unknown.
        }
    }

    private static RigHolder? ReadOwner(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RigHolder>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
}
