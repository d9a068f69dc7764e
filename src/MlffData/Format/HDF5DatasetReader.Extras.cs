using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

// FORMAT.md's optional groups on the way back: /info/NAME gives each structure one row, /arrays/NAME the rows of its
// atoms (cut by the same splits as positions), and NAME_mask, when there is one, says which structures really had
// NAME. Each dataset is read once per block, like the core datasets; a file without the groups reads as fast as ever.
public sealed partial class HDF5DatasetReader
{
    private readonly ExtraSource[] _extras;

    /// <summary>
    /// The /info and /arrays datasets this reader leaves out of <see cref="LabelledStructure.Extras"/>: path (e.g.
    /// /arrays/labels) to why (a dtype no <see cref="ExtraKind"/> holds, strings per atom); empty when it reads them
    /// all. Like metadata of an unknown type, they are skipped rather than making the whole file unreadable.
    /// </summary>
    public IReadOnlyDictionary<string, string> SkippedExtras { get; }

    private (ExtraSource[] Sources, Dictionary<string, string> Skipped) OpenExtras(long chunkCacheBytes)
    {
        var sources = new List<ExtraSource>();
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_layout.Info is null && _layout.Arrays is null) return ([], skipped);
        try
        {
            if (_layout.Info is { } info) Open(info, _layout.InfoDatasets, perAtom: false);
            if (_layout.Arrays is { } arrays) Open(arrays, _layout.ArrayDatasets, perAtom: true);
        }
        catch
        {
            foreach (var source in sources) source.Dispose();
            throw;
        }
        return (sources.ToArray(), skipped);

        void Open(H5Group group, IReadOnlyList<(string Name, H5DatasetDescription Description)> datasets, bool perAtom)
        {
            var names = datasets.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, description) in datasets)
            {
                // The layout has checked every mask: bool (S,), beside the dataset it belongs to.
                if (DatasetLayout.IsMask(name)) continue;
                ExtraSource? source;
                string? problem;
                try
                {
                    source = ExtraSource.TryOpen(group, name, description, perAtom, names.Contains(name + FormatNames.MaskSuffix), chunkCacheBytes, out problem);
                }
                catch (H5Exception e)
                {
                    throw new DatasetFormatException(FileName, description.Path, e.Message, e);
                }
                if (source is not null) sources.Add(source);
                else skipped.Add(description.Path, problem!);
            }
        }
    }

    /// <summary>Whether the file has /info or /arrays datasets this reader reads.</summary>
    internal bool HasExtras => _extras.Length > 0;

    /// <summary>The extras of structures [start, start + count), whose atom splits are <paramref name="splits"/>.</summary>
    internal StructureExtras?[] ReadExtras(long start, long count, long[] splits)
    {
        var info = new Dictionary<string, ExtraValue>?[count];
        var arrays = new Dictionary<string, ExtraValue>?[count];
        foreach (var source in _extras)
        {
            var (values, mask) = source.ReadBlock(start, count, splits);
            var target = source.PerAtom ? arrays : info;
            for (int i = 0; i < count; i++)
            {
                if (mask is not null && !mask[i]) continue;
                var value = source.PerAtom
                    ? source.Value(values, checked((int)(splits[i] - splits[0])), checked((int)(splits[i + 1] - splits[i])))
                    : source.Value(values, i, 1);
                (target[i] ??= new Dictionary<string, ExtraValue>(StringComparer.Ordinal)).Add(source.Name, value);
            }
        }
        var extras = new StructureExtras?[count];
        for (int i = 0; i < count; i++)
            if (info[i] is not null || arrays[i] is not null)
                extras[i] = new StructureExtras(info[i] ?? StructureExtras.Empty.Info, arrays[i] ?? StructureExtras.Empty.Arrays);
        return extras;
    }
}
