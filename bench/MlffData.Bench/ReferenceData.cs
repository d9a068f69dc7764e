using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// Benchmark input: the reference structures repeated up to a count, positions moved by N(0, 0.01 Å) each time,
/// as scripts/h5py_peer_writer.py prepares its own copy, so both writers get the same kind of data.
/// </summary>
internal static class ReferenceData
{
    internal static List<LabelledStructure> Load(string path, int count, int seed) => [.. Stream(path, seed).Take(count)];

    /// <summary>The same sequence without end, one structure at a time: for inputs larger than memory should hold.</summary>
    internal static IEnumerable<LabelledStructure> Stream(string path, int seed)
    {
        List<LabelledStructure> reference;
        using (var reader = new HDF5DatasetReader(path)) reference = [.. reader];

        var random = new Random(seed);
        for (int k = 0; ; k++)
        {
            var item = reference[k % reference.Count];
            var positions = (double[])item.Structure.Positions.Clone();
            for (int j = 0; j < positions.Length; j++) positions[j] += Gaussian(random) * 0.01;
            yield return new LabelledStructure(item.Structure with { Positions = positions }, item.Labels, k);
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
