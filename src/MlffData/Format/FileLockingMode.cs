namespace MlffData.Format;

/// <summary>
/// How libhdf5's own lock (an flock on the open file) is used for an output, as HDF5_USE_FILE_LOCKING spells it. Our
/// own <see cref="OutputLock"/> beside the output is taken in every mode: it is what keeps a second writer out where
/// flock is off or unavailable.
/// </summary>
public enum FileLockingMode
{
    /// <summary>Take the flock and fail when the file system cannot lock (HDF5_USE_FILE_LOCKING=TRUE, libhdf5's default).</summary>
    On,

    /// <summary>Do not take the flock (HDF5_USE_FILE_LOCKING=FALSE).</summary>
    Off,

    /// <summary>Take the flock where the file system supports it, go on without it where not (HDF5_USE_FILE_LOCKING=BEST_EFFORT).</summary>
    BestEffort,
}
