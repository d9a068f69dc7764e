using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Dataset functions (H5Dpublic.h).</summary>
internal static partial class H5D
{
    internal const int LayoutChunked = 2;
    internal const int FillTimeNever = 2;
    internal const int AllocTimeIncr = 3;

    [LibraryImport(H5.Library, EntryPoint = "H5Dcreate2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5DatasetHandle Create(H5LocationHandle loc, string name, H5TypeHandle type, H5SpaceHandle space, H5PropertyListHandle lcpl, H5PropertyListHandle dcpl, H5PropertyListHandle dapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Dopen2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5DatasetHandle Open(H5LocationHandle loc, string name, H5PropertyListHandle dapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Dclose")]
    internal static partial int Close(nint dataset);

    [LibraryImport(H5.Library, EntryPoint = "H5Dget_space")]
    internal static partial H5SpaceHandle GetSpace(H5DatasetHandle dataset);

    [LibraryImport(H5.Library, EntryPoint = "H5Dget_type")]
    internal static partial H5TypeHandle GetType(H5DatasetHandle dataset);

    [LibraryImport(H5.Library, EntryPoint = "H5Dget_create_plist")]
    internal static partial H5PropertyListHandle GetCreatePlist(H5DatasetHandle dataset);

    [LibraryImport(H5.Library, EntryPoint = "H5Dget_storage_size")]
    internal static partial ulong GetStorageSize(H5DatasetHandle dataset);

    [LibraryImport(H5.Library, EntryPoint = "H5Dset_extent")]
    internal static partial int SetExtent(H5DatasetHandle dataset, [In] ulong[] size);

    [LibraryImport(H5.Library, EntryPoint = "H5Dwrite")]
    internal static unsafe partial int Write(H5DatasetHandle dataset, H5TypeHandle memType, H5SpaceHandle memSpace, H5SpaceHandle fileSpace, H5PropertyListHandle xfer, void* buffer);

    [LibraryImport(H5.Library, EntryPoint = "H5Dread")]
    internal static unsafe partial int Read(H5DatasetHandle dataset, H5TypeHandle memType, H5SpaceHandle memSpace, H5SpaceHandle fileSpace, H5PropertyListHandle xfer, void* buffer);

    /// <summary>Frees the memory H5Dread allocated for the variable-length elements of buffer (1.10's name; 1.12 calls it H5Treclaim).</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Dvlen_reclaim")]
    internal static unsafe partial int VlenReclaim(H5TypeHandle type, H5SpaceHandle space, H5PropertyListHandle xfer, void* buffer);

    /// <summary>
    /// Writes one chunk's bytes as they are stored, already through the filters that filters (a mask of the skipped
    /// ones, 0 for all applied) says, at the chunk whose first element is offset (direct chunk write, 1.10.3+).
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Dwrite_chunk")]
    internal static unsafe partial int WriteChunk(H5DatasetHandle dataset, H5PropertyListHandle xfer, uint filters, [In] ulong[] offset, nuint size, void* buffer);

    /// <summary>
    /// Reads one chunk's bytes as they are stored, after the filters that filters (set to a mask of the skipped ones)
    /// says, from the chunk whose first element is offset (direct chunk read, 1.10.2+); buffer must hold
    /// the size <see cref="GetChunkInfoByCoord"/> gives.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Dread_chunk")]
    internal static unsafe partial int ReadChunk(H5DatasetHandle dataset, H5PropertyListHandle xfer, [In] ulong[] offset, out uint filters, void* buffer);

    /// <summary>
    /// The filter mask, file address and stored size of the chunk whose first element is offset (1.10.5+); a chunk
    /// never written gets size 0, where H5Dget_chunk_storage_size fails instead.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Dget_chunk_info_by_coord")]
    internal static partial int GetChunkInfoByCoord(H5DatasetHandle dataset, [In] ulong[] offset, out uint filterMask, out ulong address, out ulong bytes);
}
