using MlffData.Format;
using MlffData.Hdf5;

namespace MlffData.Bench;

/// <summary>
/// Benchmark input: the reference structures repeated up to a count, positions moved by N(0, 0.01 Å) each time,
/// as scripts/h5py_peer_writer.py prepares its own copy, so both writers get the same kind of data.
/// </summary>
internal static class ReferenceData
{
    internal static List<LabelledStructure> Load(string path, int count, int seed)
    {
        using var file = H5File.Open(path);
        using var s = file.OpenGroup(FormatNames.Structures);
        using var l = file.OpenGroup(FormatNames.Labels);
        T[] All<T>(H5Group g, string name) where T : unmanaged
        {
            using var d = g.OpenDataset<T>(name);
            return d.Read(0, d.Rows);
        }
        var numbers = All<long>(s, FormatNames.AtomicNumbers);
        var splits = All<long>(s, FormatNames.AtomicNumbersSplits);
        var positions = All<double>(s, FormatNames.Positions);
        var cells = All<double>(s, FormatNames.Cells);
        var pbc = All<bool>(s, FormatNames.Pbc);
        var energy = All<double>(l, FormatNames.Energy);
        var forces = All<float>(l, FormatNames.Forces);
        var stress = All<double>(l, FormatNames.Stress);
        var mask = All<bool>(l, FormatNames.StressMask);

        var random = new Random(seed);
        var result = new List<LabelledStructure>(count);
        int n = energy.Length;
        for (int k = 0; k < count; k++)
        {
            int i = k % n;
            int a = (int)splits[i], b = (int)splits[i + 1];
            var pos = positions[(3 * a)..(3 * b)];
            for (int j = 0; j < pos.Length; j++) pos[j] += Gaussian(random) * 0.01;
            var structure = new Structure(numbers[a..b].Select(z => (int)z).ToArray(), pos, cells[(9 * i)..(9 * i + 9)], pbc[(3 * i)..(3 * i + 3)]);
            var labels = new Labels(energy[i], forces[(3 * a)..(3 * b)].Select(f => (double)f).ToArray(), mask[i] ? stress[(6 * i)..(6 * i + 6)] : null);
            result.Add(new LabelledStructure(structure, labels, k));
        }
        return result;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
