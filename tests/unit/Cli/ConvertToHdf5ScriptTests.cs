using System.Diagnostics;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>scripts/convert_to_hdf5: the seed's flags, run as a user runs the script (through scripts/mlff-data).</summary>
[Collection(NativeStateCollection.Name)]
public sealed class ConvertToHdf5ScriptTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Stdout, string Stderr) Script(params string[] args)
    {
        var start = new ProcessStartInfo(RepoPaths.Of("scripts", "convert_to_hdf5"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void ConvertToHdf5_SeedFlags_WritesTheReference()
    {
        string output = _dir.File("out.h5");

        var (code, stdout, stderr) = Script("-i", RepoPaths.Of("data", "samples", "reference_930.pkl"), "-o", output, "-f", "pickle",
            "-c", "gzip", "--compression-level", "6", "-m", "teacher_model=emt");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Wrote 930 structures");
        var comparison = DatasetComparer.Compare(RepoPaths.Of("data", "samples", "reference_930.h5"), output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        var stored = StoredDataset.Read(output);
        stored.Metadata["teacher_model"].Should().Be("emt");
        stored.Metadata[FormatNames.Compression].Should().Be("gzip-6");
    }

    [Fact]
    public void ConvertToHdf5_FlagTheSeedDidNotHave_Refused()
    {
        var (code, _, stderr) = Script("-i", "in.pkl", "-o", "out.h5", "--append");

        code.Should().Be(2);
        stderr.Should().Contain("unknown argument '--append'");
    }
}
