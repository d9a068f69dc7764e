using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Dataspace functions (H5Spublic.h).</summary>
internal static partial class H5S
{
    internal const ulong Unlimited = ulong.MaxValue;
    internal const int ClassScalar = 0;
    internal const int SelectSet = 0;

    [LibraryImport(H5.Library, EntryPoint = "H5Screate")]
    internal static partial H5SpaceHandle Create(int spaceClass);

    [LibraryImport(H5.Library, EntryPoint = "H5Screate_simple")]
    internal static partial H5SpaceHandle CreateSimple(int rank, [In] ulong[] dims, [In] ulong[]? maxDims);

    [LibraryImport(H5.Library, EntryPoint = "H5Sclose")]
    internal static partial int Close(nint space);

    [LibraryImport(H5.Library, EntryPoint = "H5Sget_simple_extent_ndims")]
    internal static partial int GetSimpleExtentNdims(H5SpaceHandle space);

    [LibraryImport(H5.Library, EntryPoint = "H5Sget_simple_extent_dims")]
    internal static partial int GetSimpleExtentDims(H5SpaceHandle space, [Out] ulong[] dims, [Out] ulong[]? maxDims);

    [LibraryImport(H5.Library, EntryPoint = "H5Sget_simple_extent_npoints")]
    internal static partial long GetSimpleExtentNpoints(H5SpaceHandle space);

    [LibraryImport(H5.Library, EntryPoint = "H5Sselect_hyperslab")]
    internal static partial int SelectHyperslab(H5SpaceHandle space, int op, [In] ulong[] start, [In] ulong[]? stride, [In] ulong[] count, [In] ulong[]? block);
}
