using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Link functions (H5Lpublic.h).</summary>
internal static partial class H5L
{
    internal const int IndexName = 0;
    internal const int IterInc = 0;

    /// <summary>H5L_TYPE_HARD: the only link type that cannot lead outside the file or to a path chosen at read time.</summary>
    internal const int TypeHard = 0;
    internal const int TypeSoft = 1;
    internal const int TypeExternal = 64;

    /// <summary>H5L_info_t (1.10): the link's type and, for a hard link, the object's address.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Info
    {
        public int Type;
        public byte CreationOrderValid;
        public long CreationOrder;
        public int Cset;
        /// <summary>A hard link's object address, or the size of a soft or user-defined link's value.</summary>
        public ulong AddressOrValueSize;
    }

    /// <summary>
    /// Calls op once per link of one group (not below it), in index order; idx is the resume position. op returns 0 to go
    /// on, positive to stop early (returned), negative to fail.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Literate")]
    internal static unsafe partial int Iterate(H5LocationHandle group, int indexType, int order, ref ulong idx,
        delegate* unmanaged[Cdecl]<long, byte*, Info*, void*, int> op, void* opData);

    /// <summary>Positive when the link exists, zero when not, negative on failure.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Lexists", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Exists(H5LocationHandle loc, string name, H5PropertyListHandle lapl);

    /// <summary>Name of the n-th link of a group; returns the name's length, negative on failure.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Lget_name_by_idx", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint GetNameByIdx(H5LocationHandle loc, string groupName, int indexType, int order, ulong n, byte* name, nuint size, H5PropertyListHandle lapl);
}
