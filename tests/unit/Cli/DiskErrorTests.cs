using System.Diagnostics;
using System.Security.Cryptography;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// A full disk and an I/O error, injected into the real tool's writes with <c>strace -e inject=pwrite64:error=...</c>
/// after the first writes went through: one error line naming the problem, exit 1 (no crash), the file that was there
/// byte for byte as it was, and no partial, lock or journal file left behind.
/// </summary>
public sealed class DiskErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Reference => RepoPaths.Of("data", "samples", "reference_930.extxyz");

    private static (int ExitCode, string Stderr) UnderStrace(string fault, params string[] args)
    {
        File.Exists("/usr/bin/strace").Should().BeTrue("scripts/bootstrap installs strace for these tests");
        var start = new ProcessStartInfo("/usr/bin/strace") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Every pwrite64 from the 5th on fails: the file is created and its first blocks land, then the disk is full.
        foreach (var a in new[] { "-f", "-o", "/dev/null", "-e", "trace=pwrite64", "-e", $"inject=pwrite64:error={fault}:when=5+", "dotnet", CliRunner.Dll })
            start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("ENOSPC", "No space left on device")]
    [InlineData("EIO", "Input/output error")]
    public void Convert_WriteFails_OldFileKeptNothingLeftBehind(string fault, string text)
    {
        string output = _dir.File("out.h5");
        CliRunner.Run("convert", "-i", RepoPaths.Of("data", "samples", "sample.extxyz"), "-o", output, "--no-progress").ExitCode.Should().Be(0);
        string before = Hash(output);

        var (exit, stderr) = UnderStrace(fault, "convert", "-i", Reference, "-o", output, "-c", "none", "--no-progress");

        exit.Should().Be(1, stderr);
        stderr.Should().Contain($"error: {output}: {text}").And.Contain("while writing");
        stderr.Split('\n').Count(l => l.StartsWith("error:")).Should().Be(1);
        Hash(output).Should().Be(before, "the file that was there is untouched");
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5"], "no partial, lock or journal file is left");
    }
}
