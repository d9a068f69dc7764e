using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>A group: creates and opens child groups and datasets, and carries attributes.</summary>
public class H5Group : IDisposable
{
    internal H5Group(H5LocationHandle handle, string path)
    {
        Handle = handle;
        Path = path;
        Attributes = new H5Attributes(handle, path);
    }

    internal H5LocationHandle Handle { get; }

    /// <summary>Path of the group in its file ("/" for the root), or the file name for a file.</summary>
    public string Path { get; }

    /// <summary>The group's attributes.</summary>
    public H5Attributes Attributes { get; }

    /// <summary>Creates a child group.</summary>
    public H5Group CreateGroup(string name) =>
        new(H5Error.Check(H5G.Create(Handle, name, H5PropertyListHandle.Default, H5PropertyListHandle.Default, H5PropertyListHandle.Default), "H5Gcreate2", Child(name)), Child(name));

    /// <summary>Opens a child group.</summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such group.</exception>
    public H5Group OpenGroup(string name) =>
        new(H5Error.Check(H5G.Open(Handle, name, H5PropertyListHandle.Default), "H5Gopen2", Child(name)), Child(name));

    /// <summary>True when a link of that name (a relative path is allowed) exists.</summary>
    public bool Contains(string name)
    {
        // H5Lexists fails rather than answering false when an intermediate group is missing: walk the path.
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i <= parts.Length; i++)
            if (H5Error.Check(H5L.Exists(Handle, string.Join('/', parts, 0, i), H5PropertyListHandle.Default), "H5Lexists", Child(name)) <= 0)
                return false;
        return true;
    }

    /// <summary>What a child is: "group", "dataset", "other", or null when it does not exist.</summary>
    public string? KindOf(string name)
    {
        if (!Contains(name)) return null;
        long id = H5O.Open(Handle, name, H5PropertyListHandle.Default);
        if (id < 0) H5Error.Throw("H5Oopen", Child(name));
        try
        {
            using var probe = new H5GroupHandleProbe(id);
            return H5I.GetType(probe) switch { H5I.TypeGroup => "group", H5I.TypeDataset => "dataset", _ => "other" };
        }
        finally
        {
            H5O.Close(id);
        }
    }

    /// <summary>Names of the group's links, in name order.</summary>
    public unsafe IReadOnlyList<string> MemberNames()
    {
        H5Error.Check(H5G.GetInfo(Handle, out var info), "H5Gget_info", Path);
        var names = new List<string>((int)info.NumLinks);
        for (ulong i = 0; i < info.NumLinks; i++)
        {
            nint length = (nint)H5Error.Check(H5L.GetNameByIdx(Handle, ".", H5L.IndexName, H5L.IterInc, i, null, 0, H5PropertyListHandle.Default), "H5Lget_name_by_idx", Path);
            var buffer = new byte[length + 1];
            fixed (byte* p = buffer)
                H5Error.Check(H5L.GetNameByIdx(Handle, ".", H5L.IndexName, H5L.IterInc, i, p, (nuint)buffer.Length, H5PropertyListHandle.Default), "H5Lget_name_by_idx", Path);
            names.Add(Encoding.UTF8.GetString(buffer, 0, (int)length));
        }
        return names;
    }

    /// <summary>
    /// Paths, relative to this group, of every dataset below it at any depth, each group's members in name order.
    /// Like h5py's <c>visititems</c> it follows hard links only and meets an object linked twice once.
    /// </summary>
    public unsafe IReadOnlyList<string> WalkDatasets()
    {
        var paths = new List<string>();
        var gc = GCHandle.Alloc(paths);
        try
        {
            H5Error.Check(H5O.Visit(Handle, H5L.IndexName, H5L.IterInc, &CollectDataset, (void*)GCHandle.ToIntPtr(gc), H5O.InfoBasic), "H5Ovisit2", Path);
        }
        finally
        {
            gc.Free();
        }
        return paths;
    }

    /// <summary>Dtype, shape, chunks, filters and sizes of a dataset (a relative path is allowed), whatever its type.</summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such dataset.</exception>
    public H5DatasetDescription Describe(string name)
    {
        using var dataset = H5Error.Check(H5D.Open(Handle, name, H5PropertyListHandle.Default), "H5Dopen2", Child(name));
        return H5DatasetDescription.Read(dataset, Child(name));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int CollectDataset(long location, byte* name, H5O.BasicInfo* info, void* data)
    {
        // Runs inside libhdf5: never let an exception unwind through native frames.
        try
        {
            if (info->Type == H5O.TypeDataset)
                ((List<string>)GCHandle.FromIntPtr((nint)data).Target!).Add(Marshal.PtrToStringUTF8((nint)name) ?? "");
            return 0;
        }
        catch
        {
            return -1;
        }
    }

    /// <summary>Creates a chunked dataset extensible along its first axis, with zero rows.</summary>
    /// <param name="name">Name of the dataset in this group.</param>
    /// <param name="rowShape">Shape of one row: [] for (n,), [3] for (n, 3), [3, 3] for (n, 3, 3).</param>
    /// <param name="chunkRows">Rows per chunk along the first axis.</param>
    /// <param name="filters">Filter pipeline; null for none.</param>
    public H5Dataset<T> CreateDataset<T>(string name, int[] rowShape, long chunkRows, H5FilterPipeline? filters = null) where T : unmanaged =>
        H5Dataset<T>.Create(this, name, rowShape, chunkRows, filters ?? H5FilterPipeline.None);

    /// <summary>Opens a dataset of element type T, checking that its file type matches.</summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such dataset.</exception>
    /// <exception cref="InvalidDataException">The dataset's type does not match T.</exception>
    public H5Dataset<T> OpenDataset<T>(string name) where T : unmanaged => H5Dataset<T>.Open(this, name);

    /// <summary>Creates a chunked variable-length UTF-8 string dataset extensible along its first axis, with zero rows.</summary>
    /// <param name="name">Name of the dataset in this group.</param>
    /// <param name="rowShape">Shape of one row: [] for (n,), [k] for (n, k).</param>
    /// <param name="chunkRows">Rows per chunk along the first axis.</param>
    /// <param name="filters">Filter pipeline; null for none.</param>
    public H5StringDataset CreateStringDataset(string name, int[] rowShape, long chunkRows, H5FilterPipeline? filters = null) =>
        H5StringDataset.Create(this, name, rowShape, chunkRows, filters ?? H5FilterPipeline.None);

    /// <summary>Opens a variable-length string dataset.</summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such dataset.</exception>
    /// <exception cref="InvalidDataException">The dataset does not hold variable-length strings.</exception>
    public H5StringDataset OpenStringDataset(string name) => H5StringDataset.Open(this, name);

    /// <summary>
    /// Sets the number of rows (the first dimension) of a dataset of any type, keeping the other dimensions; shrinking
    /// drops the rows past the new end. Used to cut a file back to its last checkpoint.
    /// </summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such dataset.</exception>
    /// <exception cref="H5Exception">The dataset is not chunked and extensible that far.</exception>
    /// <returns>Whether the number of rows changed.</returns>
    public bool SetRows(string name, long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        using var dataset = H5Error.Check(H5D.Open(Handle, name, H5PropertyListHandle.Default), "H5Dopen2", Child(name));
        var dims = H5DatasetDescription.Read(dataset, Child(name)).Shape.ToArray();
        if (dims.Length == 0) throw new InvalidOperationException($"{Child(name)} is a scalar; it has no rows");
        if (dims[0] == (ulong)rows) return false;
        dims[0] = (ulong)rows;
        H5Error.Check(H5D.SetExtent(dataset, dims), "H5Dset_extent", Child(name));
        return true;
    }

    /// <summary>
    /// Writes one whole chunk of a numeric dataset anew from its first <paramref name="rows"/>' bytes (in the dataset's
    /// own type), the rest of the chunk zeros, and leaves the dataset with <paramref name="extent"/> rows: the chunk is
    /// written whole, so libhdf5 never reads the copy on disk (which may be damaged) to merge into.
    /// </summary>
    /// <param name="name">The dataset.</param>
    /// <param name="start">The chunk's first row.</param>
    /// <param name="rows">Bytes of the chunk's rows from start, at most a chunk.</param>
    /// <param name="extent">The rows the dataset has afterwards.</param>
    /// <exception cref="H5Exception">The write failed.</exception>
    public unsafe void RewriteChunk(string name, long start, ReadOnlySpan<byte> rows, long extent)
    {
        string path = Child(name);
        using var dataset = H5Error.Check(H5D.Open(Handle, name, H5PropertyListHandle.Default), "H5Dopen2", path);
        using var type = new H5Type(H5Error.Check(H5D.GetType(dataset), "H5Dget_type", path));
        var description = H5DatasetDescription.Read(dataset, path);
        var dims = description.Shape.ToArray();
        long chunkRows = (long)(description.Chunks?[0] ?? throw new InvalidOperationException($"{path} is not chunked"));
        long rowBytes = type.Size * (long)dims[1..].Aggregate(1UL, (a, b) => a * b);
        if (rows.Length > chunkRows * rowBytes || rows.Length % rowBytes != 0)
            throw new ArgumentException($"{rows.Length} bytes are not whole rows of one chunk of {path}", nameof(rows));
        var chunk = new byte[chunkRows * rowBytes];
        rows.CopyTo(chunk);
        dims[0] = Math.Max(dims[0], (ulong)(start + chunkRows));
        H5Error.Check(H5D.SetExtent(dataset, dims), "H5Dset_extent", path);
        using (var fileSpace = new H5Space(H5Error.Check(H5D.GetSpace(dataset), "H5Dget_space", path)))
        {
            ulong[] offset = new ulong[dims.Length];
            offset[0] = (ulong)start;
            ulong[] count = [(ulong)chunkRows, .. dims[1..]];
            fileSpace.SelectBlock(offset, count);
            using var memSpace = H5Space.Simple(count);
            fixed (byte* p = chunk)
                H5Error.Check(H5D.Write(dataset, type.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dwrite", path);
        }
        dims[0] = (ulong)extent;
        H5Error.Check(H5D.SetExtent(dataset, dims), "H5Dset_extent", path);
    }

    /// <summary>
    /// Reads the last of a dataset's first <paramref name="rows"/> rows in its own type, whatever that is, and drops it:
    /// libhdf5 reads the whole chunk holding it through the filters, so a chunk that fails its checksum, or cannot be
    /// decompressed, fails here. Variable-length text is skipped (its heap is outside every chunk and checksum).
    /// </summary>
    /// <exception cref="H5Exception">The chunk cannot be read back.</exception>
    public unsafe void ReadLastRow(string name, long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        string path = Child(name);
        using var dataset = H5Error.Check(H5D.Open(Handle, name, H5PropertyListHandle.Default), "H5Dopen2", path);
        using var type = new H5Type(H5Error.Check(H5D.GetType(dataset), "H5Dget_type", path));
        if (type.IsVariableString) return;
        using var fileSpace = new H5Space(H5Error.Check(H5D.GetSpace(dataset), "H5Dget_space", path));
        var dims = fileSpace.Dims;
        ulong[] start = new ulong[dims.Length];
        start[0] = (ulong)(rows - 1);
        ulong[] count = [1, .. dims[1..]];
        fileSpace.SelectBlock(start, count);
        using var memSpace = H5Space.Simple(count);
        long bytes = type.Size * (long)count.Aggregate(1UL, (a, b) => a * b);
        var buffer = new byte[bytes];
        fixed (byte* p = buffer)
            H5Error.Check(H5D.Read(dataset, type.Handle, memSpace.Handle, fileSpace.Handle, H5PropertyListHandle.Default, p), "H5Dread", path);
    }

    internal string Child(string name) => Path.EndsWith('/') ? Path + name : $"{Path}/{name}";

    /// <inheritdoc />
    public virtual void Dispose()
    {
        Handle.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A non-owning view of an id opened by H5Oopen, so H5Iget_type can take it.</summary>
    private sealed class H5GroupHandleProbe : H5Handle
    {
        internal H5GroupHandleProbe(long id) : base(id, ownsHandle: false) { }

        protected override bool ReleaseHandle() => true;
    }
}
