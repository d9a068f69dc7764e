namespace MlffData.Native;

/// <summary>An attribute id, closed by H5Aclose.</summary>
public sealed class H5AttributeHandle : H5Handle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5AttributeHandle() { }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5A.Close(handle) >= 0;
}
