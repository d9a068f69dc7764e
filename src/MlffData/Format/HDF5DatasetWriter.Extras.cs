using MlffData.Hdf5;

namespace MlffData.Format;

// FORMAT.md's optional groups. /info/NAME holds one row per structure, /arrays/NAME one row per atom, concatenated
// like positions. A name gets its dataset when it first appears; the structures before it, and any later structure
// that lacks it, get the missing value (NaN, 0, false, "") and a false in NAME_mask, a bool (S,) dataset that exists
// only once some structure lacks the name. Structures without extras cost nothing: the gaps they leave are filled
// when the name comes back or at Complete().
public sealed partial class HDF5DatasetWriter
{
    private readonly Dictionary<string, ExtraColumn> _infoColumns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ExtraColumn> _arrayColumns = new(StringComparer.Ordinal);
    private readonly List<ExtraColumn> _extraColumns = [];
    private H5Group? _infoGroup;
    private H5Group? _arraysGroup;

    /// <summary>The names a batch brings that the writer has not seen, with the first value of each.</summary>
    private sealed class BatchExtras
    {
        internal Dictionary<string, ExtraValue> Info { get; } = new(StringComparer.Ordinal);
        internal Dictionary<string, ExtraValue> Arrays { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Checks names, row counts and kinds of one structure's extras; throws before anything is written.</summary>
    private void CheckExtras(long index, Structure structure, StructureExtras extras, BatchExtras? introduced)
    {
        CheckExtras(index, extras.Info, perAtom: false, rows: 1, _infoColumns, introduced?.Info);
        CheckExtras(index, extras.Arrays, perAtom: true, rows: structure.NumAtoms, _arrayColumns, introduced?.Arrays);
    }

    private static void CheckExtras(long index, IReadOnlyDictionary<string, ExtraValue>? values, bool perAtom, int rows,
        Dictionary<string, ExtraColumn> columns, Dictionary<string, ExtraValue>? introduced)
    {
        if (values is null) return;
        foreach (var (name, value) in values)
        {
            if (NameProblem(name) is { } problem) Reject(index, perAtom, name, problem);
            if (value is null) Reject(index, perAtom, name, "has no value (null)");
            if (perAtom && value.Kind == ExtraKind.String)
                Reject(index, perAtom, name, "is a string; /arrays holds numbers and bools, strings go to /info");
            if (value.Rows != rows)
                Reject(index, perAtom, name, perAtom
                    ? $"has {value.Rows} rows, expected one per atom ({rows})"
                    : $"has {value.Rows} rows, expected 1 (an info value is one row per structure)");
            if (value.Strings is { } strings)
                foreach (var text in strings)
                    if (text is null || text.Contains('\0'))
                        Reject(index, perAtom, name, "holds a null string or a NUL character, which an HDF5 string cannot hold");
            if (columns.TryGetValue(name, out var column))
            {
                if (!column.Accepts(value))
                    Reject(index, perAtom, name, $"is {value.Describe()} here but {column.Describe()} in earlier structures");
            }
            else if (introduced is not null)
            {
                if (!introduced.TryGetValue(name, out var first)) introduced.Add(name, value);
                else if (!SameKind(first, value))
                    Reject(index, perAtom, name, $"is {value.Describe()} here but {first.Describe()} in earlier structures");
            }
        }
    }

    /// <summary>Why a name cannot be an HDF5 link name in our groups, or null when it can.</summary>
    private static string? NameProblem(string name)
    {
        if (string.IsNullOrEmpty(name)) return "the name is empty";
        if (name.Contains('/')) return "the name contains '/', which HDF5 reads as a path";
        if (name.Contains('\0')) return "the name contains a NUL character";
        if (name is "." or "..") return $"'{name}' is not a valid HDF5 link name";
        if (name.EndsWith(FormatNames.MaskSuffix, StringComparison.Ordinal))
            return $"names ending in {FormatNames.MaskSuffix} are kept for the masks that say which rows are real";
        return null;
    }

    private static bool SameKind(ExtraValue a, ExtraValue b) => a.Kind == b.Kind && a.RowShape.SequenceEqual(b.RowShape);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Reject(long index, bool perAtom, string name, string problem)
    {
        string field = $"{(perAtom ? FormatNames.Arrays : FormatNames.Info)}/{name}";
        throw new ValidationException(index, field, $"{field}: {problem}");
    }

    /// <summary>Writes the extras of the structure at <paramref name="structure"/>, which starts at atom <paramref name="atomsBefore"/>.</summary>
    private void AppendExtras(StructureExtras extras, long structure, long atomsBefore)
    {
        if (extras.Info is { Count: > 0 } info)
        {
            foreach (var (name, value) in info)
            {
                var column = ColumnFor(name, value, perAtom: false);
                column.CatchUp(structure, structure);
                column.Add(value);
            }
        }
        if (extras.Arrays is { Count: > 0 } arrays)
        {
            foreach (var (name, value) in arrays)
            {
                var column = ColumnFor(name, value, perAtom: true);
                column.CatchUp(structure, atomsBefore);
                column.Add(value);
            }
        }
    }

    /// <summary>The column of a name, made (with its group, if need be) when the name is new.</summary>
    private ExtraColumn ColumnFor(string name, ExtraValue first, bool perAtom)
    {
        var columns = perAtom ? _arrayColumns : _infoColumns;
        if (columns.TryGetValue(name, out var column)) return column;
        H5Group group;
        if (perAtom)
        {
            _arraysGroup ??= Own(_file!.CreateGroup(FormatNames.Arrays));
            group = _arraysGroup;
        }
        else
        {
            _infoGroup ??= Own(_file!.CreateGroup(FormatNames.Info));
            group = _infoGroup;
        }
        column = Own(ExtraColumn.Create(group, name, perAtom, first, Compression.ToFilters(), _options.ChunkBytes));
        columns.Add(name, column);
        _extraColumns.Add(column);
        return column;
    }

    /// <summary>Fills every column up to the last structure, so each has S rows (or A) before the final flush.</summary>
    private void CatchUpExtras()
    {
        foreach (var column in _extraColumns)
            column.CatchUp(_structures, column.PerAtom ? _atoms : _structures);
    }

    /// <summary>Continues the /info and /arrays datasets (and masks) of an appended file.</summary>
    private void OpenExistingExtras(DatasetLayout layout)
    {
        if (layout.Info is not null)
        {
            _infoGroup = Own(layout.Info);
            OpenExistingExtras(layout, _infoGroup, layout.InfoDatasets, perAtom: false, _infoColumns);
        }
        if (layout.Arrays is not null)
        {
            _arraysGroup = Own(layout.Arrays);
            OpenExistingExtras(layout, _arraysGroup, layout.ArrayDatasets, perAtom: true, _arrayColumns);
        }
    }

    private void OpenExistingExtras(DatasetLayout layout, H5Group group, IReadOnlyList<(string Name, H5DatasetDescription Description)> datasets,
        bool perAtom, Dictionary<string, ExtraColumn> columns)
    {
        long chunk = _options.ChunkBytes;
        foreach (var (name, description) in datasets)
        {
            if (DatasetLayout.IsMask(name)) continue;
            var column = Own(ExtraColumn.Open(group, layout.FileName, name, description, perAtom, layout.NumStructures, chunk));
            columns.Add(name, column);
            _extraColumns.Add(column);
        }
        // The layout has checked that every mask is a bool (S,) dataset beside the dataset it belongs to.
        foreach (var (name, _) in datasets)
            if (DatasetLayout.IsMask(name))
                columns[name[..^FormatNames.MaskSuffix.Length]].AttachMask(H5Dataset<bool>.Open(group, name));
    }
}
