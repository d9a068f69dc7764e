namespace MlffData.Native;

/// <summary>A group id, closed by H5Gclose.</summary>
public sealed class H5GroupHandle : H5LocationHandle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5GroupHandle() { }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5G.Close(handle) >= 0;
}
