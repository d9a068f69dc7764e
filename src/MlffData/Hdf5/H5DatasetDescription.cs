using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// What any dataset is, whatever its element type: h5py's <c>dtype</c>, <c>shape</c>, <c>chunks</c> and filters, and
/// how many bytes it takes in the file against how many its values hold.
/// </summary>
/// <param name="Path">Path of the dataset in its file.</param>
/// <param name="DType">The element type as numpy names what h5py reads: int64, uint8, float32, bool, string (variable
/// length), S10 (fixed-length bytes); an enum other than h5py's bool reads as its base integer.</param>
/// <param name="Shape">Current dimensions; empty for a scalar.</param>
/// <param name="Chunks">Chunk dimensions, or null for a contiguous or compact dataset.</param>
/// <param name="Filters">The filter pipeline (none for a dataset that is not chunked).</param>
/// <param name="StorageBytes">Bytes the data occupies in the file, after the filters (H5Dget_storage_size).</param>
/// <param name="LogicalBytes">Elements times element size: the bytes the data would take unfiltered (for a
/// variable-length string, the size of its pointer, as numpy's <c>nbytes</c> counts an object array).</param>
public sealed record H5DatasetDescription(
    string Path, string DType, IReadOnlyList<ulong> Shape, IReadOnlyList<ulong>? Chunks, H5FilterPipeline Filters,
    long StorageBytes, long LogicalBytes)
{
    /// <summary>
    /// Logical over stored bytes (above 1 when the filters compress); null when nothing is stored yet, and for a
    /// variable-length string, whose text lives in the file's heap rather than in the dataset's own storage.
    /// </summary>
    public double? CompressionRatio => StorageBytes > 0 && DType != VariableString ? (double)LogicalBytes / StorageBytes : null;

    private const string VariableString = "string";

    internal static H5DatasetDescription Read(H5DatasetHandle dataset, string path)
    {
        using var type = new H5Type(H5Error.Check(H5D.GetType(dataset), "H5Dget_type", path));
        using var space = new H5Space(H5Error.Check(H5D.GetSpace(dataset), "H5Dget_space", path));
        using var dcpl = H5Error.Check(H5D.GetCreatePlist(dataset), "H5Dget_create_plist", path);
        var dims = space.Dims;
        ulong[]? chunks = null;
        if (H5P.GetLayout(dcpl) == H5D.LayoutChunked)
        {
            chunks = new ulong[dims.Length];
            H5Error.Check(H5P.GetChunk(dcpl, dims.Length, chunks), "H5Pget_chunk", path);
        }
        long elements = (long)dims.Aggregate(1UL, (a, b) => a * b);
        return new H5DatasetDescription(path, NumpyName(type), dims, chunks, H5FilterPipeline.Read(dcpl),
            (long)H5D.GetStorageSize(dataset), elements * type.Size);
    }

    private static string NumpyName(H5Type type)
    {
        int bits = type.Size * 8;
        switch (type.Class)
        {
            case H5T.ClassInteger:
                return (H5T.GetSign(type.Handle) == H5T.SignNone ? "uint" : "int") + bits;
            case H5T.ClassFloat:
                return "float" + bits;
            case H5T.ClassString:
                return type.IsVariableString ? VariableString : $"S{type.Size}";
            case H5T.ClassEnum when type.IsBool:
                return "bool";
            case H5T.ClassEnum:
            {
                // h5py reads any other enum as the integers underneath it.
                using var super = new H5Type(H5Error.Check(H5T.GetSuper(type.Handle), "H5Tget_super"));
                return NumpyName(super);
            }
            default:
                return type.Describe();
        }
    }
}
