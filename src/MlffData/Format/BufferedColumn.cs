using System.Runtime.CompilerServices;
using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// What <see cref="DatasetColumn{T}"/> and <see cref="StringColumn"/> share: one dataset of the layout seen as an
/// append-only column whose rows collect in a buffer of one chunk's worth and go to the file in whole blocks, so
/// memory is bounded by the buffer, never by the dataset, and the file is never resized per structure. A new dataset
/// is created at its first write, when its chunk size can fit the data: a small file gets small chunks, a large one
/// chunks of the target size.
/// </summary>
/// <typeparam name="T">The element type held in the buffer.</typeparam>
/// <typeparam name="TDataset">The dataset the rows go to.</typeparam>
internal abstract class BufferedColumn<T, TDataset> : IDatasetColumn where TDataset : H5ExtensibleDataset
{
    // A chunk smaller than this costs more in index and call overhead than it saves in space.
    private const long MinChunkBytes = 16 << 10;

    private readonly H5Group _group;
    private readonly string _name;
    private readonly int[] _rowShape;
    private readonly H5FilterPipeline _filters;
    private readonly long _rowBytes;
    private readonly long _targetChunkRows;

    // Derived types add to the buffer directly (no virtual call per element); the base writes it out.
    private protected readonly T[] _buffer;
    private protected int _count;
    private TDataset? _dataset;

    /// <summary>
    /// A column for a dataset that does not exist yet, with chunks of about chunkBytes, counted in elementBytes (the
    /// bytes one element takes in a chunk on disk).
    /// </summary>
    private protected BufferedColumn(H5Group group, string name, int[] rowShape, H5FilterPipeline filters, long chunkBytes, long elementBytes)
    {
        _group = group;
        _name = name;
        _rowShape = rowShape;
        _filters = filters;
        RowLength = rowShape.Aggregate(1, (a, b) => a * b);
        _rowBytes = RowLength * elementBytes;
        _targetChunkRows = Math.Max(1, chunkBytes / _rowBytes);
        // Never read before it is written (rows are copied in before they are counted), so numbers skip the zeroing;
        // for references the runtime zeroes it anyway.
        _buffer = GC.AllocateUninitializedArray<T>(checked((int)(_targetChunkRows * RowLength)));
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    private protected BufferedColumn(H5Group group, TDataset dataset, long chunkBytes, long elementBytes)
        : this(group, dataset.Path, dataset.RowShape.Select(d => (int)d).ToArray(), dataset.Filters,
               Math.Max(chunkBytes, dataset.ChunkRows * dataset.RowLength * elementBytes), elementBytes)
    {
        _dataset = dataset;
    }

    /// <summary>Elements per row.</summary>
    internal int RowLength { get; }

    /// <summary>Rows per chunk of the dataset when the column creates it with its buffer full.</summary>
    internal long TargetChunkRows => _targetChunkRows;

    /// <summary>Rows in the file plus rows waiting in the buffer.</summary>
    internal long Rows => (_dataset?.Rows ?? 0) + _count / RowLength;

    /// <summary>The dataset, once it exists.</summary>
    internal TDataset? Dataset => _dataset;

    /// <summary>Adds elements; the caller adds whole rows before the column is flushed.</summary>
    internal void Add(ReadOnlySpan<T> values)
    {
        while (!values.IsEmpty)
        {
            if (_count == _buffer.Length) FlushFull();
            int n = Math.Min(values.Length, _buffer.Length - _count);
            values[..n].CopyTo(_buffer.AsSpan(_count));
            _count += n;
            values = values[n..];
        }
    }

    /// <summary>Adds <paramref name="count"/> copies of one element (missing values for rows a structure lacks).</summary>
    internal void AddRepeated(T value, long count)
    {
        while (count > 0)
        {
            if (_count == _buffer.Length) FlushFull();
            int n = (int)Math.Min(count, _buffer.Length - _count);
            _buffer.AsSpan(_count, n).Fill(value);
            _count += n;
            count -= n;
        }
    }

    /// <summary>Writes buffered rows to the file, creating the dataset first if needed (a column with a
    /// <see cref="ChunkCompressor"/> hands them to it instead; its writer drains it).</summary>
    public void Flush(bool whole = false) => FlushBuffered(whole);

    /// <summary>Called when adding finds the buffer full: writes it out (derived types may hand whole chunks to
    /// other threads instead).</summary>
    private protected virtual void FlushFull() => Flush(whole: true);

    /// <summary>What <see cref="Flush"/> does: writes every whole buffered row through the dataset's filters
    /// (derived types may hand them to other threads instead).</summary>
    private protected virtual void FlushBuffered(bool whole)
    {
        EnsureDataset(whole);
        WriteBuffered(_count / RowLength);
    }

    /// <summary>The dataset, created now if needed with chunks fit for the buffered rows (or the target when
    /// whole).</summary>
    private protected TDataset EnsureDataset(bool whole) =>
        _dataset ??= CreateDataset(_group, _name, _rowShape, FirstChunkRows(_count / RowLength, whole), _filters);

    /// <summary>Appends the first rows buffered rows to the dataset (through its filters) and drops them from the
    /// buffer.</summary>
    private protected void WriteBuffered(int rows)
    {
        if (rows == 0) return;
        Append(_dataset!, _buffer.AsSpan(0, rows * RowLength));
        Consume(rows);
    }

    /// <summary>Drops the first rows buffered rows, moving the rest to the front of the buffer.</summary>
    private protected void Consume(int rows)
    {
        int used = rows * RowLength;
        // The rest: rows past these, and a partial row (only while a caller is mid-way through a converting add).
        int rest = _count - used;
        if (rest > 0) _buffer.AsSpan(used, rest).CopyTo(_buffer);
        // Drop the references so written strings can be collected while the buffer waits for the next chunk; for
        // numbers the JIT removes this branch.
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            Array.Clear(_buffer, rest, _count - rest);
        _count = rest;
    }

    /// <inheritdoc />
    public IEnumerable<CheckpointJournal.Tail> Tails()
    {
        if (_dataset is not { ChunkRows: > 0 } dataset) yield break;
        long rows = dataset.Rows % dataset.ChunkRows;
        if (rows == 0) yield break;
        long start = dataset.Rows - rows;
        yield return ReadTail(dataset, start, (int)rows);
    }

    /// <summary>Rows [start, start + rows) of the dataset as a journal keeps them.</summary>
    private protected abstract CheckpointJournal.Tail ReadTail(TDataset dataset, long start, int rows);


    /// <inheritdoc />
    public void Dispose() => _dataset?.Dispose();

    /// <summary>Creates the dataset with chunks of chunkRows rows (and any attributes it carries).</summary>
    private protected abstract TDataset CreateDataset(H5Group group, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters);

    /// <summary>Appends whole rows to the dataset.</summary>
    private protected abstract void Append(TDataset dataset, ReadOnlySpan<T> rows);

    /// <summary>
    /// Rows per chunk for a dataset created at its first write: the target when the buffer filled up, else the
    /// buffered rows rounded up to a power of two, but no fewer than <see cref="MinChunkBytes"/> hold.
    /// </summary>
    private long FirstChunkRows(int bufferedRows, bool bufferFull) => bufferFull
        ? _targetChunkRows
        : Math.Clamp((long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, bufferedRows)),
            Math.Min(_targetChunkRows, Math.Max(1, MinChunkBytes / _rowBytes)), _targetChunkRows);
}
