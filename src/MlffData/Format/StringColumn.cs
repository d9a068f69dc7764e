using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// A variable-length string dataset seen as an append-only column, as <see cref="DatasetColumn{T}"/> is for numbers:
/// strings collect in a buffer of one chunk's worth of rows and go to the file in whole blocks, and a new dataset is
/// created at its first write with a chunk size that fits the data.
/// </summary>
internal sealed class StringColumn : IDatasetColumn
{
    // Chunks hold 16-byte heap references, not the text: sized like DatasetColumn's by those bytes.
    private const long ElementBytes = 16;
    private const long MinChunkBytes = 16 << 10;

    private readonly H5Group _group;
    private readonly string _name;
    private readonly int[] _rowShape;
    private readonly H5FilterPipeline _filters;
    private readonly long _targetChunkRows;
    private readonly string[] _buffer;
    private H5StringDataset? _dataset;
    private int _count;

    /// <summary>A column for a dataset that does not exist yet.</summary>
    internal StringColumn(H5Group group, string name, int[] rowShape, H5FilterPipeline filters, long chunkBytes)
    {
        _group = group;
        _name = name;
        _rowShape = rowShape;
        _filters = filters;
        RowLength = rowShape.Aggregate(1, (a, b) => a * b);
        _targetChunkRows = Math.Max(1, chunkBytes / (RowLength * ElementBytes));
        _buffer = new string[checked((int)(_targetChunkRows * RowLength))];
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    internal StringColumn(H5Group group, H5StringDataset dataset, long chunkBytes)
        : this(group, dataset.Path, dataset.RowShape.Select(d => (int)d).ToArray(), dataset.Filters,
               Math.Max(chunkBytes, dataset.ChunkRows * dataset.RowLength * ElementBytes))
    {
        _dataset = dataset;
        InitialRows = dataset.Rows;
    }

    /// <summary>Strings per row.</summary>
    internal int RowLength { get; }

    /// <summary>Rows the dataset had when this column opened it (0 for a new one), or at the last checkpoint.</summary>
    internal long InitialRows { get; private set; }

    /// <summary>Rows in the file plus rows waiting in the buffer.</summary>
    internal long Rows => (_dataset?.Rows ?? 0) + _count / RowLength;

    /// <summary>Adds strings; the caller adds whole rows before the column is flushed.</summary>
    internal void Add(ReadOnlySpan<string> values)
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

    /// <summary>Adds <paramref name="count"/> copies of one string.</summary>
    internal void AddRepeated(string value, long count)
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

    /// <summary>Writes buffered rows to the file, creating the dataset first if needed.</summary>
    public void Flush(bool whole = false)
    {
        int rows = _count / RowLength;
        _dataset ??= Create(rows, whole);
        if (rows == 0) return;
        _dataset.Append(_buffer.AsSpan(0, rows * RowLength));
        int rest = _count - rows * RowLength;
        if (rest > 0) _buffer.AsSpan(rows * RowLength, rest).CopyTo(_buffer);
        // Drop the references so written strings can be collected while the buffer waits for the next chunk.
        Array.Clear(_buffer, rest, _count - rest);
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

    /// <summary>Drops buffered rows, closes the dataset and removes its link (a column new in an appended file).</summary>
    internal void Unlink()
    {
        _count = 0;
        if (_dataset is null) return;
        _dataset.Dispose();
        _dataset = null;
        _group.Delete(_name);
    }

    private H5StringDataset Create(int bufferedRows, bool bufferFull)
    {
        long rowBytes = RowLength * ElementBytes;
        long chunkRows = bufferFull
            ? _targetChunkRows
            : Math.Clamp((long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, bufferedRows)),
                Math.Min(_targetChunkRows, Math.Max(1, MinChunkBytes / rowBytes)), _targetChunkRows);
        return _group.CreateStringDataset(_name, _rowShape, chunkRows, _filters);
    }

    /// <inheritdoc />
    public void Dispose() => _dataset?.Dispose();
}
