using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>
/// The few libc calls .NET does not expose: fsync of a descriptor libhdf5 holds, a directory fsync, which makes a rename durable
/// (libhdf5 never calls fsync itself; RELIABILITY.md 1.3), and sync_file_range, which starts writeback early.
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
