namespace MlffData.UnitTests.TestSupport;

/// <summary>A file of ours written again by h5py, dataset by dataset with its attributes and /metadata, through
/// libhdf5's own filters (gzip-4, shuffle, fletcher32): stored chunks made by another writer.</summary>
public static class H5pyRewrite
{
    /// <summary>Rewrites source as destination.</summary>
    /// <param name="source">A file of this format.</param>
    /// <param name="destination">The file h5py writes.</param>
    /// <param name="chunks">A Python expression for the create_dataset chunks of dataset obj.</param>
    /// <param name="dtype">A Python expression for the stored dtype of dataset obj.</param>
    public static void Run(string source, string destination, string chunks = "obj.chunks", string dtype = "obj.dtype") =>
        PythonScript.Run($$"""
import h5py, sys
with h5py.File(sys.argv[1], "r") as src, h5py.File(sys.argv[2], "w") as dst:
    def copy(name, obj):
        if isinstance(obj, h5py.Dataset):
            d = dst.create_dataset(name, data=obj[()].astype({{dtype}}), chunks={{chunks}}, maxshape=obj.maxshape,
                                   compression="gzip", compression_opts=4, shuffle=True, fletcher32=True)
            for k, v in obj.attrs.items():
                d.attrs[k] = v
        else:
            dst.require_group(name)
    src.visititems(copy)
    for k, v in src["metadata"].attrs.items():
        dst["metadata"].attrs[k] = v
""", source, destination);
}
