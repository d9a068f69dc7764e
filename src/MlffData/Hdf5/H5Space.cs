using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>A dataspace: the shape of a dataset or attribute, and a selection within it.</summary>
public sealed class H5Space : IDisposable
{
    internal H5Space(H5SpaceHandle handle) => Handle = handle;

    internal H5SpaceHandle Handle { get; }

    /// <summary>A simple (array) dataspace; <see cref="ulong.MaxValue"/> in maxDims means unlimited (H5S_UNLIMITED).</summary>
    public static H5Space Simple(ulong[] dims, ulong[]? maxDims = null) =>
        new(H5Error.Check(H5S.CreateSimple(dims.Length, dims, maxDims), "H5Screate_simple"));

    /// <summary>A scalar dataspace (one element), as attributes use.</summary>
    public static H5Space Scalar() => new(H5Error.Check(H5S.Create(H5S.ClassScalar), "H5Screate"));

    /// <summary>Current dimensions; empty for a scalar.</summary>
    public ulong[] Dims
    {
        get
        {
            int rank = (int)H5Error.Check(H5S.GetSimpleExtentNdims(Handle), "H5Sget_simple_extent_ndims");
            var dims = new ulong[rank];
            if (rank > 0) H5Error.Check(H5S.GetSimpleExtentDims(Handle, dims, null), "H5Sget_simple_extent_dims");
            return dims;
        }
    }

    /// <summary>Maximum dimensions; <see cref="ulong.MaxValue"/> means unlimited.</summary>
    public ulong[] MaxDims
    {
        get
        {
            int rank = (int)H5Error.Check(H5S.GetSimpleExtentNdims(Handle), "H5Sget_simple_extent_ndims");
            var dims = new ulong[rank];
            var max = new ulong[rank];
            if (rank > 0) H5Error.Check(H5S.GetSimpleExtentDims(Handle, dims, max), "H5Sget_simple_extent_dims");
            return max;
        }
    }

    /// <summary>Selects a contiguous block: count[i] elements from start[i] on each axis.</summary>
    public void SelectBlock(ulong[] start, ulong[] count) =>
        H5Error.Check(H5S.SelectHyperslab(Handle, H5S.SelectSet, start, null, count, null), "H5Sselect_hyperslab");

    /// <inheritdoc />
    public void Dispose() => Handle.Dispose();
}
