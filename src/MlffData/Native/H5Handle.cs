using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// An HDF5 identifier (hid_t, a 64-bit integer) owned by a SafeHandle: negative means invalid, and the
/// matching H5*close runs exactly once, also when an exception or the finalizer gets there first.
/// </summary>
public abstract class H5Handle : SafeHandle
{
    /// <summary>Creates an invalid handle that P/Invoke fills in.</summary>
    protected H5Handle() : base(-1, ownsHandle: true) { }

    /// <summary>Wraps an existing id; <paramref name="ownsHandle"/> false for library-owned ids such as H5T_NATIVE_DOUBLE.</summary>
    protected H5Handle(long id, bool ownsHandle) : base(-1, ownsHandle) => SetHandle((nint)id);

    /// <inheritdoc />
    public override bool IsInvalid => handle < 0;

    /// <summary>The raw hid_t, for diagnostics.</summary>
    public long Id => handle;
}
