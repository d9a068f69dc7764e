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

    private static (int ExitCode, string Stderr) UnderStrace(string fault, params string[] args) => UnderStrace(fault, 5, args);

    private static (int ExitCode, string Stderr) UnderStrace(string fault, int from, params string[] args)
    {
        File.Exists("/usr/bin/strace").Should().BeTrue("scripts/bootstrap installs strace for these tests");
        var start = new ProcessStartInfo("/usr/bin/strace") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Every pwrite64 from the given one on fails: the first writes land, then the disk is full.
        foreach (var a in new[] { "-f", "-o", "/dev/null", "-e", "trace=pwrite64", "-e", $"inject=pwrite64:error={fault}:when={from}+", "dotnet", CliRunner.Dll })
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

    /// <summary>
    /// An append whose writes fail from the Nth pwrite on: in the lock, the journals, the rows, the metadata flush
    /// (an append of the sample writes about 70 in all). strace fails every later write, in place or not, so the
    /// tool cannot put the file back itself; a repair afterwards gives back the file byte for byte, however far the
    /// append got (once an unopenable file: libhdf5 had rewritten headers in place that pointed at blocks it then
    /// could not write).
    /// </summary>
    [Theory]
    [InlineData("ENOSPC", 4)]
    [InlineData("ENOSPC", 12)]
    [InlineData("ENOSPC", 22)]
    [InlineData("ENOSPC", 35)]
    [InlineData("ENOSPC", 48)]
    [InlineData("ENOSPC", 56)]
    [InlineData("ENOSPC", 64)]
    [InlineData("EIO", 30)]
    [InlineData("EIO", 60)]
    public void Append_WritesFailFromTheNth_RepairGivesBackTheFileByteForByte(string fault, int from)
    {
        // Arrange
        string output = _dir.File("out.h5");
        CliRunner.Run("convert", "-i", Reference, "-o", output, "-c", "none", "--no-progress").ExitCode.Should().Be(0);
        string before = Hash(output);

        // Act
        var (exit, stderr) = UnderStrace(fault, from, "convert", "-i", RepoPaths.Of("data", "samples", "sample.extxyz"), "-o", output, "--append", "--no-progress");
        var repair = CliRunner.Run("repair", output);

        // Assert
        exit.Should().Be(1, stderr);
        stderr.Split('\n').Count(l => l.StartsWith("error:")).Should().Be(1, stderr);
        stderr.Should().Contain(output);
        repair.ExitCode.Should().Be(0, repair.Stderr);
        Hash(output).Should().Be(before, $"the append failed from write {from} on; {repair.Stdout}");
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5"], "repair leaves no journal or lock");
    }

    /// <summary>
    /// A real full disk (a small tmpfs, mounted for the test: root only): writes into space the file already has go
    /// through, growing it fails. The tool itself puts the file back byte for byte, says so in one line, and leaves
    /// nothing beside it, wherever the disk ran out.
    /// </summary>
    [Theory]
    [InlineData(4700)]
    [InlineData(5400)]
    [InlineData(6400)]
    [InlineData(7000)]
    public void Append_RealDiskFull_FileUnchangedNothingLeft(int kibibytes)
    {
        // Not skipped when run otherwise: scripts/test runs as root (it installs its packages), and a test that passes
        // without running would hide a broken rollback.
        Environment.UserName.Should().Be("root", "the test mounts a tmpfs");
        string mount = _dir.File("full");
        Directory.CreateDirectory(mount);
        Run("mount", "-t", "tmpfs", "-o", $"size={kibibytes}k", "tmpfs", mount).Should().Be(0, "the test mounts a tmpfs (needs root)");
        try
        {
            // Arrange: a 3.5 MiB file, and a second copy of the reference to append, which cannot fit.
            string output = Path.Combine(mount, "out.h5");
            CliRunner.Run("convert", "-i", Reference, "-o", _dir.File("out.h5"), "-c", "none", "--no-progress").ExitCode.Should().Be(0);
            File.Copy(_dir.File("out.h5"), output);
            string before = Hash(output);

            // Act
            var (exit, stdout, stderr) = CliRunner.Run("convert", "-i", Reference, "-o", output, "--append", "--no-progress");

            // Assert
            exit.Should().Be(1, stdout + stderr);
            stderr.Split('\n').Where(l => l.StartsWith("error:")).Should().ContainSingle()
                .Which.Should().Contain(output).And.Contain("No space left on device");
            Hash(output).Should().Be(before);
            Directory.GetFiles(mount).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5"], "no journal, lock or temporary file is left");
        }
        finally
        {
            Run("umount", mount);
        }
    }

    private static int Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
