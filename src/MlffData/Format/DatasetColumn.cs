using System.Runtime.CompilerServices;
using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// One dataset of the layout seen as an append-only column: rows collect in a buffer of one chunk's worth and go to
/// the file in whole blocks, so memory is bounded by the buffer, never by the dataset, and the file is never resized
/// per structure. A new dataset is created at its first write, when its chunk size can fit the data: a small file
/// gets small chunks, a large one chunks of the target size.
/// </summary>
internal sealed class DatasetColumn<T> : IDatasetColumn where T : unmanaged
{
    // A chunk smaller than this costs more in index and call overhead than it saves in space.
    private const long MinChunkBytes = 16 << 10;

    private readonly H5Group _group;
    private readonly string _name;
    private readonly int[] _rowShape;
    private readonly string? _units;
    private readonly H5FilterPipeline _filters;
    private readonly long _targetChunkRows;
    private readonly T[] _buffer;
    private H5Dataset<T>? _dataset;
    private int _count;

    /// <summary>A column for a dataset that does not exist yet.</summary>
    internal DatasetColumn(H5Group group, string name, int[] rowShape, string? units, H5FilterPipeline filters, long chunkBytes)
    {
        _group = group;
        _name = name;
        _rowShape = rowShape;
        _units = units;
        _filters = filters;
        RowLength = rowShape.Aggregate(1, (a, b) => a * b);
        long rowBytes = (long)RowLength * Unsafe.SizeOf<T>();
        _targetChunkRows = Math.Max(1, chunkBytes / rowBytes);
        _buffer = new T[checked((int)(_targetChunkRows * RowLength))];
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    internal DatasetColumn(H5Group group, H5Dataset<T> dataset, long chunkBytes)
        : this(group, dataset.Path, dataset.RowShape.Select(d => (int)d).ToArray(), null, dataset.Filters,
               Math.Max(chunkBytes, dataset.ChunkRows * dataset.RowLength * Unsafe.SizeOf<T>()))
    {
        _dataset = dataset;
        InitialRows = dataset.Rows;
    }

    /// <summary>Elements per row.</summary>
    internal int RowLength { get; }

    /// <summary>Rows the dataset had when this column opened it (0 for a new one), or at the last checkpoint.</summary>
    internal long InitialRows { get; private set; }

    /// <summary>Rows in the file plus rows waiting in the buffer.</summary>
    internal long Rows => (_dataset?.Rows ?? 0) + _count / RowLength;

    /// <summary>The dataset, once it exists.</summary>
    internal H5Dataset<T>? Dataset => _dataset;

    /// <summary>Adds one element (a whole row when the row length is 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Add(T value)
    {
        if (_count == _buffer.Length) Flush(whole: true);
        _buffer[_count++] = value;
    }

    /// <summary>Adds elements; the caller adds whole rows before the column is flushed.</summary>
    internal void Add(ReadOnlySpan<T> values)
    {
        while (!values.IsEmpty)
        {
            if (_count == _buffer.Length) Flush(whole: true);
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
            if (_count == _buffer.Length) Flush(whole: true);
            int n = (int)Math.Min(count, _buffer.Length - _count);
            _buffer.AsSpan(_count, n).Fill(value);
            _count += n;
            count -= n;
        }
    }

    /// <summary>Free space in the buffer for converting writers; follow with <see cref="Commit"/>.</summary>
    internal Span<T> Reserve()
    {
        if (_count == _buffer.Length) Flush(whole: true);
        return _buffer.AsSpan(_count);
    }

    /// <summary>Marks n elements of the span from <see cref="Reserve"/> as added.</summary>
    internal void Commit(int n) => _count += n;

    /// <summary>Writes buffered rows to the file, creating the dataset first if needed.</summary>
    public void Flush(bool whole = false)
    {
        int rows = _count / RowLength;
        _dataset ??= Create(rows, whole);
        if (rows == 0) return;
        _dataset.Append(_buffer.AsSpan(0, rows * RowLength));
        // A partial row (only while a caller is mid-way through a converting add) stays for the next write.
        int rest = _count - rows * RowLength;
        if (rest > 0) _buffer.AsSpan(rows * RowLength, rest).CopyTo(_buffer);
        _count = rest;
    }

    /// <inheritdoc />
    public void MarkDurable() => InitialRows = _dataset?.Rows ?? 0;

    /// <summary>Drops buffered rows and shrinks the dataset back to the rows it had when opened.</summary>
    public void Rollback()
    {
        _count = 0;
        if (_dataset is not null && _dataset.Rows != InitialRows) _dataset.Resize(InitialRows);
    }

    /// <summary>
    /// Drops buffered rows, closes the dataset and removes its link: undoes a column that a writer created in a file
    /// it appends to. Only for columns made with the constructor for a new dataset.
    /// </summary>
    internal void Unlink()
    {
        _count = 0;
        if (_dataset is null) return;
        _dataset.Dispose();
        _dataset = null;
        _group.Delete(_name);
    }

    private H5Dataset<T> Create(int bufferedRows, bool bufferFull)
    {
        long rowBytes = (long)RowLength * Unsafe.SizeOf<T>();
        long chunkRows = bufferFull
            ? _targetChunkRows
            : Math.Clamp((long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, bufferedRows)),
                Math.Min(_targetChunkRows, Math.Max(1, MinChunkBytes / rowBytes)), _targetChunkRows);
        var dataset = _group.CreateDataset<T>(_name, _rowShape, chunkRows, _filters);
        if (_units is not null) dataset.Attributes.Set(FormatNames.Units, _units);
        return dataset;
    }

    /// <inheritdoc />
    public void Dispose() => _dataset?.Dispose();
}
