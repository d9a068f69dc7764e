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
    public static string Run(string code, params string[] args)
    {
        File.Exists(Interpreter).Should().BeTrue($"{Interpreter} is required (scripts/bootstrap installs python3-ase, python3-h5py, python3-numpy)");
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-");
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(code);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, $"the Python script failed:\n{stderr.Result}");
        return stdout.Result;
    }
}
