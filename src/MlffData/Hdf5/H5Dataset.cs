using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A chunked dataset of element type T that grows along its first axis: rows are appended, written or read as
/// flat row-major spans (a row of a (n, 3) dataset is 3 elements).
/// </summary>
public sealed class H5Dataset<T> : IDisposable where T : unmanaged
{
    private readonly H5DatasetHandle _handle;
    private readonly H5Type _memType;
    private readonly ulong[] _rowShape;
    private long _rows;

    private H5Dataset(H5DatasetHandle handle, string path, ulong[] rowShape, long rows, long chunkRows, H5FilterPipeline filters)
    {
        _handle = handle;
        Path = path;
        _rowShape = rowShape;
        _rows = rows;
        ChunkRows = chunkRows;
        Filters = filters;
        RowLength = (int)rowShape.Aggregate(1UL, (a, b) => a * b);
        _memType = H5Type.Memory<T>();
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

    /// <summary>Bytes the dataset occupies in the file (after compression).</summary>
    public long StorageSize => (long)H5D.GetStorageSize(_handle);

    internal static H5Dataset<T> Create(H5Group parent, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "a chunk needs at least one row");
        string path = parent.Child(name);
        var shape = rowShape.Select(d => (ulong)d).ToArray();
        ulong[] dims = [0, .. shape];
        ulong[] maxDims = [H5S.Unlimited, .. shape];
        ulong[] chunk = [(ulong)chunkRows, .. shape];

        using var fileType = H5Type.File<T>();
        using var space = H5Space.Simple(dims, maxDims);
        using var dcpl = H5Error.Check(H5P.Create(Hdf5Library.ClassDatasetCreate), "H5Pcreate", path);
        H5Error.Check(H5P.SetChunk(dcpl, chunk.Length, chunk), "H5Pset_chunk", path);
        // Every row is written before anyone reads it, so filling chunks with zeros first is wasted I/O.
        H5Error.Check(H5P.SetFillTime(dcpl, H5D.FillTimeNever), "H5Pset_fill_time", path);
        // Timestamps in object headers would make two writes of the same data differ byte for byte.
        H5Error.Check(H5P.SetObjTrackTimes(dcpl, false), "H5Pset_obj_track_times", path);
        long chunkBytes = chunkRows * (long)chunk.Skip(1).Aggregate(1UL, (a, b) => a * b) * fileType.Size;
        filters.Apply(dcpl, chunkBytes);
        var handle = H5Error.Check(H5D.Create(parent.Handle, name, fileType.Handle, space.Handle, H5PropertyListHandle.Default, dcpl, H5PropertyListHandle.Default), "H5Dcreate2", path);
        return new H5Dataset<T>(handle, path, shape, 0, chunkRows, filters);
    }

    /// <param name="parent">The group holding the dataset.</param>
    /// <param name="name">The dataset's name in it.</param>
    /// <param name="chunkCacheBytes">Size of this dataset's chunk cache; 0 keeps libhdf5's default (1 MiB), which
    /// cannot hold even one of our 1 MiB chunks, so every random read of a compressed file would decompress again.</param>
    internal static H5Dataset<T> Open(H5Group parent, string name, long chunkCacheBytes = 0)
    {
        string path = parent.Child(name);
        H5DatasetHandle handle;
        if (chunkCacheBytes > 0)
        {
            using var dapl = H5Error.Check(H5P.Create(Hdf5Library.ClassDatasetAccess), "H5Pcreate", path);
            // A prime number of hash slots, far more than chunks that fit, as the HDF5 guide advises.
            H5Error.Check(H5P.SetChunkCache(dapl, 10007, (nuint)chunkCacheBytes, 0.75), "H5Pset_chunk_cache", path);
            handle = H5Error.Check(H5D.Open(parent.Handle, name, dapl), "H5Dopen2", path);
        }
        else
        {
            handle = H5Error.Check(H5D.Open(parent.Handle, name, H5PropertyListHandle.Default), "H5Dopen2", path);
        }
        try
        {
            using (var type = new H5Type(H5Error.Check(H5D.GetType(handle), "H5Dget_type", path)))
                if (!type.Matches<T>())
                {
                    using var expected = H5Type.File<T>();
                    throw new InvalidDataException($"{path} has type {type.Describe()}, expected {expected.Describe()}");
                }
            using var space = new H5Space(H5Error.Check(H5D.GetSpace(handle), "H5Dget_space", path));
            var dims = space.Dims;
            if (dims.Length == 0) throw new InvalidDataException($"{path} is a scalar, expected an array");
            using var dcpl = H5Error.Check(H5D.GetCreatePlist(handle), "H5Dget_create_plist", path);
            long chunkRows = 0;
            if (H5P.GetLayout(dcpl) == H5D.LayoutChunked)
            {
                var chunk = new ulong[dims.Length];
                H5Error.Check(H5P.GetChunk(dcpl, dims.Length, chunk), "H5Pget_chunk", path);
                chunkRows = (long)chunk[0];
            }
            return new H5Dataset<T>(handle, path, dims[1..], (long)dims[0], chunkRows, H5FilterPipeline.Read(dcpl));
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
        Resize(_rows + rows);
        Write(_rows - rows, values);
    }

    /// <summary>Overwrites rows [startRow, startRow + n) with values; they must lie within the current extent.</summary>
    public unsafe void Write(long startRow, ReadOnlySpan<T> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        if (startRow < 0 || startRow + rows > _rows)
            throw new ArgumentOutOfRangeException(nameof(startRow), $"rows [{startRow}, {startRow + rows}) lie outside {Path} with {_rows} rows");
        using var fileSpace = SelectRows(startRow, rows, out var memSpace);
        using (memSpace)
        fixed (T* p = values)
            H5Error.Check(H5D.Write(_handle, _memType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dwrite", Path);
    }

    /// <summary>Reads rows [startRow, startRow + n) into destination, whose length sets n.</summary>
    public unsafe void Read(long startRow, Span<T> destination)
    {
        long rows = RowsIn(destination.Length);
        if (rows == 0) return;
        if (startRow < 0 || startRow + rows > _rows)
            throw new ArgumentOutOfRangeException(nameof(startRow), $"rows [{startRow}, {startRow + rows}) lie outside {Path} with {_rows} rows");
        using var fileSpace = SelectRows(startRow, rows, out var memSpace);
        using (memSpace)
        fixed (T* p = destination)
            H5Error.Check(H5D.Read(_handle, _memType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dread", Path);
    }

    /// <summary>Reads rowCount rows from startRow into a new array.</summary>
    public T[] Read(long startRow, long rowCount)
    {
        var values = new T[checked(rowCount * RowLength)];
        Read(startRow, values);
        return values;
    }

    /// <summary>Sets the number of rows; shrinking drops the rows past the new end.</summary>
    public void Resize(long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ulong[] dims = [(ulong)rows, .. _rowShape];
        H5Error.Check(H5D.SetExtent(_handle, dims), "H5Dset_extent", Path);
        _rows = rows;
    }

    private H5Space SelectRows(long startRow, long rows, out H5Space memSpace)
    {
        ulong[] start = new ulong[_rowShape.Length + 1];
        start[0] = (ulong)startRow;
        ulong[] count = [(ulong)rows, .. _rowShape];
        var fileSpace = new H5Space(H5Error.Check(H5D.GetSpace(_handle), "H5Dget_space", Path));
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

    private long RowsIn(int length)
    {
        if (RowLength == 0) return 0;
        if (length % RowLength != 0)
            throw new ArgumentException($"{length} values are not a whole number of rows of {RowLength} for {Path}");
        return length / RowLength;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _memType.Dispose();
        _handle.Dispose();
    }
}
