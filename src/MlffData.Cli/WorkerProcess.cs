using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MlffData.Format;
using MlffData.Hdf5;

namespace MlffData.Cli;

/// <summary>
/// Runs a command that reads HDF5 files the user supplied in a worker process: the same tool started again with the
/// same arguments and MLFF_DATA_WORKER set, which makes it run the command in-process. libhdf5 1.10.8 crashes
/// (SIGSEGV, SIGABRT) and hangs on some damaged files (RELIABILITY.md 3.5); in the worker that ends the worker, not
/// the tool, which names the file on one line and exits 65.
/// </summary>
/// <remarks>
/// <para>The worker inherits standard input, output and error, so output, progress bars and terminal detection are
/// what they are without a worker. Before each open of an existing HDF5 file it writes the path to a status file
/// (<see cref="H5File.Opening"/>), so a crash is blamed on the right one of several inputs.</para>
/// <para>Limits: time, counted while the worker reads the user's HDF5 (the whole run, except for convert --append and
/// label --resume, which say when they are done with it: <see cref="NotReading"/>), by default a minute plus the
/// input's size at the plan's rate; memory (resident set, polled from /proc: RLIMIT_AS would cap the address space the
/// .NET runtime reserves, and it does not start under 1 GiB), by default the smaller of 8 GiB and half the memory.
/// A plan without a rate has no default limits. MLFF_DATA_WORKER_TIMEOUT (seconds) and MLFF_DATA_WORKER_MEMORY (MiB)
/// override both, 0 for none.</para>
/// <para>Signals: SIGINT and SIGTERM are passed on to the worker (Ctrl-C in a terminal reaches both anyway), and this
/// process waits for the worker and returns its exit code, so label still stops after its batch with 130 or 143. When
/// this process is killed, the kernel kills the worker (PR_SET_PDEATHSIG).</para>
/// </remarks>
internal static class WorkerProcess
{
    /// <summary>Exit code for an HDF5 file that libhdf5 cannot read without crashing or hanging: sysexits.h's EX_DATAERR.</summary>
    internal const int InvalidInput = 65;

    /// <summary>Environment variable: the time limit in seconds (0: none), instead of the plan's default.</summary>
    internal const string TimeoutVariable = "MLFF_DATA_WORKER_TIMEOUT";

    /// <summary>Environment variable: the memory limit in MiB (0: none), instead of the plan's default.</summary>
    internal const string MemoryVariable = "MLFF_DATA_WORKER_MEMORY";

    // Set in the worker, to the supervisor's pid: its presence makes the tool run the command in-process.
    private const string WorkerVariable = "MLFF_DATA_WORKER";

    // Set in the worker: the file where it writes the path of the HDF5 file it is opening, or NotReadingMark.
    private const string StatusVariable = "MLFF_DATA_WORKER_STATUS";
    private const string NotReadingMark = "-";

    // The status file's name in the temporary directory: the prefix, the supervisor's pid, '-', a GUID.
    private const string StatusPrefix = "mlff-data-worker-";

    private const long MemoryCap = 8L << 30;
    private static readonly TimeSpan BaseTime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxStep = TimeSpan.FromSeconds(1);

    // In the worker: the supervisor's status file, if it gave one, and the supervisor's pid.
    private static string? _status;
    private static int? _supervisor;

    /// <summary>The pid of the tool the user started: the supervisor's in a worker, else this process's.</summary>
    internal static int ToolProcessId => _supervisor ?? Environment.ProcessId;

    /// <summary>
    /// Runs the command in a worker process and returns the tool's exit code; in the worker itself, returns null, and
    /// the caller runs the command in this process.
    /// </summary>
    /// <param name="plan">What the command reads and writes.</param>
    /// <exception cref="ArgumentException">MLFF_DATA_WORKER_TIMEOUT or MLFF_DATA_WORKER_MEMORY is not a number.</exception>
    internal static int? RunInWorker(WorkerPlan plan)
    {
        if (Environment.GetEnvironmentVariable(WorkerVariable) is { } parent)
        {
            BecomeWorker(parent);
            return null;
        }
        return Supervise(plan);
    }

    /// <summary>
    /// In the worker: says that no HDF5 file of the user's is read from here until the next open (convert --append and
    /// label --resume, once their output is open and checked): the time limit stops counting, and a crash is not blamed
    /// on the file. Does nothing outside a worker.
    /// </summary>
    internal static void NotReading()
    {
        if (_status is not null) Record(NotReadingMark);
    }

    private static void BecomeWorker(string parent)
    {
        _status = Environment.GetEnvironmentVariable(StatusVariable);
        // A process the worker starts is not a worker itself.
        Environment.SetEnvironmentVariable(WorkerVariable, null);
        Environment.SetEnvironmentVariable(StatusVariable, null);
        // A supervisor killed with SIGKILL cannot stop its worker, so the kernel does. The parent check after it catches
        // one that died before the request. (A value that is not a pid runs the command in-process, unsupervised.)
        if (int.TryParse(parent, NumberStyles.None, CultureInfo.InvariantCulture, out int supervisor))
        {
            Libc.SetParentDeathSignal(Libc.SigKill);
            if (Libc.GetParentProcessId() != supervisor) Environment.Exit(128 + Libc.SigKill);
            _supervisor = supervisor;
        }
        if (_status is not null) H5File.Opening = path => Record(Path.GetFullPath(path));
    }

    private static void Record(string text)
    {
        try
        {
            File.WriteAllText(_status!, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The status only names the file after a crash: it never fails the command.
        }
    }

    private static int Supervise(WorkerPlan plan)
    {
        var (timeLimit, memoryLimit) = Limits(plan);
        string status = Path.Combine(Path.GetTempPath(), $"{StatusPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        var gate = new object();
        Process? worker = null;
        int pending = 0;

        PosixSignalRegistration PassOn(PosixSignal signal, int number) => PosixSignalRegistration.Create(signal, context =>
        {
            // This process stays until the worker has ended, and returns its exit code.
            context.Cancel = true;
            lock (gate)
            {
                if (worker is null) pending = number;
                // Not to a pid the system may have given to another process since the worker ended.
                else if (!worker.HasExited) Libc.Kill(worker.Id, number);
            }
        });
        using var sigint = PassOn(PosixSignal.SIGINT, Libc.SigInt);
        using var sigterm = PassOn(PosixSignal.SIGTERM, Libc.SigTerm);
        try
        {
            lock (gate)
            {
                worker = Process.Start(StartInfo(status))!;
                if (pending != 0) Libc.Kill(worker.Id, pending);
            }
            using (worker)
            {
                string? limit = Wait(worker, status, timeLimit, memoryLimit);
                worker.WaitForExit();
                int exit = worker.ExitCode;
                // Ended by itself between the last poll and the kill.
                if (limit is not null && exit != 128 + Libc.SigKill) limit = null;
                string? signal = limit is null ? CrashSignal(exit) : null;
                if (limit is null && signal is null) return exit;

                CleanUp(plan, worker.Id);
                string? recorded = ReadStatus(status);
                if (limit is null && recorded == NotReadingMark)
                {
                    // Not while reading the user's file: the teacher's or ASE's code, or the append, may be at fault.
                    WriteError($"the worker process died of {signal} after it had read {string.Join(", ", plan.Reads)} " +
                               "(in the teacher's or ASE's code, or while appending)");
                    return exit;
                }
                WriteError($"{Blamed(plan, recorded)}: invalid HDF5 file: {limit ?? $"libhdf5 crashed reading it ({signal})"}");
                return InvalidInput;
            }
        }
        finally
        {
            Delete(status);
            RemoveStaleStatusFiles();
        }
    }

    /// <summary>Removes the status files of supervisors that were killed (SIGKILL leaves them no chance): those whose pid is gone.</summary>
    private static void RemoveStaleStatusFiles()
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(Path.GetTempPath(), StatusPrefix + "*"))
            {
                string name = Path.GetFileName(file)[StatusPrefix.Length..];
                int dash = name.IndexOf('-');
                if (dash > 0 && int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && !Directory.Exists($"/proc/{pid}"))
                    Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run.
        }
    }

    /// <summary>The tool started again, as it was started: `dotnet mlff-data.dll ARGS` or the published executable.</summary>
    private static ProcessStartInfo StartInfo(string status)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The tool's executable is unknown: cannot start its worker process");
        // No redirection: the worker writes to this process's terminal or files directly.
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        // Under the dotnet host (the tests, scripts/mlff-data) the entry assembly comes first.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        foreach (var argument in Environment.GetCommandLineArgs().Skip(1)) start.ArgumentList.Add(argument);
        start.Environment[WorkerVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        start.Environment[StatusVariable] = status;
        return start;
    }

    /// <summary>Waits for the worker, killing it past a limit; returns which limit, or null when it ended by itself.</summary>
    private static string? Wait(Process worker, string status, TimeSpan? timeLimit, long? memoryLimit)
    {
        // The time the worker spent reading the user's HDF5: from its start, except while the status says it does not.
        var reading = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        while (!worker.WaitForExit(Poll))
        {
            var step = clock.Elapsed - last;
            last += step;
            // A gap far longer than a poll is this process stopped with its worker (Ctrl-Z, say): not reading time.
            if (step > MaxStep) step = MaxStep;
            string? limit = null;
            if (timeLimit is { } time)
            {
                if (ReadStatus(status) != NotReadingMark) reading += step;
                if (reading > time)
                    limit = $"reading it did not finish within {time.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} s ({TimeoutVariable} sets the limit)";
            }
            if (limit is null && memoryLimit is { } memory && ResidentBytes(worker.Id) > memory)
                limit = $"reading it used more than {memory >> 20} MiB of memory ({MemoryVariable} sets the limit)";
            if (limit is null) continue;
            try
            {
                worker.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or Win32Exception)
            {
                // Already gone.
            }
            return limit;
        }
        return null;
    }

    private static (TimeSpan? Time, long? Memory) Limits(WorkerPlan plan)
    {
        TimeSpan? time = null;
        long? memory = null;
        if (plan.BytesPerSecond is { } rate)
        {
            long bytes = plan.Reads.Sum(SizeOf);
            time = BaseTime + TimeSpan.FromSeconds(bytes / rate);
            memory = Math.Min(MemoryCap, PhysicalMemory() / 2);
        }
        if (Setting(TimeoutVariable, "seconds") is { } seconds) time = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
        if (Setting(MemoryVariable, "MiB") is { } mib) memory = mib > 0 ? (long)(mib * (1 << 20)) : null;
        return (time, memory);
    }

    private static double? Setting(string name, string unit)
    {
        string? text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0) return value;
        throw new ArgumentException($"{name}={text}: expected a number of {unit} (0 for no limit)");
    }

    private static long SizeOf(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }

    /// <summary>The memory the GC sees: the machine's, or a cgroup's limit.</summary>
    private static long PhysicalMemory()
    {
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return total > 0 ? total : MemoryCap * 2;
    }

    /// <summary>VmRSS of a process in bytes; 0 when it is gone.</summary>
    private static long ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(fields[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }

    // .NET reports a child killed by a signal as 128 + the signal, as a shell does.
    private static string? CrashSignal(int exit) => (exit - 128) switch
    {
        Libc.SigSegv => "SIGSEGV",
        Libc.SigAbrt => "SIGABRT",
        Libc.SigBus => "SIGBUS",
        Libc.SigFpe => "SIGFPE",
        Libc.SigIll => "SIGILL",
        _ => null,
    };

    private static string? ReadStatus(string status)
    {
        try
        {
            return File.ReadAllText(status);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The file the worker was opening last, as the plan names it; all of the plan's when it is unknown.</summary>
    private static string Blamed(WorkerPlan plan, string? recorded)
    {
        if (!string.IsNullOrEmpty(recorded) && recorded != NotReadingMark)
        {
            foreach (var read in plan.Reads)
                if (Path.GetFullPath(read) == recorded) return read;
        }
        return string.Join(", ", plan.Reads);
    }

    /// <summary>Removes what the dead worker left half-written; never the output itself or its journal.</summary>
    private static void CleanUp(WorkerPlan plan, int pid)
    {
        foreach (var path in plan.Scratch) Delete(path);
        if (plan.LockedOutput is not { } output || OutputLock.HolderOf(output) != pid) return;
        // The lock goes last: until then no other writer can take the output and start a partial file of its own.
        Delete(output + HDF5DatasetWriter.PartialSuffix);
        Delete(CheckpointJournal.TemporaryPathOf(output));
        OutputLock.RemoveIfHeldBy(output, pid);
    }

    private static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run, which replaces a stale partial file or takes over a stale lock.
        }
    }

    private static void WriteError(string message)
    {
        // A progress bar the worker was drawing on the terminal: clear its line first.
        if (!Console.IsErrorRedirected) Console.Error.Write("\r" + new string(' ', 100) + "\r");
        Console.Error.WriteLine($"error: {message}");
    }
}
