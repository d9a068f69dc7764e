using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// Compares two files of this format dataset by dataset, in blocks (memory stays bounded): integers and bools
/// exactly, floats within a tolerance, and says whether every float was bit-exact. The first difference is reported
/// with its dataset, row and (for per-atom datasets) structure.
/// </summary>
public static class DatasetComparer
{
    /// <summary>The float tolerance of the seed's validation: absolute 1e-6.</summary>
    public const double DefaultTolerance = 1e-6;

    private const long Block = 1 << 16;

    /// <summary>Compares <paramref name="actualPath"/> against <paramref name="expectedPath"/>.</summary>
    /// <exception cref="DatasetFormatException">Either file does not follow FORMAT.md.</exception>
    public static DatasetComparison Compare(string expectedPath, string actualPath, double tolerance = DefaultTolerance)
    {
        using var expectedFile = H5File.Open(expectedPath);
        using var actualFile = H5File.Open(actualPath);
        using var expected = DatasetLayout.Open(expectedFile, expectedPath);
        using var actual = DatasetLayout.Open(actualFile, actualPath);
        var run = new Run(expected, tolerance);

        // Splits first: when they differ, every per-atom comparison after them would only repeat the same news.
        return run.Compare(expected.AtomicNumbersSplits, actual.AtomicNumbersSplits, perAtom: false)
            ?? run.Compare(expected.AtomicNumbers, actual.AtomicNumbers, perAtom: true)
            ?? run.Compare(expected.Positions, actual.Positions, perAtom: true)
            ?? run.Compare(expected.Cells, actual.Cells, perAtom: false)
            ?? run.Compare(expected.Pbc, actual.Pbc, perAtom: false)
            ?? run.Compare(expected.Energy, actual.Energy, perAtom: false)
            ?? run.Compare(expected.Forces, actual.Forces, perAtom: true)
            ?? run.Compare(expected.ForcesSplits, actual.ForcesSplits, perAtom: false)
            ?? run.Compare(expected.Stress, actual.Stress, perAtom: false)
            ?? run.Compare(expected.StressMask, actual.StressMask, perAtom: false)
            ?? run.Compare(expected.StructureIndices, actual.StructureIndices, perAtom: false)
            ?? run.CompareCount(actual.Metadata.Attributes)
            ?? new DatasetComparison(true, run.BitExact, run.MaxAbsDifference, null, null, null, null);
    }

    private sealed class Run(DatasetLayout expected, double tolerance)
    {
        private long[]? _splits;

        public bool BitExact { get; private set; } = true;
        public double MaxAbsDifference { get; private set; }

        public DatasetComparison? Compare<T>(H5Dataset<T> e, H5Dataset<T> a, bool perAtom) where T : unmanaged, IEquatable<T>
        {
            if (e.Rows != a.Rows)
                return Difference(e.Path, null, null, $"has {a.Rows} rows, expected {e.Rows}");
            int width = e.RowLength;
            for (long start = 0; start < e.Rows; start += Block)
            {
                long n = Math.Min(Block, e.Rows - start);
                var ev = e.Read(start, n);
                var av = a.Read(start, n);
                for (int k = 0; k < ev.Length; k++)
                {
                    if (ev[k].Equals(av[k])) continue;
                    if (ev[k] is double x && av[k] is double y && Close(x, y)) continue;
                    if (ev[k] is float xf && av[k] is float yf && Close(xf, yf)) continue;
                    long row = start + k / width;
                    return Difference(e.Path, row, perAtom ? StructureOfAtom(row) : row,
                        $"row {row}{Column(width, k)}: expected {ev[k]}, got {av[k]}");
                }
            }
            return null;
        }

        public DatasetComparison? CompareCount(H5Attributes metadata)
        {
            object? count = metadata.Contains(FormatNames.NumStructures) ? metadata.Get(FormatNames.NumStructures) : null;
            return count is long n && n == expected.NumStructures
                ? null
                : Difference("/metadata", null, null, $"num_structures is {count ?? "missing"}, expected {expected.NumStructures}");
        }

        // Equal values have returned already; this decides for floats that differ in their bits.
        private bool Close(double x, double y)
        {
            if (double.IsNaN(x) && double.IsNaN(y)) return true;
            BitExact = false;
            double d = Math.Abs(x - y);
            if (!(d <= tolerance)) return false;
            MaxAbsDifference = Math.Max(MaxAbsDifference, d);
            return true;
        }

        private long StructureOfAtom(long atom)
        {
            _splits ??= expected.AtomicNumbersSplits.Read(0, expected.AtomicNumbersSplits.Rows);
            int i = Array.BinarySearch(_splits, atom);
            // An exact hit on a split is where a structure starts, unless empty structures share that split.
            if (i >= 0)
            {
                while (i + 1 < _splits.Length && _splits[i + 1] == atom) i++;
                return i;
            }
            return ~i - 1;
        }

        private static string Column(int width, int k) => width == 1 ? "" : $", column {k % width}";

        private DatasetComparison Difference(string dataset, long? row, long? structure, string detail) =>
            new(false, BitExact, MaxAbsDifference, dataset, row, structure,
                $"{dataset}: {detail}{(structure is { } s && structure != row ? $" (structure {s})" : "")}");
    }
}
