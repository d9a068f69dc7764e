using System.Diagnostics;
using System.Text.Json;

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
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(repo, "scripts", "h5py_peer_writer.py"), reference, output, "--style", style, "--compression", compression, "--count", count.ToString() })
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"h5py peer failed ({style}, {compression}): {stderr}");
        var line = stdout.Trim().Split('\n')[^1];
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        return new Result(style, compression, r.GetProperty("structures").GetInt64(), r.GetProperty("seconds").GetDouble(),
            r.GetProperty("structures_per_s").GetDouble(), r.GetProperty("bytes").GetInt64());
    }
}
