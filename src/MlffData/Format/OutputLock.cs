using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlffData.Format;

/// <summary>
/// Our own lock on an output: the file <c>OUTPUT.lock</c>, created with O_CREAT|O_EXCL and holding who took it (pid,
/// host, when, the command line). It keeps a second writer out within a second also where libhdf5's flock is off
/// (HDF5_USE_FILE_LOCKING=FALSE: two writers then silently write the same file, RELIABILITY.md 2) or unsupported (NFS,
/// Lustre), and, unlike flock, it says who holds it. A lock left by a process that is gone (same host, pid dead or
/// reused, or a reboot since) is stale and taken over once.
/// </summary>
/// <remarks>
/// The lock file is removed on <see cref="Dispose"/> only while it is still this lock's (its token matches), so a
/// lock that someone deleted and another writer took since is left alone. A killed process leaves its lock file
/// behind; the next writer on the same host sees the pid dead and takes it over. On another host the pid cannot be
/// checked, so the lock is refused and the message says to delete it if that process is gone.
/// </remarks>
public sealed class OutputLock : IDisposable
{
    /// <summary>Suffix of the lock file beside the output.</summary>
    public const string Suffix = ".lock";

    // An unreadable lock file this young may be one another writer has created and not yet filled in.
    private static readonly TimeSpan FillInGrace = TimeSpan.FromSeconds(10);

    private readonly string _token;
    private int _released;

    private OutputLock(string output, string lockPath, string token)
    {
        Output = output;
        LockPath = lockPath;
        _token = token;
    }

    /// <summary>The output file the lock is for (absolute).</summary>
    public string Output { get; }

    /// <summary>The lock file, <c>OUTPUT.lock</c>.</summary>
    public string LockPath { get; }

    /// <summary>Takes the lock on <paramref name="output"/>, taking over a stale one.</summary>
    /// <param name="output">The output file; the lock file goes beside it.</param>
    /// <returns>The held lock; dispose it to release.</returns>
    /// <exception cref="OutputLockedException">Another live process (or one on another host) holds the lock.</exception>
    /// <exception cref="IOException">The lock file cannot be created (e.g. the directory is missing or read-only).</exception>
    public static OutputLock Acquire(string output)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        output = Path.GetFullPath(output);
        string lockPath = output + Suffix;
        string token = Guid.NewGuid().ToString("N");
        byte[] content = Describe(token);
        bool tookOver = false;
        for (int attempt = 0; ; attempt++)
        {
            if (TryCreate(lockPath, content)) return new OutputLock(output, lockPath, token);
            var holder = Holder.Read(lockPath);
            // Removed between our create and our read: try again, a few times (other writers come and go).
            if (holder is null && attempt < 5) continue;
            // A stale lock is taken over once; a second one in a row means writers are racing for the output.
            if (holder is not null && !tookOver && holder.IsStale() && TryRemoveStale(lockPath, holder))
            {
                tookOver = true;
                continue;
            }
            throw Locked(output, lockPath, holder ?? Holder.Unknown);
        }
    }

    /// <summary>Releases the lock: deletes the lock file if it is still this lock's. Never throws; thread-safe.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        try
        {
            if (Holder.Read(LockPath)?.Token == _token) File.Delete(LockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A lock file we cannot remove is left for the next writer, which finds this process gone and takes it over.
        }
    }

    /// <summary>The pid of the process on this host that holds the lock on <paramref name="output"/>; null when there
    /// is no lock, it cannot be read, or its holder is on another host or unknown. Never throws.</summary>
    public static int? HolderOf(string output) => LocalHolder(output)?.Pid;

    /// <summary>The pid of the live process on this host that holds the lock on <paramref name="output"/>, by the check
    /// <see cref="Acquire"/> makes before it takes a lock over (pid, start time, boot); null otherwise. Never throws.</summary>
    public static int? LiveHolderOf(string output) => LocalHolder(output) is { Pid: int pid } holder && !holder.IsStale() ? pid : null;

    /// <summary>The holder of the lock on <paramref name="output"/> when it is a process on this host; null when there is
    /// no lock, it cannot be read, or its holder is elsewhere. Never throws.</summary>
    private static Holder? LocalHolder(string output)
    {
        try
        {
            var holder = Holder.Read(Path.GetFullPath(output) + Suffix);
            return holder?.Host == Environment.MachineName ? holder : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Removes the lock on <paramref name="output"/> when process <paramref name="pid"/> on this host holds it: the
    /// CLI's worker process that crashed or was killed, whose lock would otherwise wait for the next writer's stale
    /// check. A lock someone else took meanwhile is left alone. Never throws.
    /// </summary>
    /// <returns>Whether that process's lock was there and is gone.</returns>
    public static bool RemoveIfHeldBy(string output, int pid)
    {
        if (LocalHolder(output) is not { } holder || holder.Pid != pid) return false;
        try
        {
            return TryRemoveStale(Path.GetFullPath(output) + Suffix, holder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryCreate(string lockPath, byte[] content)
    {
        FileStream stream;
        try
        {
            // CreateNew is open(O_CREAT | O_EXCL): exactly one of any number of racing writers gets the file.
            stream = new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            return false;
        }
        try
        {
            using (stream)
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            // A full disk, say: an empty lock file would keep the next writer waiting for its grace period for nothing.
            File.Delete(lockPath);
            throw;
        }
        return true;
    }

    /// <summary>
    /// Removes a stale lock file by renaming it aside first and checking that what was moved is the lock judged stale:
    /// two writers that both found it stale cannot both remove it, nor can one remove the fresh lock the other took.
    /// </summary>
    private static bool TryRemoveStale(string lockPath, Holder stale)
    {
        string aside = $"{lockPath}.stale-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            File.Move(lockPath, aside);
        }
        catch (FileNotFoundException)
        {
            return true; // someone else removed it: try to create ours
        }
        catch (IOException)
        {
            return false;
        }
        var moved = Holder.Read(aside);
        if (moved is not null && moved.Raw != stale.Raw)
        {
            // It was a fresh lock taken between our read and the rename: put it back unless yet another one is there.
            try
            {
                File.Move(aside, lockPath, overwrite: false);
            }
            catch (IOException)
            {
                File.Delete(aside);
            }
            return false;
        }
        File.Delete(aside);
        return true;
    }

    private static OutputLockedException Locked(string output, string lockPath, Holder holder)
    {
        string who = holder.Pid is { } pid
            ? $"process {pid} on {holder.Host ?? "an unknown host"}{(holder.Started is { } s ? $" since {s.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}" : "")}" +
              (holder.Command is { Length: > 0 } c ? $" ({c})" : "")
            : "another process (its lock file is being written or unreadable)";
        string message = $"{output} is being written by {who}: wait for it to finish, or delete {lockPath} if that process is gone";
        return new OutputLockedException(output, lockPath, holder.Pid, holder.Host, holder.Started, message);
    }

    private static byte[] Describe(string token)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("host", Environment.MachineName);
            json.WriteString("started", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("command", string.Join(' ', Environment.GetCommandLineArgs()));
            // Both tell a live holder from a pid reused after it died: the kernel's start time of the process and the boot.
            if (ProcessStartTicks(Environment.ProcessId) is { } ticks) json.WriteNumber("process_start_ticks", ticks);
            if (BootId() is { } boot) json.WriteString("boot_id", boot);
            json.WriteString("token", token);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Field 22 of /proc/PID/stat, the process's start time in clock ticks after boot; null when the process does not
    /// exist or is a zombie (it has exited and holds nothing; its parent has not reaped it yet).
    /// </summary>
    internal static long? ProcessStartTicks(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may itself hold spaces and ')': split after the last one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 20 || fields[0] == "Z" || fields[0] == "X") return null;
        return long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) ? ticks : null;
    }

    private static string? BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What a lock file says about its holder; any field may be missing from a file another tool wrote.</summary>
    private sealed record Holder(string Raw, int? Pid, string? Host, DateTimeOffset? Started, string? Command, long? StartTicks,
        string? Boot, string? Token, DateTime WrittenUtc)
    {
        /// <summary>A holder nothing is known about.</summary>
        internal static Holder Unknown { get; } = new("", null, null, null, null, null, null, null, DateTime.UtcNow);

        /// <summary>The lock file's holder, or null when the file is gone.</summary>
        internal static Holder? Read(string path)
        {
            string raw;
            DateTime written;
            try
            {
                raw = File.ReadAllText(path, Encoding.UTF8);
                written = File.GetLastWriteTimeUtc(path);
            }
            catch (FileNotFoundException)
            {
                return null;
            }
            catch (DirectoryNotFoundException)
            {
                return null;
            }
            try
            {
                using var doc = JsonDocument.Parse(raw);
                var root = doc.RootElement;
                return new Holder(raw,
                    Int(root, "pid") is { } pid and > 0 and <= int.MaxValue ? (int)pid : null,
                    Text(root, "host"),
                    Text(root, "started") is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var started) ? started : null,
                    Text(root, "command"),
                    Int(root, "process_start_ticks"),
                    Text(root, "boot_id"),
                    Text(root, "token"),
                    written);
            }
            catch (JsonException)
            {
                return new Holder(raw, null, null, null, null, null, null, null, written);
            }
        }

        /// <summary>
        /// True when the holder is certainly gone: same host and boot with a dead pid or one reused by a later process,
        /// same host after a reboot, or a lock file without a pid that is older than a few seconds (its writer died
        /// between create and write).
        /// </summary>
        internal bool IsStale()
        {
            // Without a pid nothing can be checked: young, it may be being written; old, its writer never finished it.
            if (Pid is null) return DateTime.UtcNow - WrittenUtc > FillInGrace;
            if (Host != Environment.MachineName) return false;
            if (Boot is not null && BootId() is { } boot && boot != Boot) return true;
            long? now = ProcessStartTicks(Pid.Value);
            if (now is null) return true;
            return StartTicks is { } recorded && recorded != now;
        }

        private static long? Int(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : null;

        private static string? Text(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
