namespace MlffData.Native;

/// <summary>A datatype id, closed by H5Tclose unless it is one of the library's predefined types.</summary>
public sealed class H5TypeHandle : H5Handle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5TypeHandle() { }

    private H5TypeHandle(long id) : base(id, ownsHandle: false) { }

    /// <summary>Wraps a predefined type id (H5T_NATIVE_DOUBLE_g and friends), which must never be closed.</summary>
    internal static H5TypeHandle Predefined(long id) => new(id);

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5T.Close(handle) >= 0;
}
