using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// A variable-length string dataset seen as an append-only column, as <see cref="DatasetColumn{T}"/> is for numbers
/// (see <see cref="BufferedColumn{T, TDataset}"/>).
/// </summary>
internal sealed class StringColumn : BufferedColumn<string, H5StringDataset>
{
    /// <summary>A column for a dataset that does not exist yet.</summary>
    internal StringColumn(H5Group group, string name, int[] rowShape, H5FilterPipeline filters, long chunkBytes)
        // Chunks hold heap references, not the text, so chunk sizes are counted in those. libhdf5 refuses fletcher32
        // on variable-length data ("not suitable for filters"): the text lives in the global heap, which no filter sees.
        : base(group, name, rowShape, filters with { Fletcher32 = false }, chunkBytes, H5ExtensibleDataset.StoredVariableLengthBytes)
    {
    }

    /// <summary>A column continuing an existing dataset; writes go in blocks of at least its chunk size.</summary>
    internal StringColumn(H5Group group, H5StringDataset dataset, long chunkBytes)
        : base(group, dataset, chunkBytes, H5ExtensibleDataset.StoredVariableLengthBytes)
    {
    }

    private protected override H5StringDataset CreateDataset(H5Group group, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters) =>
        group.CreateStringDataset(name, rowShape, chunkRows, filters);

    private protected override void Append(H5StringDataset dataset, ReadOnlySpan<string> rows) => dataset.Append(rows);

    private protected override CheckpointJournal.Tail ReadTail(H5StringDataset dataset, long start, int rows) =>
        new(dataset.Path, start, null, dataset.Read(start, rows));
}
