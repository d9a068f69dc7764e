namespace MlffData.Format;

/// <summary>Options of <see cref="DatasetMerger.Merge"/>; every default is the one written here.</summary>
public sealed record MergeOptions
{
    /// <summary>
    /// Offset each input's structure_indices so that no two inputs share one; default false (indices are copied as
    /// they are, which is right for the shards of one label run: their indices are input positions, disjoint).
    /// Input k's indices are shifted by the sum, over the inputs before it, of (its largest index + 1), an empty input
    /// adding nothing: for inputs whose indices are 0 .. S-1 this is the number of structures before input k, and
    /// for inputs with gaps (failed or sharded structures) the shifted ranges still cannot meet. Indices are assumed
    /// non-negative, as every writer of this format makes them.
    /// </summary>
    public bool Reindex { get; init; }

    /// <summary>Compression of the output; null (default) for the first input's (its kind and level).</summary>
    public Compression? Compression { get; init; }

    /// <summary>The caller's metadata, written over the combined metadata of the inputs (e.g. -m keys).</summary>
    public IReadOnlyDictionary<string, object?> Metadata { get; init; } = new Dictionary<string, object?>();

    /// <summary>Structures read and written per block; default <see cref="HDF5DatasetReader.DefaultBlockStructures"/>.</summary>
    public int BlockStructures { get; init; } = HDF5DatasetReader.DefaultBlockStructures;

    /// <summary>Atoms per block, which bounds memory whatever the structure sizes; default <see cref="HDF5DatasetReader.DefaultBlockAtoms"/>.</summary>
    public long BlockAtoms { get; init; } = HDF5DatasetReader.DefaultBlockAtoms;

    /// <summary>Where warnings go (indices repeated across inputs, extras that cannot be copied); default: standard
    /// error, prefixed "warning: ".</summary>
    public Action<string> Warning { get; init; } = message => Console.Error.WriteLine($"warning: {message}");

    /// <summary>libhdf5's flock on the output, as <see cref="WriteOptions.FileLocking"/>; null (default) follows
    /// HDF5_USE_FILE_LOCKING. Our own lock file beside the output is taken in every mode.</summary>
    public FileLockingMode? FileLocking { get; init; }

    /// <summary>Stops the merge after the block in hand (<see cref="OperationCanceledException"/>): the partial output
    /// is deleted and a file that was at the output stays.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The defaults.</summary>
    public static MergeOptions Default { get; } = new();
}
