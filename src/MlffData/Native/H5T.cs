using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Datatype functions (H5Tpublic.h).</summary>
internal static partial class H5T
{
    internal const int ClassInteger = 0;
    internal const int ClassFloat = 1;
    internal const int ClassString = 3;
    internal const int ClassEnum = 8;

    internal const int OrderLe = 0;
    internal const int SignNone = 0;
    internal const int Sign2 = 1;
    internal const int CsetUtf8 = 1;
    internal const int StrNullTerm = 0;

    /// <summary>H5T_VARIABLE: the size of a variable-length string type.</summary>
    internal static readonly nuint Variable = nuint.MaxValue;

    [LibraryImport(H5.Library, EntryPoint = "H5Tcopy")]
    internal static partial H5TypeHandle Copy(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tclose")]
    internal static partial int Close(nint type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tequal")]
    internal static partial int Equal(H5TypeHandle a, H5TypeHandle b);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_class")]
    internal static partial int GetClass(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_size")]
    internal static partial nuint GetSize(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tset_size")]
    internal static partial int SetSize(H5TypeHandle type, nuint size);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_order")]
    internal static partial int GetOrder(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_sign")]
    internal static partial int GetSign(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tset_cset")]
    internal static partial int SetCset(H5TypeHandle type, int cset);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_cset")]
    internal static partial int GetCset(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tset_strpad")]
    internal static partial int SetStrpad(H5TypeHandle type, int pad);

    /// <summary>Positive for a variable-length string type.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Tis_variable_str")]
    internal static partial int IsVariableStr(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tenum_create")]
    internal static partial H5TypeHandle EnumCreate(H5TypeHandle baseType);

    [LibraryImport(H5.Library, EntryPoint = "H5Tenum_insert", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int EnumInsert(H5TypeHandle type, string name, void* value);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_super")]
    internal static partial H5TypeHandle GetSuper(H5TypeHandle type);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_nmembers")]
    internal static partial int GetNmembers(H5TypeHandle type);

    /// <summary>The member's name, allocated by the library: free it with H5free_memory.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Tget_member_name")]
    internal static partial nint GetMemberName(H5TypeHandle type, uint index);

    [LibraryImport(H5.Library, EntryPoint = "H5Tget_member_value")]
    internal static unsafe partial int GetMemberValue(H5TypeHandle type, uint index, void* value);
}
