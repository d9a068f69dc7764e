using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>File functions (H5Fpublic.h).</summary>
internal static partial class H5F
{
    internal const uint AccRdonly = 0x0000;
    internal const uint AccRdwr = 0x0001;
    internal const uint AccTrunc = 0x0002;
    internal const uint AccExcl = 0x0004;

    internal const int ScopeLocal = 0;

    internal const uint ObjFile = 0x0001;
    internal const uint ObjAll = 0x001F;

    [LibraryImport(H5.Library, EntryPoint = "H5Fcreate", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5FileHandle Create(string name, uint flags, H5PropertyListHandle fcpl, H5PropertyListHandle fapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Fopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5FileHandle Open(string name, uint flags, H5PropertyListHandle fapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Fclose")]
    internal static partial int Close(nint file);

    /// <summary>The virtual file driver's handle; for the default sec2 driver a pointer to the int file descriptor.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Fget_vfd_handle")]
    internal static unsafe partial int GetVfdHandle(H5LocationHandle file, H5PropertyListHandle fapl, void** fileHandle);

    [LibraryImport(H5.Library, EntryPoint = "H5Fflush")]
    internal static partial int Flush(H5LocationHandle obj, int scope);

    /// <summary>Open ids of the given kinds in one file, or in all files when file is H5F_OBJ_ALL.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Fget_obj_count")]
    internal static partial nint GetObjCount(long file, uint types);

    [LibraryImport(H5.Library, EntryPoint = "H5Fget_filesize")]
    internal static partial int GetFileSize(H5FileHandle file, out ulong size);

    [LibraryImport(H5.Library, EntryPoint = "H5Fincrement_filesize")]
    internal static partial int IncrementFileSize(H5LocationHandle file, ulong increment);
}
