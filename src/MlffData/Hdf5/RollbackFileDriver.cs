using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// libhdf5's own sec2 file driver with its write and truncate entries wrapped: before a write (or a cut) reaches bytes
/// the file held at its last checkpoint, the <see cref="RollbackJournal"/> bound to the file saves them. The file on
/// disk stays an ordinary HDF5 file (the driver leaves no trace in it) that any reader opens with sec2.
/// </summary>
/// <remarks>
/// libhdf5 writes metadata in place at every flush, in no order, and frees and reuses space; with no driver below it
/// that remembers, a flush that fails half way (a full disk, an I/O error, a kill) leaves a file whose headers point at
/// blocks that never arrived. Everything else is sec2's: the table is copied from the registered sec2 driver (checked
/// against the 1.10 layout first) and only open, close, write and truncate are ours, each calling sec2's.
/// </remarks>
internal static unsafe class RollbackFileDriver
{
    private static readonly Lazy<long> DriverId = new(Register);

    private static delegate* unmanaged[Cdecl]<byte*, uint, long, ulong, nint> _open;
    private static delegate* unmanaged[Cdecl]<nint, int> _close;
    private static delegate* unmanaged[Cdecl]<nint, int, long, ulong, nuint, void*, int> _write;
    private static delegate* unmanaged[Cdecl]<nint, long, byte, int> _truncate;
    private static delegate* unmanaged[Cdecl]<nint, int, ulong> _getEoa;
    private static delegate* unmanaged[Cdecl]<nint, long, void**, int> _getHandle;

    // Journals of files about to be opened, by the name given to H5Fopen/H5Fcreate (libhdf5 may open a file more than
    // once while opening it), and of the open driver files.
    private static readonly ConcurrentDictionary<string, RollbackJournal> Bound = new();
    private static readonly ConcurrentDictionary<nint, RollbackJournal> OpenFiles = new();

    /// <summary>Sets a file access list to this driver.</summary>
    /// <exception cref="H5Exception">libhdf5 refused the driver.</exception>
    internal static void Use(H5PropertyListHandle fileAccess) =>
        H5Error.Check(H5FD.SetDriver(fileAccess, DriverId.Value, 0), "H5Pset_driver");

    /// <summary>
    /// Makes the file libhdf5 opens or creates under <paramref name="name"/> (exactly as passed to it) save its
    /// overwrites to <paramref name="journal"/> whenever the journal is active, until the file is closed. Dispose the
    /// result once the open call returned.
    /// </summary>
    internal static IDisposable Bind(string name, RollbackJournal journal)
    {
        if (!Bound.TryAdd(name, journal)) throw new InvalidOperationException($"{name} is being opened by another writer in this process");
        return new Binding(name);
    }

    private sealed class Binding(string name) : IDisposable
    {
        public void Dispose() => Bound.TryRemove(name, out _);
    }

    private static long Register()
    {
        H5Runtime.EnsureReady();
        // sec2's table, through a file it opens: H5FD_t's second field is its class.
        H5FD.Class sec2;
        using (var fapl = H5Error.Check(H5P.Create(Hdf5Library.ClassFileAccess), "H5Pcreate"))
        {
            H5Error.Check(H5FD.SetFaplSec2(fapl), "H5Pset_fapl_sec2");
            nint probe = H5FD.Open("/dev/null", H5F.AccRdonly, fapl, long.MaxValue);
            if (probe == 0) H5Error.Throw("H5FDopen", "/dev/null");
            sec2 = **(H5FD.Class**)(probe + H5FD.ClassPointerOffset);
            H5Error.Check(H5FD.Close(probe), "H5FDclose");
        }
        CheckLayout(sec2);
        _open = (delegate* unmanaged[Cdecl]<byte*, uint, long, ulong, nint>)sec2.Open;
        _close = (delegate* unmanaged[Cdecl]<nint, int>)sec2.Close;
        _write = (delegate* unmanaged[Cdecl]<nint, int, long, ulong, nuint, void*, int>)sec2.Write;
        _truncate = (delegate* unmanaged[Cdecl]<nint, long, byte, int>)sec2.Truncate;
        _getEoa = (delegate* unmanaged[Cdecl]<nint, int, ulong>)sec2.GetEoa;
        _getHandle = (delegate* unmanaged[Cdecl]<nint, long, void**, int>)sec2.GetHandle;
        var ours = sec2;
        // Lives as long as the process: libhdf5 copies the table but keeps the name pointer.
        ours.Name = Marshal.StringToCoTaskMemUTF8("mlff_rollback");
        ours.Open = (nint)(delegate* unmanaged[Cdecl]<byte*, uint, long, ulong, nint>)&Open;
        ours.Close = (nint)(delegate* unmanaged[Cdecl]<nint, int>)&Close;
        ours.Write = (nint)(delegate* unmanaged[Cdecl]<nint, int, long, ulong, nuint, void*, int>)&Write;
        ours.Truncate = (nint)(delegate* unmanaged[Cdecl]<nint, long, byte, int>)&Truncate;
        return H5Error.Check(H5FD.Register(&ours), "H5FDregister");
    }

    /// <summary>
    /// Refuses a libhdf5 whose driver table is not the 1.10 one this struct describes (1.12 and 1.14 added entries):
    /// sec2's name must be where the name goes, its free-list map (H5FD_FLMAP_DICHOTOMY) where the map goes, and the
    /// entries we call must be there.
    /// </summary>
    private static void CheckLayout(in H5FD.Class sec2)
    {
        // H5FD_FLMAP_DICHOTOMY of 1.10: raw data and global heap to H5FD_MEM_DRAW (3), the rest to H5FD_MEM_SUPER (1).
        ReadOnlySpan<int> dichotomy = [1, 1, 1, 3, 3, 1, 1];
        var map = sec2.FreeLists;
        bool ok = sec2.Name != 0 && Marshal.PtrToStringUTF8(sec2.Name) == "sec2"
                  && sec2.FaplSize == 0 && sec2.DxplSize == 0
                  && ((ReadOnlySpan<int>)map).SequenceEqual(dichotomy)
                  && sec2.Open != 0 && sec2.Close != 0 && sec2.Write != 0 && sec2.Truncate != 0 && sec2.GetEoa != 0 && sec2.GetHandle != 0;
        if (!ok)
            throw new NativeLibraryLoadException("libhdf5's sec2 file driver", [H5.Library],
                "Its driver table is not laid out as in libhdf5 1.10, which this build of MlffData needs for its rollback journal.");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Open(byte* name, uint flags, long fapl, ulong maxAddress)
    {
        nint file = _open(name, flags, fapl, maxAddress);
        if (file == 0) return 0;
        try
        {
            if (Bound.TryGetValue(Marshal.PtrToStringUTF8((nint)name) ?? "", out var journal))
                OpenFiles[file] = journal;
            return file;
        }
        catch
        {
            // Never unwind into libhdf5. A bound file that could not be tied to its journal would be written
            // unprotected: the open fails instead.
            _close(file);
            return 0;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Close(nint file)
    {
        OpenFiles.TryRemove(file, out _);
        return _close(file);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(nint file, int type, long dxpl, ulong address, nuint size, void* buffer)
    {
        if (OpenFiles.TryGetValue(file, out var journal) && journal.IsActive && !Protect(file, journal, (long)address, (long)size))
            return -1;
        return _write(file, type, dxpl, address, size, buffer);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(nint file, long dxpl, byte closing)
    {
        // sec2 sets the file's length to the end of allocation, which may cut off checkpointed bytes.
        if (OpenFiles.TryGetValue(file, out var journal) && journal.IsActive)
        {
            long end = (long)_getEoa(file, H5FD.MemoryDefault);
            if (!Protect(file, journal, end, long.MaxValue - end)) return -1;
        }
        return _truncate(file, dxpl, closing);
    }

    /// <summary>Saves the old bytes; on failure puts the reason on libhdf5's error stack, worded as sec2 words its own
    /// failed writes, and returns false so that the write is not done.</summary>
    private static bool Protect(nint file, RollbackJournal journal, long offset, long length)
    {
        try
        {
            void* handle = null;
            if (_getHandle(file, 0, &handle) < 0 || handle is null) throw new IOException("the driver has no descriptor");
            journal.Protect(*(int*)handle, offset, length);
            return true;
        }
        catch (Exception e)
        {
            string reason = e is PosixException p
                ? $"file write failed: filename = '{journal.FileName}', errno = {p.Errno}, error message = '{p.Text}', while saving the bytes it overwrites to {RollbackJournal.PathOf(journal.FileName)}"
                : $"file write failed: cannot save the bytes it overwrites to {RollbackJournal.PathOf(journal.FileName)} ({e.Message})";
            H5E.Push(H5E.Default, "RollbackFileDriver.cs", "RollbackFileDriver.Write", 0, Hdf5Library.ErrorClass,
                Hdf5Library.ErrorIo, Hdf5Library.ErrorWrite, reason.Replace("%", "%%"));
            return false;
        }
    }
}
