namespace MlffData.Native;

/// <summary>A dataset id, closed by H5Dclose.</summary>
public sealed class H5DatasetHandle : H5LocationHandle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5DatasetHandle() { }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5D.Close(handle) >= 0;
}
