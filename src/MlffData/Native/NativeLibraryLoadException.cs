namespace MlffData.Native;

/// <summary>A native library (libhdf5, libpython) could not be loaded; the message lists every path tried.</summary>
public sealed class NativeLibraryLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NativeLibraryLoadException(string library, IReadOnlyList<string> tried, string hint)
        : base($"Cannot load {library}; tried: {string.Join(", ", tried)}. {hint}")
    {
        Tried = tried;
    }

    /// <summary>The names and paths that were tried, in order, with the reason each failed.</summary>
    public IReadOnlyList<string> Tried { get; }
}
