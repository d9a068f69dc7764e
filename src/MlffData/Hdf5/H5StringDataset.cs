using System.Runtime.InteropServices;
using System.Text;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A chunked dataset of variable-length strings that grows along its first axis, the string twin of
/// <see cref="H5Dataset{T}"/>: what h5py writes for <c>create_dataset(name, data=[...], dtype=h5py.string_dtype())</c>
/// and reads back with <c>.asstr()</c>. Rows are appended, written or read as flat row-major spans of strings.
/// </summary>
public sealed class H5StringDataset : H5ExtensibleDataset
{
    private H5StringDataset(H5DatasetHandle handle, H5Type memType, string path, ulong[] rowShape, long rows, long chunkRows, H5FilterPipeline filters)
        : base(handle, memType, path, rowShape, rows, chunkRows, filters)
    {
    }

    internal static H5StringDataset Create(H5Group parent, string name, int[] rowShape, long chunkRows, H5FilterPipeline filters)
    {
        string path = parent.Child(name);
        var shape = rowShape.Select(d => (ulong)d).ToArray();
        var type = H5Type.Utf8String();
        try
        {
            var handle = CreateHandle(parent, name, path, type, shape, chunkRows, filters);
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
        var handle = OpenHandle(parent, name, path, chunkCacheBytes: 0);
        H5Type? type = null;
        try
        {
            // The file's own type doubles as the memory type: a variable-length string is a char* in memory, and
            // keeping the file's character set (ASCII from some writers) spares libhdf5 a conversion it refuses.
            type = new H5Type(H5Error.Check(H5D.GetType(handle), "H5Dget_type", path));
            if (!type.IsVariableString)
                throw new InvalidDataException($"{path} has type {type.Describe()}, expected string (variable length)");
            var (rowShape, rows, chunkRows, filters, _) = ReadLayout(handle, path);
            return new H5StringDataset(handle, type, path, rowShape, rows, chunkRows, filters);
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
        Resize(Rows + rows);
        Write(Rows - rows, values);
    }

    /// <summary>Overwrites rows [startRow, startRow + n) with values; they must lie within the current extent.</summary>
    /// <exception cref="ArgumentException">values is not a whole number of rows, or holds a null string.</exception>
    public unsafe void Write(long startRow, ReadOnlySpan<string> values)
    {
        long rows = RowsIn(values.Length);
        if (rows == 0) return;
        CheckWithin(startRow, rows);

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
            WriteRows(startRow, rows, pointers);
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
        CheckWithin(startRow, rowCount);
        var pointers = new nint[values.Length];
        using var fileSpace = SelectRows(startRow, rowCount, out var memSpace);
        using (memSpace)
        fixed (nint* p = pointers)
        {
            H5Error.Check(H5D.Read(Handle, MemType.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dread", Path);
            try
            {
                for (int i = 0; i < values.Length; i++)
                    values[i] = pointers[i] == 0 ? "" : Marshal.PtrToStringUTF8(pointers[i]) ?? "";
            }
            finally
            {
                // The library allocated every string; it must also free them.
                H5D.VlenReclaim(MemType.Handle, memSpace.Handle, H5PropertyListHandle.Default, p);
            }
        }
        return values;
    }
}
