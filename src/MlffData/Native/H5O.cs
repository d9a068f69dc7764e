using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Object functions (H5Opublic.h).</summary>
internal static partial class H5O
{
    /// <summary>Opens a group or dataset by path; the caller asks H5Iget_type which one it got.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Oopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long Open(H5LocationHandle loc, string name, H5PropertyListHandle lapl);

    [LibraryImport(H5.Library, EntryPoint = "H5Oclose")]
    internal static partial int Close(long obj);
}
