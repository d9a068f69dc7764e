using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// The few libc calls .NET does not expose: fsync of a descriptor libhdf5 holds, a directory fsync, which makes a rename durable
/// (libhdf5 never calls fsync itself; RELIABILITY.md 1.3), sync_file_range, which starts writeback early, and the plain
/// pread/pwrite/fdatasync/ftruncate of the rollback journal, whose failures must keep their errno (a full disk is
/// reported to libhdf5 in its own words).
/// </summary>
internal static partial class Posix
{
    private const int ORdonly = 0;
    private const int ODirectory = 0x10000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);

    // Start writing dirty pages out; do not wait for them.
    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint Pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint Pwrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int fd, long length);

    private const int EIntr = 4;

    /// <summary>Reads up to buffer.Length bytes at offset (fewer only at the end of the file); returns how many.</summary>
    /// <exception cref="PosixException">The read failed.</exception>
    internal static unsafe int ReadAt(int fd, Span<byte> buffer, long offset, string path)
    {
        int done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                nint n = Pread(fd, p + done, (nuint)(buffer.Length - done), offset + done);
                if (n < 0 && Marshal.GetLastPInvokeError() == EIntr) continue;
                if (n < 0) throw new PosixException(path, "read", Marshal.GetLastPInvokeError());
                if (n == 0) break;
                done += (int)n;
            }
        }
        return done;
    }

    /// <summary>Writes all of data at offset.</summary>
    /// <exception cref="PosixException">The write failed (a full disk: errno 28).</exception>
    internal static unsafe void WriteAt(int fd, ReadOnlySpan<byte> data, long offset, string path)
    {
        int done = 0;
        fixed (byte* p = data)
        {
            while (done < data.Length)
            {
                nint n = Pwrite(fd, p + done, (nuint)(data.Length - done), offset + done);
                if (n < 0 && Marshal.GetLastPInvokeError() == EIntr) continue;
                if (n < 0) throw new PosixException(path, "write", Marshal.GetLastPInvokeError());
                done += (int)n;
            }
        }
    }

    /// <summary>fdatasync: the data (and the size) of the file durable, without its times.</summary>
    /// <exception cref="PosixException">The sync failed.</exception>
    internal static void SyncData(int fd, string path)
    {
        if (Fdatasync(fd) != 0) throw new PosixException(path, "sync", Marshal.GetLastPInvokeError());
    }

    /// <summary>Sets the file's length (ftruncate).</summary>
    /// <exception cref="PosixException">The truncation failed.</exception>
    internal static void SetLength(int fd, long length, string path)
    {
        if (Ftruncate(fd, length) != 0) throw new PosixException(path, "truncate", Marshal.GetLastPInvokeError());
    }

    /// <summary>fsyncs an open file descriptor (one libhdf5 holds: opening the file again would meet its lock).</summary>
    /// <exception cref="IOException">fsync failed.</exception>
    internal static void FsyncDescriptor(int fd, string path)
    {
        if (Fsync(fd) != 0)
            throw new IOException($"fsync of '{path}' failed (errno {Marshal.GetLastPInvokeError()})");
    }

    /// <summary>
    /// Asks the kernel to start writing the file's dirty pages to disk now, without waiting: the fsync that makes the
    /// file durable at the end then waits only for the last pages, not for the whole file. Advisory: a failure here
    /// (an old kernel, a file system without it) changes nothing, and a write error still surfaces at the fsync.
    /// </summary>
    internal static void StartWriteback(int fd) => SyncFileRange(fd, 0, 0, SyncFileRangeWrite);

    /// <summary>fsyncs a directory so that a rename inside it survives power loss.</summary>
    /// <exception cref="IOException">The directory cannot be opened or synced.</exception>
    internal static void FsyncDirectory(string directory)
    {
        int fd = Open(directory, ORdonly | ODirectory);
        if (fd < 0)
            throw new IOException($"Cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            Close(fd);
        }
    }
}
