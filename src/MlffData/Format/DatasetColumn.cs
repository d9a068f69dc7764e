using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlffData.Hdf5;
using MlffData.Hdf5.Filters;

namespace MlffData.Format;

/// <summary>
/// One numeric dataset of the layout seen as an append-only column (see <see cref="BufferedColumn{T, TDataset}"/>),
/// with the per-element adds that converting writers use on the hot path.
/// </summary>
internal sealed class DatasetColumn<T> : BufferedColumn<T, H5Dataset<T>> where T : unmanaged
{
    private readonly string? _units;
    private readonly H5FilterPipeline _filters;
    // Null when whole chunks go through libhdf5's own filters on this thread.
    private readonly ChunkCompressor? _compressor;
    // Whole chunks of a dataset without compression, whose file type this column chose (little-endian standard types,
    // the bytes of T on a little-endian machine), are stored as they are (H5Dwrite_chunk), no chunk cache, with their
    // fletcher32 checksum when the dataset has one.
    private readonly bool _direct;
    private readonly bool _checksum;
    // A chunk and its checksum, which H5Dwrite_chunk takes as one run of bytes.
    private byte[]? _checksummed;

    /// <summary>A column for a dataset that does not exist yet. Whole chunks go to compressor when the filters
    /// allow it (deflate); with none, every row goes through libhdf5's filters.</summary>
    internal DatasetColumn(H5Group group, string name, int[] rowShape, string? units, H5FilterPipeline filters, long chunkBytes, ChunkCompressor? compressor = null)
        : base(group, name, rowShape, filters, chunkBytes, Unsafe.SizeOf<T>())
    {
        _units = units;
        _filters = filters;
        _compressor = compressor is not null && ChunkCompressor.Supports(filters) ? compressor : null;
        _direct = BitConverter.IsLittleEndian && IsUncompressed(filters);
        _checksum = filters.Fletcher32;
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    internal DatasetColumn(H5Group group, H5Dataset<T> dataset, long chunkBytes, ChunkCompressor? compressor = null)
        : base(group, dataset, chunkBytes, Unsafe.SizeOf<T>())
    {
        _filters = dataset.Filters;
        // Chunks compressed here hold rows as T's bytes: another writer's dataset may split rows across chunks or store
        // another byte order, and then only libhdf5 can write into it.
        _compressor = compressor is not null && ChunkCompressor.Supports(_filters) && dataset.RawChunks ? compressor : null;
    }

    /// <summary>Adds one element (a whole row when the row length is 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Add(T value)
    {
        if (_count == _buffer.Length) FlushFull();
        _buffer[_count++] = value;
    }

    /// <summary>Free space in the buffer for converting writers; follow with <see cref="Commit"/>.</summary>
    internal Span<T> Reserve()
    {
        if (_count == _buffer.Length) FlushFull();
        return _buffer.AsSpan(_count);
    }

    /// <summary>Marks n elements of the span from <see cref="Reserve"/> as added.</summary>
    internal void Commit(int n) => _count += n;

    /// <summary>
    /// Adds count elements' worth of rows of a source dataset from row on, and copies them into values unless it is
    /// empty (for the caller's statistics). A whole source chunk that lands on a whole chunk here, in a dataset with
    /// the same chunk rows and filters, is stored as the source stored it, with no second compression (the merge of
    /// files whose chunk boundaries line up); the rest is added like any rows.
    /// </summary>
    /// <exception cref="ArgumentException">count is not a whole number of rows, or values is neither empty nor count long.</exception>
    /// <exception cref="InvalidDataException">A source chunk is corrupt.</exception>
    internal void AddFrom(ChunkReader<T> source, long row, int count, Span<T> values)
    {
        if (count % RowLength != 0) throw new ArgumentException($"{count} values are not a whole number of rows of {RowLength}", nameof(count));
        if (!values.IsEmpty && values.Length != count) throw new ArgumentException($"{values.Length} values given for {count}", nameof(values));
        while (count > 0)
        {
            var chunk = source.At(row);
            int offset = (int)(row - chunk.FirstRow) * RowLength;
            int n = Math.Min(count, chunk.Rows * RowLength - offset);
            var rows = chunk.Values.Slice(offset, n);
            if (!values.IsEmpty)
            {
                rows.CopyTo(values);
                values = values[n..];
            }
            if (offset == 0 && n == chunk.Values.Length && CanStoreAsIs(source.Dataset, chunk)) StoreAsIs(chunk);
            else Add(rows);
            count -= n;
            row += n / RowLength;
        }
    }

    /// <summary>Whether a whole source chunk, added next, can be stored here as its source stored it: this column stores
    /// whole chunks itself (so its chunks hold rows as T's bytes, as the source's do), the next row starts a chunk of the
    /// same size in a dataset with the same filters (so the same pipeline made those bytes), and the chunk went through
    /// every filter.</summary>
    private bool CanStoreAsIs(H5Dataset<T> source, ChunkReader<T>.Chunk chunk)
    {
        if ((_compressor is null && !_direct) || !chunk.FullyFiltered || source.Filters != _filters) return false;
        long chunkRows = Dataset?.ChunkRows ?? TargetChunkRows;
        return source.ChunkRows == chunkRows && (Dataset is null || Dataset.Rows % chunkRows == 0) && Rows % chunkRows == 0;
    }

    /// <summary>Stores a source chunk as it was stored, after the whole chunks buffered before it.</summary>
    private void StoreAsIs(ChunkReader<T>.Chunk chunk)
    {
        var dataset = EnsureDataset(whole: true);
        if (_count > 0) StoreChunks(dataset, lastPartial: false);
        long index = dataset.Rows / dataset.ChunkRows;
        dataset.Resize(dataset.Rows + dataset.ChunkRows);
        if (_compressor is not null) _compressor.SubmitStored(chunk.Stored, compressed => dataset.WriteChunk(index, compressed));
        else dataset.WriteChunk(index, chunk.Stored);
    }

    /// <summary>When the buffer is full: stores its whole chunks (or hands them to the compressor); rows short of a
    /// chunk stay.</summary>
    private protected override void FlushFull()
    {
        if (_compressor is not null || _direct) StoreChunks(EnsureDataset(whole: true), lastPartial: false);
        else Flush(whole: true);
    }

    /// <summary>Whether a pipeline has no filter but perhaps the checksum (a stored chunk is then the chunk's raw bytes,
    /// and its fletcher32 checksum after them).</summary>
    internal static bool IsUncompressed(H5FilterPipeline filters) =>
        filters is { Shuffle: false, DeflateLevel: 0, Lzf: false } && filters.OtherFilters is not { Count: > 0 };

    /// <summary>
    /// Writes every buffered row: those ending a partial last chunk, then whole chunks, padded with zeros to full size.
    /// </summary>
    private protected override void FlushBuffered(bool whole)
    {
        if (_compressor is not null || _direct) StoreChunks(EnsureDataset(whole), lastPartial: true);
        else base.FlushBuffered(whole);
    }

    /// <summary>
    /// Stores the buffer's whole chunks (and with lastPartial the rows after them, as a chunk padded with zeros) with
    /// H5Dwrite_chunk, after writing through libhdf5 the rows that complete a partial last chunk in the file (left by
    /// an appended file or a checkpoint): as they are with their checksum, or compressed on the compressor's workers
    /// (the caller drains it). Rows short of a chunk stay buffered without lastPartial. libhdf5 stores an edge chunk at
    /// full size too, but would first fill all of it with the fill value in a fresh buffer.
    /// </summary>
    private void StoreChunks(H5Dataset<T> dataset, bool lastPartial)
    {
        long chunkRows = dataset.ChunkRows;
        // A chunk stored directly replaces the whole chunk, so one that already holds rows is completed normally.
        int head = (int)Math.Min(_count / RowLength, (chunkRows - dataset.Rows % chunkRows) % chunkRows);
        // No H5Dflush after it, though it would let the chunks that follow reuse the place this one outgrows: it
        // writes the chunk index ahead of the file's end-of-allocation, so a process killed after a checkpoint would
        // leave a file that points past its end.
        WriteBuffered(head);
        int rows = _count / RowLength;
        int chunks = (int)((rows + (lastPartial ? chunkRows - 1 : 0)) / chunkRows);
        int chunkLength = (int)(chunkRows * RowLength);
        // Padded in place, a chunk must fit in the buffer (the compressor pads its own copy).
        if (chunks == 0 || (_compressor is null && (long)chunks * chunkLength > _buffer.Length))
        {
            // Nothing whole (a buffer smaller than one chunk), or a padded chunk would not fit in the buffer (an
            // appended file's chunks larger than ours): the rows go through libhdf5.
            if (head == 0 || lastPartial) WriteBuffered(rows);
            return;
        }
        int size = Unsafe.SizeOf<T>();
        for (int c = 0; c < chunks; c++)
        {
            long index = dataset.Rows / chunkRows;
            int rowsHere = (int)Math.Min(chunkRows, rows - c * chunkRows);
            // The extent grows first (the chunk must lie within it); a rollback shrinks it like any other rows.
            dataset.Resize(dataset.Rows + rowsHere);
            if (_compressor is not null)
            {
                var raw = MemoryMarshal.AsBytes(_buffer.AsSpan(c * chunkLength, rowsHere * RowLength));
                _compressor.Submit(raw, chunkLength * size, size, _filters, compressed => dataset.WriteChunk(index, compressed));
                continue;
            }
            var chunk = _buffer.AsSpan(c * chunkLength, chunkLength);
            // Never-written (or stale) buffer space past the rows: zeros on disk, not old bytes of this process.
            chunk[(rowsHere * RowLength)..].Clear();
            var bytes = MemoryMarshal.AsBytes(chunk);
            if (_checksum)
            {
                _checksummed ??= GC.AllocateUninitializedArray<byte>(bytes.Length + Fletcher32.Length);
                dataset.WriteChunk(index, _checksummed.AsSpan(0, Fletcher32.CopyWithChecksum(bytes, _checksummed)));
            }
            else
            {
                dataset.WriteChunk(index, bytes);
            }
        }
        Consume((int)Math.Min(rows, chunks * chunkRows));
    }

    private protected override H5Dataset<T> CreateDataset(H5Group group, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        var dataset = group.CreateDataset<T>(name, rowShape, chunkRows, filters);
        if (_units is not null) dataset.Attributes.Set(FormatNames.Units, _units);
        return dataset;
    }

    private protected override void Append(H5Dataset<T> dataset, ReadOnlySpan<T> rows) => dataset.Append(rows);

    private protected override CheckpointJournal.Tail ReadTail(H5Dataset<T> dataset, long start, int rows) =>
        new(dataset.Path, start, MemoryMarshal.AsBytes(dataset.Read(start, rows).AsSpan()).ToArray(), null);
}
