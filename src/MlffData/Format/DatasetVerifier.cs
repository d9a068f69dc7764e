using System.Text.Json;
using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// <c>mlff-data verify</c>: reads every chunk of every dataset of a file, so that libhdf5 checks each one's fletcher32
/// checksum (which this library writes on every numeric dataset), and checks the file's consistency: FORMAT.md's
/// layout (<see cref="DatasetLayout"/>: shapes, splits, counts) and the statistics in /metadata against the values.
/// </summary>
/// <remarks>
/// A flipped bit in stored data is otherwise read back as a silently wrong number (RELIABILITY.md 1.6); with the
/// checksum it fails to read, here as in h5py. Chunks are read one at a time, so a failure names its dataset and rows
/// and the rest of the file is still checked. Datasets without a checksum (files from other tools, and the vlen text of
/// /info, which libhdf5 cannot checksum) are read too, and listed: their bytes cannot be verified.
/// </remarks>
public static class DatasetVerifier
{
    // Chunks of our files are about 1 MiB; a contiguous dataset (another tool's) is read in blocks of this many rows.
    private const long ContiguousRows = 1 << 16;
    // Deflate's best ratio is 1032:1 (a run of one byte), and shuffle or lzf does not beat it: a bound on what fits.
    private const long MaxCompression = 1100;

    /// <summary>Verifies one file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="progress">Called after each dataset with (datasets done, datasets in the file).</param>
    /// <returns>What was read and every problem found; <see cref="VerificationReport.Ok"/> when there is none.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static VerificationReport Verify(string path, Action<int, int>? progress = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var problems = new List<string>();
        var unchecked_ = new List<string>();
        long structures = 0, atoms = 0, chunks = 0;
        int datasets = 0;
        H5File file;
        try
        {
            file = DatasetLayout.OpenFile(path);
        }
        catch (Exception e) when (e is DatasetFormatException or H5Exception)
        {
            return new VerificationReport(path, 0, 0, 0, 0, [], [e.Message]);
        }
        using (file)
        {
            var stats = new DatasetStatistics();
            try
            {
                using var layout = DatasetLayout.Open(file, path);
                structures = layout.NumStructures;
                atoms = layout.NumAtoms;
            }
            catch (Exception e) when (e is DatasetFormatException or H5Exception or InvalidDataException)
            {
                // The layout is broken; the chunks can still be checked one by one.
                problems.Add(e.Message);
                structures = atoms = -1;
            }
            var paths = file.WalkDatasets();
            long size = file.Size;
            foreach (var relative in paths)
            {
                string name = "/" + relative;
                try
                {
                    var description = file.Describe(relative);
                    if (!description.Filters.Fletcher32) unchecked_.Add(name);
                    chunks += ReadAll(file, size, relative, description, stats, problems);
                }
                catch (Exception e) when (e is H5Exception or InvalidDataException)
                {
                    problems.Add($"{name}: {e.Message}");
                }
                datasets++;
                progress?.Invoke(datasets, paths.Count);
            }
            if (structures >= 0) CheckStatistics(file, stats, problems);
        }
        return new VerificationReport(path, structures, atoms, datasets, chunks, unchecked_, problems);
    }

    /// <summary>Reads a dataset chunk by chunk in its own type; returns the chunks read. A chunk that fails to read is
    /// a problem naming its rows, and reading goes on with the next.</summary>
    private static long ReadAll(H5File file, long size, string relative, H5DatasetDescription description, DatasetStatistics stats, List<string> problems)
    {
        string name = "/" + relative;
        // Rows past the stored chunks read as fill values, one by one: a dataspace damaged to claim trillions of rows
        // would keep verify busy for hours. No filter stores more than about 1032 bytes of values in one byte (deflate's
        // limit), so a dataset claiming more than that times the file's size cannot be there.
        if (description.LogicalBytes / MaxCompression > size)
        {
            problems.Add($"{name}: claims {description.Shape[0]:N0} rows ({description.LogicalBytes:N0} bytes), more than a file of {size:N0} bytes can hold; not read");
            return 0;
        }
        // The values the statistics need are looked at as they pass; everything else is read and dropped.
        string energy = $"{FormatNames.Labels}/{FormatNames.Energy}", forces = $"{FormatNames.Labels}/{FormatNames.Forces}",
            numbers = $"{FormatNames.Structures}/{FormatNames.AtomicNumbers}";
        Func<long, long, object> read;
        IDisposable dataset;
        long rows, step;
        switch (description.DType)
        {
            case "float64":
                (dataset, rows, step, read) = Typed(file.OpenDataset<double>(relative), relative == energy ? v => { foreach (var e in v) stats.AddEnergy(e); } : null);
                break;
            case "float32":
                (dataset, rows, step, read) = Typed(file.OpenDataset<float>(relative), relative == forces ? v => stats.AddForces(v) : null);
                break;
            case "int64":
                (dataset, rows, step, read) = Typed(file.OpenDataset<long>(relative), relative == numbers ? v => stats.AddElements(v) : null);
                break;
            case "bool":
                (dataset, rows, step, read) = Typed<bool>(file.OpenDataset<bool>(relative), null);
                break;
            case "string":
            {
                var d = file.OpenStringDataset(relative);
                (dataset, rows, step, read) = (d, d.Rows, Step(d), (start, n) => d.Read(start, n));
                break;
            }
            default:
                problems.Add($"{name}: has type {description.DType}, which this format does not use; not read");
                return 0;
        }
        using (dataset)
        {
            long chunks = 0;
            for (long start = 0; start < rows; start += step)
            {
                long n = Math.Min(step, rows - start);
                try
                {
                    read(start, n);
                }
                catch (H5Exception e)
                {
                    problems.Add($"{name}: rows {start}..{start + n - 1} cannot be read: {e.Message}");
                }
                catch (InvalidDataException e)
                {
                    // From our own decoding (ChunkReader), whose message names the dataset and chunk; the cause says why.
                    problems.Add($"{name}: rows {start}..{start + n - 1} cannot be read: {e.InnerException?.Message ?? e.Message}");
                }
                chunks++;
            }
            return chunks;
        }
    }

    private static long Step(H5ExtensibleDataset dataset) => dataset.ChunkRows > 0 ? dataset.ChunkRows : ContiguousRows;

    /// <summary>
    /// A numeric dataset read a block at a time, each block shown to observe (when given). Chunks this library can
    /// decode are read as stored and checked and decoded on all cores (<see cref="ChunkReader{T}"/>), a chunk per block;
    /// others go through libhdf5.
    /// </summary>
    private static (IDisposable, long, long, Func<long, long, object>) Typed<T>(H5Dataset<T> dataset, Action<T[]>? observe) where T : unmanaged
    {
        if (!ChunkReader<T>.Supports(dataset))
        {
            return (dataset, dataset.Rows, Step(dataset), (start, n) =>
            {
                var values = dataset.Read(start, n);
                observe?.Invoke(values);
                return values;
            });
        }
        var reader = new ChunkReader<T>(dataset);
        return (new Owned(reader, dataset), dataset.Rows, dataset.ChunkRows, (start, n) =>
        {
            // Blocks are whole chunks (the step is the chunk's rows), so one chunk holds the block.
            var chunk = reader.At(start);
            if (observe is null) return chunk;
            var values = chunk.Values[..checked((int)(n * dataset.RowLength))].ToArray();
            observe(values);
            return values;
        });
    }

    /// <summary>A chunk reader and its dataset, disposed in that order.</summary>
    private sealed class Owned(IDisposable reader, IDisposable dataset) : IDisposable
    {
        public void Dispose()
        {
            reader.Dispose();
            dataset.Dispose();
        }
    }

    /// <summary>The statistics /metadata records against those of the values just read (a file written by another tool
    /// may have none; then there is nothing to compare).</summary>
    private static void CheckStatistics(H5File file, DatasetStatistics stats, List<string> problems)
    {
        using var metadata = file.OpenGroup(FormatNames.Metadata);
        var attributes = metadata.Attributes;
        void Compare(string key, double actual, double tolerance)
        {
            if (!attributes.Contains(key) || attributes.Get(key) is not double recorded) return;
            // Appends and merges combine the statistics of parts, which may differ from one pass in the last bits.
            if (!(Math.Abs(recorded - actual) <= tolerance * Math.Max(1, Math.Abs(actual))))
                problems.Add($"/{FormatNames.Metadata}: {key} is {recorded:R}, but the values give {actual:R}");
        }
        if (stats.Count > 0)
        {
            Compare(FormatNames.EnergyMin, stats.Min, 0);
            Compare(FormatNames.EnergyMax, stats.Max, 0);
            Compare(FormatNames.EnergyMean, stats.Mean, 1e-9);
            Compare(FormatNames.EnergyStd, stats.Std, 1e-6);
        }
        Compare(FormatNames.MaxAbsForce, stats.MaxAbsForce, 0);
        if (attributes.Contains(FormatNames.Elements) && attributes.Get(FormatNames.Elements) is string json)
        {
            string actual = JsonSerializer.Serialize(stats.ElementSymbols);
            if (json != actual) problems.Add($"/{FormatNames.Metadata}: {FormatNames.Elements} is {json}, but the atoms are {actual}");
        }
    }
}
