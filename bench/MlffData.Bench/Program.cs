using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// Writer benchmark: our HDF5DatasetWriter (incremental, batch, append; none / lzf / gzip-4) against the h5py peer
/// (seed style and numpy batch style) on the same kind of data, in one run. Prints a Markdown table of
/// structures/s with ratios (ours / peer) and ends with one JSON line holding every figure.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        bool quick = args.Contains("--quick");
        // Validation is on by default in the writer (and in the table); --no-validate shows what it costs.
        bool validate = !args.Contains("--no-validate");
        string repo = FindRepo();
        string reference = Path.Combine(repo, "data", "samples", "reference_930.h5");
        int count = quick ? 5000 : 20000;
        int seedCount = quick ? 500 : 2000;
        int repeats = quick ? 1 : 3;
        int readSamples = quick ? 500 : 2000;
        string work = Path.Combine(Path.GetTempPath(), $"mlff-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            Console.Error.WriteLine($"Preparing {count:N0} structures from {reference} ...");
            var data = ReferenceData.Load(reference, count, seed: 0);
            long atoms = data.Sum(d => (long)d.Structure.NumAtoms);
            var rows = new List<Row>();
            foreach (var compression in new[] { "none", "lzf", "gzip-4" })
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
            foreach (var compression in new[] { "none", "lzf", "gzip-4" })
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
            Print(rows, reads, count, seedCount, repeats, atoms);
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

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
            var clock = Stopwatch.StartNew();
            bytes = run();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return (times[times.Count / 2], bytes);
    }

    private static void Print(List<Row> rows, List<ReadRow> reads, int count, int seedCount, int repeats, long atoms)
    {
        var md = new StringBuilder();
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
        Console.WriteLine(md.ToString());
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            structures = count,
            atoms,
            machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            peak_rss_mb = Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20),
            reads = reads.Select(r => new { r.Compression, ours_median_us = r.Ours.MedianMicroseconds, ours_p99_us = r.Ours.P99Microseconds, ours_scan_mb_s = r.Ours.ScanMegabytesPerSecond, h5py_median_us = r.PeerMedian, h5py_p99_us = r.PeerP99, h5py_cached_median_us = r.CachedMedian, h5py_cached_p99_us = r.CachedP99, h5py_scan_mb_s = r.PeerScan }),
            results = rows.Select(r => new { r.Mode, r.Compression, ours_per_s = Math.Round(r.Ours), h5py_batch_per_s = r.PeerBatch, h5py_seed_per_s = r.PeerSeed, ours_bytes = r.OurBytes, h5py_bytes = r.PeerBytes }),
        }));
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MlffDistiller.sln"))) return dir.FullName;
        throw new InvalidOperationException("MlffDistiller.sln not found");
    }
}
