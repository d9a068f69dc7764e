using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Filter functions (H5Zpublic.h).</summary>
internal static partial class H5Z
{
    internal const int FilterDeflate = 1;
    internal const int FilterShuffle = 2;
    internal const int FilterFletcher32 = 3;
    internal const int FilterLzf = 32000;

    internal const uint FlagOptional = 0x0001;
    internal const uint FlagReverse = 0x0100;
    internal const int ClassVersion = 1;

    /// <summary>H5Z_class2_t: how a filter is registered.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct Class2
    {
        public int Version;
        public int Id;
        public uint EncoderPresent;
        public uint DecoderPresent;
        public byte* Name;
        public nint CanApply;
        public nint SetLocal;
        public delegate* unmanaged[Cdecl]<uint, nuint, uint*, nuint, nuint*, void**, nuint> Filter;
    }

    [LibraryImport(H5.Library, EntryPoint = "H5Zregister")]
    internal static unsafe partial int Register(Class2* filterClass);

    [LibraryImport(H5.Library, EntryPoint = "H5Zfilter_avail")]
    internal static partial int FilterAvail(int filter);
}
