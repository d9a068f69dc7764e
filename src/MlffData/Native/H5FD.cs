using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// Virtual file driver functions (H5FDpublic.h): just enough to register a driver that is libhdf5's own sec2 driver
/// with a few of its entries wrapped (see <see cref="Hdf5.RollbackFileDriver"/>).
/// </summary>
internal static partial class H5FD
{
    /// <summary>
    /// H5FD_class_t as libhdf5 1.10 lays it out on a 64-bit machine (the 1.12 and 1.14 tables differ). Every entry is a
    /// function pointer or a size; the driver copies sec2's table and replaces a few, so it never calls one by hand that
    /// it did not check.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Class
    {
        public nint Name;
        public ulong MaxAddress;
        public int CloseDegree;
        public nint Terminate, SuperblockSize, SuperblockEncode, SuperblockDecode;
        public nuint FaplSize;
        public nint FaplGet, FaplCopy, FaplFree;
        public nuint DxplSize;
        public nint DxplCopy, DxplFree;
        public nint Open, Close, Compare, Query, GetTypeMap, Alloc, Free, GetEoa, SetEoa, GetEof, GetHandle;
        public nint Read, Write, Flush, Truncate, Lock, Unlock;
        public FreeListMap FreeLists;
    }

    /// <summary>fl_map[H5FD_MEM_NTYPES]: which free list each kind of file memory uses.</summary>
    [InlineArray(MemoryTypes)]
    internal struct FreeListMap
    {
        private int _element;
    }

    /// <summary>H5FD_MEM_NTYPES: default, super, btree, draw, gheap, lheap, ohdr.</summary>
    internal const int MemoryTypes = 7;

    /// <summary>H5FD_MEM_DEFAULT.</summary>
    internal const int MemoryDefault = 0;

    /// <summary>H5FD_t begins with the driver id and then the class pointer (stable in every version).</summary>
    internal const int ClassPointerOffset = 8;

    [LibraryImport(H5.Library, EntryPoint = "H5FDregister")]
    internal static unsafe partial long Register(Class* driverClass);

    [LibraryImport(H5.Library, EntryPoint = "H5FDopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint Open(string name, uint flags, H5PropertyListHandle fapl, ulong maxAddress);

    [LibraryImport(H5.Library, EntryPoint = "H5FDclose")]
    internal static partial int Close(nint file);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_fapl_sec2")]
    internal static partial int SetFaplSec2(H5PropertyListHandle fapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Pset_driver")]
    internal static partial int SetDriver(H5PropertyListHandle fapl, long driver, nint driverInfo);
}
