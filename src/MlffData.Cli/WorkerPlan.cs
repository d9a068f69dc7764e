namespace MlffData.Cli;

/// <summary>
/// What a command run in a worker process (<see cref="WorkerProcess"/>) reads and writes: the HDF5 files a crash is
/// blamed on, how long and how large the default limits are, and what is cleaned up after the worker died.
/// </summary>
/// <param name="Reads">The user-supplied HDF5 files the command opens, as the command names them in its messages.</param>
internal sealed record WorkerPlan(IReadOnlyList<string> Reads)
{
    /// <summary>
    /// Input bytes per second the default time limit allows on top of a minute, for commands whose run time follows the
    /// size of their HDF5 input; null for those whose run time and memory are set by something else (convert's input,
    /// label's teacher): they get no default time or memory limit, only the environment's.
    /// </summary>
    public double? BytesPerSecond { get; init; }

    /// <summary>
    /// An output written under its lock file (merge, an append, repair): after the worker died, its OUT.partial,
    /// OUT.journal.tmp and OUT.lock are removed when the lock is the worker's. OUT and OUT.journal stay, so an
    /// interrupted append can be repaired.
    /// </summary>
    public string? LockedOutput { get; init; }

    /// <summary>Files or directories only the worker writes (export's OUT.partial): removed after it died.</summary>
    public IReadOnlyList<string> Scratch { get; init; } = [];

    /// <summary>Bytes per second for a command that only reads: 5 MiB/s, some 40 times slower than verify and info measured.</summary>
    internal const double ReadingRate = 5 << 20;

    /// <summary>Bytes per second for a command that also writes (merge, export): 1 MiB/s, some 13 times slower than a merge into gzip-9 measured.</summary>
    internal const double WritingRate = 1 << 20;

    /// <summary>Bytes per second for validate, which writes its reference seven times and compares each: 100 KiB/s, some
    /// 15 times slower than measured.</summary>
    internal const double RewritingRate = 100 << 10;
}
