using MlffData.Hdf5.Filters;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// Makes the object layer ready on first use: libhdf5 loaded, filter plugins switched off and our LZF filter registered.
/// </summary>
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
            // A file naming an unknown filter would otherwise make libhdf5 dlopen whatever HDF5_PLUGIN_PATH offers under
            // that id (RELIABILITY.md 3.4): every filter we read is built in or registered here by us.
            H5Error.Check(H5PL.SetLoadingState(H5PL.NoPlugins), "H5PLset_loading_state");
            LzfFilter.Register();
            _ready = true;
        }
    }
}
