using System.Diagnostics;

namespace MlffData.UnitTests.TestSupport;

/// <summary>
/// Runs Debian's /usr/bin/python3 (which has ASE, numpy and h5py; the python3 on PATH does not). scripts/test
/// installs it, so a missing interpreter fails the test with the reason instead of skipping it.
/// </summary>
public static class PythonScript
{
    /// <summary>The interpreter the tests use.</summary>
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>Runs Python code with arguments; returns standard output, and fails with standard error on a non-zero exit.</summary>
    public static string Run(string code, params string[] args) => Execute(code, ["-", .. args]);

    /// <summary>Runs a Python script file with arguments; returns standard output.</summary>
    public static string RunFile(string script, params string[] args) => Execute(null, [script, .. args]);

    private static string Execute(string? stdin, string[] args)
    {
        File.Exists(Interpreter).Should().BeTrue($"{Interpreter} is required (scripts/bootstrap installs python3-ase, python3-h5py, python3-numpy)");
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // Python's own locale would otherwise decide the text encoding of its output.
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment["PYTHONUTF8"] = "1";
        using var process = Process.Start(start)!;
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        // Read both streams at once so a chatty stderr cannot block the process while we wait on stdout.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python {string.Join(' ', args)} did not finish in 5 minutes");
        }
        process.ExitCode.Should().Be(0, $"the Python script failed:\n{stderr.Result}");
        return stdout.Result;
    }
}
