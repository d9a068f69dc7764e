using System.Text.RegularExpressions;
using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

public sealed partial class HDF5DatasetWriter
{
    // Our lock on Path, taken before anything is written (OutputLock); released after the rename of Complete, or with
    // the file on Abort and failure.
    private OutputLock? _outputLock;

    /// <summary>Creates the partial file with FORMAT.md's three groups; the datasets come at their first write.</summary>
    /// <exception cref="OutputLockedException">Another writer holds the output.</exception>
    private void CreateNew()
    {
        try
        {
            TakeOutputLock();
        }
        catch (OutputLockedException)
        {
            // The partial file, if any, is the holder's: make the constructor's cleanup, which deletes the partial file
            // of a writer that is not in place, leave it alone.
            _inPlace = true;
            throw;
        }
        // A partial file left by a killed writer is stale (the lock says nobody is writing it): this writer replaces it.
        if (File.Exists(_writePath)) File.Delete(_writePath);
        // Through the rollback driver from the start, with the journal idle: the first checkpoint, which puts the file
        // in place, begins it.
        using (var fileAccess = FileAccessList(_options.FileLocking))
        using (RollbackFileDriver.Bind(_writePath, _rollback))
            _file = Own(OpenHdf5(() => H5File.Create(_writePath, overwrite: true, fileAccess)));
        var structures = Own(_file.CreateGroup(FormatNames.Structures));
        var labels = Own(_file.CreateGroup(FormatNames.Labels));
        _metadata = Own(_file.CreateGroup(FormatNames.Metadata));
        Compression = _options.Compression;
        var filters = Compression.ToFilters();
        long chunk = _options.ChunkBytes;
        _numbers = Own(new DatasetColumn<long>(structures, FormatNames.AtomicNumbers, [], null, filters, chunk, _compressor));
        _numbersSplits = Own(new DatasetColumn<long>(structures, FormatNames.AtomicNumbersSplits, [], null, filters, chunk, _compressor));
        _positions = Own(new DatasetColumn<double>(structures, FormatNames.Positions, [3], FormatNames.UnitsLength, filters, chunk, _compressor));
        _cells = Own(new DatasetColumn<double>(structures, FormatNames.Cells, [3, 3], FormatNames.UnitsLength, filters, chunk, _compressor));
        _pbc = Own(new DatasetColumn<bool>(structures, FormatNames.Pbc, [3], null, filters, chunk, _compressor));
        _energy = Own(new DatasetColumn<double>(labels, FormatNames.Energy, [], FormatNames.UnitsEnergy, filters, chunk, _compressor));
        _forces = Own(new DatasetColumn<float>(labels, FormatNames.Forces, [3], FormatNames.UnitsForce, filters, chunk, _compressor));
        _forcesSplits = Own(new DatasetColumn<long>(labels, FormatNames.ForcesSplits, [], null, filters, chunk, _compressor));
        _stress = Own(new DatasetColumn<double>(labels, FormatNames.Stress, [6], FormatNames.UnitsStress, filters, chunk, _compressor));
        _stressMask = Own(new DatasetColumn<bool>(labels, FormatNames.StressMask, [], null, filters, chunk, _compressor));
        _indices = Own(new DatasetColumn<long>(labels, FormatNames.StructureIndices, [], null, filters, chunk, _compressor));
        _numbersSplits.Add(0L);
        _forcesSplits.Add(0L);
    }

    /// <summary>
    /// Opens an existing file for append, after refusing features that read outside it (as every reader does, see
    /// <see cref="DatasetLayout.RejectUnsafeFeatures"/>) and checking its whole layout; returns what it holds.
    /// </summary>
    /// <exception cref="OutputLockedException">Another writer holds the output.</exception>
    private (long Structures, long Atoms, string Created, DatasetStatistics Stats) OpenExisting()
    {
        // The caller took the output lock already: the recovery before this must not touch a file a writer is using.
        // Every byte of the file as it is now is saved before libhdf5 overwrites it, from its open on (which rewrites
        // the superblock): a failure anywhere after gives this file back exactly.
        _rollback.Begin(Path);
        using (var fileAccess = FileAccessList(_options.FileLocking))
        using (RollbackFileDriver.Bind(_writePath, _rollback))
            _file = Own(OpenHdf5(() => H5File.Open(_writePath, readOnly: false, fileAccess)));
        DatasetLayout.RejectUnsafeFeatures(_file, Path);
        var layout = DatasetLayout.Open(_file, Path);
        // From here the writer owns every group and dataset the layout opened.
        layout.Release();
        Own(layout.Structures);
        Own(layout.Labels);
        _metadata = Own(layout.Metadata);
        long chunk = _options.ChunkBytes;
        _numbers = Own(new DatasetColumn<long>(layout.Structures, layout.AtomicNumbers, chunk, _compressor));
        _numbersSplits = Own(new DatasetColumn<long>(layout.Structures, layout.AtomicNumbersSplits, chunk, _compressor));
        _positions = Own(new DatasetColumn<double>(layout.Structures, layout.Positions, chunk, _compressor));
        _cells = Own(new DatasetColumn<double>(layout.Structures, layout.Cells, chunk, _compressor));
        _pbc = Own(new DatasetColumn<bool>(layout.Structures, layout.Pbc, chunk, _compressor));
        _energy = Own(new DatasetColumn<double>(layout.Labels, layout.Energy, chunk, _compressor));
        _forces = Own(new DatasetColumn<float>(layout.Labels, layout.Forces, chunk, _compressor));
        _forcesSplits = Own(new DatasetColumn<long>(layout.Labels, layout.ForcesSplits, chunk, _compressor));
        _stress = Own(new DatasetColumn<double>(layout.Labels, layout.Stress, chunk, _compressor));
        _stressMask = Own(new DatasetColumn<bool>(layout.Labels, layout.StressMask, chunk, _compressor));
        _indices = Own(new DatasetColumn<long>(layout.Labels, layout.StructureIndices, chunk, _compressor));
        OpenExistingExtras(layout);

        // New rows go through each dataset's own filters; say so when the caller asked for something else.
        var existing = layout.Positions.Filters;
        Compression = existing.DeflateLevel > 0 ? Compression.Gzip(existing.DeflateLevel, existing.Shuffle)
            : existing.Lzf ? Compression.Lzf : Compression.None;
        if (Compression != _options.Compression)
            _options.Warning($"{Path} uses {Compression} compression; appending with it instead of {_options.Compression}");

        var attributes = _metadata.Attributes;
        string created = attributes.Contains(FormatNames.Created) && attributes.Get(FormatNames.Created) is string c ? c : Now();
        var stats = DatasetStatistics.ReadFrom(attributes, layout.Energy, layout.Forces, layout.AtomicNumbers);
        return (layout.NumStructures, layout.NumAtoms, created, stats);
    }

    /// <summary>
    /// Takes our lock on <see cref="Path"/> and makes it the first thing this writer owns, so that it is released last,
    /// after the file is closed, when the writer is aborted or fails.
    /// </summary>
    private void TakeOutputLock()
    {
        _outputLock = OutputLock.Acquire(Path);
        Own(new OutputLockRelease(this));
    }

    /// <summary>Releases our lock on the output, once; called after Complete has renamed the file into place, and on
    /// Abort or failure. May run on a thread-pool thread (see <see cref="OutputLockRelease"/>).</summary>
    private void ReleaseOutputLock() => Interlocked.Exchange(ref _outputLock, null)?.Dispose();

    /// <summary>
    /// Owned by the writer so that Abort, a failure and Dispose release the lock with the file (it is the first thing
    /// owned, so it goes after the file is closed). Complete releases the file before its fsync and rename, and the
    /// lock must outlive those, or a second writer could start and delete the partial file being renamed: while the
    /// writer is still open this leaves the lock to Complete, which releases it once the file is in place. Should
    /// Complete fail after that point, its failure path finds nothing left to release, so a watcher releases the lock
    /// as soon as the writer is no longer open (completed or faulted).
    /// </summary>
    private sealed class OutputLockRelease(HDF5DatasetWriter writer) : IDisposable
    {
        public void Dispose()
        {
            if (writer._state != WriterState.Open)
            {
                writer.ReleaseOutputLock();
                return;
            }
            _ = Task.Run(async () =>
            {
                while (writer._state == WriterState.Open && writer._outputLock is not null)
                    await Task.Delay(20).ConfigureAwait(false);
                writer.ReleaseOutputLock();
            });
        }
    }

    /// <summary>
    /// A new file access list for a file written in place (or about to be): libhdf5's lock as
    /// <see cref="WriteOptions.FileLocking"/> says (null: the environment decides), and the rollback driver.
    /// </summary>
    private static H5PropertyListHandle FileAccessList(FileLockingMode? locking)
    {
        var (use, ignoreWhenDisabled) = locking switch
        {
            null => ((bool?)null, false),
            FileLockingMode.On => (true, false),
            FileLockingMode.Off => (false, false),
            _ => (true, true),
        };
        return H5File.FileAccess(use, ignoreWhenDisabled, rollback: true);
    }

    /// <summary>Opens or creates the file, turning libhdf5's flock failures into messages that say what to do.</summary>
    private H5File OpenHdf5(Func<H5File> open)
    {
        try
        {
            return open();
        }
        catch (H5Exception e) when (TranslateLockFailure(Path, e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// The exception to throw for a libhdf5 flock failure on <paramref name="path"/>: errno 11 (EAGAIN) is another
    /// process holding the file (<see cref="OutputLockedException"/>); 37, 38 and 524 (ENOLCK, ENOSYS, ENOTSUPP) are a
    /// file system that cannot lock (NFS without lockd, Lustre without flock, Cray DVS), which best-effort locking
    /// gets past. Null for any other failure.
    /// </summary>
    internal static Exception? TranslateLockFailure(string path, H5Exception e) => LockErrno(e) switch
    {
        Eagain => new OutputLockedException(path, null, null, null, null,
            $"{path}: another process has this file open (libhdf5's file lock, errno 11; a reader such as h5py " +
            "holds it too): wait for it to finish", e),
        (Enolck or Enosys or Enotsupp) and var errno => new IOException(
            $"{path}: this file system cannot lock files (errno {errno}, {ErrnoName(errno)}): use --file-locking best-effort " +
            $"or set HDF5_USE_FILE_LOCKING=BEST_EFFORT (our own {OutputLock.Suffix} file beside the output still keeps a second writer out)", e),
        _ => null,
    };

    private const int Eagain = 11, Enolck = 37, Enosys = 38, Enotsupp = 524;

    // libhdf5 1.10.8 words it "unable to lock file, errno = 11, error message = '...'" (or "file locking disabled on
    // this file system ..., errno = 38, ...") somewhere on its error stack; H5Exception keeps the root cause's words.
    private static int? LockErrno(H5Exception e)
    {
        if (!e.Message.Contains("lock", StringComparison.OrdinalIgnoreCase)) return null;
        var match = Regex.Match(e.Message, @"errno = (\d+)");
        return match.Success && int.TryParse(match.Groups[1].Value, out int errno) ? errno : null;
    }

    private static string ErrnoName(int errno) => errno switch
    {
        Enolck => "ENOLCK: no locks available, e.g. NFS without lockd",
        Enosys => "ENOSYS: flock not enabled, e.g. Lustre without the flock mount option",
        _ => "ENOTSUPP: flock not supported, e.g. Cray DVS",
    };
}
