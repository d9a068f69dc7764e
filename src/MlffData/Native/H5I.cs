using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Identifier functions (H5Ipublic.h).</summary>
internal static partial class H5I
{
    internal const int TypeGroup = 2;
    internal const int TypeDataset = 5;

    [LibraryImport(H5.Library, EntryPoint = "H5Iget_type")]
    internal static partial int GetType(H5Handle id);

    /// <summary>The object's path in its file; returns the length, negative on failure.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Iget_name")]
    internal static unsafe partial nint GetName(H5Handle id, byte* name, nuint size);
}
