using System.Diagnostics;
using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// Merging: the benchmark's structures written as two shards, merged by <see cref="DatasetMerger"/> into one file,
/// against copying the two shard files (the bytes a merge must at least move: read both, write them, fsync), in the
/// same run. Both from a warm page cache.
/// </summary>
internal static class MergeBenchmark
{
    internal sealed record Result(string Compression, long InputBytes, double MergeSeconds, double CopySeconds);

    /// <param name="data">The structures.</param>
    /// <param name="work">Where the shards and the merged file go.</param>
    /// <param name="compression">The shards' compression, which the merge keeps.</param>
    /// <param name="repeats">Timed runs of each.</param>
    /// <param name="configType">Give every structure an /info/config_type string, as MACE-style datasets have.</param>
    internal static Result Run(List<LabelledStructure> data, string work, string compression, int repeats, bool configType = false)
    {
        if (configType)
        {
            data = data.Select((d, i) => d with
            {
                Extras = new StructureExtras(new Dictionary<string, ExtraValue> { ["config_type"] = ExtraValue.String($"kind{i % 7}") },
                    new Dictionary<string, ExtraValue>()),
            }).ToList();
        }
        var (a, b) = WriteShards(data, work, compression);
        long bytes = new FileInfo(a).Length + new FileInfo(b).Length;
        string merged = Path.Combine(work, "merged.h5");
        double merge = Median(repeats, () => MergeShards(work));
        double copy = Median(repeats, () =>
        {
            // What cp does and what the merge's own end does: the bytes to a new file, then fsync.
            using var output = new FileStream(merged, FileMode.Create, FileAccess.Write);
            foreach (var input in new[] { a, b })
                using (var source = new FileStream(input, FileMode.Open, FileAccess.Read)) source.CopyTo(output, 1 << 20);
            output.Flush(flushToDisk: true);
        });
        return new Result(configType ? $"{compression}, /info/config_type" : compression, bytes, merge, copy);
    }

    /// <summary>The structures as two shards, shard-0.h5 and shard-1.h5 in work (the first half, the rest).</summary>
    internal static (string First, string Second) WriteShards(List<LabelledStructure> data, string work, string compression)
    {
        var options = new WriteOptions { Compression = Compression.Parse(compression), Warning = _ => { } };
        string a = Path.Combine(work, "shard-0.h5"), b = Path.Combine(work, "shard-1.h5");
        int half = data.Count / 2;
        using (var w = new HDF5DatasetWriter(a, options: options)) w.AddBatch(data.GetRange(0, half));
        using (var w = new HDF5DatasetWriter(b, options: options)) w.AddBatch(data.GetRange(half, data.Count - half));
        return (a, b);
    }

    /// <summary>Merges the shards of <see cref="WriteShards"/> into merged.h5 in work, with --reindex.</summary>
    internal static MergeSummary MergeShards(string work) =>
        DatasetMerger.Merge(Path.Combine(work, "merged.h5"), [Path.Combine(work, "shard-0.h5"), Path.Combine(work, "shard-1.h5")],
            new MergeOptions { Reindex = true, Warning = _ => { } });

    private static double Median(int repeats, Action run)
    {
        run();
        var times = new List<double>();
        for (int i = 0; i < Math.Max(1, repeats); i++)
        {
            // As for every timed run of the benchmark: nothing left for the disk to write from the run before.
            Disk.Settle();
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
