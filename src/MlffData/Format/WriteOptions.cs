namespace MlffData.Format;

/// <summary>Options of <see cref="HDF5DatasetWriter"/>; every default is the one written here.</summary>
public sealed record WriteOptions
{
    /// <summary>Compression of new datasets; default gzip level 4 with shuffle. Append keeps the file's own.</summary>
    public Compression Compression { get; init; } = Compression.Gzip(4);

    /// <summary>Check values (NaN/Inf, atomic numbers, cells) and warn on close atoms and large forces; default on.
    /// Shapes are always checked, since a wrong shape would corrupt the layout.</summary>
    public bool Validate { get; init; } = true;

    /// <summary>Target bytes per chunk, and per write buffer of each dataset; default 1 MiB.</summary>
    public long ChunkBytes { get; init; } = 1 << 20;

    /// <summary>Where warnings go (close atoms, large forces, Complete twice, compression kept on append);
    /// default: standard error, prefixed "warning: ".</summary>
    public Action<string> Warning { get; init; } = message => Console.Error.WriteLine($"warning: {message}");

    /// <summary>Distance in Å below which two atoms draw a warning; default 0.5.</summary>
    public double MinDistanceWarning { get; init; } = 0.5;

    /// <summary>Force magnitude in eV/Å above which an atom draws a warning; default 50.</summary>
    public double MaxForceWarning { get; init; } = 50.0;

    /// <summary>
    /// libhdf5's flock on the output file: null (default) follows HDF5_USE_FILE_LOCKING, and libhdf5 takes the lock
    /// when that is unset. When both are given, libhdf5 lets the environment variable win. Our own lock file beside the
    /// output (<see cref="OutputLock"/>) is taken whatever this says, so <see cref="FileLockingMode.Off"/> never lets a
    /// second writer of this library in.
    /// </summary>
    public FileLockingMode? FileLocking { get; init; }

    /// <summary>Parses the CLI's spelling of <see cref="FileLocking"/>: on, off or best-effort; null stays null.</summary>
    /// <exception cref="ArgumentException">Any other text.</exception>
    public static FileLockingMode? ParseFileLocking(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "on" or "true" => FileLockingMode.On,
        "off" or "false" => FileLockingMode.Off,
        "best-effort" or "best_effort" => FileLockingMode.BestEffort,
        _ => throw new ArgumentException($"--file-locking must be on, off or best-effort, not '{text}'", nameof(text)),
    };

    /// <summary>The defaults.</summary>
    public static WriteOptions Default { get; } = new();
}
