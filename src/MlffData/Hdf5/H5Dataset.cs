using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A chunked dataset of element type T that grows along its first axis: rows are appended, written or read as
/// flat row-major spans (a row of a (n, 3) dataset is 3 elements).
/// </summary>
public sealed class H5Dataset<T> : H5ExtensibleDataset where T : unmanaged
{
    private H5Dataset(H5DatasetHandle handle, string path, ulong[] rowShape, long rows, long chunkRows, H5FilterPipeline filters, bool rawChunks)
        : base(handle, H5Type.Memory<T>(), path, rowShape, rows, chunkRows, filters)
    {
        RawChunks = rawChunks;
    }

    /// <summary>
    /// Whether a chunk, once through the filters, holds ChunkRows whole rows as the bytes of T: chunked along the first
    /// axis only, with T's own little-endian file type (for bool, h5py's enum of FALSE = 0 and TRUE = 1), on a
    /// little-endian machine. Only then can a chunk be stored or read as bytes (<see cref="WriteChunk"/>,
    /// <see cref="ReadChunk"/>) and mean the same rows.
    /// </summary>
    public bool RawChunks { get; }

    /// <summary>Bytes the dataset occupies in the file (after compression).</summary>
    public long StorageSize => (long)H5D.GetStorageSize(Handle);

    internal static H5Dataset<T> Create(H5Group parent, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        string path = parent.Child(name);
        var shape = rowShape.Select(d => (ulong)d).ToArray();
        using var fileType = H5Type.File<T>();
        var handle = CreateHandle(parent, name, path, fileType, shape, chunkRows, filters);
        return new H5Dataset<T>(handle, path, shape, 0, chunkRows, filters, BitConverter.IsLittleEndian);
    }

    /// <param name="parent">The group holding the dataset.</param>
    /// <param name="name">The dataset's name in it.</param>
    /// <param name="chunkCacheBytes">Size of this dataset's chunk cache in bytes; 0 keeps libhdf5's default.</param>
    internal static H5Dataset<T> Open(H5Group parent, string name, long chunkCacheBytes = 0)
    {
        string path = parent.Child(name);
        var handle = OpenHandle(parent, name, path, chunkCacheBytes);
        try
        {
            bool sameType;
            using (var type = new H5Type(H5Error.Check(H5D.GetType(handle), "H5Dget_type", path)))
            {
                if (!type.Matches<T>())
                {
                    using var expected = H5Type.File<T>();
                    throw new InvalidDataException($"{path} has type {type.Describe()}, expected {expected.Describe()}");
                }
                sameType = type.IsExactly<T>();
            }
            var (rowShape, rows, chunkRows, filters, spanRows) = ReadLayout(handle, path);
            bool raw = BitConverter.IsLittleEndian && sameType && spanRows;
            return new H5Dataset<T>(handle, path, rowShape, rows, chunkRows, filters, raw);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Appends whole rows at the end, growing the dataset.</summary>
    /// <exception cref="ArgumentException">values is not a whole number of rows.</exception>
    public void Append(ReadOnlySpan<T> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        Resize(Rows + rows);
        Write(Rows - rows, values);
    }

    /// <summary>Overwrites rows [startRow, startRow + n) with values; they must lie within the current extent.</summary>
    public unsafe void Write(long startRow, ReadOnlySpan<T> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        CheckWithin(startRow, rows);
        fixed (T* p = values)
            WriteRows(startRow, rows, p);
    }

    /// <summary>
    /// Stores one whole chunk as given, bypassing the filter pipeline (H5Dwrite_chunk): compressed must already be
    /// the chunk's ChunkRows rows put through this dataset's filters, less those set in filterMask (bit i: filter i
    /// skipped). The chunk must lie within the current extent; a chunk at the end is stored at full size, as
    /// libhdf5 stores edge chunks.
    /// </summary>
    /// <param name="chunkIndex">Index of the chunk along the first axis (its first row is chunkIndex * ChunkRows).</param>
    /// <param name="compressed">The stored bytes of the chunk.</param>
    /// <param name="filterMask">Filters not applied to these bytes; 0 when all were.</param>
    /// <exception cref="InvalidOperationException">The dataset is not chunked.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The chunk starts outside the extent.</exception>
    /// <exception cref="H5Exception">libhdf5 refused the write.</exception>
    public unsafe void WriteChunk(long chunkIndex, ReadOnlySpan<byte> compressed, uint filterMask = 0)
    {
        var offset = ChunkOffset(chunkIndex);
        fixed (byte* p = compressed)
            H5Error.Check(H5D.WriteChunk(Handle, H5PropertyListHandle.Default, filterMask, offset, (nuint)compressed.Length, p), "H5Dwrite_chunk", Path);
    }

    /// <summary>The size in bytes of a chunk as stored (after its filters); 0 for a chunk never written (read as the
    /// fill value).</summary>
    /// <exception cref="InvalidDataException">The chunk index claims 2 GiB or more (a corrupt file).</exception>
    public int StoredChunkSize(long chunkIndex) => StoredSize(ChunkOffset(chunkIndex));

    private int StoredSize(ulong[] offset)
    {
        H5Error.Check(H5D.GetChunkInfoByCoord(Handle, offset, out _, out _, out ulong bytes), "H5Dget_chunk_info_by_coord", Path);
        // A chunk of 2 GiB or more cannot be read into one buffer; only a corrupt chunk index claims one here.
        if (bytes > int.MaxValue) throw new InvalidDataException($"{Path}: a chunk claims {bytes} stored bytes");
        return (int)bytes;
    }

    /// <summary>
    /// Reads one chunk's bytes as stored, bypassing the filter pipeline (H5Dread_chunk): the filtered form of the
    /// chunk's ChunkRows rows (a chunk at the end is stored at full size), for <see cref="WriteChunk"/> into a dataset
    /// with the same chunks and filters, or for decoding here.
    /// </summary>
    /// <param name="chunkIndex">Index of the chunk along the first axis.</param>
    /// <param name="destination">At least <see cref="StoredChunkSize"/> bytes.</param>
    /// <returns>The filters not applied to these bytes (bit i: filter i skipped); 0 when all were.</returns>
    /// <exception cref="ArgumentException">destination is smaller than the stored chunk.</exception>
    /// <exception cref="InvalidOperationException">The chunk was never written.</exception>
    /// <exception cref="H5Exception">libhdf5 refused the read.</exception>
    public unsafe uint ReadChunk(long chunkIndex, Span<byte> destination)
    {
        var offset = ChunkOffset(chunkIndex);
        // libhdf5 writes the whole stored chunk into the buffer without knowing its length, so it is checked first.
        int bytes = StoredSize(offset);
        if (bytes == 0) throw new InvalidOperationException($"chunk {chunkIndex} of {Path} was never written");
        if (destination.Length < bytes)
            throw new ArgumentException($"chunk {chunkIndex} of {Path} takes {bytes} bytes, more than the {destination.Length} given", nameof(destination));
        uint mask;
        fixed (byte* p = destination)
            H5Error.Check(H5D.ReadChunk(Handle, H5PropertyListHandle.Default, offset, out mask, p), "H5Dread_chunk", Path);
        return mask;
    }

    /// <summary>Reads rows [startRow, startRow + n) into destination, whose length sets n.</summary>
    public unsafe void Read(long startRow, Span<T> destination)
    {
        long rows = RowsIn(destination.Length);
        if (rows == 0) return;
        CheckWithin(startRow, rows);
        using var fileSpace = SelectRows(startRow, rows, out var memSpace);
        using (memSpace)
        fixed (T* p = destination)
            H5Error.Check(H5D.Read(Handle, MemType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dread", Path);
    }

    /// <summary>The offset of a chunk's first element, for H5Dwrite_chunk and H5Dread_chunk.</summary>
    /// <exception cref="InvalidOperationException">The dataset is not chunked.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The chunk starts outside the extent.</exception>
    private ulong[] ChunkOffset(long chunkIndex)
    {
        if (ChunkRows <= 0) throw new InvalidOperationException($"{Path} is not chunked");
        if (chunkIndex < 0 || chunkIndex * ChunkRows >= Rows)
            throw new ArgumentOutOfRangeException(nameof(chunkIndex), chunkIndex, $"chunk {chunkIndex} of {ChunkRows} rows starts outside {Path} with {Rows} rows");
        var offset = new ulong[RowShape.Count + 1];
        offset[0] = (ulong)(chunkIndex * ChunkRows);
        return offset;
    }

    /// <summary>Reads rowCount rows from startRow into a new array.</summary>
    public T[] Read(long startRow, long rowCount)
    {
        var values = new T[checked(rowCount * RowLength)];
        Read(startRow, values);
        return values;
    }
}
