using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// Writer benchmark: our HDF5DatasetWriter (incremental, batch, append; none / lzf / gzip-4) against the h5py peer
/// (seed style and numpy batch style) on the same kind of data, in one run. Prints a Markdown table of
/// structures/s with ratios (ours / peer), then end to end: `mlff-data convert` against ASE + h5py on extxyz and
/// pickle, with each run's peak RSS and one ~10 million atom extxyz for the memory target (full run only).
/// Ends with one JSON line holding every figure. `--convert-only` runs only the end-to-end part.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        bool quick = args.Contains("--quick");
        // Validation is on by default in the writer (and in the table); --no-validate shows what it costs.
        bool validate = !args.Contains("--no-validate");
        // --only writes|reads|merges|converts: one part of the run (--convert-only and --writes-only are older spellings).
        string? only = Array.IndexOf(args, "--only") is int o and >= 0 && o + 1 < args.Length ? args[o + 1]
            : args.Contains("--convert-only") ? "converts" : args.Contains("--writes-only") ? "writes" : null;
        bool Part(string name) => only is null || only == name;
        string repo = FindRepo();
        string reference = Path.Combine(repo, "data", "samples", "reference_930.h5");
        int count = quick ? 5000 : 20000;
        int seedCount = quick ? 500 : 2000;
        int repeats = quick ? 1 : 3;
        int readSamples = quick ? 500 : 2000;
        string work = Path.Combine(Path.GetTempPath(), $"mlff-bench-{Environment.ProcessId}");
        // --loop MODE COMPRESSION SECONDS: our writer alone (MODE incremental, batch, append), or the merge of two shards
        // (MODE merge), over and over, for a profiler (perf) to sample; prints each run's time.
        if (Array.IndexOf(args, "--loop") is int at and >= 0)
            return Loop(reference, count, args[at + 1], args[at + 2], double.Parse(args[at + 3], CultureInfo.InvariantCulture), validate, work);
        // --make-inputs DIR: only write the end-to-end inputs (input.extxyz, input.pkl) into DIR, for profiling the CLI on them.
        if (Array.IndexOf(args, "--make-inputs") is int mi and >= 0)
        {
            ConvertBenchmark.MakeInputs(repo, reference, args[mi + 1], ReferenceData.Load(reference, count, seed: 0));
            return 0;
        }
        Directory.CreateDirectory(work);
        try
        {
            Console.Error.WriteLine($"Preparing {count:N0} structures from {reference} ...");
            var data = ReferenceData.Load(reference, count, seed: 0);
            long atoms = data.Sum(d => (long)d.Structure.NumAtoms);
            var rows = new List<Row>();
            foreach (var compression in Part("writes") ? new[] { "none", "lzf", "gzip-4" } : [])
            {
                Console.Error.WriteLine($"h5py peer, {compression} ...");
                var batchPeer = PeerWriter.Median(repo, reference, Path.Combine(work, "peer-batch.h5"), "batch", compression, count, repeats);
                PeerWriter.Result? seedPeer = compression == "none"
                    ? PeerWriter.Median(repo, reference, Path.Combine(work, "peer-seed.h5"), "seed", compression, seedCount, repeats)
                    : null;
                foreach (var mode in new[] { "incremental", "batch", "append" })
                {
                    Console.Error.WriteLine($"ours, {mode}, {compression} ...");
                    var (seconds, bytes) = Measure(() => WriteOurs(data, Path.Combine(work, "ours.h5"), mode, Compression.Parse(compression), validate), repeats);
                    rows.Add(new Row(mode, compression, count / seconds, bytes, batchPeer.StructuresPerSecond, batchPeer.Bytes, seedPeer?.StructuresPerSecond));
                }
            }
            var reads = new List<ReadRow>();
            foreach (var compression in Part("reads") ? new[] { "none", "lzf", "gzip-4" } : [])
            {
                Console.Error.WriteLine($"reading, {compression} ...");
                string file = Path.Combine(work, $"read-{compression}.h5");
                WriteOurs(data, file, "batch", Compression.Parse(compression), validate);
                var ours = ReadBenchmark.Run(file, readSamples, seed: 0);
                var peer = PeerProcess.Run(repo, "h5py_peer_reader.py", file, "--samples", readSamples.ToString());
                // The same chunk cache as our reader's, as the README advises h5py users to open our files.
                var cached = PeerProcess.Run(repo, "h5py_peer_reader.py", file, "--samples", readSamples.ToString(),
                    "--cache-mb", (HDF5DatasetReader.DefaultChunkCacheBytes >> 20).ToString());
                reads.Add(new ReadRow(compression, ours, peer.GetProperty("median_us").GetDouble(), peer.GetProperty("p99_us").GetDouble(),
                    cached.GetProperty("median_us").GetDouble(), cached.GetProperty("p99_us").GetDouble(), cached.GetProperty("scan_mb_per_s").GetDouble()));
            }
            var merges = new List<MergeBenchmark.Result>();
            foreach (var (compression, configType) in Part("merges") ? new[] { ("none", false), ("gzip-4", false), ("gzip-4", true) } : [])
            {
                Console.Error.WriteLine($"merging, {compression}{(configType ? ", with /info/config_type" : "")} ...");
                merges.Add(MergeBenchmark.Run(data, work, compression, repeats, configType));
            }
            var converts = !Part("converts") ? [] : ConvertBenchmark.Run(repo, reference, work, data, repeats);
            // About 200,000 structures of the reference mix; too slow to generate and convert for --quick.
            ConvertBenchmark.Row? large = quick || !Part("converts") ? null : ConvertBenchmark.Large(repo, reference, work, LargeAtoms, withPeer: true);
            Print(rows, reads, merges, converts, large, count, seedCount, repeats, atoms);
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int Loop(string reference, int count, string mode, string compression, double seconds, bool validate, string work)
    {
        var data = ReferenceData.Load(reference, count, seed: 0);
        Directory.CreateDirectory(work);
        try
        {
            var total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < seconds)
            {
                var clock = Stopwatch.StartNew();
                double adding = double.NaN;
                if (mode == "merge")
                {
                    // Two shards made once (MergeBenchmark's), then merged over and over.
                    if (!File.Exists(Path.Combine(work, "shard-1.h5"))) MergeBenchmark.WriteShards(data, work, compression);
                    MergeBenchmark.MergeShards(work);
                }
                else if (mode == "incremental")
                {
                    // Adding and completing (the last chunks, the metadata, the fsync) apart.
                    var options = new WriteOptions { Compression = Compression.Parse(compression), Validate = validate, Warning = _ => { } };
                    using var w = new HDF5DatasetWriter(Path.Combine(work, "loop.h5"), options: options);
                    foreach (var item in data) w.AddStructure(item);
                    adding = clock.Elapsed.TotalMilliseconds;
                    w.Complete();
                }
                else
                {
                    WriteOurs(data, Path.Combine(work, "loop.h5"), mode, Compression.Parse(compression), validate);
                }
                string parts = double.IsNaN(adding) ? "" : $" (adding {adding:F1} ms)";
                Console.WriteLine($"{mode} {compression}: {clock.Elapsed.TotalMilliseconds:F1} ms{parts}, {count / clock.Elapsed.TotalSeconds:N0} structures/s");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The issue's memory target: converting 10 million atoms stays under 300 MB of peak RSS.</summary>
    private const long LargeAtoms = 10_000_000;
    private const double PeakRssTargetMegabytes = 300;
    private const double ExtxyzTarget = 8, PickleTarget = 3;

    private sealed record ReadRow(string Compression, ReadBenchmark.Result Ours, double PeerMedian, double PeerP99, double CachedMedian, double CachedP99, double PeerScan);

    private sealed record Row(string Mode, string Compression, double Ours, long OurBytes, double PeerBatch, long PeerBytes, double? PeerSeed);

    private static long WriteOurs(List<LabelledStructure> data, string path, string mode, Compression compression, bool validate)
    {
        var options = new WriteOptions { Compression = compression, Validate = validate, Warning = _ => { } };
        switch (mode)
        {
            case "incremental":
                using (var w = new HDF5DatasetWriter(path, options: options))
                    foreach (var item in data) w.AddStructure(item);
                break;
            case "batch":
                using (var w = new HDF5DatasetWriter(path, options: options))
                    w.AddBatch(data);
                break;
            default:
                // Half into a new file, the other half appended to it: the cost of opening, checking and continuing.
                int half = data.Count / 2;
                using (var w = new HDF5DatasetWriter(path, options: options))
                    w.AddBatch(data.GetRange(0, half));
                using (var w = new HDF5DatasetWriter(path, WriteMode.Append, options))
                    w.AddBatch(data.GetRange(half, data.Count - half));
                break;
        }
        return new FileInfo(path).Length;
    }

    private static (double Seconds, long Bytes) Measure(Func<long> run, int repeats)
    {
        // One untimed run first, so that neither JIT tiering nor a cold page cache lands in the first mode measured.
        long bytes = run();
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            Disk.Settle();
            var clock = Stopwatch.StartNew();
            bytes = run();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return (times[times.Count / 2], bytes);
    }

    private static void Print(List<Row> rows, List<ReadRow> reads, List<MergeBenchmark.Result> merges, List<ConvertBenchmark.Row> converts,
        ConvertBenchmark.Row? large, int count, int seedCount, int repeats, long atoms)
    {
        var md = new StringBuilder();
        if (rows.Count > 0) PrintWrites(md, rows, reads, count, seedCount, repeats, atoms);
        if (merges.Count > 0) PrintMerges(md, merges, count, repeats);
        if (converts.Count > 0) PrintConverts(md, converts, large, repeats);
        Console.WriteLine(md.ToString());
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            structures = count,
            atoms,
            machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            peak_rss_mb = Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20),
            merges = merges.Select(m => new { m.Compression, input_bytes = m.InputBytes, merge_s = m.MergeSeconds, copy_s = m.CopySeconds }),
            reads = reads.Select(r => new { r.Compression, ours_median_us = r.Ours.MedianMicroseconds, ours_p99_us = r.Ours.P99Microseconds, ours_scan_mb_s = r.Ours.ScanMegabytesPerSecond, h5py_median_us = r.PeerMedian, h5py_p99_us = r.PeerP99, h5py_cached_median_us = r.CachedMedian, h5py_cached_p99_us = r.CachedP99, h5py_scan_mb_s = r.PeerScan }),
            results = rows.Select(r => new { r.Mode, r.Compression, ours_per_s = Math.Round(r.Ours), h5py_batch_per_s = r.PeerBatch, h5py_seed_per_s = r.PeerSeed, ours_bytes = r.OurBytes, h5py_bytes = r.PeerBytes }),
            convert = converts.Select(ConvertJson),
            convert_large = large is null ? null : ConvertJson(large),
            convert_large_peak_rss_target_mb = PeakRssTargetMegabytes,
        }));
    }

    private static void PrintMerges(StringBuilder md, List<MergeBenchmark.Result> merges, int count, int repeats)
    {
        md.AppendLine($"Merging the {count:N0} structures written as two shards into one file (`DatasetMerger`, --reindex), against copying the two files into one (read, write, fsync: the bytes a merge must at least move), median of {repeats} runs; MiB/s of input.");
        md.AppendLine();
        md.AppendLine("| compression | input (MiB) | merge (s) | merge (MiB/s) | copy (s) | copy (MiB/s) | merge / copy time |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in merges)
        {
            double mib = m.InputBytes / (double)(1 << 20);
            md.AppendLine($"| {m.Compression} | {mib:F1} | {m.MergeSeconds:F2} | {mib / m.MergeSeconds:F0} | {m.CopySeconds:F2} | {mib / m.CopySeconds:F0} | {m.MergeSeconds / m.CopySeconds:F1}x |");
        }
        md.AppendLine();
    }

    private static object ConvertJson(ConvertBenchmark.Row r) => new
    {
        r.Format, r.Compression, r.Structures, r.Atoms, input_bytes = r.InputBytes,
        ours_s = r.Ours.Seconds, ours_per_s = Math.Round(r.Structures / r.Ours.Seconds), ours_peak_rss_mb = Math.Round(r.Ours.PeakRssMegabytes, 1), ours_bytes = r.Ours.OutputBytes,
        ase_h5py_s = r.Peer?.Seconds, ase_h5py_per_s = r.Peer is { } p ? Math.Round(r.Structures / p.Seconds) : (double?)null,
        ase_h5py_peak_rss_mb = r.Peer is { } q ? Math.Round(q.PeakRssMegabytes, 1) : (double?)null, ase_h5py_bytes = r.Peer?.OutputBytes,
        speedup = r.Peer is { } s ? Math.Round(s.Seconds / r.Ours.Seconds, 2) : (double?)null,
    };

    private static void PrintConverts(StringBuilder md, List<ConvertBenchmark.Row> converts, ConvertBenchmark.Row? large, int repeats)
    {
        var first = converts[0];
        md.AppendLine($"End to end, {first.Structures:N0} structures ({first.Atoms:N0} atoms): `mlff-data convert` (Release CLI) against ASE read + h5py batch write, each a whole process timed from outside (start-up included), median of {repeats} run(s); peak RSS is the process's ru_maxrss; speed-up = ASE + h5py time / ours.");
        md.AppendLine();
        md.AppendLine("| input | compression | input size (MB) | ours (s) | ours (structures/s) | ours peak RSS (MB) | ASE + h5py (s) | ASE + h5py (structures/s) | ASE + h5py peak RSS (MB) | speed-up | target |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in converts) md.AppendLine(ConvertLine(r));
        if (large is null) return;
        md.AppendLine();
        md.AppendLine($"Memory: one extxyz of {large.Structures:N0} structures ({large.Atoms:N0} atoms), converted once; target: peak RSS under {PeakRssTargetMegabytes:F0} MB.");
        md.AppendLine();
        md.AppendLine("| input | compression | input size (MB) | ours (s) | ours (structures/s) | ours peak RSS (MB) | ASE + h5py (s) | ASE + h5py (structures/s) | ASE + h5py peak RSS (MB) | speed-up | peak RSS target |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        md.AppendLine(ConvertLine(large, $"< {PeakRssTargetMegabytes:F0} MB: {(large.Ours.PeakRssMegabytes < PeakRssTargetMegabytes ? "met" : "missed")}"));
    }

    private static string ConvertLine(ConvertBenchmark.Row r, string? target = null)
    {
        double? speedup = r.Peer is { } p ? p.Seconds / r.Ours.Seconds : null;
        target ??= (r.Format == "extxyz" ? ExtxyzTarget : PickleTarget) is var t && speedup is { } x
            ? $">= {t:F0}x: {(x >= t ? "met" : "missed")}" : "-";
        return $"| {r.Format} | {r.Compression} | {r.InputBytes / 1e6:F0} | {r.Ours.Seconds:F2} | {r.Structures / r.Ours.Seconds:N0} | {r.Ours.PeakRssMegabytes:F0} | " +
            (r.Peer is { } q ? $"{q.Seconds:F2} | {r.Structures / q.Seconds:N0} | {q.PeakRssMegabytes:F0} | {speedup:F1}x" : "- | - | - | -") + $" | {target} |";
    }

    private static void PrintWrites(StringBuilder md, List<Row> rows, List<ReadRow> reads, int count, int seedCount, int repeats, long atoms)
    {
        md.AppendLine($"Writing {count:N0} structures ({atoms:N0} atoms; the seed-style peer writes {seedCount:N0}), median of {repeats} runs each; structures/s; ratio = ours / peer.");
        md.AppendLine();
        md.AppendLine("| mode | compression | ours (structures/s) | h5py batch | ratio vs batch | h5py seed style | ratio vs seed | file ours / h5py |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine($"| {r.Mode} | {r.Compression} | {r.Ours:N0} | {r.PeerBatch:N0} | {r.Ours / r.PeerBatch:F1}x | {(r.PeerSeed is { } s ? s.ToString("N0") : "-")} | {(r.PeerSeed is { } s2 ? $"{r.Ours / s2:F0}x" : "-")} | {(double)r.OurBytes / r.PeerBytes:F2} |");
        md.AppendLine();
        md.AppendLine($"Reading the same {count:N0} structures (our batch file), warm: one structure at a random index (median and p99 over random indices) and a full scan in blocks.");
        md.AppendLine();
        md.AppendLine("| compression | ours, one structure (median / p99 µs) | h5py, default cache | h5py, same cache as ours | speed-up vs same cache | ours, scan (MB/s) | h5py scan (MB/s) | ratio |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in reads)
            md.AppendLine($"| {r.Compression} | {r.Ours.MedianMicroseconds:F0} / {r.Ours.P99Microseconds:F0} | {r.PeerMedian:F0} / {r.PeerP99:F0} | {r.CachedMedian:F0} / {r.CachedP99:F0} | {r.CachedMedian / r.Ours.MedianMicroseconds:F1}x | {r.Ours.ScanMegabytesPerSecond:F0} | {r.PeerScan:F0} | {r.Ours.ScanMegabytesPerSecond / r.PeerScan:F1}x |");
        md.AppendLine();
    }

    private static string FindRepo()
    {
        // The build output normally lies under the repository; one built elsewhere (ArtifactsPath) finds it from the working directory.
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MlffDistiller.sln"))) return dir.FullName;
        throw new InvalidOperationException("MlffDistiller.sln not found");
    }
}
