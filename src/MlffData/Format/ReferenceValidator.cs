namespace MlffData.Format;

/// <summary>
/// The seed's writer validation: reads a reference file with <see cref="HDF5DatasetReader"/>, writes it again
/// structure by structure, as one batch, half then half appended, and in each compression, and compares every output
/// with the reference through <see cref="DatasetComparer"/>. The optional /info and /arrays groups travel with the
/// structures (as <see cref="LabelledStructure.Extras"/>), so they are checked too; their masks round-trip because the
/// writer makes NAME_mask exactly where some structure lacks NAME, and the comparer takes an all-true mask for none.
/// Optionally a source (the structures the reference was made from, e.g. its extxyz) is written too, which checks the
/// reference itself and the converter in one go.
/// </summary>
public static class ReferenceValidator
{
    /// <summary>Compressions the seed compared.</summary>
    public static IReadOnlyList<Compression> Compressions { get; } = [Compression.None, Compression.Lzf, Compression.Gzip(4), Compression.Gzip(9)];

    // One AddBatch call per block: a reference of up to this many structures (and the reader's atom budget) is one batch.
    private const int BatchStructures = 1 << 16;

    /// <summary>Runs every check; outputs go to <paramref name="workDirectory"/> and stay there.</summary>
    /// <param name="reference">The reference file.</param>
    /// <param name="workDirectory">Where the rewritten files go (created when missing).</param>
    /// <param name="source">Opens the reference's source again for each call; null to skip the source check.</param>
    /// <param name="sourceName">The source's name in the report (its file name).</param>
    /// <param name="progress">Called with the name of each output as it starts.</param>
    /// <exception cref="DatasetFormatException">The reference does not follow FORMAT.md.</exception>
    public static ValidationReport Run(string reference, string workDirectory,
        Func<IEnumerable<LabelledStructure>>? source = null, string? sourceName = null, Action<string>? progress = null)
    {
        Directory.CreateDirectory(workDirectory);
        long count;
        IReadOnlyDictionary<string, string> skipped;
        using (var reader = new HDF5DatasetReader(reference)) (count, skipped) = (reader.Count, reader.SkippedExtras);
        var checks = new List<ValidationCheck>();
        var defaultCompression = Compression.Gzip(4);

        ValidationCheck Check(string name, string mode, Compression compression, Action<string> write)
        {
            progress?.Invoke(name);
            string path = Path.Combine(workDirectory, name + ".h5");
            DatasetComparison comparison;
            try
            {
                write(path);
                comparison = DatasetComparer.Compare(reference, path);
                // An extra the reader cannot hold is missing from every rewrite; say why rather than only that.
                if (comparison.Dataset is { } dataset && skipped.TryGetValue(dataset, out var why))
                    comparison = comparison with { Detail = $"{comparison.Detail} (the reader skips it: {why})" };
            }
            catch (ValidationException e)
            {
                // The writer refused a structure (NaN, an impossible atomic number...): the reference holds values
                // no file of this format may hold, which is a failed check, not a crash.
                comparison = new DatasetComparison(false, false, 0, null, null, e.StructureIndex, $"the writer refused structure {e.StructureIndex}: {e.Field}: {e.Reason}");
            }
            var check = new ValidationCheck(name, mode, compression.ToString(), path, new FileInfo(path).Length, comparison);
            checks.Add(check);
            return check;
        }

        Check("incremental", "incremental", defaultCompression, path =>
        {
            using var reader = new HDF5DatasetReader(reference);
            using var writer = new HDF5DatasetWriter(path, options: Options(defaultCompression));
            foreach (var item in reader) writer.AddStructure(item);
            writer.Complete();
        });
        Check("batch", "batch", defaultCompression, path => WriteBatches(reference, path, defaultCompression, 0, count, WriteMode.Overwrite));
        Check("append", "half, then half appended", defaultCompression, path =>
        {
            long half = count / 2;
            WriteBatches(reference, path, defaultCompression, 0, half, WriteMode.Overwrite);
            WriteBatches(reference, path, defaultCompression, half, count - half, WriteMode.Append);
        });
        foreach (var compression in Compressions)
            Check($"compression-{compression}", "batch", compression, path => WriteBatches(reference, path, compression, 0, count, WriteMode.Overwrite));
        if (source is not null)
            Check("source", $"converted from {sourceName ?? "the source"}", defaultCompression, path =>
            {
                using var writer = new HDF5DatasetWriter(path, options: Options(defaultCompression));
                foreach (var item in source()) writer.AddStructure(item);
                writer.Complete();
            });
        return new ValidationReport(reference, count, checks);
    }

    private static void WriteBatches(string reference, string path, Compression compression, long start, long count, WriteMode mode)
    {
        using var reader = new HDF5DatasetReader(reference);
        using var writer = new HDF5DatasetWriter(path, mode, Options(compression));
        foreach (var block in reader.ReadBlocks(start, count, BatchStructures)) writer.AddBatch(block);
        writer.Complete();
    }

    // Warnings (close contacts, large forces) describe the data, which is the reference's business, not the writer's.
    private static WriteOptions Options(Compression compression) => WriteOptions.Default with { Compression = compression, Warning = _ => { } };
}
