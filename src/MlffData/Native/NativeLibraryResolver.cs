using System.Reflection;
using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// Maps the logical library names of our P/Invokes ("hdf5" from Hdf5Library, "python" from PythonInterpreter,
/// which opens libpython itself with dlopen RTLD_GLOBAL) to handles that the loaders opened. .NET allows one
/// resolver per assembly, so every native library of this assembly goes through here; other names ("libc") fall
/// through to the default probing.
/// </summary>
internal static class NativeLibraryResolver
{
    private static readonly Dictionary<string, nint> Handles = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();
    private static bool _installed;

    /// <summary>Routes P/Invokes naming <paramref name="name"/> to an already loaded library.</summary>
    internal static void Register(string name, nint handle)
    {
        lock (Gate)
        {
            Handles[name] = handle;
            if (_installed) return;
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
            _installed = true;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        lock (Gate)
            return Handles.TryGetValue(name, out var handle) ? handle : 0;
    }
}
