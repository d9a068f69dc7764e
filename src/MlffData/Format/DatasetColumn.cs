using System.Runtime.CompilerServices;
using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// One numeric dataset of the layout seen as an append-only column (see <see cref="BufferedColumn{T, TDataset}"/>),
/// with the per-element adds that converting writers use on the hot path.
/// </summary>
internal sealed class DatasetColumn<T> : BufferedColumn<T, H5Dataset<T>> where T : unmanaged
{
    private readonly string? _units;

    /// <summary>A column for a dataset that does not exist yet.</summary>
    internal DatasetColumn(H5Group group, string name, int[] rowShape, string? units, H5FilterPipeline filters, long chunkBytes)
        : base(group, name, rowShape, filters, chunkBytes, Unsafe.SizeOf<T>())
    {
        _units = units;
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    internal DatasetColumn(H5Group group, H5Dataset<T> dataset, long chunkBytes)
        : base(group, dataset, chunkBytes, Unsafe.SizeOf<T>())
    {
    }

    /// <summary>Adds one element (a whole row when the row length is 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Add(T value)
    {
        if (_count == _buffer.Length) Flush(whole: true);
        _buffer[_count++] = value;
    }

    /// <summary>Free space in the buffer for converting writers; follow with <see cref="Commit"/>.</summary>
    internal Span<T> Reserve()
    {
        if (_count == _buffer.Length) Flush(whole: true);
        return _buffer.AsSpan(_count);
    }

    /// <summary>Marks n elements of the span from <see cref="Reserve"/> as added.</summary>
    internal void Commit(int n) => _count += n;

    private protected override H5Dataset<T> CreateDataset(H5Group group, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        var dataset = group.CreateDataset<T>(name, rowShape, chunkRows, filters);
        if (_units is not null) dataset.Attributes.Set(FormatNames.Units, _units);
        return dataset;
    }

    private protected override void Append(H5Dataset<T> dataset, ReadOnlySpan<T> rows) => dataset.Append(rows);
}
