using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace MlffData.Native;

/// <summary>
/// The one place a libhdf5 status is checked: a failure walks the error stack, clears it and throws
/// an <see cref="H5Exception"/> carrying the library's own messages.
/// </summary>
internal static class H5Error
{
    /// <summary>Throws when an herr_t/htri_t/ssize_t status is negative; returns it otherwise.</summary>
    internal static long Check(long status, string function, string? objectPath = null)
    {
        if (status < 0) Throw(function, objectPath);
        return status;
    }

    /// <summary>Throws when a returned id is invalid; returns the handle otherwise.</summary>
    internal static T Check<T>(T handle, string function, string? objectPath = null) where T : H5Handle
    {
        if (handle.IsInvalid)
        {
            handle.Dispose();
            Throw(function, objectPath);
        }
        return handle;
    }

    [DoesNotReturn]
    internal static unsafe void Throw(string function, string? objectPath)
    {
        var entries = new List<(string Description, string Function, long Major, long Minor)>();
        var gc = GCHandle.Alloc(entries);
        try
        {
            H5E.Walk(H5E.Default, H5E.WalkDownward, &Collect, (void*)GCHandle.ToIntPtr(gc));
        }
        finally
        {
            gc.Free();
            H5E.Clear(H5E.Default);
        }

        if (entries.Count == 0)
            throw new H5Exception(Append($"{function} failed", objectPath), function, null, null, objectPath);

        // Like h5py: the API-level description says what was attempted, the deepest entry says why.
        var top = entries[0];
        var root = entries[^1];
        string major = MessageText(root.Major), minor = MessageText(root.Minor);
        string cause = entries.Count > 1 && root.Description.Length > 0 ? root.Description : minor;
        string message = Append(cause.Length > 0 && cause != top.Description ? $"{top.Description} ({cause})" : top.Description, objectPath);
        if (root.Minor == Hdf5Library.ErrorNotFound || top.Minor == Hdf5Library.ErrorNotFound)
            throw new H5ObjectNotFoundException(message, function, major, minor, objectPath);
        throw new H5Exception(message, function, major, minor, objectPath);
    }

    private static string Append(string message, string? objectPath) =>
        objectPath is null ? message : $"{message} [{objectPath}]";

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int Collect(uint n, H5E.Error* error, void* data)
    {
        // Runs inside libhdf5: never let an exception unwind through native frames.
        try
        {
            var list = (List<(string, string, long, long)>)GCHandle.FromIntPtr((nint)data).Target!;
            list.Add((Utf8(error->Description), Utf8(error->FunctionName), error->MajorId, error->MinorId));
            return 0;
        }
        catch
        {
            return -1;
        }
    }

    private static unsafe string MessageText(long id)
    {
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* p = buffer)
        {
            nint length = H5E.GetMsg(id, out _, p, (nuint)buffer.Length);
            return length > 0 ? Encoding.UTF8.GetString(p, (int)Math.Min(length, buffer.Length - 1)) : "";
        }
    }

    private static unsafe string Utf8(byte* text) =>
        text is null ? "" : Marshal.PtrToStringUTF8((nint)text) ?? "";
}
