using System.Diagnostics;

namespace MlffData.UnitTests.TestSupport;

/// <summary>Runs the real <c>mlff-data</c> tool (built beside the tests) as a separate process.</summary>
public static class CliRunner
{
    /// <summary>The tool's entry assembly, copied next to the test assembly by the project reference.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "mlff-data.dll");

    /// <summary>Starts the tool without waiting.</summary>
    public static Process Start(params string[] args) => Start(new Dictionary<string, string?>(), args);

    /// <summary>Starts the tool without waiting, with environment variables set (or, with a null value, removed).</summary>
    public static Process Start(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        return Process.Start(start)!;
    }

    /// <summary>Runs the tool to the end.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(new Dictionary<string, string?>(), args);

    /// <summary>Runs the tool to the end, with environment variables set (or, with a null value, removed).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Sends a signal (TERM, INT, STOP, ...) to a process with kill(1).</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {pid} failed");
    }
}
