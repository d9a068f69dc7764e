using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// Compares two files of this format dataset by dataset, in blocks (memory stays bounded): integers, bools and
/// strings exactly, floats within a tolerance (NaN equals NaN), and says whether every float was bit-exact. The
/// optional /info and /arrays groups are compared too when either file has them: the same names, dtypes, shapes and
/// values, except that a NAME_mask that is all true equals no mask (both say every structure has NAME, and the writer
/// makes a mask only at a structure without NAME, so a file whose writer masks every name would never round-trip).
/// The first difference is reported with its dataset, row and (for per-atom datasets) structure.
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
            ?? run.CompareExtras(FormatNames.Info, expected.Info, expected.InfoDatasets, actual.Info, actual.InfoDatasets, perAtom: false)
            ?? run.CompareExtras(FormatNames.Arrays, expected.Arrays, expected.ArrayDatasets, actual.Arrays, actual.ArrayDatasets, perAtom: true)
            ?? run.CompareCount(actual.Metadata.Attributes)
            ?? new DatasetComparison(true, run.BitExact, run.MaxAbsDifference, null, null, null, null);
    }

    private sealed class Run(DatasetLayout expected, double tolerance)
    {
        private long[]? _splits;

        public bool BitExact { get; private set; } = true;
        public double MaxAbsDifference { get; private set; }

        public DatasetComparison? Compare<T>(H5Dataset<T> e, H5Dataset<T> a, bool perAtom) where T : unmanaged, IEquatable<T> =>
            CompareBlocks(e.Path, e.Rows, a.Rows, e.RowLength, perAtom, (start, n) =>
            {
                var ev = e.Read(start, n);
                var av = a.Read(start, n);
                for (int k = 0; k < ev.Length; k++)
                {
                    if (ev[k].Equals(av[k])) continue;
                    if (ev[k] is double x && av[k] is double y && Close(x, y)) continue;
                    if (ev[k] is float xf && av[k] is float yf && Close(xf, yf)) continue;
                    return (k, $"expected {ev[k]}, got {av[k]}");
                }
                return null;
            });

        // Row counts first, then block by block; firstDifference gives the first unequal element of a block (its index
        // in the block and "expected X, got Y"), or null.
        private DatasetComparison? CompareBlocks(string path, long expectedRows, long actualRows, int width, bool perAtom,
            Func<long, long, (int Index, string Values)?> firstDifference)
        {
            if (expectedRows != actualRows)
                return Difference(path, null, null, $"has {actualRows} rows, expected {expectedRows}");
            for (long start = 0; start < expectedRows; start += Block)
            {
                if (firstDifference(start, Math.Min(Block, expectedRows - start)) is not { } d) continue;
                long row = start + d.Index / width;
                return Difference(path, row, perAtom ? StructureOfAtom(row) : row, $"row {row}{Column(width, d.Index)}: {d.Values}");
            }
            return null;
        }

        /// <summary>Compares one optional group: names first, then each dataset's dtype, shape and values.</summary>
        public DatasetComparison? CompareExtras(string groupName,
            H5Group? expectedGroup, IReadOnlyList<(string Name, H5DatasetDescription Description)> expectedDatasets,
            H5Group? actualGroup, IReadOnlyList<(string Name, H5DatasetDescription Description)> actualDatasets, bool perAtom)
        {
            var actualByName = actualDatasets.ToDictionary(d => d.Name, d => d.Description, StringComparer.Ordinal);
            foreach (var (name, e) in expectedDatasets)
            {
                if (!actualByName.TryGetValue(name, out var a))
                {
                    if (DatasetLayout.IsMask(name) && AllTrue(expectedGroup!, name)) continue;
                    return Difference(e.Path, null, null, DatasetLayout.IsMask(name)
                        ? "is missing, but some structures lack the name there" : "is missing");
                }
                if (a.DType != e.DType)
                    return Difference(e.Path, null, null, $"has dtype {a.DType}, expected {e.DType}");
                if (!a.Shape.SequenceEqual(e.Shape))
                    return Difference(e.Path, null, null, $"has shape ({string.Join(", ", a.Shape)}), expected ({string.Join(", ", e.Shape)})");
                // Masks have a row per structure, even in /arrays.
                bool rowsPerAtom = perAtom && !DatasetLayout.IsMask(name);
                var difference = CompareValues(expectedGroup!, actualGroup!, name, e, rowsPerAtom);
                if (difference is not null) return difference;
            }
            var expectedNames = expectedDatasets.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, _) in actualDatasets)
                if (!expectedNames.Contains(name) && !(DatasetLayout.IsMask(name) && AllTrue(actualGroup!, name)))
                    return Difference($"/{groupName}/{name}", null, null, "is not in the expected file");
            return null;
        }

        /// <summary>True when a mask (bool (S,), as the layout checked) says every structure has its name.</summary>
        private static bool AllTrue(H5Group group, string name)
        {
            using var mask = H5Dataset<bool>.Open(group, name);
            for (long start = 0; start < mask.Rows; start += Block)
                if (Array.IndexOf(mask.Read(start, Math.Min(Block, mask.Rows - start)), false) >= 0) return false;
            return true;
        }

        private DatasetComparison? CompareValues(H5Group expectedGroup, H5Group actualGroup, string name, H5DatasetDescription description, bool perAtom)
        {
            try
            {
                return description.DType switch
                {
                    "float64" => Typed<double>(),
                    "float32" => Typed<float>(),
                    "int64" => Typed<long>(),
                    "int32" => Typed<int>(),
                    "int8" => Typed<sbyte>(),
                    "uint8" => Typed<byte>(),
                    "bool" => Typed<bool>(),
                    "string" => Strings(),
                    var other => Difference(description.Path, null, null, $"has dtype {other}, whose values the comparer cannot read"),
                };
            }
            catch (InvalidDataException e)
            {
                // An enum other than h5py's bool describes itself as its base integer but does not open as one.
                return Difference(description.Path, null, null, $"cannot be compared ({e.Message})");
            }

            DatasetComparison? Typed<T>() where T : unmanaged, IEquatable<T>
            {
                using var e = H5Dataset<T>.Open(expectedGroup, name);
                using var a = H5Dataset<T>.Open(actualGroup, name);
                return Compare(e, a, perAtom);
            }

            DatasetComparison? Strings()
            {
                using var e = H5StringDataset.Open(expectedGroup, name);
                using var a = H5StringDataset.Open(actualGroup, name);
                return CompareStrings(e, a, perAtom);
            }
        }

        private DatasetComparison? CompareStrings(H5StringDataset e, H5StringDataset a, bool perAtom) =>
            CompareBlocks(e.Path, e.Rows, a.Rows, e.RowLength, perAtom, (start, n) =>
            {
                var ev = e.Read(start, n);
                var av = a.Read(start, n);
                for (int k = 0; k < ev.Length; k++)
                    if (!string.Equals(ev[k], av[k], StringComparison.Ordinal))
                        return (k, $"expected \"{ev[k]}\", got \"{av[k]}\"");
                return null;
            });

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
