namespace MlffData.Native;

/// <summary>A file id (H5Fopen/H5Fcreate), closed by H5Fclose.</summary>
public sealed class H5FileHandle : H5LocationHandle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5FileHandle() { }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5F.Close(handle) >= 0;
}
