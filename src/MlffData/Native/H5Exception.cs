namespace MlffData.Native;

/// <summary>
/// A failed libhdf5 call, with the library's own words: the message reads like h5py's,
/// "top description (root cause)", followed by the object involved.
/// </summary>
public class H5Exception : Exception
{
    /// <summary>Creates the exception from the walked error stack.</summary>
    public H5Exception(string message, string function, string? major, string? minor, string? objectPath)
        : base(message)
    {
        Function = function;
        Major = major;
        Minor = minor;
        ObjectPath = objectPath;
    }

    /// <summary>The HDF5 API function that failed (e.g. H5Fopen).</summary>
    public string Function { get; }

    /// <summary>Major error message of the root cause (e.g. "File accessibility").</summary>
    public string? Major { get; }

    /// <summary>Minor error message of the root cause (e.g. "Unable to open file").</summary>
    public string? Minor { get; }

    /// <summary>The file or object path the call was about, when known.</summary>
    public string? ObjectPath { get; }
}
