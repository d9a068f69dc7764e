using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// Inputs read through the embedded CPython and the real ASE 3.22, end to end through <c>mlff-data convert</c>: ASE
/// pickles (safe by default), labels pickles, ASE formats, MACE-style keys; every file compared with the reference
/// written by h5py, exactly.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ConvertAseInputTests : IClassFixture<ConvertAseInputTests.Inputs>, IDisposable
{
    /// <summary>The inputs, written once by ase_inputs.py from the reference pickle.</summary>
    public sealed class Inputs : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public Inputs()
        {
            Marker = _dir.File("marker");
            PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Cli", "ase_inputs.py"), Reference("pkl"), _dir.Path, Marker).Trim().Should().Be("ok");
        }

        public string Marker { get; }

        public string File(string name) => _dir.File(name);

        public void Dispose() => _dir.Dispose();
    }

    private readonly Inputs _inputs;
    private readonly TempDirectory _dir = new();

    public ConvertAseInputTests(Inputs inputs) => _inputs = inputs;

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.File("out.h5");

    private static string Reference(string extension) => RepoPaths.Of("data", "samples", $"reference_930.{extension}");

    private (int ExitCode, string Stdout, string Stderr) Convert(params string[] args) =>
        CliRunner.Run(["convert", "-o", Output, "--no-progress", .. args]);

    private static void ShouldEqualReference(string path)
    {
        var comparison = DatasetComparer.Compare(Reference("h5"), path, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        comparison.BitExact.Should().BeTrue();
    }

    [Fact]
    public void Convert_ReferencePickle_EqualsReferenceExactly()
    {
        var (code, stdout, stderr) = Convert("-i", Reference("pkl"));

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Read 930 structures").And.Contain("(ASE pickle): 930 with energy, 930 with forces, 480 with stress");
        ShouldEqualReference(Output);
    }

    [Fact]
    public void Convert_AllowUnsafePickle_SaysSoAndStillReadsTheReference()
    {
        var (code, _, stderr) = Convert("-i", Reference("pkl"), "--allow-unsafe-pickle");

        code.Should().Be(0, stderr);
        stderr.Should().Contain("warning: --allow-unsafe-pickle: pickles are loaded with plain pickle.loads, which runs any code they carry");
        ShouldEqualReference(Output);
    }

    [Theory]
    [InlineData("labels_dict.pkl")]
    [InlineData("labels_tuple.pkl")]
    public void Convert_BarePickleWithLabelsPickle_EqualsReference(string labels)
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("bare.pkl"), "-l", _inputs.File(labels));

        code.Should().Be(0, stderr);
        ShouldEqualReference(Output);
    }

    [Fact]
    public void Convert_LabelsPickleOneShort_SeedCountError()
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("bare.pkl"), "--labels", _inputs.File("labels_short.pkl"));

        code.Should().Be(1);
        // The last line: warnings about the structures read before the mismatch may come first.
        stderr.Trim().Split('\n')[^1].Should().Be($"error: {_inputs.File("labels_short.pkl")}: energies: Number of energies (929) doesn't match number of structures (more than 929 in {_inputs.File("bare.pkl")})");
        File.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public void Convert_LabelsForcesOneAtomShort_NamesStructureAndShapes()
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("bare.pkl"), "-l", _inputs.File("labels_bad_forces.pkl"));

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {_inputs.File("labels_bad_forces.pkl")}: structure 5: forces: Forces shape (22, 3) doesn't match atoms (23, 3)");
    }

    [Fact]
    public void Convert_AseTrajectory_ReadThroughIreadEqualsReference()
    {
        var (code, stdout, stderr) = Convert("-i", _inputs.File("reference.traj"));

        code.Should().Be(0, stderr);
        stdout.Should().Contain("(ASE reader)");
        ShouldEqualReference(Output);
    }

    [Fact]
    public void Convert_ExtxyzWithAseReader_SameFileAsNativeReader()
    {
        string native = _dir.File("native.h5");
        CliRunner.Run("convert", "-i", Reference("extxyz"), "-o", native, "--no-progress").ExitCode.Should().Be(0);

        var (code, stdout, stderr) = Convert("-i", Reference("extxyz"), "--ase-reader");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("(ASE extxyz reader)");
        var comparison = DatasetComparer.Compare(native, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        comparison.BitExact.Should().BeTrue();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Convert_RefPrefixedKeys_EqualsReference(bool aseReader)
    {
        string exported = _dir.File("ref_keys.extxyz");
        CliRunner.Run("export", "-i", Reference("h5"), "-o", exported, "--key-prefix", "REF_").ExitCode.Should().Be(0);

        string[] reader = aseReader ? ["--ase-reader"] : [];
        var (code, _, stderr) = Convert(["-i", exported, "--energy-key", "REF_energy", "--forces_key", "REF_forces", "--stress-key", "REF_stress", .. reader]);

        code.Should().Be(0, stderr);
        ShouldEqualReference(Output);
    }

    private static readonly string[] KeepExtras = ["--keep-info", "REF_step", "--keep-info", "REF_dipole", "--keep-array", "REF_q"];

    // h5py, the independent reader, sees FORMAT.md's types and the values ASE holds.
    private static void ShouldHoldTheExtrasAseReads(string h5, string input)
    {
        string seen = PythonScript.Run("""
            import sys, h5py, numpy as np
            import pickle
            from ase.io import read
            f = h5py.File(sys.argv[1], "r")
            frames = pickle.load(open(sys.argv[2], "rb")) if sys.argv[2].endswith(".pkl") else read(sys.argv[2], ":")
            i = f["info"]
            assert list(i["config_type"].asstr()[:]) == [a.info["config_type"] for a in frames]
            charge = np.array([a.info.get("charge", np.nan) for a in frames])
            assert np.array_equal(i["total_charge"][:], charge, equal_nan=True)
            assert i["total_charge_mask"].dtype == bool and list(i["total_charge_mask"][:]) == ["charge" in a.info for a in frames]
            assert i["REF_step"].dtype == np.int64 and list(i["REF_step"][:]) == [a.info["REF_step"] for a in frames]
            assert i["REF_dipole"].shape == (20, 3) and np.array_equal(i["REF_dipole"][:], [a.info["REF_dipole"] for a in frames])
            assert "REF_step_mask" not in i
            q = f["arrays/REF_q"]
            assert q.dtype == np.float64 and np.array_equal(q[:], np.concatenate([a.arrays["REF_q"] for a in frames]))
            if any(a.constraints for a in frames):
                fixed = np.concatenate([np.isin(np.arange(len(a)), a.constraints[0].index) if a.constraints else np.zeros(len(a), bool) for a in frames])
                assert f["arrays/fixed"].dtype == bool and np.array_equal(f["arrays/fixed"][:], fixed)
                assert list(f["arrays/fixed_mask"][:]) == [bool(a.constraints) for a in frames]
            else:
                assert "fixed" not in f["arrays"]
            print("ok")
            """, h5, input);
        seen.Trim().Should().Be("ok");
    }

    [Fact]
    public void Convert_ExtxyzWithExtras_NativeAndAseReadersWriteTheSameInfoAndArrays()
    {
        string native = _dir.File("native.h5");
        var first = CliRunner.Run(["convert", "-i", _inputs.File("extras.extxyz"), "-o", native, "--no-progress", .. KeepExtras]);
        first.ExitCode.Should().Be(0, first.Stderr);

        var (code, _, stderr) = Convert(["-i", _inputs.File("extras.extxyz"), "--ase-reader", .. KeepExtras]);

        code.Should().Be(0, stderr);
        var comparison = DatasetComparer.Compare(native, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        comparison.BitExact.Should().BeTrue();
        ShouldHoldTheExtrasAseReads(Output, _inputs.File("extras.extxyz"));
    }

    [Fact]
    public void Convert_PickleWithExtrasAndFixAtoms_KeepsThemWhereFormatSays()
    {
        var (code, _, stderr) = Convert(["-i", _inputs.File("extras.pkl"), .. KeepExtras]);

        code.Should().Be(0, stderr);
        ShouldHoldTheExtrasAseReads(Output, _inputs.File("extras.pkl"));
    }

    [Fact]
    public void Convert_MaliciousPickle_RefusedNamingTheCallable_NothingRan()
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("malicious.pkl"));

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {_inputs.File("malicious.pkl")}: global 'posix.system' is forbidden in an ASE pickle (refused before it ran; pass --allow-unsafe-pickle only for a file you trust)");
        File.Exists(_inputs.Marker).Should().BeFalse("the refused pickle must not have run");
        File.Exists(Output).Should().BeFalse();
    }

    [Theory]
    [InlineData("truncated.pkl", "not a valid pickle: *")]
    [InlineData("not_a_pickle.pkl", "not a valid pickle: at position 0, opcode b'3' unknown")]
    [InlineData("dict.pkl", "structure 0: atoms: the pickle holds a dict, expected an ase.Atoms or a list of them")]
    public void Convert_BrokenOrForeignPickle_OneLineError(string name, string expected)
    {
        var (code, _, stderr) = Convert("-i", _inputs.File(name));

        code.Should().Be(1);
        stderr.Trim().Should().Match($"error: {_inputs.File(name)}: {expected}");
        stderr.Trim().Should().NotContain("\n").And.NotContain("Traceback");
        File.Exists(Output).Should().BeFalse();
    }

    [Fact]
    public void Convert_BrokenPickleVerbose_ShowsWhereTheReaderStopped()
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("truncated.pkl"), "-v");

        code.Should().Be(1);
        // Pickles are read natively (MlffData.Converters.Pickle); -v shows the native reader's stack.
        stderr.Should().Contain("   at ").And.Contain("PickleMachine");
    }

    [Fact]
    public void Convert_UnlabelledStructure_ErrorNamesIndex_SkipFlagLeavesItOut()
    {
        var (code, _, stderr) = Convert("-i", _inputs.File("unlabelled.pkl"));
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {_inputs.File("unlabelled.pkl")}: structure 1: energy: structure has no energy label (pass --skip-unlabelled to leave such structures out)");

        (code, var stdout, stderr) = Convert("-i", _inputs.File("unlabelled.pkl"), "--skip-unlabelled");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Read 3 structures").And.Contain("2 with energy, 2 with forces, 0 with stress").And.Contain("skipped 1 without energy or forces (0-based: 1)");
        var stored = StoredDataset.Read(Output);
        stored.StructureIndices.Should().Equal(0L, 2L);
        stored.Energy.Should().Equal(-14.0, -16.0);
        stored.Metadata["skipped_unlabelled"].Should().Be(1L);
    }

    [Fact]
    public void Convert_PythonWithoutAse_ListsWhatWasTriedAndTheFix()
    {
        // A trajectory needs ASE (a pickle is read natively, without Python).
        var (code, _, stderr) = Convert("-i", _inputs.File("reference.traj"), "--python", "/nonexistent/python3");

        code.Should().Be(1);
        stderr.Should().StartWith("error: No usable Python interpreter with ASE was found.")
            .And.Contain("/nonexistent/python3 (--python): not found")
            .And.Contain("apt-get install python3-ase");
        stderr.Should().NotContain("   at ");
    }

    [Fact]
    public void Convert_UnknownFileType_SaysToNameTheFormat()
    {
        string input = _dir.File("mystery.dat");
        File.WriteAllText(input, "nothing ASE knows\n");

        var (code, _, stderr) = Convert("-i", input);

        code.Should().Be(1);
        stderr.Trim().Should().StartWith($"error: {input}: ").And.Contain("-f");
    }
}
