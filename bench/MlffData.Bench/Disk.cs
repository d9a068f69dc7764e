using System.Runtime.InteropServices;

namespace MlffData.Bench;

/// <summary>
/// Lets the disk settle before a timed run: everything dirty in the page cache is written out first (sync(2)).
/// Our writer fsyncs its file and the h5py peer does not, so without this a run of ours would also wait for the
/// previous peer run's data to reach the disk, and the mode measured first after a peer would look slowest.
/// </summary>
internal static class Disk
{
    // DllImport: a void function without arguments needs no marshalling, and LibraryImport would need unsafe code here.
    [DllImport("libc", EntryPoint = "sync")]
    private static extern void Sync();

    internal static void Settle() => Sync();
}
