using System.Diagnostics;
using System.Security.Cryptography;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// SIGINT and SIGTERM in the middle of convert and merge (label's are in LabelCommandTests): the tool stops within a
/// few seconds with 130 or 143 and one line saying so, the output is not created or replaced, an append is rolled back
/// to the file as it was, byte for byte, and nothing is left beside it.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Reference => RepoPaths.Of("data", "samples", "reference_930.extxyz");

    /// <summary>37,200 structures (40 copies of the reference), a few seconds to convert: long enough to be stopped.</summary>
    private string BigInput()
    {
        string path = _dir.File("big.extxyz");
        var text = File.ReadAllBytes(Reference);
        using var stream = File.Create(path);
        for (int i = 0; i < 40; i++) stream.Write(text);
        return path;
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Starts the tool, waits for <paramref name="started"/> to exist, signals it and waits for its end.</summary>
    private static (int ExitCode, string Stderr, TimeSpan Stopping) Interrupt(string signal, string started, params string[] args)
    {
        using var process = CliRunner.Start(args);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(started) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
        process.HasExited.Should().BeFalse("the run must still be going when the signal comes");
        // Well into the writing, not at its first row.
        Thread.Sleep(300);
        var stopping = Stopwatch.StartNew();
        CliRunner.Signal(process.Id, signal);
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr, stopping.Elapsed);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public void ConvertAppend_Signal_RolledBackByteForByte(string signal, int expected)
    {
        // Arrange
        string output = _dir.File("out.h5");
        CliRunner.Run("convert", "-i", Reference, "-o", output, "-c", "none", "--no-progress").ExitCode.Should().Be(0);
        string before = Hash(output);
        string input = BigInput();

        // Act: the rollback journal appears when the append opens the file.
        var (code, stderr, stopping) = Interrupt(signal, output + ".rollback", "convert", "-i", input, "-o", output, "--append", "--no-progress");

        // Assert
        code.Should().Be(expected, stderr);
        stderr.Should().Contain($"interrupted: nothing was written; {output} is as it was before the append");
        stderr.Split('\n').Should().NotContain(l => l.StartsWith("error:"));
        stopping.Should().BeLessThan(TimeSpan.FromSeconds(5));
        Hash(output).Should().Be(before);
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5", "big.extxyz"]);
        HDF5DatasetWriter.NeedsRecovery(output).Should().BeFalse("the file opens without repair");
    }

    [Fact]
    public void ConvertNew_Sigint_OldFileKeptNoPartial()
    {
        string output = _dir.File("out.h5");
        File.WriteAllText(output, "the old output");
        string input = BigInput();

        var (code, stderr, stopping) = Interrupt("INT", output + HDF5DatasetWriter.PartialSuffix, "convert", "-i", input, "-o", output, "--no-progress");

        code.Should().Be(130, stderr);
        stderr.Should().Contain("interrupted: nothing was written; the output was not created or replaced");
        stopping.Should().BeLessThan(TimeSpan.FromSeconds(5));
        File.ReadAllText(output).Should().Be("the old output");
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5", "big.extxyz"]);
    }

    [Fact]
    public void Merge_Sigterm_OldFileKeptNoPartial()
    {
        // Arrange: three inputs of 37,200 structures each, merged with gzip: several seconds.
        string shard = _dir.File("shard.h5");
        CliRunner.Run("convert", "-i", BigInput(), "-o", shard, "-c", "none", "--no-progress").ExitCode.Should().Be(0);
        string output = _dir.File("out.h5");
        File.WriteAllText(output, "the old output");

        // Act
        var (code, stderr, stopping) = Interrupt("TERM", output + HDF5DatasetWriter.PartialSuffix, "merge", "-o", output, "-c", "gzip", "--no-progress", shard, shard, shard);

        // Assert
        code.Should().Be(143, stderr);
        stderr.Should().Contain("interrupted: nothing was written; the output was not created or replaced");
        stopping.Should().BeLessThan(TimeSpan.FromSeconds(5));
        File.ReadAllText(output).Should().Be("the old output");
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["out.h5", "big.extxyz", "shard.h5"]);
    }
}
