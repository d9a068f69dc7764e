namespace MlffData.Format;

/// <summary>
/// An output is being written by another writer (our lock file beside it, or libhdf5's flock on it); the one-line
/// message names the output, the holder when known, and how to proceed. An <see cref="IOException"/>, so callers that
/// report I/O failures by message need nothing new.
/// </summary>
public sealed class OutputLockedException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="output">The output file.</param>
    /// <param name="lockPath">Our lock file, or null when the lock that refused is libhdf5's flock.</param>
    /// <param name="holderPid">The holder's process id, when known.</param>
    /// <param name="holderHost">The holder's host name, when known.</param>
    /// <param name="holderStarted">When the holder took the lock, when known.</param>
    /// <param name="message">The one-line message.</param>
    /// <param name="inner">The libhdf5 failure, for a refused flock.</param>
    public OutputLockedException(string output, string? lockPath, int? holderPid, string? holderHost, DateTimeOffset? holderStarted,
        string message, Exception? inner = null)
        : base(message, inner)
    {
        Output = output;
        LockPath = lockPath;
        HolderPid = holderPid;
        HolderHost = holderHost;
        HolderStarted = holderStarted;
    }

    /// <summary>The output file.</summary>
    public string Output { get; }

    /// <summary>Our lock file, or null when libhdf5's flock refused.</summary>
    public string? LockPath { get; }

    /// <summary>The holder's process id, when known.</summary>
    public int? HolderPid { get; }

    /// <summary>The holder's host name, when known.</summary>
    public string? HolderHost { get; }

    /// <summary>When the holder took the lock (UTC), when known.</summary>
    public DateTimeOffset? HolderStarted { get; }
}
