using MlffData.Format;
using MlffData.Hdf5;

namespace MlffData.UnitTests.TestSupport;

/// <summary>Everything a written file holds, read back through the object layer (h5py checks the same in tests/validation).</summary>
public sealed record StoredDataset(
    long[] AtomicNumbers, long[] Splits, double[] Positions, double[] Cells, bool[] Pbc,
    double[] Energy, float[] Forces, long[] ForcesSplits, double[] Stress, bool[] StressMask, long[] StructureIndices,
    IReadOnlyDictionary<string, object> Metadata)
{
    /// <summary>Reads a whole file.</summary>
    public static StoredDataset Read(string path)
    {
        using var file = H5File.Open(path);
        using var s = file.OpenGroup(FormatNames.Structures);
        using var l = file.OpenGroup(FormatNames.Labels);
        using var m = file.OpenGroup(FormatNames.Metadata);
        T[] All<T>(H5Group g, string name) where T : unmanaged
        {
            using var d = g.OpenDataset<T>(name);
            return d.Read(0, d.Rows);
        }
        return new StoredDataset(
            All<long>(s, FormatNames.AtomicNumbers), All<long>(s, FormatNames.AtomicNumbersSplits), All<double>(s, FormatNames.Positions),
            All<double>(s, FormatNames.Cells), All<bool>(s, FormatNames.Pbc), All<double>(l, FormatNames.Energy), All<float>(l, FormatNames.Forces),
            All<long>(l, FormatNames.ForcesSplits), All<double>(l, FormatNames.Stress), All<bool>(l, FormatNames.StressMask),
            All<long>(l, FormatNames.StructureIndices),
            m.Attributes.Names.ToDictionary(n => n, n => m.Attributes.Get(n)));
    }
}
