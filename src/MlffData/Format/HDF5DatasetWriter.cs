using System.Globalization;
using System.Reflection;
using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// Writes labelled structures into an HDF5 file in FORMAT.md's layout, the seed's HDF5DatasetWriter in C#:
/// structure by structure (<see cref="AddStructure(Structure, double, ReadOnlySpan{double}, ReadOnlySpan{double}, long?, StructureExtras?)"/>)
/// or in batches (<see cref="AddBatch"/>), finished by <see cref="Complete"/> (the seed's finalize). Extras of a
/// structure (<see cref="StructureExtras"/>) go to FORMAT.md's optional /info and /arrays groups.
/// </summary>
/// <remarks>
/// <para>Overwrite mode writes <c>PATH.partial</c> and renames it over PATH only when Complete() succeeds, after an
/// fsync of the file and its directory: a failure or a crash never leaves a half-written file at PATH and never
/// destroys the file that was there. Append mode continues an existing file in place (or creates it like overwrite).</para>
/// <para>Dispose completes a writer nobody completed, as the seed's context manager did; call <see cref="Abort"/> to
/// discard instead. When a write fails inside the writer (an HDF5 or I/O error) the writer is faulted: its output is
/// discarded at once (the partial file deleted, or an append rolled back to the rows the file had) and Dispose does
/// not complete it. A <see cref="ValidationException"/> leaves the writer usable with nothing of that call added.</para>
/// <para>Not thread-safe: one thread writes. With gzip, whole chunks of the numeric datasets are shuffled and deflated
/// on worker threads while that thread goes on; it alone stores them (libhdf5 is not thread-safe), in order.</para>
/// </remarks>
public sealed partial class HDF5DatasetWriter : IDisposable
{
    /// <summary>Suffix of the file written before the rename.</summary>
    public const string PartialSuffix = ".partial";

    private readonly WriteOptions _options;
    // Both change at the first checkpoint of a new file, when the partial file is renamed to the target.
    private bool _inPlace;
    private string _writePath;
    private readonly DatasetStatistics _existingStats;
    private readonly DatasetStatistics _stats = new();
    private readonly string _created;
    private readonly List<IDisposable> _owned = [];
    // Saves what libhdf5 overwrites of a file in place (an append, a label run after its first checkpoint), so that a
    // failure or a kill gives back the last checkpoint byte for byte (RollbackJournal, RollbackFileDriver).
    private readonly RollbackJournal _rollback = new();
    // Deflated chunks of the numeric columns are compressed on worker threads and stored by this one.
    private readonly ChunkCompressor _compressor = new();
    // The close-atom search runs on worker threads too; its warnings come back in order.
    private readonly DeferredWarnings _warnings;
    // Atoms after which the kernel is next asked to start writing the file out (see WritebackAtoms).
    private long _nextWriteback;
    private readonly long _initialStructures;
    private readonly long _initialAtoms;
    private H5File? _file;
    private H5Group _metadata = null!;
    private DatasetColumn<long> _numbers = null!, _numbersSplits = null!, _forcesSplits = null!, _indices = null!;
    private DatasetColumn<double> _positions = null!, _cells = null!, _energy = null!, _stress = null!;
    private DatasetColumn<bool> _pbc = null!, _stressMask = null!;
    private DatasetColumn<float> _forces = null!;
    private WriterState _state = WriterState.Open;
    private long _structures;
    private long _atoms;
    private long _added;

    private enum WriterState { Open, Completed, Faulted, Aborted }

    /// <summary>Opens a writer.</summary>
    /// <param name="path">The output file.</param>
    /// <param name="mode">Overwrite (default) or append.</param>
    /// <param name="options">Compression, validation, chunking and warnings; null for the defaults.</param>
    /// <exception cref="DatasetFormatException">Append mode and the existing file does not follow FORMAT.md (it is left untouched).</exception>
    /// <exception cref="H5Exception">The file cannot be created or opened.</exception>
    public HDF5DatasetWriter(string path, WriteMode mode = WriteMode.Overwrite, WriteOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _options = options ?? WriteOptions.Default;
        _warnings = new DeferredWarnings(_options);
        if (_options.ChunkBytes < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.ChunkBytes, "ChunkBytes must be positive");
        Path = System.IO.Path.GetFullPath(path);
        Mode = mode;
        _inPlace = mode == WriteMode.Append && File.Exists(Path);
        _writePath = _inPlace ? Path : Path + PartialSuffix;
        _existingStats = new DatasetStatistics();
        try
        {
            if (_inPlace)
            {
                TakeOutputLock();
                // A journal, or rows past num_structures, mean a writer was killed on this file: back to its last
                // checkpoint first, so the rows added now follow committed ones.
                if (NeedsRecovery(Path))
                {
                    var (kept, _, dropped) = RecoverToCheckpoint(Path);
                    _options.Warning($"{Path} was left by a writer that did not finish; cut back to its last checkpoint " +
                                     $"({kept:N0} structures kept, {dropped:N0} dropped) before appending");
                }
                (_initialStructures, _initialAtoms, _created, _existingStats) = OpenExisting();
                // From the first row added, the file differs from what it was: the journal says what is committed.
                CheckpointJournal.Write(Path, new CheckpointJournal.Entry(_initialStructures, _initialAtoms), [.. Columns().SelectMany(c => c.Tails())]);
            }
            else
            {
                CreateNew();
                _created = Now();
            }
        }
        catch
        {
            _state = WriterState.Faulted;
            if (_inPlace) Rollback();
            else Release(deletePartial: true);
            throw;
        }
        _structures = _initialStructures;
        _atoms = _initialAtoms;
        _nextWriteback = _atoms + WritebackAtoms;
    }

    /// <summary>The output file (absolute).</summary>
    public string Path { get; }

    /// <summary>The mode the writer was opened in.</summary>
    public WriteMode Mode { get; }

    /// <summary>The compression the datasets use: the requested one for a new file, the file's own on append.</summary>
    public Compression Compression { get; private set; } = Compression.None;

    /// <summary>Structures in the output, including those already in an appended file.</summary>
    public long Count => _structures;

    /// <summary>Atoms in the output, including those already in an appended file.</summary>
    public long NumAtoms => _atoms;

    /// <summary>The pipeline compressing this writer's chunks on worker threads (tests reach its hooks here).</summary>
    internal ChunkCompressor Compressor => _compressor;

    /// <summary>Whether Complete() has succeeded.</summary>
    public bool IsCompleted => _state == WriterState.Completed;

    /// <summary>Adds one structure with its labels.</summary>
    /// <param name="structure">The atoms.</param>
    /// <param name="energy">Energy, eV.</param>
    /// <param name="forces">Forces, eV/Å, row-major n x 3 (stored as float32).</param>
    /// <param name="stress">Stress, eV/Å³: Voigt xx yy zz yz xz xy, or 9 numbers of the 3 x 3 tensor; empty when absent.</param>
    /// <param name="sourceIndex">Index in the caller's source; default the running count across appends.</param>
    /// <param name="extras">Values for /info (one row each) and /arrays (one row per atom); null or empty for none.
    /// A name the file has that a structure lacks gets the missing value (NaN, 0, false, "") and a false in NAME_mask.</param>
    /// <exception cref="ValidationException">A shape or value is invalid, or an extra has a bad name, the wrong number
    /// of rows, or another kind or row shape than the same name had before; nothing was added.</exception>
    /// <exception cref="InvalidOperationException">The writer was completed, aborted, or failed earlier.</exception>
    public void AddStructure(Structure structure, double energy, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress = default, long? sourceIndex = null, StructureExtras? extras = null)
    {
        EnsureOpen();
        Check(_added, structure, energy, forces, stress, extras, null);
        Guarded(structure, energy, forces, stress, sourceIndex, extras);
    }

    /// <summary>Adds one structure with forces as an n x 3 array.</summary>
    /// <inheritdoc cref="AddStructure(Structure, double, ReadOnlySpan{double}, ReadOnlySpan{double}, long?, StructureExtras?)"/>
    public void AddStructure(Structure structure, double energy, double[,] forces, double[]? stress = null, long? sourceIndex = null, StructureExtras? extras = null)
    {
        ArgumentNullException.ThrowIfNull(forces);
        if (forces.GetLength(1) != 3)
            throw new ValidationException(_added, "forces", $"Forces shape ({forces.GetLength(0)}, {forces.GetLength(1)}) doesn't match atoms ({structure.NumAtoms}, 3)");
        AddStructure(structure, energy, Structure.Flatten(forces), stress, sourceIndex, extras);
    }

    /// <summary>Adds one labelled structure.</summary>
    /// <inheritdoc cref="AddStructure(Structure, double, ReadOnlySpan{double}, ReadOnlySpan{double}, long?, StructureExtras?)"/>
    public void AddStructure(LabelledStructure item)
    {
        ArgumentNullException.ThrowIfNull(item);
        AddStructure(item.Structure, item.Labels.Energy, item.Labels.Forces, item.Labels.Stress, item.SourceIndex, item.Extras);
    }

    /// <summary>
    /// Adds many structures at once. Every structure is checked before any is added, so a
    /// <see cref="ValidationException"/> (naming the first bad structure) leaves the writer as it was.
    /// </summary>
    /// <param name="batch">The structures.</param>
    /// <param name="progress">Called with (done, total) about a hundred times over the batch and at its end.</param>
    public void AddBatch(IReadOnlyList<LabelledStructure> batch, Action<long, long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        EnsureOpen();
        // Names the batch brings that the writer has not seen: their first kind and shape bind the later items.
        BatchExtras? introduced = null;
        for (int i = 0; i < batch.Count; i++)
        {
            var item = batch[i] ?? throw new ArgumentNullException(nameof(batch), $"batch[{i}] is null");
            if (item.Extras is { IsEmpty: false }) introduced ??= new BatchExtras();
            Check(_added + i, item.Structure, item.Labels.Energy, item.Labels.Forces, item.Labels.Stress, item.Extras, introduced);
        }
        long step = Math.Max(1, batch.Count / 100);
        for (int i = 0; i < batch.Count; i++)
        {
            var item = batch[i];
            Guarded(item.Structure, item.Labels.Energy, item.Labels.Forces, item.Labels.Stress, item.SourceIndex, item.Extras);
            if (progress is not null && ((i + 1) % step == 0 || i + 1 == batch.Count)) progress(i + 1, batch.Count);
        }
    }

    /// <summary>
    /// Finishes the file: writes buffered rows and the metadata, flushes, fsyncs, and (overwrite mode) renames the
    /// partial file over the target. A second call logs a warning and does nothing.
    /// </summary>
    /// <param name="extraMetadata">Caller's metadata (e.g. teacher_model); nested values are stored as JSON.</param>
    /// <exception cref="ArgumentException">A key is one the writer owns (num_structures, created, ...).</exception>
    /// <exception cref="InvalidOperationException">The writer was aborted or failed earlier.</exception>
    public void Complete(IReadOnlyDictionary<string, object?>? extraMetadata = null)
    {
        switch (_state)
        {
            case WriterState.Completed:
                _options.Warning("Complete() has already been called; ignoring this call");
                return;
            case WriterState.Faulted:
                throw new InvalidOperationException("The writer failed earlier and its output was discarded; there is nothing to complete");
            case WriterState.Aborted:
                throw new InvalidOperationException("The writer was aborted; there is nothing to complete");
        }
        foreach (var key in extraMetadata?.Keys ?? [])
            if (FormatNames.ReservedMetadata.Contains(key))
                throw new ArgumentException($"Metadata key '{key}' is written by the writer itself", nameof(extraMetadata));
        try
        {
            CatchUpExtras();
            foreach (var column in Columns()) column.Flush();
            _compressor.Drain();
            _warnings.Drain();
            WriteMetadata(extraMetadata);
            _file!.Flush();
            Release(deletePartial: false);
            // After the close, so that whatever the close wrote is on disk too.
            using (var stream = new FileStream(_writePath, FileMode.Open, FileAccess.ReadWrite))
                stream.Flush(flushToDisk: true);
            if (!_inPlace)
            {
                // Journals left beside the old file by its killed writer must not outlive it and describe this one.
                CheckpointJournal.Delete(Path);
                RollbackJournal.Discard(Path);
                File.Move(_writePath, Path, overwrite: true);
            }
            Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
            // Complete and durable: num_structures is the count now. (Killed just before this, the journals give back
            // the last checkpoint: nothing committed is lost.)
            _rollback.Delete();
            CheckpointJournal.Delete(Path);
            _state = WriterState.Completed;
            ReleaseOutputLock();
        }
        catch
        {
            Fault();
            throw;
        }
    }

    /// <summary>
    /// Discards what this writer added: a new file is deleted (the old file at the path stays as it was), an
    /// appended file is cut back to the structures it had. Does nothing once completed.
    /// </summary>
    public void Abort()
    {
        if (_state != WriterState.Open) return;
        _state = WriterState.Aborted;
        Rollback();
    }

    /// <summary>Completes the writer if nobody did (a failure is thrown, not swallowed); otherwise releases it.</summary>
    public void Dispose()
    {
        if (_state == WriterState.Open) Complete();
        else Release(deletePartial: false);
    }

    private void Check(long index, Structure structure, double energy, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress,
        StructureExtras? extras, BatchExtras? introduced)
    {
        StructureValidator.CheckShapes(index, structure, forces, stress);
        if (extras is { IsEmpty: false }) CheckExtras(index, structure, extras, introduced);
        if (!_options.Validate) return;
        StructureValidator.CheckValues(index, structure, energy, forces, stress);
        _warnings.Add(index, structure, forces);
    }

    private void Guarded(Structure structure, double energy, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress, long? sourceIndex, StructureExtras? extras)
    {
        try
        {
            Append(structure, energy, forces, stress, sourceIndex, extras);
        }
        catch
        {
            // The columns may now disagree with each other: nothing written by this writer can be trusted.
            Fault();
            throw;
        }
    }

    private void Append(Structure structure, double energy, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress, long? sourceIndex, StructureExtras? extras)
    {
        // The common path, a structure without extras, touches nothing here: names it lacks are filled in later.
        if (extras is { IsEmpty: false }) AppendExtras(extras, _structures, _atoms);
        var numbers = structure.AtomicNumbers;
        for (int done = 0; done < numbers.Length;)
        {
            var free = _numbers.Reserve();
            int n = Math.Min(free.Length, numbers.Length - done);
            SpanKernels.Widen(numbers.AsSpan(done, n), free);
            _stats.AddElements(numbers.AsSpan(done, n));
            _numbers.Commit(n);
            done += n;
        }
        _positions.Add(structure.Positions);
        _cells.Add(structure.Cell);
        _pbc.Add(structure.Pbc);
        _energy.Add(energy);
        for (int done = 0; done < forces.Length;)
        {
            var free = _forces.Reserve();
            int n = Math.Min(free.Length, forces.Length - done);
            _stats.AddMaxAbsForce(SpanKernels.NarrowMaxAbs(forces.Slice(done, n), free, 0));
            _forces.Commit(n);
            done += n;
        }
        Span<double> voigt = stackalloc double[6];
        voigt.Clear();
        if (!stress.IsEmpty) StructureValidator.ToVoigt(stress, voigt);
        _stress.Add(voigt);
        _stressMask.Add(!stress.IsEmpty);
        _atoms += numbers.Length;
        _numbersSplits.Add(_atoms);
        _forcesSplits.Add(_atoms);
        _indices.Add(sourceIndex ?? _structures);
        _stats.AddEnergy(energy);
        _structures++;
        _added++;
        StartWritebackEvery();
    }

    // About 20 MiB of rows: the file goes to disk while more is written, not all at the final fsync.
    private const long WritebackAtoms = 1 << 19;

    /// <summary>Asks the kernel to start writing the file out each time another <see cref="WritebackAtoms"/> atoms are added.</summary>
    private void StartWritebackEvery()
    {
        if (_atoms < _nextWriteback) return;
        _file!.StartWriteback();
        _nextWriteback = _atoms + WritebackAtoms;
    }

    private void EnsureOpen()
    {
        switch (_state)
        {
            case WriterState.Completed: throw new InvalidOperationException("Cannot add structures after Complete() has been called");
            case WriterState.Aborted: throw new InvalidOperationException("Cannot add structures after Abort() has been called");
            case WriterState.Faulted: throw new InvalidOperationException("Cannot add structures: the writer failed earlier and its output was discarded");
        }
    }

    private void WriteMetadata(IReadOnlyDictionary<string, object?>? extraMetadata)
    {
        var attributes = _metadata.Attributes;
        attributes.Set(FormatNames.NumStructures, _structures);
        attributes.Set(FormatNames.NumAtoms, _atoms);
        attributes.Set(FormatNames.FormatVersion, FormatNames.Version);
        attributes.Set(FormatNames.Created, _created);
        attributes.Set(FormatNames.Modified, Now());
        attributes.Set(FormatNames.Writer, WriterName);
        attributes.Set(FormatNames.Compression, Compression.ToString());
        var stats = new DatasetStatistics();
        stats.Merge(_existingStats);
        stats.Merge(_stats);
        stats.WriteTo(attributes);
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, object?>())
            MetadataValues.Write(attributes, key, value);
    }

    private void Fault()
    {
        if (_state is WriterState.Faulted) return;
        _state = WriterState.Faulted;
        Rollback();
    }

    private void Rollback()
    {
        // Chunks in flight belong to rows being dropped: the workers finish with them and they are never stored.
        _compressor.Discard();
        _warnings.Discard();
        if (_inPlace)
        {
            // Closed first (what the close writes is saved like every other overwrite), then the file's last checkpoint
            // is put back byte for byte: an appended file is as it was.
            Release(deletePartial: false);
            if (!_rollback.Begun) return;
            try
            {
                RollbackJournal.Apply(Path);
                TryDeleteJournal();
            }
            catch (IOException)
            {
                // The original failure (often the same full disk) is what the caller needs to see. Both journals stay,
                // so the next append or a repair puts the file back.
            }
            return;
        }
        Release(deletePartial: !_inPlace);
    }

    private void TryDeleteJournal()
    {
        try
        {
            CheckpointJournal.Delete(Path);
        }
        catch (IOException)
        {
            // The journal agrees with the file as it is now, so leaving it costs a recovery that cuts nothing.
        }
    }

    /// <summary>
    /// Whether a file was left by a writer that did not finish: it has a journal (<see cref="CheckpointJournal"/>), or more
    /// structure rows than its num_structures. <see cref="RecoverToCheckpoint"/> (<c>mlff-data repair</c>) then cuts it
    /// back to its last checkpoint.
    /// </summary>
    /// <exception cref="H5Exception">The file cannot be opened.</exception>
    public static bool NeedsRecovery(string path)
    {
        if (RollbackJournal.Exists(path) || CheckpointJournal.Exists(path)) return true;
        using var file = H5File.Open(path, readOnly: true);
        if (!file.Contains(FormatNames.Metadata) || !file.Contains(FormatNames.Structures)) return false;
        using var metadata = file.OpenGroup(FormatNames.Metadata);
        if (!metadata.Attributes.Contains(FormatNames.NumStructures) || metadata.Attributes.Get(FormatNames.NumStructures) is not long count) return false;
        using var structures = file.OpenGroup(FormatNames.Structures);
        if (!structures.Contains(FormatNames.AtomicNumbersSplits)) return false;
        using var splits = structures.OpenDataset<long>(FormatNames.AtomicNumbersSplits);
        return splits.Rows > count + 1;
    }

    private void Release(bool deletePartial)
    {
        _compressor.Discard();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        _file = null;
        // After the file's close, whose writes it saves; the journal itself stays for Rollback or recovery.
        _rollback.Dispose();
        if (deletePartial)
        {
            try
            {
                File.Delete(_writePath);
            }
            catch (IOException)
            {
                // Nothing else can be done; the next writer to this path replaces the stale partial file.
            }
        }
    }

    private IEnumerable<IDatasetColumn> Columns() =>
        [_numbers, _numbersSplits, _positions, _cells, _pbc, _energy, _forces, _forcesSplits, _stress, _stressMask, _indices, .. _extraColumns];

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string WriterName { get; } =
        $"MlffData {typeof(HDF5DatasetWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0"}";
}
