using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>An HDF5 file, which is also its root group.</summary>
public sealed class H5File : H5Group
{
    private H5File(H5FileHandle handle, string fileName) : base(handle, "/") => FileName = fileName;

    /// <summary>The file's path as it was opened.</summary>
    public string FileName { get; }

    /// <summary>Whether the file was opened read-only.</summary>
    public bool ReadOnly { get; private init; }

    /// <summary>
    /// Called with the path just before libhdf5 opens an existing file (never for a file being created). The CLI's
    /// worker process records it: libhdf5 1.10.8 crashes on some damaged files (RELIABILITY.md 3.5), and a crash
    /// leaves nothing else to say which of several inputs it was reading. Null by default.
    /// </summary>
    public static Action<string>? Opening { get; set; }

    /// <summary>Creates a file, replacing an existing one when <paramref name="overwrite"/> is true.</summary>
    /// <exception cref="H5Exception">The file cannot be created (or exists and overwrite is false).</exception>
    public static H5File Create(string fileName, bool overwrite = true) => Create(fileName, overwrite, H5PropertyListHandle.Default);

    /// <summary>Creates a file with a file access property list (e.g. one from <see cref="FileAccess"/>).</summary>
    /// <exception cref="H5Exception">The file cannot be created (or exists and overwrite is false).</exception>
    internal static H5File Create(string fileName, bool overwrite, H5PropertyListHandle fileAccess)
    {
        H5Runtime.EnsureReady();
        var handle = H5Error.Check(H5F.Create(fileName, overwrite ? H5F.AccTrunc : H5F.AccExcl, H5PropertyListHandle.Default, fileAccess), "H5Fcreate", fileName);
        return new H5File(handle, fileName);
    }

    /// <summary>Opens an existing file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="H5Exception">The file is not HDF5, is damaged, or is locked by a writer.</exception>
    public static H5File Open(string fileName, bool readOnly = true) => Open(fileName, readOnly, H5PropertyListHandle.Default);

    /// <summary>Opens an existing file with a file access property list (e.g. one from <see cref="FileAccess"/>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="H5Exception">The file is not HDF5, is damaged, or is locked by a writer.</exception>
    internal static H5File Open(string fileName, bool readOnly, H5PropertyListHandle fileAccess)
    {
        H5Runtime.EnsureReady();
        // libhdf5 reports a missing file as a generic open failure; say what it really is.
        if (!File.Exists(fileName)) throw new FileNotFoundException($"No such file: {fileName}", fileName);
        Opening?.Invoke(fileName);
        var handle = H5Error.Check(H5F.Open(fileName, readOnly ? H5F.AccRdonly : H5F.AccRdwr, fileAccess), "H5Fopen", fileName);
        return new H5File(handle, fileName) { ReadOnly = readOnly };
    }

    /// <summary>
    /// A file access property list with libhdf5's flock set (H5Pset_file_locking, h5py's <c>locking=</c>): use it or
    /// not, and whether a file system without flock is accepted silently; null leaves it to libhdf5 (and
    /// HDF5_USE_FILE_LOCKING, which wins when set anyway). With <paramref name="rollback"/> the file is written through
    /// <see cref="RollbackFileDriver"/>, whose overwrites a bound <see cref="RollbackJournal"/> can undo.
    /// </summary>
    internal static H5PropertyListHandle FileAccess(bool? useFileLocking, bool ignoreWhenDisabled, bool rollback = false)
    {
        H5Runtime.EnsureReady();
        var fapl = H5Error.Check(H5P.Create(Hdf5Library.ClassFileAccess), "H5Pcreate");
        try
        {
            if (useFileLocking is { } use)
                H5Error.Check(H5P.SetFileLocking(fapl, use, ignoreWhenDisabled), "H5Pset_file_locking");
            if (rollback) RollbackFileDriver.Use(fapl);
            return fapl;
        }
        catch
        {
            fapl.Dispose();
            throw;
        }
    }

    /// <summary>Writes the library's cached metadata and raw data to the file (H5Fflush; not an fsync).</summary>
    public void Flush() => H5Error.Check(H5F.Flush(Handle, H5F.ScopeLocal), "H5Fflush", FileName);

    /// <summary>
    /// Flushes (H5Fflush) and then fsyncs the file through libhdf5's own descriptor, so that what was written survives
    /// power loss too: libhdf5 never calls fsync (RELIABILITY.md 1.3), and opening the file again from .NET would meet
    /// the lock libhdf5 holds on it.
    /// </summary>
    /// <exception cref="H5Exception">The flush failed.</exception>
    /// <exception cref="IOException">The fsync failed.</exception>
    public void FlushToDisk()
    {
        Flush();
        Posix.FsyncDescriptor(Descriptor(), FileName);
    }

    /// <summary>
    /// Starts writing what the file has written so far to disk, without waiting (see <see cref="Posix.StartWriteback"/>),
    /// so that a later <see cref="FlushToDisk"/> has little left to wait for. Data only; makes nothing durable.
    /// </summary>
    public void StartWriteback() => Posix.StartWriteback(Descriptor());

    /// <summary>The descriptor libhdf5 writes the file through (opening the file again would meet its lock).</summary>
    private unsafe int Descriptor()
    {
        void* handle = null;
        H5Error.Check(H5F.GetVfdHandle(Handle, H5PropertyListHandle.Default, &handle), "H5Fget_vfd_handle", FileName);
        // The default (sec2) driver hands out a pointer to its int descriptor.
        return *(int*)handle;
    }

    /// <summary>
    /// Sets the file's end of allocation to the larger of it and the file's size, plus increment bytes (h5clear
    /// --increment): after a crash, blocks the file's own metadata points at may lie past the end of allocation its
    /// superblock recorded, and libhdf5 refuses to touch them ("addr overflow") until it is moved.
    /// </summary>
    public void IncrementFileSize(ulong increment) => H5Error.Check(H5F.IncrementFileSize(Handle, increment), "H5Fincrement_filesize", FileName);

    /// <summary>Size of the file in bytes as the library sees it.</summary>
    public long Size
    {
        get
        {
            H5Error.Check(H5F.GetFileSize((H5FileHandle)Handle, out ulong size), "H5Fget_filesize", FileName);
            return (long)size;
        }
    }

    /// <summary>Ids of any kind still open in any file: zero once every object has been disposed.</summary>
    public static long OpenObjectCount()
    {
        H5Runtime.EnsureReady();
        return (long)H5F.GetObjCount(H5F.ObjAll, H5F.ObjAll);
    }
}
