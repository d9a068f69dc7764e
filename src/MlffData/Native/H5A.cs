using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Attribute functions (H5Apublic.h).</summary>
internal static partial class H5A
{
    [LibraryImport(H5.Library, EntryPoint = "H5Acreate2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5AttributeHandle Create(H5LocationHandle obj, string name, H5TypeHandle type, H5SpaceHandle space, H5PropertyListHandle acpl, H5PropertyListHandle aapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Aopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial H5AttributeHandle Open(H5LocationHandle obj, string name, H5PropertyListHandle aapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Aclose")]
    internal static partial int Close(nint attribute);

    [LibraryImport(H5.Library, EntryPoint = "H5Aexists", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Exists(H5LocationHandle obj, string name);

    [LibraryImport(H5.Library, EntryPoint = "H5Adelete", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Delete(H5LocationHandle obj, string name);

    [LibraryImport(H5.Library, EntryPoint = "H5Awrite")]
    internal static unsafe partial int Write(H5AttributeHandle attribute, H5TypeHandle memType, void* buffer);

    [LibraryImport(H5.Library, EntryPoint = "H5Aread")]
    internal static unsafe partial int Read(H5AttributeHandle attribute, H5TypeHandle memType, void* buffer);

    [LibraryImport(H5.Library, EntryPoint = "H5Aget_type")]
    internal static partial H5TypeHandle GetType(H5AttributeHandle attribute);

    [LibraryImport(H5.Library, EntryPoint = "H5Aget_space")]
    internal static partial H5SpaceHandle GetSpace(H5AttributeHandle attribute);

    /// <summary>Calls op for each attribute name in creation or name order; idx is the resume position.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Aiterate2")]
    internal static unsafe partial int Iterate(H5LocationHandle obj, int indexType, int order, ref ulong idx,
        delegate* unmanaged[Cdecl]<long, byte*, void*, void*, int> op, void* opData);
}
