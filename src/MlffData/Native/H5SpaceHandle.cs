namespace MlffData.Native;

/// <summary>A dataspace id, closed by H5Sclose. <see cref="All"/> is H5S_ALL (0), owned by nobody.</summary>
public sealed class H5SpaceHandle : H5Handle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5SpaceHandle() { }

    private H5SpaceHandle(long id) : base(id, ownsHandle: false) { }

    /// <summary>H5S_ALL: the whole extent of the dataset.</summary>
    public static H5SpaceHandle All { get; } = new(0);

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5S.Close(handle) >= 0;
}
