using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Property list functions (H5Ppublic.h). Class ids come from <see cref="Hdf5Library"/>.</summary>
internal static partial class H5P
{
    [LibraryImport(H5.Library, EntryPoint = "H5Pcreate")]
    internal static partial H5PropertyListHandle Create(long propertyListClass);

    [LibraryImport(H5.Library, EntryPoint = "H5Pclose")]
    internal static partial int Close(nint plist);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_chunk")]
    internal static partial int SetChunk(H5PropertyListHandle dcpl, int rank, [In] ulong[] dims);

    /// <summary>Rank of the chunk; fills dims up to maxRank.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Pget_chunk")]
    internal static partial int GetChunk(H5PropertyListHandle dcpl, int maxRank, [Out] ulong[] dims);

    /// <summary>H5D_VIRTUAL: a dataset whose data is mapped from other datasets, possibly in other files.</summary>
    internal const int LayoutVirtual = 3;

    [LibraryImport(H5.Library, EntryPoint = "H5Pget_layout")]
    internal static partial int GetLayout(H5PropertyListHandle dcpl);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_deflate")]
    internal static partial int SetDeflate(H5PropertyListHandle dcpl, uint level);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_shuffle")]
    internal static partial int SetShuffle(H5PropertyListHandle dcpl);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_fletcher32")]
    internal static partial int SetFletcher32(H5PropertyListHandle dcpl);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_filter")]
    internal static partial int SetFilter(H5PropertyListHandle dcpl, int filter, uint flags, nuint cdNelmts, [In] uint[] cdValues);

    [LibraryImport(H5.Library, EntryPoint = "H5Pget_nfilters")]
    internal static partial int GetNfilters(H5PropertyListHandle dcpl);

    [LibraryImport(H5.Library, EntryPoint = "H5Pget_filter2")]
    internal static unsafe partial int GetFilter(H5PropertyListHandle dcpl, uint index, out uint flags, ref nuint cdNelmts, uint* cdValues, nuint nameLength, byte* name, out uint filterConfig);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_fill_time")]
    internal static partial int SetFillTime(H5PropertyListHandle dcpl, int fillTime);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_chunk_cache")]
    internal static partial int SetChunkCache(H5PropertyListHandle dapl, nuint slots, nuint bytes, double w0);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_obj_track_times")]
    internal static partial int SetObjTrackTimes(H5PropertyListHandle ocpl, [MarshalAs(UnmanagedType.U1)] bool track);

    /// <summary>Number of external files the dataset's raw data lives in; 0 for data stored in the HDF5 file itself.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Pget_external_count")]
    internal static partial int GetExternalCount(H5PropertyListHandle dcpl);

    /// <summary>
    /// Whether opening the file takes libhdf5's flock (use), and whether a file system without flock support is then
    /// accepted silently (ignoreWhenDisabled). 1.10.7+; HDF5_USE_FILE_LOCKING, when set, overrides both.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Pset_file_locking")]
    internal static partial int SetFileLocking(H5PropertyListHandle fapl, [MarshalAs(UnmanagedType.U1)] bool use, [MarshalAs(UnmanagedType.U1)] bool ignoreWhenDisabled);
}
