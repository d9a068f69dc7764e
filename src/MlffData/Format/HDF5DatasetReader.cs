using System.Collections;
using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// Reads a dataset in the layout of FORMAT.md, written by us or by h5py (any compression h5py ships). The layout is
/// checked when the file opens, so reading never meets an inconsistent file; a file that breaks it raises a
/// <see cref="DatasetFormatException"/> naming the dataset. Structures are read on demand, a row range at a time:
/// neither indexing nor enumeration reads more of the file than the structures asked for. FORMAT.md's optional /info
/// and /arrays groups come back as each structure's <see cref="LabelledStructure.Extras"/>.
/// </summary>
public sealed partial class HDF5DatasetReader : IDisposable, IEnumerable<LabelledStructure>
{
    /// <summary>Structures per block when enumerating, unless the atom budget cuts a block shorter.</summary>
    public const int DefaultBlockStructures = 4096;

    /// <summary>Atoms per block when enumerating (about 50 MB of arrays): bounds memory whatever the structure sizes.</summary>
    public const long DefaultBlockAtoms = 1 << 20;

    /// <summary>
    /// Chunk cache per dataset. It must hold many chunks (ours are about 1 MiB) for random access to a compressed file
    /// to decompress each chunk once rather than on every read; only datasets that large ever fill it.
    /// </summary>
    public const long DefaultChunkCacheBytes = 32 << 20;

    private readonly H5File _file;
    private readonly DatasetLayout _layout;
    private bool _disposed;

    /// <summary>Opens a file read-only and checks its layout.</summary>
    /// <param name="path">The file.</param>
    /// <param name="chunkCacheBytes">Chunk cache per dataset (see <see cref="DefaultChunkCacheBytes"/>).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatasetFormatException">The file is not HDF5, is damaged, or does not follow FORMAT.md.</exception>
    public HDF5DatasetReader(string path, long chunkCacheBytes = DefaultChunkCacheBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileName = path;
        _file = DatasetLayout.OpenFile(path);
        try
        {
            _layout = DatasetLayout.Open(_file, path, chunkCacheBytes);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
        try
        {
            Metadata = ReadMetadata(_layout.Metadata.Attributes);
            (_extras, SkippedExtras) = OpenExtras(chunkCacheBytes);
        }
        catch
        {
            _layout.Dispose();
            _file.Dispose();
            throw;
        }
    }

    /// <summary>The file's checked layout, for copying its rows (merge).</summary>
    internal DatasetLayout Layout => _layout;

    /// <summary>The file's path as it was opened.</summary>
    public string FileName { get; }

    /// <summary>S, the number of structures.</summary>
    public long Count => _layout.NumStructures;

    /// <summary>A, the number of atoms over all structures.</summary>
    public long NumAtoms => _layout.NumAtoms;

    /// <summary>The attributes of /metadata as long, double, bool or string (arrays for array attributes).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>The compression of the per-atom datasets, as FORMAT.md names it (none, gzip-N, lzf).</summary>
    public string Compression => _layout.Positions.Filters.CompressionName;

    /// <summary>The structure at a 0-based index.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is not in [0, Count).</exception>
    public LabelledStructure this[long index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Read(index, 1)[0];
        }
    }

    /// <summary>
    /// Reads structures [start, start + count) in one pass over each dataset, extras included: a structure's
    /// <see cref="LabelledStructure.Extras"/> holds every /info and /arrays name it has (all rows of a name without
    /// NAME_mask, the rows whose mask is true otherwise), and is null when it has none, as for every structure of a
    /// file without those groups.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within [0, Count).</exception>
    public IReadOnlyList<LabelledStructure> Read(long start, long count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"structures [{start}, {start + count}) lie outside {FileName} with {Count} structures");
        if (count == 0) return [];
        var splits = _layout.AtomicNumbersSplits.Read(start, count + 1);
        long firstAtom = splits[0];
        long atoms = splits[count] - firstAtom;
        var numbers = _layout.AtomicNumbers.Read(firstAtom, atoms);
        var positions = _layout.Positions.Read(firstAtom, atoms);
        var forces = _layout.Forces.Read(firstAtom, atoms);
        var cells = _layout.Cells.Read(start, count);
        var pbc = _layout.Pbc.Read(start, count);
        var energy = _layout.Energy.Read(start, count);
        var stress = _layout.Stress.Read(start, count);
        var mask = _layout.StressMask.Read(start, count);
        var indices = _layout.StructureIndices.Read(start, count);
        var extras = _extras.Length == 0 ? null : ReadExtras(start, count, splits);

        var result = new LabelledStructure[count];
        for (int i = 0; i < count; i++)
        {
            int a0 = checked((int)(splits[i] - firstAtom));
            int n = checked((int)(splits[i + 1] - splits[i]));
            var z = new int[n];
            for (int k = 0; k < n; k++)
            {
                long value = numbers[a0 + k];
                if (value is < int.MinValue or > int.MaxValue)
                    throw new DatasetFormatException(FileName, _layout.AtomicNumbers.Path, $"row {firstAtom + a0 + k} holds {value}, not an atomic number");
                z[k] = (int)value;
            }
            var f = new double[3 * n];
            for (int k = 0; k < f.Length; k++) f[k] = forces[3 * a0 + k];
            var structure = new Structure(z, positions.AsSpan(3 * a0, 3 * n).ToArray(), cells.AsSpan(9 * i, 9).ToArray(), pbc.AsSpan(3 * i, 3).ToArray());
            var labels = new Labels(energy[i], f, mask[i] ? stress.AsSpan(6 * i, 6).ToArray() : null);
            result[i] = new LabelledStructure(structure, labels, indices[i], extras?[i]);
        }
        return result;
    }

    /// <summary>
    /// Streams the structures in blocks of at most <paramref name="maxStructures"/> structures and
    /// <paramref name="maxAtoms"/> atoms (a single larger structure still comes, alone), so memory stays bounded.
    /// </summary>
    public IEnumerable<IReadOnlyList<LabelledStructure>> ReadBlocks(
        long start = 0, long? count = null, int maxStructures = DefaultBlockStructures, long maxAtoms = DefaultBlockAtoms)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxStructures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAtoms, 1);
        long end = count is { } c ? start + c : Count;
        if (start > Count || end > Count || end < start)
            throw new ArgumentOutOfRangeException(nameof(count), $"structures [{start}, {end}) lie outside {FileName} with {Count} structures");
        return Blocks(start, end, maxStructures, maxAtoms);
    }

    private IEnumerable<IReadOnlyList<LabelledStructure>> Blocks(long start, long end, int maxStructures, long maxAtoms)
    {
        for (long next = start; next < end;)
        {
            long take = _layout.NextBlock(next, end, maxStructures, maxAtoms).Length - 1;
            yield return Read(next, take);
            next += take;
        }
    }

    /// <summary>Every structure in order, read a block at a time.</summary>
    public IEnumerator<LabelledStructure> GetEnumerator()
    {
        foreach (var block in ReadBlocks())
            foreach (var item in block)
                yield return item;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static Dictionary<string, object> ReadMetadata(H5Attributes attributes)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var name in attributes.Names)
        {
            // An attribute of a type FORMAT.md does not use (another tool's) is skipped rather than refusing the file.
            try
            {
                values[name] = attributes.Get(name);
            }
            catch (NotSupportedException)
            {
            }
        }
        return values;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var source in _extras) source.Dispose();
        _layout.Dispose();
        _file.Dispose();
    }
}
