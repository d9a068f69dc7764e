using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// One /info/NAME or /arrays/NAME dataset of a file being read, with its NAME_mask when it has one: the reading twin
/// of <see cref="ExtraColumn"/>. Rows are read a block at a time (the rows of many structures in one call) and cut
/// into one <see cref="ExtraValue"/> per structure. Narrower numbers than FORMAT.md's (float32, int32, int8, uint8,
/// which h5py writes when asked) are widened to float64 and int64 as they are read, which loses nothing.
/// </summary>
internal sealed class ExtraSource : IDisposable
{
    private readonly IDisposable _dataset;
    private readonly Func<long, long, Array> _read;
    private readonly H5Dataset<bool>? _mask;
    private readonly int[] _rowShape;

    private ExtraSource(string name, bool perAtom, int[] rowShape, IDisposable dataset, Func<long, long, Array> read, H5Dataset<bool>? mask)
    {
        Name = name;
        PerAtom = perAtom;
        _rowShape = rowShape;
        RowLength = rowShape.Aggregate(1, (a, b) => a * b);
        _dataset = dataset;
        _read = read;
        _mask = mask;
    }

    /// <summary>The dataset's name in its group, the key of its values in <see cref="StructureExtras"/>.</summary>
    internal string Name { get; }

    /// <summary>True for /arrays (a row per atom), false for /info (a row per structure).</summary>
    internal bool PerAtom { get; }

    /// <summary>Elements per row.</summary>
    internal int RowLength { get; }

    /// <summary>
    /// Opens a dataset the layout has described, or says why an <see cref="ExtraValue"/> cannot hold it (a dtype
    /// without a kind, strings per atom or in rows of several, an empty row shape dimension).
    /// </summary>
    /// <param name="group">/info or /arrays.</param>
    /// <param name="name">The dataset's name in the group.</param>
    /// <param name="description">The dataset as the layout described it (its rows already checked).</param>
    /// <param name="perAtom">True for /arrays.</param>
    /// <param name="hasMask">True when NAME_mask sits beside it (the layout checked it is bool (S,)).</param>
    /// <param name="chunkCacheBytes">Chunk cache of the numeric datasets, as for the core datasets.</param>
    /// <param name="problem">Why the dataset cannot be read as an extra, or null.</param>
    /// <returns>The opened dataset, or null when <paramref name="problem"/> says why not.</returns>
    internal static ExtraSource? TryOpen(H5Group group, string name, H5DatasetDescription description, bool perAtom, bool hasMask,
        long chunkCacheBytes, out string? problem)
    {
        var dims = description.Shape.Skip(1).ToArray();
        if (dims.Any(d => d is 0 or > int.MaxValue))
        {
            problem = $"has row shape ({string.Join(", ", dims)}), which no extra value has";
            return null;
        }
        var rowShape = dims.Select(d => (int)d).ToArray();
        if (description.DType == "string" && (perAtom || rowShape.Length > 0))
        {
            problem = perAtom
                ? "holds strings per atom; extras hold strings only per structure, one each"
                : $"holds strings in rows of shape ({string.Join(", ", rowShape)}); extras hold one string per structure";
            return null;
        }
        (IDisposable Dataset, Func<long, long, Array> Read)? opened;
        try
        {
            opened = description.DType switch
            {
                "float64" => Numbers<double>(d => d),
                "float32" => Numbers<float>(Widen),
                "int64" => Numbers<long>(d => d),
                "int32" => Numbers<int>(Widen),
                "int8" => Numbers<sbyte>(Widen),
                "uint8" => Numbers<byte>(Widen),
                "bool" => Numbers<bool>(d => d),
                "string" => Strings(),
                _ => null,
            };
        }
        catch (InvalidDataException e)
        {
            // An enum other than h5py's bool describes itself as its base integer but does not open as one.
            problem = e.Message.Replace(description.Path + " ", "");
            return null;
        }
        if (opened is not { } o)
        {
            problem = $"has dtype {description.DType}, which no extra kind holds (float64, float32, int64, int32, int8, uint8, bool, string)";
            return null;
        }
        H5Dataset<bool>? mask = null;
        try
        {
            if (hasMask) mask = H5Dataset<bool>.Open(group, name + FormatNames.MaskSuffix);
        }
        catch
        {
            o.Dataset.Dispose();
            throw;
        }
        problem = null;
        return new ExtraSource(name, perAtom, rowShape, o.Dataset, o.Read, mask);

        // The values come back as ExtraValue's arrays: double[], long[], bool[] or string[].
        (IDisposable, Func<long, long, Array>) Numbers<T>(Func<T[], Array> convert) where T : unmanaged
        {
            var dataset = H5Dataset<T>.Open(group, name, chunkCacheBytes);
            return (dataset, (start, rows) => convert(dataset.Read(start, rows)));
        }

        (IDisposable, Func<long, long, Array>) Strings()
        {
            var dataset = H5StringDataset.Open(group, name);
            return (dataset, dataset.Read);
        }
    }

    private static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);

    private static long[] Widen(int[] values) => Array.ConvertAll(values, v => (long)v);

    private static long[] Widen(sbyte[] values) => Array.ConvertAll(values, v => (long)v);

    private static long[] Widen(byte[] values) => Array.ConvertAll(values, v => (long)v);

    /// <summary>
    /// Reads the block's rows in one call per dataset: rows [<paramref name="start"/>, +<paramref name="count"/>) of
    /// /info, or the atoms <paramref name="splits"/> spans of /arrays, and the mask's rows of those structures.
    /// </summary>
    /// <param name="start">First structure.</param>
    /// <param name="count">Structures in the block.</param>
    /// <param name="splits">The block's atom splits, count + 1 of them, as the file holds them.</param>
    /// <returns>The values (a double[], long[], bool[] or string[] of whole rows) and the mask, null without one.</returns>
    internal (Array Values, bool[]? Mask) ReadBlock(long start, long count, long[] splits)
    {
        var values = PerAtom ? _read(splits[0], splits[count] - splits[0]) : _read(start, count);
        return (values, _mask?.Read(start, count));
    }

    /// <summary>The value of one structure: <paramref name="rows"/> rows from row <paramref name="firstRow"/> of a block.</summary>
    internal ExtraValue Value(Array values, int firstRow, int rows)
    {
        int offset = firstRow * RowLength, length = rows * RowLength;
        return values switch
        {
            double[] v => ExtraValue.FloatRows(v.AsSpan(offset, length).ToArray(), _rowShape),
            long[] v => ExtraValue.IntegerRows(v.AsSpan(offset, length).ToArray(), _rowShape),
            bool[] v => ExtraValue.BoolRows(v.AsSpan(offset, length).ToArray(), _rowShape),
            // TryOpen lets strings through only in /info with one per row.
            string[] v => ExtraValue.String(v[firstRow]),
            _ => throw new InvalidOperationException($"{values.GetType().Name} is not a block of extra values"),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _mask?.Dispose();
        _dataset.Dispose();
    }
}
