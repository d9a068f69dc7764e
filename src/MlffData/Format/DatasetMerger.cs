using System.Diagnostics;
using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// Concatenates files of this format into a new one, in the order given: the shards of a label run split across
/// GPUs or jobs, or datasets made separately. Structures stream through in blocks of dataset rows
/// (<see cref="HDF5DatasetWriter.AddRows"/>), so memory stays bounded whatever the inputs' sizes; splits are
/// renumbered by the writer, /info and /arrays are kept (a name only some inputs have gets NAME_mask), and the
/// metadata of the inputs is combined (see <see cref="Merge"/>).
/// </summary>
/// <remarks>
/// <para>Every input is opened and its layout checked before anything is written, so a broken input is refused at
/// once; the output is written in overwrite mode (OUT.partial, renamed at the end), so any failure leaves nothing new
/// at the output and the file that was there untouched.</para>
/// <para>Values are copied as they are (the inputs were checked when they were written): no value check and no
/// warnings about close atoms or large forces again; shapes and extras' kinds are still checked.</para>
/// <para>Without <see cref="MergeOptions.Reindex"/>, the structure_indices of all inputs are held, sorted, to find
/// indices repeated across inputs: 8 bytes per structure, the only memory that grows with the inputs.</para>
/// </remarks>
public static partial class DatasetMerger
{
    /// <summary>Metadata key: JSON list of {file, num_structures, num_atoms[, structure_index_offset]}, one per input in order.</summary>
    public const string MergedFromKey = "merged_from";

    private const long IndexBlock = 1 << 16;

    // Each chunk is read once, front to back, so the reader's 32 MiB cache for random access only adds copies (it
    // measured up to twice as slow); a few chunks are enough to keep a chunk that straddles two blocks decoded once.
    private const long ReadChunkCacheBytes = 4 << 20;

    /// <summary>
    /// Merges <paramref name="inputs"/>, in order, into a new file at <paramref name="output"/>.
    /// </summary>
    /// <remarks>
    /// Metadata: the writer's own keys (num_structures, statistics, created, compression, ...) are computed afresh; a
    /// key every input has with the same value keeps that value; a key whose value differs between inputs, or that
    /// some inputs lack, becomes a JSON list of the inputs' values in input order (null where an input lacks it);
    /// <see cref="MergedFromKey"/> records every input; the caller's <see cref="MergeOptions.Metadata"/> is written last.
    /// </remarks>
    /// <param name="output">The file to write; it must not be one of the inputs. An existing file is replaced at the end.</param>
    /// <param name="inputs">The files to concatenate, at least one.</param>
    /// <param name="options">Reindex, compression, metadata, block size, warnings; null for the defaults.</param>
    /// <param name="progress">Called after each block with (structures written, structures in all inputs).</param>
    /// <returns>What was written.</returns>
    /// <exception cref="ArgumentException">No inputs, the output is an input, or a metadata key is one the merge writes itself.</exception>
    /// <exception cref="FileNotFoundException">An input does not exist.</exception>
    /// <exception cref="DatasetFormatException">An input is not a file of this format, or its extras conflict with an
    /// earlier input's (the same name of another kind or row shape); the message names the input.</exception>
    /// <exception cref="H5Exception">Reading or writing failed in libhdf5.</exception>
    public static MergeSummary Merge(string output, IReadOnlyList<string> inputs, MergeOptions? options = null, Action<long, long>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= MergeOptions.Default;
        CheckArguments(output, inputs, options);
        var clock = Stopwatch.StartNew();

        var sources = new Source[inputs.Count];
        for (int k = 0; k < inputs.Count; k++) sources[k] = Survey(inputs[k], keepIndices: !options.Reindex);
        var offsets = new long[sources.Length];
        long duplicates = 0;
        if (options.Reindex)
        {
            for (int k = 1; k < sources.Length; k++) offsets[k] = checked(offsets[k - 1] + sources[k - 1].IndexSpan);
        }
        else
        {
            duplicates = WarnDuplicates(sources, options.Warning);
            // Done with them: the copy that follows holds only a block at a time.
            for (int k = 0; k < sources.Length; k++) sources[k] = sources[k] with { SortedIndices = null };
        }
        var metadata = CombineMetadata(sources, options.Reindex ? offsets : null, options.Metadata);
        var compression = options.Compression ?? sources[0].Compression;
        long total = sources.Sum(s => s.Count);

        var writeOptions = new WriteOptions { Compression = compression, Validate = false, Warning = options.Warning, FileLocking = options.FileLocking };
        var writer = new HDF5DatasetWriter(output, WriteMode.Overwrite, writeOptions);
        try
        {
            var block = new RowBlock();
            for (int k = 0; k < sources.Length; k++) CopyRows(sources[k], offsets[k], writer, options, block, Progress);
            options.Cancellation.ThrowIfCancellationRequested();
            writer.Complete(metadata);
        }
        catch
        {
            // A broken input met half-way, a failed write or a cancellation: the partial file goes, the old output stays.
            writer.Abort();
            throw;
        }
        finally
        {
            writer.Dispose();
        }
        return new MergeSummary(writer.Path, sources.Length, writer.Count, writer.NumAtoms, writer.Compression, duplicates,
            sources.Sum(s => s.Bytes), new FileInfo(writer.Path).Length, clock.Elapsed);

        // After each block: the caller's progress, and the point where a cancellation stops the copy.
        void Progress(long done)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            progress?.Invoke(done, total);
        }
    }

    /// <summary>What the first pass learns of one input, before anything is written.</summary>
    /// <param name="Path">The input as given.</param>
    /// <param name="Count">S.</param>
    /// <param name="Atoms">A.</param>
    /// <param name="Compression">The compression of its per-atom datasets.</param>
    /// <param name="Metadata">Its /metadata attributes (those of a type FORMAT.md uses).</param>
    /// <param name="IndexSpan">Its largest structure index + 1; 0 when it is empty.</param>
    /// <param name="SortedIndices">Its distinct structure indices, ascending; null when not kept.</param>
    /// <param name="Bytes">Its file size.</param>
    private sealed record Source(string Path, long Count, long Atoms, Compression Compression, IReadOnlyDictionary<string, object> Metadata,
        long IndexSpan, long[]? SortedIndices, long Bytes);

    private static void CheckArguments(string output, IReadOnlyList<string> inputs, MergeOptions options)
    {
        if (inputs.Count == 0) throw new ArgumentException("Nothing to merge: give at least one input file");
        if (options.BlockStructures < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BlockStructures, "BlockStructures must be at least 1");
        if (options.BlockAtoms < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BlockAtoms, "BlockAtoms must be at least 1");
        string target = Canonical(output);
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input)) throw new ArgumentException("An input path is empty");
            // Writing over an input would destroy it at the final rename while it is still the source.
            if (Canonical(input) == target)
                throw new ArgumentException($"{input}: the output is also an input; write the merge to a new file");
        }
        foreach (var key in options.Metadata.Keys)
            if (FormatNames.ReservedMetadata.Contains(key) || key == MergedFromKey)
                throw new ArgumentException($"Metadata key '{key}' is written by the merge itself (use another name)");
    }

    /// <summary>The absolute path with a symbolic link at its end followed, so two names of one file compare equal.</summary>
    private static string Canonical(string path)
    {
        var info = new FileInfo(Path.GetFullPath(path));
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
        }
        catch (IOException)
        {
            return info.FullName;
        }
    }

    /// <summary>Opens one input, checks its layout and reads what the merge needs before writing.</summary>
    private static Source Survey(string path, bool keepIndices)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using (var file = DatasetLayout.OpenFile(path))
        using (var layout = DatasetLayout.Open(file, path))
        {
            var filters = layout.Positions.Filters;
            var compression = filters.DeflateLevel > 0 ? Compression.Gzip(Math.Min(filters.DeflateLevel, 9), filters.Shuffle)
                : filters.Lzf ? Compression.Lzf : Compression.None;
            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            var attributes = layout.Metadata.Attributes;
            foreach (var name in attributes.Names)
            {
                // An attribute of a type FORMAT.md does not use (another tool's) is left out, as the reader does.
                try
                {
                    metadata[name] = attributes.Get(name);
                }
                catch (NotSupportedException)
                {
                }
            }
            long count = layout.NumStructures;
            long max = -1;
            var indices = keepIndices ? new long[count] : null;
            for (long start = 0; start < count; start += IndexBlock)
            {
                var part = layout.StructureIndices.Read(start, Math.Min(IndexBlock, count - start));
                foreach (long index in part) max = Math.Max(max, index);
                if (indices is not null) part.CopyTo(indices, start);
            }
            if (indices is not null) indices = SortedDistinct(indices);
            return new Source(path, count, layout.NumAtoms, compression, metadata, max + 1, indices, new FileInfo(path).Length);
        }
    }

    private static long[] SortedDistinct(long[] values)
    {
        Array.Sort(values);
        int n = 0;
        for (int i = 0; i < values.Length; i++)
            if (n == 0 || values[i] != values[n - 1]) values[n++] = values[i];
        Array.Resize(ref values, n);
        return values;
    }

    /// <summary>Counts the indices found in more than one input (a k-way merge of the sorted lists) and warns once.</summary>
    private static long WarnDuplicates(Source[] sources, Action<string> warning)
    {
        // Ties go by input number, so the example names the inputs in their order.
        var queue = new PriorityQueue<(int Input, int Position), (long Value, int Input)>();
        for (int k = 0; k < sources.Length; k++)
            if (sources[k].SortedIndices is { Length: > 0 } sorted) queue.Enqueue((k, 0), (sorted[0], k));
        long duplicates = 0;
        long? last = null;
        int lastInput = -1;
        bool counted = false;
        (long Index, int First, int Second)? example = null;
        while (queue.TryDequeue(out var at, out var key))
        {
            long value = key.Value;
            // Each list holds an index once, so two equal values in a row come from two inputs.
            if (last == value)
            {
                if (!counted) duplicates++;
                counted = true;
                example ??= (value, lastInput, at.Input);
            }
            else
            {
                last = value;
                lastInput = at.Input;
                counted = false;
            }
            var list = sources[at.Input].SortedIndices!;
            if (at.Position + 1 < list.Length) queue.Enqueue((at.Input, at.Position + 1), (list[at.Position + 1], at.Input));
        }
        if (example is { } e)
            warning($"{duplicates:N0} structure indices appear in more than one input (e.g. {e.Index} in {sources[e.First].Path} and " +
                    $"{sources[e.Second].Path}); shards of one label run have disjoint indices, so this may be a mistake. " +
                    "They are kept as they are; --reindex makes them unique");
        return duplicates;
    }

    /// <summary>
    /// Streams one input into the writer as blocks of rows (<see cref="HDF5DatasetWriter.AddRows"/>): each dataset is
    /// read a block at a time straight into the block's arrays, with no object per structure but for its /info and
    /// /arrays values. What is copied is what the input stores (float32 forces, int64 numbers), so nothing is
    /// converted either way.
    /// </summary>
    private static void CopyRows(Source source, long offset, HDF5DatasetWriter writer, MergeOptions options, RowBlock block, Action<long> progress)
    {
        using var reader = new HDF5DatasetReader(source.Path, ReadChunkCacheBytes);
        foreach (var (dataset, why) in reader.SkippedExtras)
            options.Warning($"{source.Path}: {dataset} is not copied ({why})");
        var layout = reader.Layout;
        // The per-atom datasets, nearly all the bytes, go chunk by chunk: decoded on worker threads, and stored again
        // as they are where the output's chunks line up with the input's.
        using var atoms = AtomChunkSources.Open(layout);
        long count = layout.NumStructures;
        long before = writer.Count;
        for (long start = 0; start < count;)
        {
            var splits = layout.NextBlock(start, count, options.BlockStructures, options.BlockAtoms);
            int s = splits.Length - 1;
            long first = splits[0];
            block.Reset(s, checked((int)(splits[s] - first)));
            for (int i = 0; i < s; i++) block.Ends[i] = splits[i + 1] - first;
            int a = block.Atoms;
            if (atoms.Numbers is null) layout.AtomicNumbers.Read(first, block.AtomicNumbers.AsSpan(0, a));
            if (atoms.Positions is null) layout.Positions.Read(first, block.Positions.AsSpan(0, 3 * a));
            if (atoms.Forces is null) layout.Forces.Read(first, block.Forces.AsSpan(0, 3 * a));
            layout.Cells.Read(start, block.Cells.AsSpan(0, 9 * s));
            layout.Pbc.Read(start, block.Pbc.AsSpan(0, 3 * s));
            layout.Energy.Read(start, block.Energy.AsSpan(0, s));
            layout.Stress.Read(start, block.Stress.AsSpan(0, 6 * s));
            layout.StressMask.Read(start, block.StressMask.AsSpan(0, s));
            var indices = block.StructureIndices.AsSpan(0, s);
            layout.StructureIndices.Read(start, indices);
            if (offset != 0)
                foreach (ref long index in indices) index = checked(index + offset);
            var extras = reader.HasExtras ? reader.ReadExtras(start, s, splits) : null;
            try
            {
                writer.AddRows(block, atoms, first, extras);
            }
            catch (InvalidDataException e)
            {
                // A chunk whose checksum or compression is broken: the input is at fault, and the message names its chunk.
                throw new DatasetFormatException(source.Path, null, e.Message, e);
            }
            catch (ValidationException e)
            {
                // The writer numbers structures over the whole output (it is new, so from 0); the user looks for the input's row.
                throw new DatasetFormatException(source.Path, null,
                    $"structure {e.StructureIndex - before}: {e.Reason}; it cannot be merged with the inputs before it", e);
            }
            start += s;
            progress(writer.Count);
        }
    }
}
