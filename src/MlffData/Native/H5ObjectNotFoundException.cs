namespace MlffData.Native;

/// <summary>An HDF5 call failed because the named object, attribute or file does not exist.</summary>
public sealed class H5ObjectNotFoundException : H5Exception
{
    /// <summary>Creates the exception.</summary>
    public H5ObjectNotFoundException(string message, string function, string? major, string? minor, string? objectPath)
        : base(message, function, major, minor, objectPath) { }
}
