namespace MlffData.Native;

/// <summary>
/// An id that names a place in a file (a file, group or dataset): HDF5 accepts any of them as loc_id and as
/// the object that carries attributes.
/// </summary>
public abstract class H5LocationHandle : H5Handle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    protected H5LocationHandle() { }
}
