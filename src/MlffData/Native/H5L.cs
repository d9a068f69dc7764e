using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Link functions (H5Lpublic.h).</summary>
internal static partial class H5L
{
    internal const int IndexName = 0;
    internal const int IterInc = 0;

    /// <summary>Positive when the link exists, zero when not, negative on failure.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Lexists", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Exists(H5LocationHandle loc, string name, H5PropertyListHandle lapl);

    /// <summary>Name of the n-th link of a group; returns the name's length, negative on failure.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Lget_name_by_idx", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint GetNameByIdx(H5LocationHandle loc, string groupName, int indexType, int order, ulong n, byte* name, nuint size, H5PropertyListHandle lapl);

    /// <summary>Removes a link; the object it named is freed once nothing links to it and no id holds it open.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Ldelete", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Delete(H5LocationHandle loc, string name, H5PropertyListHandle lapl);
}
