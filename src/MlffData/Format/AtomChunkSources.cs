namespace MlffData.Format;

/// <summary>
/// The per-atom datasets of a source file (atomic_numbers, positions, forces: nearly all of its bytes) read by
/// <see cref="ChunkReader{T}"/>s, for <see cref="HDF5DatasetWriter.AddRows"/> to copy chunk by chunk. A dataset whose
/// chunks cannot be read that way (another writer's chunking, byte order or filters) has no reader; its rows are read
/// through libhdf5 instead.
/// </summary>
internal sealed class AtomChunkSources : IDisposable
{
    private AtomChunkSources(DatasetLayout layout)
    {
        Numbers = Open(layout.AtomicNumbers);
        Positions = Open(layout.Positions);
        Forces = Open(layout.Forces);
    }

    internal ChunkReader<long>? Numbers { get; }
    internal ChunkReader<double>? Positions { get; }
    internal ChunkReader<float>? Forces { get; }

    /// <summary>Readers for the layout's per-atom datasets, from their first rows.</summary>
    internal static AtomChunkSources Open(DatasetLayout layout) => new(layout);

    private static ChunkReader<T>? Open<T>(Hdf5.H5Dataset<T> dataset) where T : unmanaged =>
        ChunkReader<T>.Supports(dataset) ? new ChunkReader<T>(dataset) : null;

    /// <inheritdoc />
    public void Dispose()
    {
        Numbers?.Dispose();
        Positions?.Dispose();
        Forces?.Dispose();
    }
}
