namespace MlffData.Bench;

/// <summary>Runs scripts/h5py_peer_writer.py (Debian's h5py) and reads its JSON line.</summary>
internal static class PeerWriter
{
    internal sealed record Result(string Style, string Compression, long Structures, double Seconds, double StructuresPerSecond, long Bytes);

    /// <summary>Runs the peer <paramref name="repeats"/> times and keeps the median run, as the bench does for ours.</summary>
    internal static Result Median(string repo, string reference, string output, string style, string compression, int count, int repeats)
    {
        var runs = Enumerable.Range(0, repeats).Select(_ => Run(repo, reference, output, style, compression, count))
            .OrderBy(r => r.Seconds).ToList();
        return runs[runs.Count / 2];
    }

    internal static Result Run(string repo, string reference, string output, string style, string compression, int count)
    {
        Disk.Settle();
        var r = PeerProcess.Run(repo, "h5py_peer_writer.py", reference, output, "--style", style, "--compression", compression, "--count", count.ToString());
        return new Result(style, compression, r.GetProperty("structures").GetInt64(), r.GetProperty("seconds").GetDouble(),
            r.GetProperty("structures_per_s").GetDouble(), r.GetProperty("bytes").GetInt64());
    }
}
