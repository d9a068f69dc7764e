using System.Runtime.InteropServices;
using System.Text;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A chunked dataset of variable-length strings that grows along its first axis, the string twin of
/// <see cref="H5Dataset{T}"/>: what h5py writes for <c>create_dataset(name, data=[...], dtype=h5py.string_dtype())</c>
/// and reads back with <c>.asstr()</c>. Rows are appended, written or read as flat row-major spans of strings.
/// </summary>
public sealed class H5StringDataset : IDisposable
{
    // A variable-length element in a chunk on disk: its length (4 bytes) and a global heap id (an 8-byte address and
    // a 4-byte index). The lzf filter records a chunk's byte size, so it must be this size, not the 8-byte char*.
    private const int StoredElementBytes = 16;

    private readonly H5DatasetHandle _handle;
    private readonly H5Type _memType;
    private readonly ulong[] _rowShape;
    private long _rows;

    private H5StringDataset(H5DatasetHandle handle, H5Type memType, string path, ulong[] rowShape, long rows, long chunkRows, H5FilterPipeline filters)
    {
        _handle = handle;
        _memType = memType;
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

    /// <summary>Strings per row (1 for (n,)).</summary>
    public int RowLength { get; }

    /// <summary>Shape of one row.</summary>
    public IReadOnlyList<ulong> RowShape => _rowShape;

    /// <summary>Rows per chunk; 0 when the dataset is not chunked.</summary>
    public long ChunkRows { get; }

    /// <summary>The dataset's filter pipeline.</summary>
    public H5FilterPipeline Filters { get; }

    /// <summary>The dataset's attributes.</summary>
    public H5Attributes Attributes { get; }

    internal static H5StringDataset Create(H5Group parent, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "a chunk needs at least one row");
        string path = parent.Child(name);
        var shape = rowShape.Select(d => (ulong)d).ToArray();
        ulong[] dims = [0, .. shape];
        ulong[] maxDims = [H5S.Unlimited, .. shape];
        ulong[] chunk = [(ulong)chunkRows, .. shape];

        var type = H5Type.Utf8String();
        try
        {
            using var space = H5Space.Simple(dims, maxDims);
            using var dcpl = H5Error.Check(H5P.Create(Hdf5Library.ClassDatasetCreate), "H5Pcreate", path);
            H5Error.Check(H5P.SetChunk(dcpl, chunk.Length, chunk), "H5Pset_chunk", path);
            // Unlike H5Dataset, no H5Pset_fill_time(NEVER): libhdf5 refuses it for variable-length types.
            H5Error.Check(H5P.SetObjTrackTimes(dcpl, false), "H5Pset_obj_track_times", path);
            long chunkBytes = chunkRows * (long)shape.Aggregate(1UL, (a, b) => a * b) * StoredElementBytes;
            filters.Apply(dcpl, chunkBytes);
            var handle = H5Error.Check(H5D.Create(parent.Handle, name, type.Handle, space.Handle, H5PropertyListHandle.Default, dcpl, H5PropertyListHandle.Default), "H5Dcreate2", path);
            return new H5StringDataset(handle, type, path, shape, 0, chunkRows, filters);
        }
        catch
        {
            type.Dispose();
            throw;
        }
    }

    internal static H5StringDataset Open(H5Group parent, string name)
    {
        string path = parent.Child(name);
        var handle = H5Error.Check(H5D.Open(parent.Handle, name, H5PropertyListHandle.Default), "H5Dopen2", path);
        H5Type? type = null;
        try
        {
            // The file's own type doubles as the memory type: a variable-length string is a char* in memory, and
            // keeping the file's character set (ASCII from some writers) spares libhdf5 a conversion it refuses.
            type = new H5Type(H5Error.Check(H5D.GetType(handle), "H5Dget_type", path));
            if (!type.IsVariableString)
                throw new InvalidDataException($"{path} has type {type.Describe()}, expected string (variable length)");
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
            return new H5StringDataset(handle, type, path, dims[1..], (long)dims[0], chunkRows, H5FilterPipeline.Read(dcpl));
        }
        catch
        {
            type?.Dispose();
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Appends whole rows at the end, growing the dataset.</summary>
    /// <exception cref="ArgumentException">values is not a whole number of rows, or holds a null string.</exception>
    public void Append(ReadOnlySpan<string> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        // Checked before the dataset grows, so a bad value leaves no empty rows behind.
        foreach (var value in values)
            if (value is null) throw new ArgumentException($"A string written to {Path} is null", nameof(values));
        Resize(_rows + rows);
        Write(_rows - rows, values);
    }

    /// <summary>Overwrites rows [startRow, startRow + n) with values; they must lie within the current extent.</summary>
    /// <exception cref="ArgumentException">values is not a whole number of rows, or holds a null string.</exception>
    public unsafe void Write(long startRow, ReadOnlySpan<string> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        if (startRow < 0 || startRow + rows > _rows)
            throw new ArgumentOutOfRangeException(nameof(startRow), $"rows [{startRow}, {startRow + rows}) lie outside {Path} with {_rows} rows");

        // All strings go into one native block of null-terminated UTF-8, with an array of char* into it: the memory
        // layout of a variable-length string buffer. H5Dwrite copies the text into the file's heap, so the block
        // lives only for the call.
        nuint total = 0;
        foreach (var value in values)
        {
            if (value is null) throw new ArgumentException($"A string written to {Path} is null", nameof(values));
            total += (nuint)Encoding.UTF8.GetByteCount(value) + 1;
        }
        byte* text = (byte*)NativeMemory.Alloc(total);
        nint* pointers = (nint*)NativeMemory.Alloc((nuint)values.Length, (nuint)sizeof(nint));
        try
        {
            byte* next = text;
            for (int i = 0; i < values.Length; i++)
            {
                int n = Encoding.UTF8.GetBytes(values[i], new Span<byte>(next, (int)(total - (nuint)(next - text))));
                next[n] = 0;
                pointers[i] = (nint)next;
                next += n + 1;
            }
            using var fileSpace = SelectRows(startRow, rows, out var memSpace);
            using (memSpace)
                H5Error.Check(H5D.Write(_handle, _memType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, pointers), "H5Dwrite", Path);
        }
        finally
        {
            NativeMemory.Free(pointers);
            NativeMemory.Free(text);
        }
    }

    /// <summary>Reads rowCount rows from startRow into a new array; a null string in the file reads as "".</summary>
    public unsafe string[] Read(long startRow, long rowCount)
    {
        var values = new string[checked(rowCount * RowLength)];
        if (values.Length == 0) return values;
        if (startRow < 0 || startRow + rowCount > _rows)
            throw new ArgumentOutOfRangeException(nameof(startRow), $"rows [{startRow}, {startRow + rowCount}) lie outside {Path} with {_rows} rows");
        var pointers = new nint[values.Length];
        using var fileSpace = SelectRows(startRow, rowCount, out var memSpace);
        using (memSpace)
        fixed (nint* p = pointers)
        {
            H5Error.Check(H5D.Read(_handle, _memType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dread", Path);
            try
            {
                for (int i = 0; i < values.Length; i++)
                    values[i] = pointers[i] == 0 ? "" : Marshal.PtrToStringUTF8(pointers[i]) ?? "";
            }
            finally
            {
                // The library allocated every string; it must also free them.
                H5D.VlenReclaim(_memType.Handle, memSpace.Handle, H5PropertyListHandle.Default, p);
            }
        }
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
