using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Group functions (H5Gpublic.h).</summary>
internal static partial class H5G
{
    /// <summary>H5G_info_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Info
    {
        public int StorageType;
        public ulong NumLinks;
        public long MaxCorder;
        public byte Mounted;
    }

    [LibraryImport(H5.Library, EntryPoint = "H5Gcreate2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5GroupHandle Create(H5LocationHandle loc, string name, H5PropertyListHandle lcpl, H5PropertyListHandle gcpl, H5PropertyListHandle gapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Gopen2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5GroupHandle Open(H5LocationHandle loc, string name, H5PropertyListHandle gapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Gclose")]
    internal static partial int Close(nint group);

    [LibraryImport(H5.Library, EntryPoint = "H5Gget_info")]
    internal static partial int GetInfo(H5LocationHandle group, out Info info);
}
