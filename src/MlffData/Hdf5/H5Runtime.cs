using MlffData.Hdf5.Filters;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>Makes the object layer ready on first use: libhdf5 loaded and our LZF filter registered.</summary>
internal static class H5Runtime
{
    private static volatile bool _ready;
    private static readonly Lock Gate = new();

    internal static void EnsureReady()
    {
        if (_ready) return;
        lock (Gate)
        {
            if (_ready) return;
            Hdf5Library.EnsureLoaded();
            LzfFilter.Register();
            _ready = true;
        }
    }
}
