using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Object functions (H5Opublic.h).</summary>
internal static partial class H5O
{
    /// <summary>H5O_TYPE_DATASET.</summary>
    internal const int TypeDataset = 1;

    /// <summary>H5O_TYPE_GROUP.</summary>
    internal const int TypeGroup = 0;

    /// <summary>H5O_TYPE_NAMED_DATATYPE: a committed datatype.</summary>
    internal const int TypeNamedDatatype = 2;

    /// <summary>H5O_INFO_NUM_ATTRS: fill <see cref="Info.NumAttributes"/>.</summary>
    internal const uint InfoNumAttributes = 0x0004;

    /// <summary>H5O_INFO_BASIC: fill only the leading fields of H5O_info_t (file number, address, type, link count).</summary>
    internal const uint InfoBasic = 0x0001;

    /// <summary>The leading fields of H5O_info_t, all that H5O_INFO_BASIC fills; only ever read through the library's pointer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct BasicInfo
    {
        public ulong FileNumber;
        public ulong Address;
        public int Type;
        public uint ReferenceCount;
    }

    /// <summary>
    /// H5O_info_t of 1.10 up to its attribute count. The library clears and fills the whole C struct (160 bytes: header
    /// and index sizes follow), so the size is padded past it; the fields after NumAttributes are never read.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    internal struct Info
    {
        public ulong FileNumber;
        public ulong Address;
        public int Type;
        public uint ReferenceCount;
        public long AccessTime;
        public long ModificationTime;
        public long ChangeTime;
        public long BirthTime;
        public ulong NumAttributes;
    }

    /// <summary>Fills the requested fields of info for the object that name leads to (1.10.3+).</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Oget_info_by_name2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetInfoByName(H5LocationHandle loc, string name, out Info info, uint fields, H5PropertyListHandle lapl);

    /// <summary>Opens a group or dataset by path; the caller asks H5Iget_type which one it got.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Oopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long Open(H5LocationHandle loc, string name, H5PropertyListHandle lapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Oclose")]
    internal static partial int Close(long obj);

    /// <summary>
    /// Calls op once per object reachable by hard links from obj (obj itself first, named "."), each group's
    /// members in index order; an object linked twice is visited once, so cycles end.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Ovisit2")]
    internal static unsafe partial int Visit(H5LocationHandle obj, int indexType, int order,
        delegate* unmanaged[Cdecl]<long, byte*, BasicInfo*, void*, int> op, void* opData, uint fields);
}
