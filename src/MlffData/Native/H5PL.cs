using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>Plugin functions (H5PLpublic.h).</summary>
internal static partial class H5PL
{
    /// <summary>No plugin type may be loaded: the mask with every H5PL_*_ENABLE bit clear.</summary>
    internal const uint NoPlugins = 0;

    /// <summary>
    /// Sets which plugin types libhdf5 may dlopen from HDF5_PLUGIN_PATH when a file names a filter it does not know.
    /// </summary>
    [LibraryImport(H5.Library, EntryPoint = "H5PLset_loading_state")]
    internal static partial int SetLoadingState(uint pluginControlMask);
}
