using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// One name of FORMAT.md's /info or /arrays in a writer: its data column, its NAME_mask once some structure lacks
/// the name, and how many structures it covers. Structures that lack the name are filled in lazily, when the name
/// comes back or the writer completes, so a structure without extras costs nothing here.
/// </summary>
/// <remarks>
/// Mask rule: while there is no mask every covered structure really had the name. The mask is created at the first
/// gap, with true for every structure covered so far, and from then on gets one row per structure.
/// </remarks>
internal sealed class ExtraColumn : IDatasetColumn
{
    private readonly H5Group _group;
    private readonly H5FilterPipeline _filters;
    private readonly long _chunkBytes;
    private readonly IDatasetColumn _data;
    private DatasetColumn<bool>? _mask;

    private ExtraColumn(H5Group group, string name, bool perAtom, ExtraKind kind, int[] rowShape, IDatasetColumn data,
        long structures, H5FilterPipeline filters, long chunkBytes)
    {
        _group = group;
        Name = name;
        PerAtom = perAtom;
        Kind = kind;
        RowShape = rowShape;
        _data = data;
        Structures = structures;
        _filters = filters;
        _chunkBytes = chunkBytes;
    }

    /// <summary>The dataset's name in its group.</summary>
    internal string Name { get; }

    /// <summary>True for /arrays (a row per atom), false for /info (a row per structure).</summary>
    internal bool PerAtom { get; }

    /// <summary>"info/NAME" or "arrays/NAME", as validation messages name it.</summary>
    internal string Field => $"{(PerAtom ? FormatNames.Arrays : FormatNames.Info)}/{Name}";

    /// <summary>The element type.</summary>
    internal ExtraKind Kind { get; }

    /// <summary>The shape of one row.</summary>
    internal int[] RowShape { get; }

    /// <summary>Structures the column has rows for (its mask too, when it has one).</summary>
    internal long Structures { get; private set; }

    /// <summary>A column for a name the file does not have yet; nothing exists in the file before its first flush.</summary>
    internal static ExtraColumn Create(H5Group group, string name, bool perAtom, ExtraValue first, H5FilterPipeline filters, long chunkBytes)
    {
        var shape = first.RowShape.ToArray();
        IDatasetColumn data = first.Kind switch
        {
            ExtraKind.Float => new DatasetColumn<double>(group, name, shape, null, filters, chunkBytes),
            ExtraKind.Integer => new DatasetColumn<long>(group, name, shape, null, filters, chunkBytes),
            ExtraKind.Bool => new DatasetColumn<bool>(group, name, shape, null, filters, chunkBytes),
            _ => new StringColumn(group, name, shape, filters, chunkBytes),
        };
        return new ExtraColumn(group, name, perAtom, first.Kind, shape, data, structures: 0, filters, chunkBytes);
    }

    /// <summary>A column continuing a dataset of an appended file, which covers all its <paramref name="structures"/>.</summary>
    /// <exception cref="DatasetFormatException">The dataset's dtype is not one FORMAT.md gives extras.</exception>
    internal static ExtraColumn Open(H5Group group, string fileName, string name, H5DatasetDescription description, bool perAtom, long structures, long chunkBytes)
    {
        var shape = description.Shape.Skip(1).Select(d => (int)d).ToArray();
        ExtraKind kind;
        IDatasetColumn data;
        try
        {
            (kind, data) = description.DType switch
            {
                "float64" => (ExtraKind.Float, (IDatasetColumn)new DatasetColumn<double>(group, H5Dataset<double>.Open(group, name), chunkBytes)),
                "int64" => (ExtraKind.Integer, new DatasetColumn<long>(group, H5Dataset<long>.Open(group, name), chunkBytes)),
                "bool" => (ExtraKind.Bool, new DatasetColumn<bool>(group, H5Dataset<bool>.Open(group, name), chunkBytes)),
                "string" => (ExtraKind.String, new StringColumn(group, H5StringDataset.Open(group, name), chunkBytes)),
                var other => throw new DatasetFormatException(fileName, description.Path,
                    $"has dtype {other}; appending continues only FORMAT.md's extras dtypes (float64, int64, bool, variable-length string)"),
            };
        }
        catch (InvalidDataException e)
        {
            // An enum over int64 describes itself as int64 but is not one.
            throw new DatasetFormatException(fileName, description.Path, e.Message.Replace(description.Path + " ", ""), e);
        }
        return new ExtraColumn(group, name, perAtom, kind, shape, data, structures, description.Filters, chunkBytes);
    }

    /// <summary>Continues the file's NAME_mask of this column.</summary>
    internal void AttachMask(H5Dataset<bool> mask)
    {
        _mask = new DatasetColumn<bool>(_group, mask, _chunkBytes);
    }

    /// <summary>True when a value has this column's kind and row shape.</summary>
    internal bool Accepts(ExtraValue value)
    {
        if (value.Kind != Kind || value.RowShape.Count != RowShape.Length) return false;
        for (int i = 0; i < RowShape.Length; i++)
            if (value.RowShape[i] != RowShape[i]) return false;
        return true;
    }

    /// <summary>The kind and row shape as <see cref="ExtraValue.Describe()"/> words them.</summary>
    internal string Describe() => ExtraValue.Describe(Kind, RowShape);

    /// <summary>
    /// Gives the structures from <see cref="Structures"/> up to <paramref name="structures"/>, which lacked this name,
    /// the missing value (NaN, 0, false, "") and a false in the mask, creating the mask at the first such gap.
    /// </summary>
    /// <param name="structures">Structures the column must cover.</param>
    /// <param name="rows">Data rows those structures have: the structure count for /info, the atom count for /arrays.</param>
    internal void CatchUp(long structures, long rows)
    {
        long gap = structures - Structures;
        if (gap <= 0) return;
        if (_mask is null)
        {
            _mask = new DatasetColumn<bool>(_group, Name + FormatNames.MaskSuffix, [], null, _filters, _chunkBytes);
            _mask.AddRepeated(true, Structures);
        }
        _mask.AddRepeated(false, gap);
        AddMissing(rows - DataRows);
        Structures = structures;
    }

    /// <summary>Adds the value of the next structure; the caller has caught the column up to it.</summary>
    internal void Add(ExtraValue value)
    {
        switch (_data)
        {
            case DatasetColumn<double> d: d.Add(value.Floats!); break;
            case DatasetColumn<long> d: d.Add(value.Integers!); break;
            case DatasetColumn<bool> d: d.Add(value.Bools!); break;
            case StringColumn d: d.Add(value.Strings!); break;
        }
        _mask?.Add(true);
        Structures++;
    }

    private long DataRows => _data switch
    {
        DatasetColumn<double> d => d.Rows,
        DatasetColumn<long> d => d.Rows,
        DatasetColumn<bool> d => d.Rows,
        _ => ((StringColumn)_data).Rows,
    };

    private void AddMissing(long rows)
    {
        long elements = rows * RowShape.Aggregate(1L, (a, b) => a * b);
        switch (_data)
        {
            case DatasetColumn<double> d: d.AddRepeated(double.NaN, elements); break;
            case DatasetColumn<long> d: d.AddRepeated(0L, elements); break;
            case DatasetColumn<bool> d: d.AddRepeated(false, elements); break;
            case StringColumn d: d.AddRepeated("", elements); break;
        }
    }

    /// <inheritdoc />
    public void Flush(bool whole = false)
    {
        _data.Flush(whole);
        _mask?.Flush(whole);
    }

    /// <inheritdoc />
    public IEnumerable<CheckpointJournal.Tail> Tails() => _mask is null ? _data.Tails() : [.. _data.Tails(), .. _mask.Tails()];

    /// <inheritdoc />
    public void Dispose()
    {
        _data.Dispose();
        _mask?.Dispose();
    }
}
