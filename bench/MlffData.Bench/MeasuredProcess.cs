using System.Diagnostics;
using System.Text.Json;

namespace MlffData.Bench;

/// <summary>
/// Runs a command under scripts/peak_rss.py, which reports its wall time and peak resident memory
/// (getrusage ru_maxrss of the waited-for child, so the kernel's own high-water mark, not a sample).
/// </summary>
internal static class MeasuredProcess
{
    internal sealed record Result(double Seconds, long PeakRssKilobytes, long OutputBytes)
    {
        internal double PeakRssMegabytes => PeakRssKilobytes / 1024.0;
    }

    /// <summary>Runs the command once; output is the file it writes, whose size is reported.</summary>
    /// <exception cref="InvalidOperationException">The command exits with a non-zero status (its stderr is in the message).</exception>
    internal static Result Run(string repo, string output, string command, params string[] args)
    {
        string report = output + ".rss.json";
        Disk.Settle();
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(repo, "scripts", "peak_rss.py"));
        start.ArgumentList.Add(report);
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(command);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        // Both pipes drained at once: the CLI's warnings alone can fill one.
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        File.Delete(report);
        var r = doc.RootElement;
        return new Result(r.GetProperty("seconds").GetDouble(), r.GetProperty("peak_rss_kb").GetInt64(), new FileInfo(output).Length);
    }

    /// <summary>Runs the command <paramref name="repeats"/> times and keeps the median run by time.</summary>
    internal static Result Median(int repeats, Func<Result> run)
    {
        var runs = Enumerable.Range(0, repeats).Select(_ => run()).OrderBy(r => r.Seconds).ToList();
        return runs[runs.Count / 2];
    }
}
