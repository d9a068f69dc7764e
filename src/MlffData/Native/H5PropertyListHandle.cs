namespace MlffData.Native;

/// <summary>A property list id, closed by H5Pclose. <see cref="Default"/> is H5P_DEFAULT (0).</summary>
public sealed class H5PropertyListHandle : H5Handle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    public H5PropertyListHandle() { }

    private H5PropertyListHandle(long id) : base(id, ownsHandle: false) { }

    /// <summary>H5P_DEFAULT: the library's default properties.</summary>
    public static H5PropertyListHandle Default { get; } = new(0);

    /// <inheritdoc />
    protected override bool ReleaseHandle() => H5P.Close(handle) >= 0;
}
