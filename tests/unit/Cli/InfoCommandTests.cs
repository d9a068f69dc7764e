using System.Text.Json;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary><c>mlff-data info</c> end to end, as a user runs it, checked against h5py and numpy.</summary>
public sealed class InfoCommandTests : IDisposable
{
    private static readonly string Reference = RepoPaths.Of("data", "samples", "reference_930.h5");

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string CopyOfReference(string name, string h5pyEdit)
    {
        string path = _dir.File(name);
        File.Copy(Reference, path);
        PythonScript.Run($"import sys, h5py\nwith h5py.File(sys.argv[1], 'a') as f:\n    {h5pyEdit}\n", path);
        return path;
    }

    private static JsonElement ParseSingleObject(string stdout)
    {
        using var document = JsonDocument.Parse(stdout);
        document.RootElement.ValueKind.Should().Be(JsonValueKind.Object);
        return document.RootElement.Clone();
    }

    [Fact]
    public void Info_Reference930Json_OneObjectWithH5pysFigures()
    {
        var numpy = ParseSingleObject(PythonScript.Run("""
            import json, sys
            import h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as f:
                e = f["labels/energy"][:]
                forces = f["labels/forces"][:].astype(np.float64)
                print(json.dumps(dict(S=len(e), A=len(f["structures/atomic_numbers"]), e_mean=float(e.mean()),
                    f_max=float(np.abs(forces).max()), stress=int(f["labels/stress_mask"][:].sum()),
                    chunks=list(f["labels/forces"].chunks), stored=f["labels/forces"].id.get_storage_size())))
            """, Reference));

        var (code, stdout, stderr) = CliRunner.Run("info", Reference, "--json");

        code.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
        var json = ParseSingleObject(stdout);
        json.GetProperty("num_structures").GetInt64().Should().Be(numpy.GetProperty("S").GetInt64());
        json.GetProperty("num_atoms").GetInt64().Should().Be(numpy.GetProperty("A").GetInt64());
        foreach (var key in new[] { "elements", "pbc", "stress_coverage", "energy", "forces", "datasets", "metadata", "layout" })
            json.TryGetProperty(key, out _).Should().BeTrue(key);
        json.GetProperty("energy").GetProperty("mean").GetDouble().Should().BeApproximately(numpy.GetProperty("e_mean").GetDouble(), 1e-10);
        json.GetProperty("forces").GetProperty("max_abs_component").GetDouble().Should().Be(numpy.GetProperty("f_max").GetDouble());
        json.GetProperty("stress_coverage").GetProperty("structures").GetInt64().Should().Be(numpy.GetProperty("stress").GetInt64());
        json.GetProperty("elements").GetProperty("Au").GetProperty("atomic_number").GetInt64().Should().Be(79);
        json.GetProperty("pbc").GetProperty("TTT").GetInt64().Should().BePositive();
        var forces = json.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("path").GetString() == "/labels/forces");
        forces.GetProperty("dtype").GetString().Should().Be("float32");
        forces.GetProperty("chunks").EnumerateArray().Select(x => x.GetInt64()).Should().Equal(numpy.GetProperty("chunks").EnumerateArray().Select(x => x.GetInt64()));
        forces.GetProperty("filters").GetString().Should().Be("shuffle, gzip-4");
        forces.GetProperty("storage_bytes").GetInt64().Should().Be(numpy.GetProperty("stored").GetInt64());
        json.GetProperty("metadata").GetProperty("num_structures").GetInt64().Should().Be(930);
        json.GetProperty("metadata").GetProperty("teacher_model").GetString().Should().Be("ase.calculators.emt.EMT");
        json.GetProperty("layout").GetProperty("ok").GetBoolean().Should().BeTrue();
        json.GetProperty("layout").GetProperty("problem").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public void Info_Reference930Text_EverySection()
    {
        var (code, stdout, stderr) = CliRunner.Run("info", Reference);

        code.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
        stdout.Should().MatchRegex(@"(?m)^Structures\s+930$")
            .And.MatchRegex(@"(?m)^Atoms\s+47,034 \(per structure: min \d+, mean [\d.]+, max \d+\)$")
            .And.MatchRegex(@"(?m)^  Au\s+[\d,]+\s+\d+$")
            .And.MatchRegex(@"(?m)^PBC\s+TTT \d+")
            .And.MatchRegex(@"(?m)^Stress\s+\d+ of 930 structures")
            .And.MatchRegex(@"(?m)^Energy \(eV\)\s+min -2\.4097, max 72\.5984")
            .And.MatchRegex(@"(?m)^Forces \(eV/Å\)\s+max \|component\| 63\.5344")
            .And.MatchRegex(@"(?m)^  /structures/positions\s+float64\s+\(47034, 3\)\s+\(2730, 3\)\s+shuffle, gzip-4\s+[\d.]+ KiB\s+[\d.]+x$")
            .And.MatchRegex(@"(?m)^  teacher_model\s+ase\.calculators\.emt\.EMT$")
            .And.MatchRegex(@"(?m)^Layout\s+ok");
    }

    [Fact]
    public void Info_LzfFileFromConvert_DatasetsShowLzf()
    {
        string output = _dir.File("lzf.h5");
        CliRunner.Run("convert", "-i", RepoPaths.Of("data", "samples", "reference_930.extxyz"), "-o", output, "-c", "lzf", "--no-progress")
            .ExitCode.Should().Be(0);

        var (code, stdout, stderr) = CliRunner.Run("info", output, "--json");

        code.Should().Be(0, stderr);
        var json = ParseSingleObject(stdout);
        json.GetProperty("num_structures").GetInt64().Should().Be(930);
        json.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("filters").GetString()).Should().AllBe("lzf, fletcher32", "every dataset we write carries a checksum");
        json.GetProperty("metadata").GetProperty("compression").GetString().Should().Be("lzf");
    }

    [Fact]
    public void Info_EnergyDeleted_ExitOneProblemOnStderrDatasetsStillPrinted()
    {
        string path = CopyOfReference("broken.h5", "del f['labels/energy']");

        var (code, stdout, stderr) = CliRunner.Run("info", path);

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {path}: /labels/energy: dataset is missing");
        stdout.Should().Contain("/labels/forces").And.Contain("/structures/positions").And.NotContain("/labels/energy ")
            .And.Contain($"Layout            FAILED: {path}: /labels/energy: dataset is missing")
            .And.Contain("num_structures  930");
        stdout.Should().NotContain("Structures  ", "no statistics come from a file that fails the layout check");
    }

    [Fact]
    public void Info_SplitsDecreaseJson_LayoutNotOkAndCountsNull()
    {
        string path = CopyOfReference("decreasing.h5", "f['structures/atomic_numbers_splits'][5] = f['structures/atomic_numbers_splits'][4] - 1");

        var (code, stdout, stderr) = CliRunner.Run("info", path, "--json");

        code.Should().Be(1);
        stderr.Trim().Should().StartWith($"error: {path}: /structures/atomic_numbers_splits: decreases at row 5");
        var json = ParseSingleObject(stdout);
        json.GetProperty("layout").GetProperty("ok").GetBoolean().Should().BeFalse();
        json.GetProperty("layout").GetProperty("problem").GetString().Should().Contain("/structures/atomic_numbers_splits: decreases at row 5");
        json.GetProperty("num_structures").ValueKind.Should().Be(JsonValueKind.Null);
        json.GetProperty("num_atoms").ValueKind.Should().Be(JsonValueKind.Null);
        json.GetProperty("datasets").GetArrayLength().Should().Be(11);
        json.GetProperty("metadata").GetProperty("num_atoms").GetInt64().Should().Be(47034);
    }

    [Fact]
    public void Info_MissingFile_OneLineErrorNoStackTrace()
    {
        string path = _dir.File("missing.h5");

        var (code, stdout, stderr) = CliRunner.Run("info", path);

        code.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Trim().Should().Be($"error: {path}: no such file");
    }

    [Fact]
    public void Info_NotHdf5_OneLineError()
    {
        string path = _dir.File("text.h5");
        File.WriteAllText(path, "hello\n");

        var (code, _, stderr) = CliRunner.Run("info", path, "--json");

        code.Should().Be(1);
        stderr.Should().StartWith($"error: {path}: not a readable HDF5 file");
        stderr.Trim().Split('\n').Should().HaveCount(1);
    }

    [Fact]
    public void Info_BrokenWithVerbose_PrintsStackTrace()
    {
        string path = CopyOfReference("broken.h5", "del f['labels/stress']");

        var (code, _, stderr) = CliRunner.Run("info", path, "-v");

        code.Should().Be(1);
        stderr.Should().StartWith($"error: {path}: /labels/stress: dataset is missing").And.Contain(" at MlffData.");
    }
}
