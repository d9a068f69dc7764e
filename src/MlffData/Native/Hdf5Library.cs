using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// Loads libhdf5 (Debian's 1.10.8 is <c>libhdf5_serial.so.103</c>), opens the library, switches off its automatic
/// error printing (errors become <see cref="H5Exception"/>s) and reads the library-owned ids that the C headers
/// expose as macros over exported variables (<c>H5T_NATIVE_DOUBLE</c> is <c>H5T_NATIVE_DOUBLE_g</c> after H5open).
/// </summary>
public static class Hdf5Library
{
    /// <summary>Environment variable naming the libhdf5 file (a path or a name dlopen can find).</summary>
    public const string PathVariable = "MLFF_HDF5_LIBRARY";

    private static readonly string[] DefaultNames = ["libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5.so", "hdf5"];
    private static readonly Lock Gate = new();
    private static nint _handle;

    /// <summary>True once <see cref="Load"/> has succeeded.</summary>
    public static bool IsLoaded => _handle != 0;

    /// <summary>The file that was loaded, for diagnostics.</summary>
    public static string? LoadedFrom { get; private set; }

    /// <summary>The library version, e.g. 1.10.8.</summary>
    public static Version? Version { get; private set; }

    /// <summary>
    /// Loads libhdf5 from <paramref name="path"/>, else from <see cref="PathVariable"/>, else from the usual names.
    /// Later calls return at once.
    /// </summary>
    /// <exception cref="NativeLibraryLoadException">No candidate could be loaded; lists every one tried.</exception>
    public static void Load(string? path = null)
    {
        lock (Gate)
        {
            if (_handle != 0) return;
            var tried = new List<string>();
            var candidates = new List<string>();
            if (!string.IsNullOrEmpty(path)) candidates.Add(path);
            if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } fromEnv) candidates.Add(fromEnv);
            candidates.AddRange(DefaultNames);

            nint handle = 0;
            foreach (var candidate in candidates)
            {
                try
                {
                    handle = NativeLibrary.Load(candidate);
                    LoadedFrom = candidate;
                    break;
                }
                catch (DllNotFoundException e)
                {
                    tried.Add($"{candidate} ({FirstLine(e.Message)})");
                }
            }
            if (handle == 0)
                throw new NativeLibraryLoadException("libhdf5", tried,
                    $"Install it with 'apt-get install libhdf5-103-1' or set {PathVariable} to the library file.");

            NativeLibraryResolver.Register(H5.Library, handle);
            // No libhdf5 clean-up at process exit: we close every file ourselves, and a file whose close failed (a full
            // disk) makes that clean-up crash with SIGSEGV in H5F__close_cb after our error was printed (measured).
            // It must precede the first call that initialises the library.
            H5Error.Check(H5.DontAtExit(), "H5dont_atexit");
            H5Error.Check(H5.Open(), "H5open");
            // Errors are walked and thrown by H5Error; the library must not also print them to stderr.
            H5Error.Check(H5E.SetAuto(H5E.Default, 0, 0), "H5Eset_auto2");
            H5Error.Check(H5.GetLibVersion(out uint major, out uint minor, out uint release), "H5get_libversion");
            Version = new Version((int)major, (int)minor, (int)release);
            ReadGlobals(handle);
            _handle = handle;
        }
    }

    /// <summary>Loads the library with the defaults unless it is loaded already.</summary>
    internal static void EnsureLoaded()
    {
        if (_handle == 0) Load();
    }

    // Predefined types: a fresh non-owning wrapper per use, so that disposing one never invalidates another.
    internal static H5TypeHandle NativeInt8 => H5TypeHandle.Predefined(_nativeInt8);
    private static long _nativeInt8;
    internal static H5TypeHandle NativeInt32 => H5TypeHandle.Predefined(_nativeInt32);
    private static long _nativeInt32;
    internal static H5TypeHandle NativeInt64 => H5TypeHandle.Predefined(_nativeInt64);
    private static long _nativeInt64;
    internal static H5TypeHandle NativeFloat => H5TypeHandle.Predefined(_nativeFloat);
    private static long _nativeFloat;
    internal static H5TypeHandle NativeDouble => H5TypeHandle.Predefined(_nativeDouble);
    private static long _nativeDouble;
    internal static H5TypeHandle NativeUInt8 => H5TypeHandle.Predefined(_nativeUInt8);
    private static long _nativeUInt8;
    internal static H5TypeHandle StdI8Le => H5TypeHandle.Predefined(_stdI8Le);
    private static long _stdI8Le;
    internal static H5TypeHandle StdI32Le => H5TypeHandle.Predefined(_stdI32Le);
    private static long _stdI32Le;
    internal static H5TypeHandle StdI64Le => H5TypeHandle.Predefined(_stdI64Le);
    private static long _stdI64Le;
    internal static H5TypeHandle StdU8Le => H5TypeHandle.Predefined(_stdU8Le);
    private static long _stdU8Le;
    internal static H5TypeHandle IeeeF32Le => H5TypeHandle.Predefined(_ieeeF32Le);
    private static long _ieeeF32Le;
    internal static H5TypeHandle IeeeF64Le => H5TypeHandle.Predefined(_ieeeF64Le);
    private static long _ieeeF64Le;
    internal static H5TypeHandle CString => H5TypeHandle.Predefined(_cString);
    private static long _cString;

    internal static long ClassFileCreate { get; private set; }
    internal static long ClassFileAccess { get; private set; }
    internal static long ClassDatasetCreate { get; private set; }
    internal static long ClassDatasetAccess { get; private set; }
    internal static long ClassGroupCreate { get; private set; }
    internal static long ClassAttributeCreate { get; private set; }

    /// <summary>Minor error id H5E_NOTFOUND, mapped to <see cref="H5ObjectNotFoundException"/>.</summary>
    internal static long ErrorNotFound { get; private set; }

    /// <summary>libhdf5's own error class (H5E_ERR_CLS), and the major H5E_IO and minor H5E_WRITEERROR ids that its
    /// sec2 driver reports a failed write with.</summary>
    internal static long ErrorClass { get; private set; }
    internal static long ErrorIo { get; private set; }
    internal static long ErrorWrite { get; private set; }

    private static unsafe void ReadGlobals(nint library)
    {
        long Read(string symbol) => *(long*)NativeLibrary.GetExport(library, symbol);

        _nativeInt8 = Read("H5T_NATIVE_INT8_g");
        _nativeInt32 = Read("H5T_NATIVE_INT32_g");
        _nativeInt64 = Read("H5T_NATIVE_INT64_g");
        _nativeUInt8 = Read("H5T_NATIVE_UINT8_g");
        _nativeFloat = Read("H5T_NATIVE_FLOAT_g");
        _nativeDouble = Read("H5T_NATIVE_DOUBLE_g");
        _stdI8Le = Read("H5T_STD_I8LE_g");
        _stdI32Le = Read("H5T_STD_I32LE_g");
        _stdI64Le = Read("H5T_STD_I64LE_g");
        _stdU8Le = Read("H5T_STD_U8LE_g");
        _ieeeF32Le = Read("H5T_IEEE_F32LE_g");
        _ieeeF64Le = Read("H5T_IEEE_F64LE_g");
        _cString = Read("H5T_C_S1_g");
        ClassFileCreate = Read("H5P_CLS_FILE_CREATE_ID_g");
        ClassFileAccess = Read("H5P_CLS_FILE_ACCESS_ID_g");
        ClassDatasetCreate = Read("H5P_CLS_DATASET_CREATE_ID_g");
        ClassDatasetAccess = Read("H5P_CLS_DATASET_ACCESS_ID_g");
        ClassGroupCreate = Read("H5P_CLS_GROUP_CREATE_ID_g");
        ClassAttributeCreate = Read("H5P_CLS_ATTRIBUTE_CREATE_ID_g");
        ErrorNotFound = Read("H5E_NOTFOUND_g");
        ErrorClass = Read("H5E_ERR_CLS_g");
        ErrorIo = Read("H5E_IO_g");
        ErrorWrite = Read("H5E_WRITEERROR_g");
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
