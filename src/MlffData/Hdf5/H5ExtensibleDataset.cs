using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A chunked dataset that grows along its first axis, whatever its element type: the shape, chunking, filters,
/// attributes and resizing that <see cref="H5Dataset{T}"/> and <see cref="H5StringDataset"/> share. Rows are
/// addressed by index along the first axis; a row holds <see cref="RowLength"/> elements in row-major order.
/// </summary>
public abstract class H5ExtensibleDataset : IDisposable
{
    // A variable-length element in a chunk on disk: its length (4 bytes) and a global heap id (an 8-byte address and
    // a 4-byte index). The lzf filter records a chunk's byte size, so it must be this size, not the 8-byte char*.
    internal const int StoredVariableLengthBytes = 16;

    private readonly ulong[] _rowShape;
    private long _rows;

    /// <summary>Wraps an open dataset, taking ownership of its handle and of the element type in memory.</summary>
    private protected H5ExtensibleDataset(H5DatasetHandle handle, H5Type memType, string path, ulong[] rowShape, long rows, long chunkRows, H5FilterPipeline filters)
    {
        Handle = handle;
        MemType = memType;
        Path = path;
        _rowShape = rowShape;
        _rows = rows;
        ChunkRows = chunkRows;
        Filters = filters;
        RowLength = (int)rowShape.Aggregate(1UL, (a, b) => a * b);
        Attributes = new H5Attributes(handle, path);
    }

    /// <summary>Path of the dataset in its file.</summary>
    public string Path { get; }

    /// <summary>Number of rows (the length of the first axis).</summary>
    public long Rows => _rows;

    /// <summary>Elements per row (1 for (n,), 3 for (n, 3), 9 for (n, 3, 3)).</summary>
    public int RowLength { get; }

    /// <summary>Shape of one row.</summary>
    public IReadOnlyList<ulong> RowShape => _rowShape;

    /// <summary>Rows per chunk; 0 when the dataset is not chunked.</summary>
    public long ChunkRows { get; }

    /// <summary>The dataset's filter pipeline.</summary>
    public H5FilterPipeline Filters { get; }

    /// <summary>The dataset's attributes.</summary>
    public H5Attributes Attributes { get; }

    private protected H5DatasetHandle Handle { get; }

    private protected H5Type MemType { get; }

    /// <summary>Sets the number of rows; shrinking drops the rows past the new end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">rows is negative.</exception>
    public void Resize(long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ulong[] dims = [(ulong)rows, .. _rowShape];
        H5Error.Check(H5D.SetExtent(Handle, dims), "H5Dset_extent", Path);
        _rows = rows;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        MemType.Dispose();
        Handle.Dispose();
    }

    /// <summary>Creates an empty dataset of (0, rowShape...) rows, unlimited along the first axis.</summary>
    private protected static H5DatasetHandle CreateHandle(H5Group parent, string name, string path, H5Type fileType, ulong[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "a chunk needs at least one row");
        ulong[] dims = [0, .. rowShape];
        ulong[] maxDims = [H5S.Unlimited, .. rowShape];
        ulong[] chunk = [(ulong)chunkRows, .. rowShape];
        bool variableLength = fileType.IsVariableString;

        using var space = H5Space.Simple(dims, maxDims);
        using var dcpl = H5Error.Check(H5P.Create(Hdf5Library.ClassDatasetCreate), "H5Pcreate", path);
        H5Error.Check(H5P.SetChunk(dcpl, chunk.Length, chunk), "H5Pset_chunk", path);
        // Every row is written before anyone reads it, so filling chunks with zeros first is wasted I/O; libhdf5
        // refuses this setting for variable-length types, though.
        if (!variableLength) H5Error.Check(H5P.SetFillTime(dcpl, H5D.FillTimeNever), "H5Pset_fill_time", path);
        // Timestamps in object headers would make two writes of the same data differ byte for byte.
        H5Error.Check(H5P.SetObjTrackTimes(dcpl, false), "H5Pset_obj_track_times", path);
        long elementBytes = variableLength ? StoredVariableLengthBytes : fileType.Size;
        long chunkBytes = chunkRows * (long)rowShape.Aggregate(1UL, (a, b) => a * b) * elementBytes;
        filters.Apply(dcpl, chunkBytes);
        return H5Error.Check(H5D.Create(parent.Handle, name, fileType.Handle, space.Handle, H5PropertyListHandle.Default, dcpl, H5PropertyListHandle.Default), "H5Dcreate2", path);
    }

    /// <summary>Opens a dataset with a chunk cache of chunkCacheBytes, or libhdf5's default cache when 0.</summary>
    private protected static H5DatasetHandle OpenHandle(H5Group parent, string name, string path, long chunkCacheBytes)
    {
        // libhdf5's default cache (1 MiB) cannot hold even one of our 1 MiB chunks, so every random read of a
        // compressed file would decompress again; readers that read at random pass a larger one.
        if (chunkCacheBytes <= 0)
            return H5Error.Check(H5D.Open(parent.Handle, name, H5PropertyListHandle.Default), "H5Dopen2", path);
        using var dapl = H5Error.Check(H5P.Create(Hdf5Library.ClassDatasetAccess), "H5Pcreate", path);
        // A prime number of hash slots, far more than chunks that fit, as the HDF5 guide advises.
        H5Error.Check(H5P.SetChunkCache(dapl, 10007, (nuint)chunkCacheBytes, 0.75), "H5Pset_chunk_cache", path);
        return H5Error.Check(H5D.Open(parent.Handle, name, dapl), "H5Dopen2", path);
    }

    /// <summary>
    /// Reads the extent, chunking and filters of an opened dataset, and whether its chunks span whole rows (chunk
    /// dimensions past the first equal the row shape), as this library creates them; another writer may split rows
    /// across chunks.
    /// </summary>
    /// <exception cref="InvalidDataException">The dataset is a scalar.</exception>
    private protected static (ulong[] RowShape, long Rows, long ChunkRows, H5FilterPipeline Filters, bool ChunksSpanRows) ReadLayout(H5DatasetHandle handle, string path)
    {
        using var space = new H5Space(H5Error.Check(H5D.GetSpace(handle), "H5Dget_space", path));
        var dims = space.Dims;
        if (dims.Length == 0) throw new InvalidDataException($"{path} is a scalar, expected an array");
        using var dcpl = H5Error.Check(H5D.GetCreatePlist(handle), "H5Dget_create_plist", path);
        long chunkRows = 0;
        bool spanRows = false;
        if (H5P.GetLayout(dcpl) == H5D.LayoutChunked)
        {
            var chunk = new ulong[dims.Length];
            H5Error.Check(H5P.GetChunk(dcpl, dims.Length, chunk), "H5Pget_chunk", path);
            chunkRows = (long)chunk[0];
            spanRows = chunk.AsSpan(1).SequenceEqual(dims.AsSpan(1));
        }
        return (dims[1..], (long)dims[0], chunkRows, H5FilterPipeline.Read(dcpl), spanRows);
    }

    /// <summary>The number of whole rows in length elements.</summary>
    /// <exception cref="ArgumentException">length is not a whole number of rows.</exception>
    private protected long RowsIn(int length)
    {
        if (RowLength == 0) return 0;
        if (length % RowLength != 0)
            throw new ArgumentException($"{length} values are not a whole number of rows of {RowLength} for {Path}");
        return length / RowLength;
    }

    /// <exception cref="ArgumentOutOfRangeException">Rows [startRow, startRow + rows) reach outside the extent.</exception>
    private protected void CheckWithin(long startRow, long rows)
    {
        if (startRow < 0 || startRow + rows > _rows)
            throw new ArgumentOutOfRangeException(nameof(startRow), $"rows [{startRow}, {startRow + rows}) lie outside {Path} with {_rows} rows");
    }

    /// <summary>Writes rows [startRow, startRow + rows) from a buffer of <see cref="MemType"/> elements.</summary>
    private protected unsafe void WriteRows(long startRow, long rows, void* buffer)
    {
        using var fileSpace = SelectRows(startRow, rows, out var memSpace);
        using (memSpace)
            H5Error.Check(H5D.Write(Handle, MemType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, buffer), "H5Dwrite", Path);
    }

    /// <summary>Selects rows [startRow, startRow + rows) in the file; memSpace gets the matching memory shape.</summary>
    /// <returns>The file space; the caller disposes it and memSpace.</returns>
    private protected H5Space SelectRows(long startRow, long rows, out H5Space memSpace)
    {
        ulong[] start = new ulong[_rowShape.Length + 1];
        start[0] = (ulong)startRow;
        ulong[] count = [(ulong)rows, .. _rowShape];
        var fileSpace = new H5Space(H5Error.Check(H5D.GetSpace(Handle), "H5Dget_space", Path));
        try
        {
            fileSpace.SelectBlock(start, count);
            memSpace = H5Space.Simple(count);
            return fileSpace;
        }
        catch
        {
            fileSpace.Dispose();
            throw;
        }
    }
}
