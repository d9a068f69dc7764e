using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Error stack functions (H5Epublic.h).</summary>
internal static partial class H5E
{
    internal const long Default = 0;
    internal const int WalkDownward = 0;

    /// <summary>H5E_error2_t: one entry of the error stack.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct Error
    {
        public long ClassId;
        public long MajorId;
        public long MinorId;
        public uint Line;
        public byte* FunctionName;
        public byte* FileName;
        public byte* Description;
    }

    [LibraryImport(H5.Library, EntryPoint = "H5Eset_auto2")]
    internal static partial int SetAuto(long stack, nint func, nint clientData);

    [LibraryImport(H5.Library, EntryPoint = "H5Eclear2")]
    internal static partial int Clear(long stack);

    [LibraryImport(H5.Library, EntryPoint = "H5Ewalk2")]
    internal static unsafe partial int Walk(long stack, int direction, delegate* unmanaged[Cdecl]<uint, Error*, void*, int> func, void* clientData);

    /// <summary>Text of a major or minor message id; returns its length.</summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Eget_msg")]
    internal static unsafe partial nint GetMsg(long messageId, out int type, byte* message, nuint size);

    /// <summary>
    /// Pushes an entry onto an error stack (H5Epush2). The C function is variadic; the message is passed as its format
    /// with no arguments, so every '%' in it must be doubled (see <see cref="Hdf5.RollbackFileDriver"/>).
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5Epush2", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Push(long stack, string file, string function, uint line, long errorClass, long major, long minor, string format);
}
