using System.Diagnostics;
using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// Reading: one structure at a random index (median and p99 over many, from a warm file: the OS page cache holds
/// it, as it does for a training loop's second epoch) and a full scan in blocks (MB/s of uncompressed arrays).
/// </summary>
internal static class ReadBenchmark
{
    internal sealed record Result(string Compression, double MedianMicroseconds, double P99Microseconds, double ScanMegabytesPerSecond);

    internal static Result Run(string path, int samples, int seed)
    {
        using var reader = new HDF5DatasetReader(path);
        // Warm: the file in the page cache and the code jitted, as in any second pass.
        long atoms = 0;
        foreach (var item in reader) atoms += item.Structure.NumAtoms;

        var random = new Random(seed);
        var times = new double[samples];
        for (int k = 0; k < samples; k++)
        {
            long index = random.NextInt64(reader.Count);
            long start = Stopwatch.GetTimestamp();
            _ = reader[index];
            times[k] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(times);

        var clock = Stopwatch.StartNew();
        long scanned = 0;
        foreach (var block in reader.ReadBlocks()) scanned += block.Count;
        double seconds = clock.Elapsed.TotalSeconds;
        double megabytes = DatasetSizes.Uncompressed(scanned, atoms) / 1e6;
        return new Result(reader.Compression, times[samples / 2], times[(int)(samples * 0.99)], megabytes / seconds);
    }
}
