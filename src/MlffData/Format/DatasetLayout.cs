using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// The groups and datasets of an existing file, opened and checked against FORMAT.md: every group and dataset
/// present with its dtype and shape, /structures holding exactly its five datasets, per-structure datasets of S
/// rows, per-atom ones of A rows, splits that start at 0, never decrease, end at A and agree between the two
/// splits datasets. The optional /info and /arrays groups, when present, hold only datasets: /info/NAME and every
/// NAME_mask (bool, beside its NAME) of S rows, /arrays/NAME of A rows. Any break is a
/// <see cref="DatasetFormatException"/> naming the dataset.
/// </summary>
internal sealed class DatasetLayout : IDisposable
{
    private const long Block = 1 << 16;
    private readonly List<IDisposable> _owned = [];

    private readonly long _chunkCacheBytes;

    private DatasetLayout(string fileName, long chunkCacheBytes)
    {
        FileName = fileName;
        _chunkCacheBytes = chunkCacheBytes;
    }

    internal string FileName { get; }
    internal H5Group Structures { get; private set; } = null!;
    internal H5Group Labels { get; private set; } = null!;
    internal H5Group Metadata { get; private set; } = null!;
    internal H5Dataset<long> AtomicNumbers { get; private set; } = null!;
    internal H5Dataset<long> AtomicNumbersSplits { get; private set; } = null!;
    internal H5Dataset<double> Positions { get; private set; } = null!;
    internal H5Dataset<double> Cells { get; private set; } = null!;
    internal H5Dataset<bool> Pbc { get; private set; } = null!;
    internal H5Dataset<double> Energy { get; private set; } = null!;
    internal H5Dataset<float> Forces { get; private set; } = null!;
    internal H5Dataset<long> ForcesSplits { get; private set; } = null!;
    internal H5Dataset<double> Stress { get; private set; } = null!;
    internal H5Dataset<bool> StressMask { get; private set; } = null!;
    internal H5Dataset<long> StructureIndices { get; private set; } = null!;

    /// <summary>The optional /info group, or null when the file has none.</summary>
    internal H5Group? Info { get; private set; }

    /// <summary>The optional /arrays group, or null when the file has none.</summary>
    internal H5Group? Arrays { get; private set; }

    /// <summary>The datasets of /info (masks included), in name order; whatever their dtype, only described.</summary>
    internal IReadOnlyList<(string Name, H5DatasetDescription Description)> InfoDatasets { get; private set; } = [];

    /// <summary>The datasets of /arrays (masks included), in name order.</summary>
    internal IReadOnlyList<(string Name, H5DatasetDescription Description)> ArrayDatasets { get; private set; } = [];

    /// <summary>S, the number of structures: the splits define them, every other per-structure dataset must agree.</summary>
    internal long NumStructures => AtomicNumbersSplits.Rows - 1;

    /// <summary>A, the number of atoms.</summary>
    internal long NumAtoms => AtomicNumbers.Rows;

    /// <summary>
    /// Opens a file read-only for the layout check, after <see cref="RejectUnsafeFeatures"/>: the reader, merge and info
    /// all open files we did not necessarily write through here. A file libhdf5 cannot open is a format error, not an
    /// HDF5 one.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <exception cref="DatasetFormatException">The file is not HDF5, is damaged past opening, or uses a feature that
    /// reads outside the file or that this format does not use (the message names the object).</exception>
    internal static H5File OpenFile(string path)
    {
        RefuseUnfinished(path);
        H5File file;
        try
        {
            file = H5File.Open(path, readOnly: true);
        }
        catch (H5Exception e)
        {
            throw new DatasetFormatException(path, null, $"not a readable HDF5 file ({e.Message})", e);
        }
        try
        {
            RejectUnsafeFeatures(file, path);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Refuses a file with a journal beside it (<see cref="RollbackJournal"/>, <see cref="CheckpointJournal"/>): a writer
    /// is at work on it, or was killed and left it between checkpoints, where its bytes may be half of one flush and half
    /// of another. What it holds is what <c>mlff-data repair</c> gives back, so that is what the message says to run.
    /// </summary>
    /// <exception cref="DatasetFormatException">The file has a journal.</exception>
    private static void RefuseUnfinished(string path)
    {
        string? journal = RollbackJournal.Exists(path) ? RollbackJournal.PathOf(path)
            : CheckpointJournal.Exists(path) ? CheckpointJournal.PathOf(path) : null;
        if (journal is null) return;
        string reason = OutputLock.LiveHolderOf(path) is int pid
            ? $"is being written by process {pid} ({journal} is beside it); read it once that writer has finished"
            : $"was left by a writer that did not finish ({journal} is beside it); run `mlff-data repair {path}` to bring it back to its last checkpoint";
        throw new DatasetFormatException(path, null, reason);
    }

    /// <summary>
    /// Refuses a file with external links, soft links, external or virtual storage, unknown filters or datatypes this
    /// format does not use (<see cref="H5FileInspection"/>), before any of its data is read: those features make
    /// libhdf5 read other files, so a crafted input could copy any local file into the dataset we write.
    /// </summary>
    /// <param name="file">The open file.</param>
    /// <param name="path">Its name, for messages.</param>
    /// <exception cref="DatasetFormatException">The file uses such a feature, or its metadata cannot be read.</exception>
    internal static void RejectUnsafeFeatures(H5File file, string path)
    {
        (string ObjectPath, string Problem)? finding;
        try
        {
            finding = H5FileInspection.FindUnsafeFeature(file);
        }
        catch (H5Exception e)
        {
            throw new DatasetFormatException(path, e.ObjectPath, $"not a readable HDF5 file ({e.Message})", e);
        }
        if (finding is { } f)
            throw new DatasetFormatException(path, f.ObjectPath, f.Problem);
    }

    /// <summary>Opens and checks every part of the layout.</summary>
    /// <exception cref="DatasetFormatException">The file does not follow FORMAT.md.</exception>
    /// <param name="file">The open file.</param>
    /// <param name="fileName">Its name, for messages.</param>
    /// <param name="chunkCacheBytes">Chunk cache per dataset for readers; 0 for libhdf5's default.</param>
    internal static DatasetLayout Open(H5File file, string fileName, long chunkCacheBytes = 0)
    {
        var layout = new DatasetLayout(fileName, chunkCacheBytes);
        try
        {
            layout.OpenAll(file);
            layout.CheckShapes();
            layout.CheckSplits();
            layout.CheckCount();
            layout.CheckExtras(file);
            return layout;
        }
        catch
        {
            layout.Dispose();
            throw;
        }
    }

    private void OpenAll(H5File file)
    {
        Structures = Group(file, FormatNames.Structures);
        Labels = Group(file, FormatNames.Labels);
        Metadata = Group(file, FormatNames.Metadata);

        var members = Structures.MemberNames();
        var extra = members.Except(FormatNames.StructureDatasets).ToList();
        if (extra.Count > 0)
            throw new DatasetFormatException(FileName, "/structures", $"holds {string.Join(", ", extra)} besides its five datasets");

        AtomicNumbers = Dataset<long>(Structures, FormatNames.AtomicNumbers);
        AtomicNumbersSplits = Dataset<long>(Structures, FormatNames.AtomicNumbersSplits);
        Positions = Dataset<double>(Structures, FormatNames.Positions);
        Cells = Dataset<double>(Structures, FormatNames.Cells);
        Pbc = Dataset<bool>(Structures, FormatNames.Pbc);
        Energy = Dataset<double>(Labels, FormatNames.Energy);
        Forces = Dataset<float>(Labels, FormatNames.Forces);
        ForcesSplits = Dataset<long>(Labels, FormatNames.ForcesSplits);
        Stress = Dataset<double>(Labels, FormatNames.Stress);
        StressMask = Dataset<bool>(Labels, FormatNames.StressMask);
        StructureIndices = Dataset<long>(Labels, FormatNames.StructureIndices);
    }

    /// <summary>
    /// The splits of the next block to read: at most <paramref name="maxStructures"/> structures from
    /// <paramref name="start"/>, cut where <paramref name="maxAtoms"/> runs out (one structure always comes, however
    /// large). The splits say where without reading any atom. Its length is the block's structure count + 1.
    /// </summary>
    internal long[] NextBlock(long start, long end, int maxStructures, long maxAtoms)
    {
        long n = Math.Min(maxStructures, end - start);
        var splits = AtomicNumbersSplits.Read(start, n + 1);
        long take = 1;
        while (take < n && splits[take + 1] - splits[0] <= maxAtoms) take++;
        return take == n ? splits : splits[..(int)(take + 1)];
    }

    private void CheckShapes()
    {
        if (AtomicNumbersSplits.Rows < 1)
            throw new DatasetFormatException(FileName, AtomicNumbersSplits.Path, "is empty, expected at least the leading 0");
        long s = NumStructures, a = NumAtoms;
        Expect(AtomicNumbers, [], a, "A");
        Expect(AtomicNumbersSplits, [], s + 1, "S + 1");
        Expect(Positions, [3], a, "A");
        Expect(Cells, [3, 3], s, "S");
        Expect(Pbc, [3], s, "S");
        Expect(Energy, [], s, "S");
        Expect(Forces, [3], a, "A");
        Expect(ForcesSplits, [], s + 1, "S + 1");
        Expect(Stress, [6], s, "S");
        Expect(StressMask, [], s, "S");
        Expect(StructureIndices, [], s, "S");
    }

    private void CheckSplits()
    {
        long previous = 0;
        long rows = AtomicNumbersSplits.Rows;
        for (long start = 0; start < rows; start += Block)
        {
            long n = Math.Min(Block, rows - start);
            var splits = AtomicNumbersSplits.Read(start, n);
            var forces = ForcesSplits.Read(start, n);
            for (int i = 0; i < splits.Length; i++)
            {
                long row = start + i;
                if (row == 0 && splits[0] != 0)
                    throw new DatasetFormatException(FileName, AtomicNumbersSplits.Path, $"starts at {splits[0]}, expected 0");
                if (splits[i] < previous)
                    throw new DatasetFormatException(FileName, AtomicNumbersSplits.Path, $"decreases at row {row} ({previous} then {splits[i]})");
                if (forces[i] != splits[i])
                    throw new DatasetFormatException(FileName, ForcesSplits.Path, $"differs from atomic_numbers_splits at row {row} ({forces[i]} vs {splits[i]})");
                previous = splits[i];
            }
        }
        if (previous != NumAtoms)
            throw new DatasetFormatException(FileName, AtomicNumbersSplits.Path, $"ends at {previous}, but there are {NumAtoms} atoms");
    }

    private void CheckCount()
    {
        if (!Metadata.Attributes.Contains(FormatNames.NumStructures)) return;
        if (Metadata.Attributes.Get(FormatNames.NumStructures) is long count && count != NumStructures)
            throw new DatasetFormatException(FileName, "/metadata", $"num_structures is {count}, but the datasets hold {NumStructures} structures" +
                (count < NumStructures ? $"; a writer was stopped after its last checkpoint: unless one is still writing it, `mlff-data repair {FileName}` cuts it back to that checkpoint" : ""));
    }

    /// <summary>True for NAME_mask, the dataset that says which structures really had NAME.</summary>
    internal static bool IsMask(string name) => name.EndsWith(FormatNames.MaskSuffix, StringComparison.Ordinal);

    private void CheckExtras(H5File file)
    {
        Info = OptionalGroup(file, FormatNames.Info);
        if (Info is not null) InfoDatasets = CheckExtras(Info, perAtom: false);
        Arrays = OptionalGroup(file, FormatNames.Arrays);
        if (Arrays is not null) ArrayDatasets = CheckExtras(Arrays, perAtom: true);
    }

    private List<(string Name, H5DatasetDescription Description)> CheckExtras(H5Group group, bool perAtom)
    {
        long s = NumStructures, a = NumAtoms;
        var names = group.MemberNames();
        var present = names.ToHashSet(StringComparer.Ordinal);
        var datasets = new List<(string, H5DatasetDescription)>(names.Count);
        foreach (var name in names)
        {
            string path = group.Child(name);
            if (group.KindOf(name) != "dataset")
                throw new DatasetFormatException(FileName, path, $"is not a dataset; {group.Path} holds only datasets");
            H5DatasetDescription description;
            try
            {
                description = group.Describe(name);
            }
            catch (H5Exception e)
            {
                throw new DatasetFormatException(FileName, path, e.Message, e);
            }
            var shape = description.Shape;
            if (shape.Count == 0)
                throw new DatasetFormatException(FileName, path, "is a scalar, expected a row per structure or atom");
            long rows = (long)shape[0];
            if (IsMask(name))
            {
                if (!present.Contains(name[..^FormatNames.MaskSuffix.Length]))
                    throw new DatasetFormatException(FileName, path, $"is a mask without its dataset {name[..^FormatNames.MaskSuffix.Length]}");
                if (description.DType != "bool" || shape.Count != 1)
                    throw new DatasetFormatException(FileName, path, $"has dtype {description.DType} and shape ({string.Join(", ", shape)}), expected bool (S,)");
                if (rows != s)
                    throw new DatasetFormatException(FileName, path, $"has {rows} rows, expected S = {s}");
            }
            else if (rows != (perAtom ? a : s))
            {
                throw new DatasetFormatException(FileName, path, $"has {rows} rows, expected {(perAtom ? "A" : "S")} = {(perAtom ? a : s)}");
            }
            datasets.Add((name, description));
        }
        return datasets;
    }

    private H5Group? OptionalGroup(H5File file, string name) => file.KindOf(name) switch
    {
        null => null,
        "group" => Own(file.OpenGroup(name)),
        _ => throw new DatasetFormatException(FileName, "/" + name, "is not a group"),
    };

    private void Expect<T>(H5Dataset<T> dataset, ulong[] rowShape, long rows, string rowsName) where T : unmanaged
    {
        if (!dataset.RowShape.SequenceEqual(rowShape))
            throw new DatasetFormatException(FileName, dataset.Path,
                $"has shape ({dataset.Rows}{string.Concat(dataset.RowShape.Select(d => $", {d}"))}), expected ({rowsName}{string.Concat(rowShape.Select(d => $", {d}"))})");
        if (dataset.Rows != rows)
            throw new DatasetFormatException(FileName, dataset.Path, $"has {dataset.Rows} rows, expected {rowsName} = {rows}");
    }

    private H5Group Group(H5File file, string name)
    {
        if (file.KindOf(name) != "group")
            throw new DatasetFormatException(FileName, "/" + name, "group is missing");
        return Own(file.OpenGroup(name));
    }

    private H5Dataset<T> Dataset<T>(H5Group group, string name) where T : unmanaged
    {
        string path = group.Child(name);
        if (group.KindOf(name) != "dataset")
            throw new DatasetFormatException(FileName, path, "dataset is missing");
        try
        {
            return Own(H5Dataset<T>.Open(group, name, _chunkCacheBytes));
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(FileName, path, e.Message.Replace(path + " ", ""), e);
        }
        catch (H5Exception e)
        {
            throw new DatasetFormatException(FileName, path, e.Message, e);
        }
    }

    private TOwned Own<TOwned>(TOwned item) where TOwned : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>Leaves the datasets and groups to a new owner (the writer), so disposing the layout keeps them open.</summary>
    internal void Release() => _owned.Clear();

    /// <inheritdoc />
    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
