using System.Text.Json;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// <c>mlff-data export</c> end to end: ASE 3.22.1 reads the output back to what h5py reads from the dataset, bit for
/// bit, and convert turns it back into the same dataset. Datasets are read in-process, hence the collection.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Reference => RepoPaths.Of("data", "samples", "reference_930.h5");

    private string Output => _dir.File("out.extxyz");

    private string Partial => Output + HDF5DatasetWriter.PartialSuffix;

    // Reads the export with ASE and the dataset with h5py and compares every value, dtype and shape exactly; prints
    // how many frames ASE read and what it gave for stress (type and shape).
    private const string AseAgainstH5py = """
        import json, sys
        import numpy as np, h5py, ase.io

        out, ref, start, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        images = ase.io.read(out, index=":", format="extxyz")

        def same(i, what, ours, theirs):
            ours, theirs = np.asarray(ours), np.asarray(theirs)
            if ours.shape != theirs.shape or ours.dtype != theirs.dtype or ours.tobytes() != theirs.tobytes():
                raise AssertionError(f"structure {i}: {what}: ASE read {ours!r} ({ours.dtype}), the dataset holds {theirs!r} ({theirs.dtype})")

        seen = {}
        with h5py.File(ref, "r") as f:
            s, l = f["structures"], f["labels"]
            splits = s["atomic_numbers_splits"][:]
            for k, atoms in enumerate(images):
                i = start + k
                a, b = splits[i], splits[i + 1]
                same(i, "numbers", atoms.numbers, s["atomic_numbers"][a:b])
                same(i, "positions", atoms.positions, s["positions"][a:b])
                same(i, "cell", atoms.cell.array, s["cells"][i])
                same(i, "pbc", atoms.pbc, s["pbc"][i])
                forces = l["forces"][a:b].astype(np.float64)
                has_stress = bool(l["stress_mask"][i])
                if prefix:
                    if atoms.calc is not None:
                        raise AssertionError(f"structure {i}: prefixed labels gave a calculator")
                    same(i, "energy", atoms.info[prefix + "energy"], l["energy"][i])
                    same(i, "forces", atoms.arrays[prefix + "forces"], forces)
                    if has_stress:
                        stress = atoms.info[prefix + "stress"]
                        same(i, "stress", stress, l["stress"][i])
                        seen["stress"] = [type(stress).__name__, list(stress.shape)]
                    elif prefix + "stress" in atoms.info:
                        raise AssertionError(f"structure {i}: a stress without stress_mask")
                else:
                    same(i, "energy", atoms.get_potential_energy(), l["energy"][i])
                    same(i, "forces", atoms.get_forces(), forces)
                    if has_stress:
                        same(i, "stress", atoms.get_stress(), l["stress"][i])
                        seen["stress"] = [type(atoms.get_stress()).__name__, list(atoms.get_stress().shape)]
                    elif "stress" in atoms.calc.results or "stress" in atoms.info:
                        raise AssertionError(f"structure {i}: a stress without stress_mask")
        print(json.dumps({"count": len(images), "stress": seen.get("stress")}))
        """;

    private static (int Count, string? StressType, long[]? StressShape) CompareWithAse(string exported, long start, string keyPrefix)
    {
        using var json = JsonDocument.Parse(PythonScript.Run(AseAgainstH5py, exported, Reference, start.ToString(), keyPrefix));
        var root = json.RootElement;
        var stress = root.GetProperty("stress");
        return stress.ValueKind == JsonValueKind.Null
            ? (root.GetProperty("count").GetInt32(), null, null)
            : (root.GetProperty("count").GetInt32(), stress[0].GetString(), stress[1].EnumerateArray().Select(e => e.GetInt64()).ToArray());
    }

    [Fact]
    public void Export_Reference930_AseReadsTheSameStructuresAndLabels()
    {
        // Act
        var (code, stdout, stderr) = CliRunner.Run("export", "-i", Reference, "-o", Output, "--no-progress");

        // Assert
        code.Should().Be(0, stderr);
        stdout.Should().StartWith($"Wrote 930 structures (47,034 atoms) to {Output}: ");
        stderr.Should().BeEmpty();
        File.Exists(Partial).Should().BeFalse();
        var (count, stressType, stressShape) = CompareWithAse(Output, 0, "");
        count.Should().Be(930);
        stressType.Should().Be("ndarray", "get_stress() gives the Voigt array");
        stressShape.Should().Equal(6);
    }

    [Fact]
    public void Export_KeyPrefixRef_AseReadsTheLabelsAsInfoAndArrays()
    {
        // Act
        var (code, stdout, stderr) = CliRunner.Run("export", "-i", Reference, "-o", Output, "--key-prefix", "REF_", "--no-progress");

        // Assert
        code.Should().Be(0, stderr);
        stdout.Should().Contain("REF_energy");
        var firstComment = File.ReadLines(Output).Skip(1).First();
        firstComment.Should().Contain("Properties=species:S:1:pos:R:3:REF_forces:R:3 REF_energy=").And.NotContain(" energy=");
        var (count, stressType, stressShape) = CompareWithAse(Output, 0, "REF_");
        count.Should().Be(930);
        stressType.Should().Be("ndarray");
        stressShape.Should().Equal([6], "MACE's voigt_to_matrix takes (6,) or (3, 3), not a flat (9,)");
    }

    [Fact]
    public void Export_ThenConvert_GivesTheSameDataset()
    {
        // Act
        CliRunner.Run("export", "-i", Reference, "-o", Output).ExitCode.Should().Be(0);
        string back = _dir.File("back.h5");
        var (code, _, stderr) = CliRunner.Run("convert", "-i", Output, "-o", back, "--no-progress");

        // Assert
        code.Should().Be(0, stderr);
        var ours = StoredDataset.Read(back);
        var reference = StoredDataset.Read(Reference);
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
    }

    [Theory]
    [InlineData(100, 50, 50)]
    [InlineData(925, null, 5)]
    [InlineData(0, 1, 1)]
    public void Export_StartAndCount_WritesExactlyThoseStructures(int start, int? count, int expected)
    {
        // Arrange
        var args = new List<string> { "export", "-i", Reference, "-o", Output, "--start", start.ToString() };
        if (count is { } c) args.AddRange(["--count", c.ToString()]);

        // Act
        var (code, stdout, stderr) = CliRunner.Run([.. args]);

        // Assert: ASE's frame k is the dataset's structure start + k.
        code.Should().Be(0, stderr);
        stdout.Should().StartWith($"Wrote {expected} structures");
        CompareWithAse(Output, start, "").Count.Should().Be(expected);
    }

    [Theory]
    [InlineData("--start", "930")]
    [InlineData("--start", "5000")]
    [InlineData("--start", "900", "--count", "31")]
    [InlineData("--count", "931")]
    public void Export_RangePastTheEnd_OneLineErrorNamingFileAndCount_NoOutput(params string[] range)
    {
        // Act
        var (code, stdout, stderr) = CliRunner.Run(["export", "-i", Reference, "-o", Output, .. range]);

        // Assert
        code.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Trim().Split('\n').Should().ContainSingle();
        stderr.Should().StartWith($"error: {Reference}: ").And.Contain("the file has 930 structures");
        File.Exists(Output).Should().BeFalse();
        File.Exists(Partial).Should().BeFalse();
    }

    [Fact]
    public void Export_FailedRun_KeepsTheOldOutput()
    {
        // Arrange
        File.WriteAllText(Output, "old content\n");

        // Act
        var (code, _, _) = CliRunner.Run("export", "-i", Reference, "-o", Output, "--start", "931");

        // Assert
        code.Should().Be(1);
        File.ReadAllText(Output).Should().Be("old content\n");
        File.Exists(Partial).Should().BeFalse();
    }

    [Fact]
    public void Export_BadAtomicNumberMidFile_ErrorNamesStructure_RemovesPartial_KeepsOldOutput()
    {
        // Arrange: a copy of the reference whose structure 700 holds an element 200; 700 frames are written first.
        string bad = _dir.File("bad.h5");
        PythonScript.Run("""
            import shutil, sys, h5py
            shutil.copyfile(sys.argv[1], sys.argv[2])
            with h5py.File(sys.argv[2], "r+") as f:
                s = f["structures"]
                s["atomic_numbers"][s["atomic_numbers_splits"][700]] = 200
            """, Reference, bad);
        File.WriteAllText(Output, "old content\n");

        // Act
        var (code, _, stderr) = CliRunner.Run("export", "-i", bad, "-o", Output);

        // Assert
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {bad}: structure 700: atomic_numbers: Atomic number 200 is not an element 1..118");
        File.ReadAllText(Output).Should().Be("old content\n");
        File.Exists(Partial).Should().BeFalse();
    }

    [Fact]
    public void Export_EmptyDataset_WritesAnEmptyFile()
    {
        // Arrange
        string empty = _dir.File("empty.h5");
        using (var writer = new HDF5DatasetWriter(empty))
            writer.Complete();

        // Act
        var (code, stdout, stderr) = CliRunner.Run("export", "-i", empty, "-o", Output);

        // Assert
        code.Should().Be(0, stderr);
        stdout.Should().StartWith("Wrote 0 structures");
        File.ReadAllText(Output).Should().BeEmpty();
    }

    [Fact]
    public void Export_MissingInput_OneLineError()
    {
        // Act
        var (code, _, stderr) = CliRunner.Run("export", "-i", _dir.File("nope.h5"), "-o", Output);

        // Assert
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {_dir.File("nope.h5")}: no such file");
        File.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public void Export_KeyPrefixWithSpace_RefusedBeforeAnythingIsWritten()
    {
        // Act
        var (code, _, stderr) = CliRunner.Run("export", "-i", Reference, "-o", Output, "--key-prefix", "REF ");

        // Assert
        code.Should().NotBe(0);
        stderr.Should().Contain("--key-prefix \"REF \" may hold only ASCII letters, digits and '_'");
        File.Exists(Output).Should().BeFalse();
    }
}
