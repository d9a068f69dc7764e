using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary><c>mlff-data merge</c> end to end: the real tool merges files that equal one file, and refuses cleanly.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class MergeCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Stdout, string Stderr) Merge(params string[] args) => CliRunner.Run(["merge", "--no-progress", .. args]);

    private string Write(string name, int first, int count)
    {
        string path = _dir.File(name);
        using var writer = new HDF5DatasetWriter(path, WriteMode.Overwrite, Samples.Collecting([]));
        foreach (int i in Enumerable.Range(first, count)) writer.AddStructure(Samples.Labelled(i, i));
        writer.Complete(new Dictionary<string, object?> { ["teacher_model"] = "emt" });
        return path;
    }

    [Fact]
    public void Merge_ThreeFiles_EqualsOneFileAndPrintsSummary()
    {
        string a = Write("a.h5", 0, 5), b = Write("b.h5", 5, 2), c = Write("c.h5", 7, 6);
        string expected = Write("all.h5", 0, 13);
        string output = _dir.File("merged.h5");

        var (code, stdout, stderr) = Merge("-o", output, a, b, c);

        code.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
        stdout.Should().StartWith($"Merged 3 files into {output}: 13 structures, ").And.Contain("gzip-4 compression: ").And.Contain("MiB/s");
        var comparison = DatasetComparer.Compare(expected, output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        StoredDataset.Read(output).Metadata["teacher_model"].Should().Be("emt");
    }

    [Fact]
    public void Merge_OutputAsFirstPositional_MergesTheOthers()
    {
        string a = Write("a.h5", 0, 2), b = Write("b.h5", 2, 3);
        string output = _dir.File("merged.h5");

        var (code, _, stderr) = Merge(output, a, b, "--reindex", "-c", "lzf", "-m", "note=shards");

        code.Should().Be(0, stderr);
        using var reader = new HDF5DatasetReader(output);
        reader.Count.Should().Be(5);
        reader.Compression.Should().Be("lzf");
        reader.Metadata["note"].Should().Be("shards");
        reader.Select(s => s.SourceIndex!.Value).Should().Equal(0L, 1L, 4L, 5L, 6L);
    }

    [Fact]
    public void Merge_FirstPositionalExists_RefusedAndUntouched()
    {
        string a = Write("a.h5", 0, 2), b = Write("b.h5", 2, 3);

        var (code, _, stderr) = Merge(a, b);

        code.Should().Be(1);
        stderr.Trim().Should().StartWith($"error: {a} exists and would be replaced").And.Contain("-o");
        StoredDataset.Read(a).Energy.Should().HaveCount(2);
    }

    [Fact]
    public void Merge_BrokenInput_OneLineErrorAndNothingAtOutput()
    {
        string a = Write("a.h5", 0, 2);
        string broken = _dir.File("broken.h5");
        File.WriteAllText(broken, "not hdf5");
        string output = _dir.File("merged.h5");

        var (code, stdout, stderr) = Merge("-o", output, a, broken);

        code.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Trim().Should().StartWith($"error: {broken}: not a readable HDF5 file").And.NotContain("\n");
        File.Exists(output).Should().BeFalse();
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Merge_DuplicateIndices_WarnsAndSucceeds()
    {
        string a = Write("a.h5", 0, 3), b = Write("b.h5", 1, 3);

        var (code, _, stderr) = Merge("-o", _dir.File("merged.h5"), a, b);

        code.Should().Be(0, stderr);
        stderr.Should().StartWith("warning: 2 structure indices appear in more than one input").And.Contain("--reindex");
    }
}
