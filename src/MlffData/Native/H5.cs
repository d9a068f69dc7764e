using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>libhdf5's library-level functions (H5public.h).</summary>
internal static partial class H5
{
    internal const string Library = "hdf5";

    [LibraryImport(Library, EntryPoint = "H5open")]
    internal static partial int Open();

    [LibraryImport(Library, EntryPoint = "H5dont_atexit")]
    internal static partial int DontAtExit();

    [LibraryImport(Library, EntryPoint = "H5get_libversion")]
    internal static partial int GetLibVersion(out uint major, out uint minor, out uint release);

    [LibraryImport(Library, EntryPoint = "H5free_memory")]
    internal static partial int FreeMemory(nint buffer);

    /// <summary>Memory that the library may free or reallocate (filter buffers); zero-filled when clear is true.</summary>
    [LibraryImport(Library, EntryPoint = "H5allocate_memory")]
    internal static partial nint AllocateMemory(nuint size, [MarshalAs(UnmanagedType.U1)] bool clear);
}
