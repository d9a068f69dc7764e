using System.Diagnostics;
using System.Text.Json;

namespace MlffData.Bench;

/// <summary>Runs one of the h5py peer scripts under scripts/ with Debian's /usr/bin/python3 and parses its JSON line.</summary>
internal static class PeerProcess
{
    internal static JsonElement Run(string repo, string script, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(repo, "scripts", script));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed: {stderr.Result}");
        using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return doc.RootElement.Clone();
    }
}
