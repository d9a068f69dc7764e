using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// Everything <c>mlff-data info</c> shows about a file: every dataset in it (any group, any type), the /metadata
/// attributes, the result of the FORMAT.md layout check and, when that passes, the <see cref="DatasetContents"/>
/// from one pass over the data in blocks, so memory stays bounded whatever the file's size. A file that fails the
/// layout check still yields its dataset list and metadata.
/// </summary>
public sealed class DatasetSummary
{
    private DatasetSummary(string fileName, long fileSize, IReadOnlyList<H5DatasetDescription> datasets,
        IReadOnlyDictionary<string, object> metadata, DatasetContents? contents, DatasetFormatException? layoutError)
    {
        FileName = fileName;
        FileSize = fileSize;
        Datasets = datasets;
        Metadata = metadata;
        Contents = contents;
        LayoutError = layoutError;
    }

    /// <summary>The file's path as it was given.</summary>
    public string FileName { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Every dataset in the file, groups walked depth first in name order, paths from the root.</summary>
    public IReadOnlyList<H5DatasetDescription> Datasets { get; }

    /// <summary>The attributes of /metadata as long, double, bool or string (arrays for array attributes); empty
    /// without a /metadata group. Attributes of types FORMAT.md does not use are left out.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    /// <summary>Counts and statistics of the data; null when the layout check failed.</summary>
    public DatasetContents? Contents { get; }

    /// <summary>Why the file does not follow FORMAT.md (or could not be read in full); null when it does.</summary>
    public DatasetFormatException? LayoutError { get; }

    /// <summary>True when the file follows FORMAT.md and every dataset of the layout read back.</summary>
    public bool LayoutOk => LayoutError is null;

    /// <summary>Reads a file's summary, streaming the data at most <paramref name="maxAtoms"/> atoms at a time.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatasetFormatException">The file is not HDF5 or is too damaged to list its datasets.</exception>
    public static DatasetSummary Read(string path, long maxAtoms = HDF5DatasetReader.DefaultBlockAtoms)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAtoms, 1);
        using (var file = DatasetLayout.OpenFile(path))
        {
            IReadOnlyList<H5DatasetDescription> datasets;
            IReadOnlyDictionary<string, object> metadata;
            try
            {
                datasets = file.WalkDatasets().Select(file.Describe).ToList();
                metadata = ReadMetadata(file);
            }
            catch (H5Exception e)
            {
                throw new DatasetFormatException(path, e.ObjectPath, e.Message, e);
            }

            DatasetContents? contents = null;
            DatasetFormatException? problem = null;
            try
            {
                using var layout = DatasetLayout.Open(file, path);
                contents = Summarize(layout, maxAtoms);
            }
            catch (DatasetFormatException e)
            {
                problem = e;
            }
            catch (H5Exception e)
            {
                // A chunk that fails to decompress or checksum: the layout holds, but the data cannot be read.
                problem = new DatasetFormatException(path, null, $"cannot be read in full ({e.Message})", e);
            }
            return new DatasetSummary(path, new FileInfo(path).Length, datasets, metadata, contents, problem);
        }
    }

    private static Dictionary<string, object> ReadMetadata(H5File file)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        if (file.KindOf(FormatNames.Metadata) != "group") return values;
        using var group = file.OpenGroup(FormatNames.Metadata);
        foreach (var name in group.Attributes.Names)
        {
            // Another tool's attribute of a type FORMAT.md does not use is no reason to refuse the summary.
            try
            {
                values[name] = group.Attributes.Get(name);
            }
            catch (NotSupportedException)
            {
            }
        }
        return values;
    }

    private static DatasetContents Summarize(DatasetLayout layout, long maxAtoms)
    {
        long structures = layout.NumStructures;
        long atomsTotal = layout.NumAtoms;
        var energy = new DatasetStatistics();
        var energyPerAtom = new DatasetStatistics();
        // Per atomic number: atoms, structures holding it, and the last structure counted (so each counts once).
        var tallies = new SortedDictionary<long, (long Atoms, long Structures, long LastStructure)>();
        var known = new (long Atoms, long Structures, long LastStructure)[ChemicalSymbols.MaxAtomicNumber + 1];
        Array.Fill(known, (0, 0, -1));
        // Structures per periodicity, indexed by the three axes as bits (x = 4, y = 2, z = 1).
        var pbcCounts = new long[8];
        long stressCount = 0, minAtoms = long.MaxValue, maxAtomsSeen = 0;
        double maxAbsForce = 0, maxNormSquared = 0, sumSquares = 0;

        for (long next = 0; next < structures;)
        {
            var splits = layout.NextBlock(next, structures, HDF5DatasetReader.DefaultBlockStructures, maxAtoms);
            long take = splits.Length - 1;

            long firstAtom = splits[0];
            long atoms = splits[take] - firstAtom;
            var numbers = layout.AtomicNumbers.Read(firstAtom, atoms);
            var forces = layout.Forces.Read(firstAtom, atoms);
            var pbc = layout.Pbc.Read(next, take);
            var energies = layout.Energy.Read(next, take);
            var mask = layout.StressMask.Read(next, take);

            for (int i = 0; i < take; i++)
            {
                long count = splits[i + 1] - splits[i];
                minAtoms = Math.Min(minAtoms, count);
                maxAtomsSeen = Math.Max(maxAtomsSeen, count);
                energy.AddEnergy(energies[i]);
                if (count > 0) energyPerAtom.AddEnergy(energies[i] / count);
                pbcCounts[(pbc[3 * i] ? 4 : 0) | (pbc[3 * i + 1] ? 2 : 0) | (pbc[3 * i + 2] ? 1 : 0)]++;
                if (mask[i]) stressCount++;

                long structure = next + i;
                for (long k = splits[i] - firstAtom; k < splits[i + 1] - firstAtom; k++)
                {
                    long z = numbers[k];
                    if (z is >= 0 and <= ChemicalSymbols.MaxAtomicNumber)
                    {
                        ref var t = ref known[z];
                        t = (t.Atoms + 1, t.LastStructure == structure ? t.Structures : t.Structures + 1, structure);
                    }
                    else
                    {
                        // Not an element: rare enough (a broken writer) for a dictionary.
                        var t = tallies.GetValueOrDefault(z, (0, 0, -1));
                        tallies[z] = (t.Atoms + 1, t.LastStructure == structure ? t.Structures : t.Structures + 1, structure);
                    }
                }
            }

            for (int k = 0; k < forces.Length; k += 3)
            {
                double fx = forces[k], fy = forces[k + 1], fz = forces[k + 2];
                double squared = fx * fx + fy * fy + fz * fz;
                sumSquares += squared;
                maxNormSquared = Math.Max(maxNormSquared, squared);
                maxAbsForce = Math.Max(maxAbsForce, Math.Max(Math.Abs(fx), Math.Max(Math.Abs(fy), Math.Abs(fz))));
            }
            next += take;
        }

        var pbcKinds = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int bits = 0; bits < pbcCounts.Length; bits++)
            if (pbcCounts[bits] > 0)
                pbcKinds[PbcKind(bits)] = pbcCounts[bits];
        for (int z = 0; z < known.Length; z++)
            if (known[z].Atoms > 0) tallies[z] = known[z];
        bool any = structures > 0, anyAtoms = atomsTotal > 0, anyPerAtom = energyPerAtom.Count > 0;
        return new DatasetContents
        {
            NumStructures = structures,
            NumAtoms = atomsTotal,
            AtomsPerStructureMin = any ? minAtoms : null,
            AtomsPerStructureMean = any ? (double)atomsTotal / structures : null,
            AtomsPerStructureMax = any ? maxAtomsSeen : null,
            Elements = tallies.Select(e => new ElementCount(e.Key, SymbolOf(e.Key), e.Value.Atoms, e.Value.Structures)).ToList(),
            PbcKinds = pbcKinds,
            StressCount = stressCount,
            EnergyMin = any ? energy.Min : null,
            EnergyMax = any ? energy.Max : null,
            EnergyMean = any ? energy.Mean : null,
            EnergyStd = any ? energy.Std : null,
            EnergyPerAtomMean = anyPerAtom ? energyPerAtom.Mean : null,
            EnergyPerAtomStd = anyPerAtom ? energyPerAtom.Std : null,
            MaxAbsForce = anyAtoms ? maxAbsForce : null,
            MaxForceNorm = anyAtoms ? Math.Sqrt(maxNormSquared) : null,
            RmsForce = anyAtoms ? Math.Sqrt(sumSquares / (3.0 * atomsTotal)) : null,
        };
    }

    private static string PbcKind(int bits) =>
        new([(bits & 4) != 0 ? 'T' : 'F', (bits & 2) != 0 ? 'T' : 'F', (bits & 1) != 0 ? 'T' : 'F']);

    private static string SymbolOf(long z) => z switch
    {
        0 => "X",
        >= 1 and <= ChemicalSymbols.MaxAtomicNumber => ChemicalSymbols.Symbol((int)z),
        _ => $"Z={z}",
    };
}
