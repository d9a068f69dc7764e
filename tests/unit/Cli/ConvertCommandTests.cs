using System.Diagnostics;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary><c>mlff-data convert</c> end to end, as a user runs it.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class ConvertCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.File("out.h5");

    private static string Frame(string comment, params string[] atoms) => $"{atoms.Length}\n{comment}\n{string.Join("\n", atoms)}\n";

    private const string Props = "Properties=species:S:1:pos:R:3:forces:R:3";

    private string WriteInput(string name, params string[] frames)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, string.Concat(frames));
        return path;
    }

    private static string Good(double energy) => Frame($"energy={energy} {Props} pbc=\"F F F\"",
        "O 0.0 0.0 0.0 0.1 0.2 0.3", "H 0.9 0.0 0.0 -0.1 0.0 0.0", "H 0.0 0.9 0.0 0.0 -0.2 -0.3");

    [Fact]
    public void Convert_ReferenceExtxyz_EqualsH5pyWrittenReference()
    {
        var (code, stdout, stderr) = CliRunner.Run("convert", "-i", RepoPaths.Of("data", "samples", "reference_930.extxyz"), "-o", Output, "--no-progress");
        code.Should().Be(0, stderr);
        stdout.Should().Contain("Wrote 930 structures");

        var ours = StoredDataset.Read(Output);
        var reference = StoredDataset.Read(RepoPaths.Of("data", "samples", "reference_930.h5"));
        ours.AtomicNumbers.Should().Equal(reference.AtomicNumbers);
        ours.Splits.Should().Equal(reference.Splits);
        ours.Positions.Should().Equal(reference.Positions);
        ours.Cells.Should().Equal(reference.Cells);
        ours.Pbc.Should().Equal(reference.Pbc);
        ours.Energy.Should().Equal(reference.Energy);
        ours.Forces.Should().Equal(reference.Forces);
        ours.ForcesSplits.Should().Equal(reference.ForcesSplits);
        ours.Stress.Should().Equal(reference.Stress);
        ours.StressMask.Should().Equal(reference.StressMask);
        ours.StructureIndices.Should().Equal(reference.StructureIndices);
        ours.Metadata[FormatNames.NumStructures].Should().Be(930L);
    }

    [Fact]
    public void Convert_NaNEnergy_OneLineErrorNamingFileIndexAndField_NoOutput()
    {
        string input = WriteInput("bad.extxyz", Good(-1), Good(-2), Good(double.NaN), Good(-4));
        var (code, stdout, stderr) = CliRunner.Run("convert", "-i", input, "-o", Output);
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {input}:11: structure 2: energy: Invalid energy: NaN");
        stderr.Should().NotContain(" at ", "no stack trace without -v");
        File.Exists(Output).Should().BeFalse();
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Convert_BadInputWithVerbose_PrintsStackTrace()
    {
        string input = WriteInput("bad.extxyz", Good(-1), Good(double.PositiveInfinity));
        var (code, _, stderr) = CliRunner.Run("convert", "-i", input, "-o", Output, "-v");
        code.Should().Be(1);
        stderr.Should().StartWith($"error: {input}:6: structure 1: energy: Invalid energy: Inf").And.Contain(" at MlffData.");
    }

    [Fact]
    public void Convert_MissingForces_ErrorNamesForces()
    {
        string input = WriteInput("noforces.extxyz", Good(-1), Frame("energy=-2.0 Properties=species:S:1:pos:R:3", "H 0 0 0", "H 0.8 0 0"));
        var (code, _, stderr) = CliRunner.Run("convert", "-i", input, "-o", Output);
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {input}:6: structure 1: forces: structure has no forces label (pass --skip-unlabelled to leave such structures out)");
    }

    [Fact]
    public void Convert_ParseError_NamesLine()
    {
        string input = WriteInput("broken.extxyz", Good(-1), "3\nenergy=-1 " + Props + "\nO 0 0 0 0 0 0\nH x 0 0 0 0 0\n");
        var (code, _, stderr) = CliRunner.Run("convert", "-i", input, "-o", Output);
        code.Should().Be(1);
        stderr.Should().StartWith($"error: {input}:").And.Contain("structure 1");
        stderr.Trim().Split('\n').Should().HaveCount(1);
        File.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public void Convert_BadInput_KeepsExistingOutput()
    {
        string good = WriteInput("good.extxyz", Good(-1));
        CliRunner.Run("convert", "-i", good, "-o", Output).ExitCode.Should().Be(0);
        var before = File.ReadAllBytes(Output);
        string bad = WriteInput("bad.extxyz", Good(-1), Good(double.NaN));
        CliRunner.Run("convert", "-i", bad, "-o", Output).ExitCode.Should().Be(1);
        File.ReadAllBytes(Output).Should().Equal(before);
    }

    [Fact]
    public void Convert_Append_AddsAndKeepsMetadataTypes()
    {
        string a = WriteInput("a.extxyz", Good(-1), Good(-2));
        string b = WriteInput("b.extxyz", Good(-3));
        CliRunner.Run("convert", "-i", a, "-o", Output, "-c", "lzf", "-m", "teacher_model=emt", "-m", "seed=3").ExitCode.Should().Be(0);
        var (code, stdout, stderr) = CliRunner.Run("convert", "-i", b, "-o", Output, "--append", "-c", "lzf");
        code.Should().Be(0, stderr);
        stdout.Should().Contain("the file now holds 3 structures");
        var stored = StoredDataset.Read(Output);
        stored.Energy.Should().Equal(-1, -2, -3);
        stored.Metadata["teacher_model"].Should().Be("emt");
        stored.Metadata["seed"].Should().Be(3L);
        stored.Metadata[FormatNames.Compression].Should().Be("lzf");
    }

    [Fact]
    public void Convert_MissingInput_OneLineError()
    {
        var (code, _, stderr) = CliRunner.Run("convert", "-i", _dir.File("nope.extxyz"), "-o", Output);
        code.Should().Be(1);
        stderr.Trim().Should().EndWith("nope.extxyz: no such file");
    }

    [Fact]
    public void Convert_KilledMidWrite_OldFileIntactAndNextRunSucceeds()
    {
        string good = WriteInput("good.extxyz", Good(-1));
        CliRunner.Run("convert", "-i", good, "-o", Output).ExitCode.Should().Be(0);
        var before = File.ReadAllBytes(Output);

        // A large input at the slowest compression, so the writer is surely mid-way when it is killed.
        string big = _dir.File("big.extxyz");
        var reference = File.ReadAllText(RepoPaths.Of("data", "samples", "reference_930.extxyz"));
        using (var w = new StreamWriter(big))
            for (int i = 0; i < 12; i++) w.Write(reference);
        using var process = CliRunner.Start("convert", "-i", big, "-o", Output, "-c", "gzip", "--compression-level", "9", "--no-progress");
        string partial = Output + HDF5DatasetWriter.PartialSuffix;
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(partial) && new FileInfo(partial).Length > 200_000) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
            Thread.Sleep(5);
        process.HasExited.Should().BeFalse("the run must still be writing when it is killed");
        process.Kill();
        process.WaitForExit();

        File.ReadAllBytes(Output).Should().Equal(before, "a killed run never touches the target");
        StoredDataset.Read(Output).Energy.Should().Equal(-1);
        // The stale partial file does not stop the next run.
        CliRunner.Run("convert", "-i", good, "-o", Output).ExitCode.Should().Be(0);
        File.Exists(partial).Should().BeFalse();
    }
}
