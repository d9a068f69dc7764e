using System.Globalization;
using System.Text;
using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// ExtxyzReader with MACE-style label keys and extras (SourceKeys) against ASE 3.22.1's iread as the oracle: the
/// labels ase_frames.frame takes (virials through ASE's own get_volume), and the extras with the types ASE gives them in
/// Atoms.info and Atoms.arrays, all compared bit for bit. ASE runs once, in one Python process, for the class.
/// </summary>
public sealed class ExtxyzKeysTests : IDisposable
{
    private const string FileName = "test.xyz";

    private static readonly SourceKeys RefKeys = new() { EnergyKey = "REF_energy", ForcesKey = "REF_forces", StressKey = "REF_stress" };

    private static readonly SourceKeys VirialKeys = new() { VirialsKey = "REF_virials" };

    private static readonly SourceKeys ExtrasKeys = new()
    {
        KeepInfo = ["step", "temperature", "converged", "ivec", "fvec", "bvec", "note", "virial", "stress", "uid", "big", "js", "jstext", "config_type"],
        KeepArrays = ["tags", "flag", "vec", "imat", "initial_charges", "numbers", "positions", "forces", "masses"],
    };

    private static readonly Lazy<Oracle> Ase = new(Oracle.Run);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---------------------------------------------------------------- label keys

    [Fact]
    public void ReadFrames_RefKeysOnRenamedReference_SameLabelsAsDefaultKeysOnOriginal()
    {
        // Arrange
        var original = RepoPaths.Of("data", "samples", "reference_930.extxyz");
        var renamed = _dir.File("ref.extxyz");
        File.WriteAllText(renamed, RenameToRefKeys(File.ReadAllText(original)));

        // Act
        var expected = ReadFile(original, SourceKeys.Default);
        var frames = ReadFile(renamed, RefKeys);

        // Assert: ASE writes the 3 x 3 stress of a Voigt stress, so it is symmetric and averaging changes no bit.
        frames.Should().HaveCount(930);
        expected.Count(f => f.Stress is not null).Should().Be(480, "the bulk structures have stress");
        for (int i = 0; i < frames.Count; i++)
        {
            frames[i].Structure.Should().BeEquivalentTo(expected[i].Structure, "structure {0}", i);
            Bits(frames[i].Energy!.Value).Should().Be(Bits(expected[i].Energy!.Value), "structure {0} energy", i);
            Bits(frames[i].Forces!).Should().Equal(Bits(expected[i].Forces!), "structure {0} forces", i);
            if (expected[i].Stress is null)
                frames[i].Stress.Should().BeNull("structure {0}", i);
            else
                Bits(frames[i].Stress!).Should().Equal(Bits(expected[i].Stress!), "structure {0} stress", i);
            frames[i].Extras.Should().BeNull("the reference has no extras");
        }
    }

    [Fact]
    public void ReadFrames_RefKeysOnRenamedReference_SameLabelsAsAseFramesModule()
    {
        // Arrange: ase_frames.iter_frames is the converter's ASE path; its labels must be ours to the bit.
        var expected = Ase.Value.AseFrames("ref");

        // Act
        var frames = ReadText(RenameToRefKeys(File.ReadAllText(RepoPaths.Of("data", "samples", "reference_930.extxyz"))), RefKeys);

        // Assert
        frames.Should().HaveCount(930);
        ShouldMatchLabels(frames, expected, "ref");
    }

    [Fact]
    public void ReadFrames_Virials_StressIsMinusVirialOverAseVolumeBitForBit()
    {
        // Arrange
        var expected = Ase.Value.Frames("virials");

        // Act
        var frames = ReadText(VirialsText(), VirialKeys);

        // Assert: the cells include the reference's 480 periodic ones and random sheared ones; the last frames are
        // a slab with virials (no stress) and a bulk frame without virials.
        frames.Should().HaveCount(expected.Count);
        expected.Count(f => f.Stress is not null).Should().BeGreaterThan(1000);
        expected[^2].Stress.Should().BeNull("the slab is not periodic on all axes");
        expected[^1].Stress.Should().BeNull("the last frame has no virials");
        ShouldMatchLabels(frames, expected, "virials");
        ShouldMatchLabels(frames, Ase.Value.AseFrames("virials"), "virials via ase_frames");
    }

    [Fact]
    public void ReadFrames_NineNumberStressKeys_AveragedAsAseFramesAndAseOwnStressIsNot()
    {
        // Act
        var byKey = ReadText(Cases["asymmetric_stress"].Text, new SourceKeys { StressKey = "REF_stress" });
        var byStressKey = ReadText(Cases["asymmetric_stress"].Text, new SourceKeys { StressKey = "stress" });
        var byDefault = ReadText(Cases["asymmetric_stress"].Text, SourceKeys.Default);

        // Assert: an explicit key's 9 numbers are a 3 x 3 matrix whose off-diagonals ase_frames averages; ASE's
        // own reading of "stress" (no key) takes them in Fortran order as they are.
        byKey[0].Stress.Should().Equal(1, 5, 9, 7, 5, 3);
        byStressKey[0].Stress.Should().Equal(10, 50, 90, 70, 50, 30);
        byDefault[0].Stress.Should().Equal(10, 50, 90, 80, 70, 40);
        byKey[1].Stress.Should().Equal(1, 2, 3, 4, 5, 6);
        ShouldMatchLabels(byKey, Ase.Value.Frames("asymmetric_stress"), "REF_stress");
        ShouldMatchLabels(byStressKey, Ase.Value.Frames("asymmetric_stress_key"), "stress key");
        ShouldMatchLabels(byDefault, Ase.Value.Frames("asymmetric_stress_default"), "default");
    }

    [Fact]
    public void ReadFrames_StressKeyOnNonPeriodicStructure_StressDroppedAndKeyCountsAsFound()
    {
        // Arrange
        var text = Lines(
            "1", "Lattice=\"3 0 0 0 3 0 0 0 9\" pbc=\"T T F\" REF_stress=\"1 2 3 4 5 6\"", "Cu 0 0 0",
            "1", "REF_stress=\"1 2 3 4 5 6\"", "Cu 0 0 0",
            "1", "Lattice=\"3 0 0 0 3 0 0 0 9\" pbc=\"T T F\" REF_virials=\"1 2 3 4 5 6\"", "Cu 0 0 0");

        // Act
        var stress = ReadText(text, new SourceKeys { StressKey = "REF_stress" });
        var virials = ReadText(text, VirialKeys);

        // Assert: no error at the end, though no frame keeps a stress.
        stress.Should().OnlyContain(f => f.Stress == null);
        virials.Should().OnlyContain(f => f.Stress == null);
    }

    [Fact]
    public void ReadFrames_DefaultKeysMissing_LabelsNullWithoutError()
    {
        // Act
        var frames = ReadText(Lines("1", "step=3", "H 0 0 0"), SourceKeys.Default);

        // Assert
        frames.Single().Energy.Should().BeNull();
        frames.Single().Forces.Should().BeNull();
        frames.Single().Stress.Should().BeNull();
    }

    public static TheoryData<string, string, SourceKeys, string, int, long, string> KeyErrorCases => new()
    {
        { "energy key missing", Lines("1", "REF_energy=1", "H 0 0 0", "1", "energy=2", "H 0 0 0"),
            new SourceKeys { EnergyKey = "REF_energy" }, "REF_energy", 1, 5, "key 'REF_energy' is not on the comment line" },
        { "forces key missing", Lines("1", "Properties=species:S:1:pos:R:3:REF_forces:R:3", "H 0 0 0 1 2 3", "1", "Properties=species:S:1:pos:R:3:forces:R:3", "H 0 0 0 1 2 3"),
            new SourceKeys { ForcesKey = "REF_forces" }, "REF_forces", 1, 5, "key 'REF_forces' is not a Properties column" },
        { "forces key of 2 columns", Lines("1", "Properties=species:S:1:pos:R:3:REF_forces:R:2", "H 0 0 0 1 2"),
            new SourceKeys { ForcesKey = "REF_forces" }, "REF_forces", 0, 2, "REF_forces:R:2; expected REF_forces:R:3" },
        { "energy key not a number", Lines("1", "REF_energy=abc", "H 0 0 0"),
            new SourceKeys { EnergyKey = "REF_energy" }, "REF_energy", 0, 2, "cannot parse \"abc\"" },
        { "stress key in no structure", Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" stress=\"1 2 3 4 5 6 7 8 9\"", "H 0 0 0", "1", "", "H 0 0 0"),
            new SourceKeys { StressKey = "REF_stress" }, "REF_stress", 1, 4, "key 'REF_stress' is on no structure's comment line" },
        { "virials key in no structure", Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\"", "H 0 0 0"),
            VirialKeys, "REF_virials", 0, 1, "key 'REF_virials' is on no structure's comment line" },
        { "stress key of 5 numbers", Lines("1", "REF_stress=\"1 2 3 4 5\"", "H 0 0 0"),
            new SourceKeys { StressKey = "REF_stress" }, "REF_stress", 0, 2, "has 5 values; expected 6" },
        { "virials with a zero lattice vector", Lines("1", "Lattice=\"3 0 0 0 0 0 0 0 3\" pbc=\"T T T\" REF_virials=\"1 2 3 4 5 6\"", "H 0 0 0"),
            VirialKeys, "REF_virials", 0, 2, "the cell has 2 nonzero lattice vectors" },
        { "kept info key in no structure", Lines("1", "step=1", "H 0 0 0", "1", "", "H 0 0 0"),
            new SourceKeys { KeepInfo = ["step", "temperature"] }, "temperature", 1, 4, "key 'temperature' is on no structure's comment line" },
        { "kept info key only JSON null", Lines("1", "jn=\"_JSON null\"", "H 0 0 0"),
            new SourceKeys { KeepInfo = ["jn"] }, "jn", 0, 1, "key 'jn' is on no structure's comment line" },
        { "kept array in no structure", Lines("1", "Properties=species:S:1:pos:R:3:tags:I:1", "H 0 0 0 1"),
            new SourceKeys { KeepArrays = ["tags", "magmoms"] }, "magmoms", 0, 1, "key 'magmoms' is in no structure's Properties columns" },
        { "kept array of strings", Lines("1", "Properties=species:S:1:pos:R:3:label:S:1", "H 0 0 0 a"),
            new SourceKeys { KeepArrays = ["label"] }, "label", 0, 2, "per-atom text, which cannot be stored" },
        { "kept integer beyond int32", Lines("1", "Properties=species:S:1:pos:R:3:tags:I:1", "H 0 0 0 3000000000"),
            new SourceKeys { KeepArrays = ["tags"] }, "tags", 0, 3, "3000000000 is outside int32" },
        { "kept integer not an integer", Lines("1", "Properties=species:S:1:pos:R:3:tags:I:1", "H 0 0 0 1.0"),
            new SourceKeys { KeepArrays = ["tags"] }, "tags", 0, 3, "cannot parse \"1.0\" as an integer" },
        { "kept logical not T or F", Lines("1", "Properties=species:S:1:pos:R:3:flag:L:1", "H 0 0 0 true"),
            new SourceKeys { KeepArrays = ["flag"] }, "flag", 0, 3, "\"true\" is not T, F, True or False" },
        { "kept virial of 6 numbers", Lines("1", "virial=\"1 2 3 4 5 6\"", "H 0 0 0"),
            new SourceKeys { KeepInfo = ["virial"] }, "virial", 0, 2, "is not 9 numbers, which ASE requires" },
        { "kept empty value", Lines("1", "x=1 e=\"\"", "H 0 0 0"),
            new SourceKeys { KeepInfo = ["e"] }, "e", 0, 2, "empty value" },
        { "config_type a vector", Lines("1", "config_type=\"1 2\"", "H 0 0 0"),
            SourceKeys.Default, "config_type", 0, 2, "is int64 (2); expected a single value" },
        { "charge text", Lines("1", "charge=neutral", "H 0 0 0"),
            SourceKeys.Default, "charge", 0, 2, "\"neutral\" is not a number" },
        { "move_mask of 2 columns", Lines("1", "Properties=species:S:1:pos:R:3:move_mask:L:2", "H 0 0 0 T T"),
            SourceKeys.Default, "move_mask", 0, 2, "expected move_mask:L:1 or move_mask:L:3" },
    };

    [Theory]
    [MemberData(nameof(KeyErrorCases))]
    public void ReadFrames_BadOrMissingKey_ThrowsConversionExceptionNamingKeyIndexAndLine(
        string name, string text, SourceKeys keys, string field, int index, long line, string detail)
    {
        // Act
        Action act = () => ReadText(text, keys);

        // Assert
        var e = act.Should().Throw<ConversionException>(name).Which;
        e.Field.Should().Be(field);
        e.StructureIndex.Should().Be(index);
        e.Line.Should().Be(line);
        e.Detail.Should().Contain(detail);
        e.Message.Should().StartWith($"{FileName}:{line}: structure {index}: {field}: ").And.NotContain("\n");
    }

    [Fact]
    public void ReadFrames_StressKeyInNoStructure_FramesComeFirstThenTheError()
    {
        // Arrange
        using var reader = new ExtxyzReader(new StringReader(Lines("1", "", "H 0 0 0", "1", "", "H 0 0 0")), FileName, VirialKeys);
        var seen = new List<SourceFrame>();

        // Act
        Action act = () => seen.AddRange(reader.ReadFrames());

        // Assert: the key can only be known missing from every structure at the end.
        act.Should().Throw<ConversionException>().Which.Field.Should().Be("REF_virials");
        seen.Should().HaveCount(2);
    }

    [Fact]
    public void ReadFrames_EmptyFileWithKeys_NoFramesNoError()
    {
        // Act
        var frames = ReadText("", new SourceKeys { StressKey = "REF_stress", KeepInfo = ["a"], KeepArrays = ["b"] });

        // Assert
        frames.Should().BeEmpty();
    }

    // ---------------------------------------------------------------- extras

    [Fact]
    public void ReadFrames_Extras_SameTypesAndValuesAsAseInfoAndArrays()
    {
        // Arrange
        var expected = Ase.Value.Frames("extras");

        // Act
        var frames = ReadText(Cases["extras"].Text, ExtrasKeys);

        // Assert: the oracle holds what the cases mean to test, so a match is not a match of nothings.
        expected.Should().HaveCount(4);
        expected[0].Info.Keys.Should().Contain(["config_type", "total_charge", "total_spin", "config_weight", "step", "ivec", "bvec", "virial", "js"]);
        expected[0].Arrays.Keys.Should().Contain(["fixed", "tags", "flag", "vec", "imat", "initial_charges", "numbers", "positions", "forces"]);
        expected[1].Arrays.Keys.Should().NotContain("tags", "frame 1 has no tags column");
        expected[1].Info.Keys.Should().NotContain("step", "frame 1 has no step");
        frames.Should().HaveCount(expected.Count);
        ShouldMatchLabels(frames, expected, "extras");
        for (int i = 0; i < frames.Count; i++)
            ShouldMatchExtras(frames[i], expected[i], $"frame {i}");
    }

    [Fact]
    public void ReadFrames_Extras_TypedAsDocumented()
    {
        // Act
        var frame = ReadText(Cases["extras"].Text, ExtrasKeys)[0];
        var info = frame.Extras!.Info;
        var arrays = frame.Extras.Arrays;

        // Assert: a readable summary of the rules the oracle checks value by value.
        info[FormatNames.ConfigType].Strings.Should().Equal("bulk");
        info[FormatNames.TotalCharge].Floats.Should().Equal(2.0);
        info[FormatNames.TotalSpin].Floats.Should().Equal([1.0], "spin=T is True, and float(True) is 1.0");
        info["step"].Integers.Should().Equal(7);
        info["converged"].Bools.Should().Equal(false);
        info["ivec"].Should().BeEquivalentTo(ExtraValue.IntegerRows([1, 2, 3], 3));
        info["fvec"].Should().BeEquivalentTo(ExtraValue.FloatRows([1, 2.5, -0.03], 3));
        info["bvec"].Should().BeEquivalentTo(ExtraValue.BoolRows([true, false, true], 3));
        info["note"].Strings.Should().Equal("hello world");
        info["virial"].Should().BeEquivalentTo(ExtraValue.IntegerRows([1, 4, 7, 2, 5, 8, 3, 6, 9], 3, 3), "ASE fills 3 x 3 in Fortran order");
        info["stress"].RowShape.Should().Equal(3, 3);
        info["uid"].Strings.Should().Equal(["0012"], "ASE never types uid");
        info["big"].Floats.Should().Equal([1e20], "beyond int64 numpy falls back to float");
        info["js"].Should().BeEquivalentTo(ExtraValue.FloatRows([1, 2.5, 3, 4], 2, 2));
        arrays[FormatNames.Fixed].Bools.Should().Equal([true, false, true], "move_mask F T F: FixAtoms fixes the atoms that may not move");
        arrays["tags"].Should().BeEquivalentTo(ExtraValue.IntegerRows([1, 2, -3]));
        arrays["flag"].Bools.Should().Equal(true, false, true);
        arrays["vec"].RowShape.Should().Equal(3);
        arrays["initial_charges"].Floats.Should().Equal(0.5, -0.5, 1e-3);
        arrays["numbers"].Integers.Should().Equal(1, 8, 1);
        frame.Extras.Arrays.Should().NotContainKey("label");
    }

    [Fact]
    public void ReadFrames_ConfigTypeOfEveryKind_SameAsPythonStrOfAseValue()
    {
        // Arrange
        var expected = Ase.Value.Frames("config_types");

        // Act
        var frames = ReadText(Cases["config_types"].Text, SourceKeys.Default);

        // Assert
        frames.Should().HaveCount(expected.Count);
        for (int i = 0; i < frames.Count; i++)
            ShouldMatchExtras(frames[i], expected[i], $"config_type {i}");
        frames.Select(f => f.Extras!.Info[FormatNames.ConfigType].Strings![0]).Should().Contain(["True", "1", "1.5", "1e-05", "None", "1e+16"]);
    }

    [Fact]
    public void ReadFrames_KeptInfoOfEveryForm_SameTypesAndValuesAsAseInfo()
    {
        // Arrange
        var expected = Ase.Value.Frames("info_values");

        // Act
        var frames = ReadText(Cases["info_values"].Text, Cases["info_values"].Keys);

        // Assert
        frames.Should().HaveCount(expected.Count).And.HaveCountGreaterThan(30);
        for (int i = 0; i < frames.Count; i++)
            ShouldMatchExtras(frames[i], expected[i], $"info value {i}");
    }

    [Fact]
    public void ReadFrames_NoExtrasKeys_ExtrasNull()
    {
        // Act
        var frame = ReadText(Lines("1", "energy=1 step=3 Properties=species:S:1:pos:R:3:tags:I:1", "H 0 0 0 5"), SourceKeys.Default).Single();

        // Assert
        frame.Extras.Should().BeNull();
    }

    [Fact]
    public void FloatRepr_ManyDoubles_SameAsPythonRepr()
    {
        // Act and assert
        var (values, reprs) = Ase.Value.Reprs;
        values.Length.Should().BeGreaterThan(1000);
        for (int i = 0; i < values.Length; i++)
            PythonText.FloatRepr(values[i]).Should().Be(reprs[i], "repr of bits {0:X16}", BitConverter.DoubleToInt64Bits(values[i]));
    }

    // ---------------------------------------------------------------- cases and helpers

    /// <summary>Inputs and keys ASE 3.22.1 reads; the reader must give the same values. Keys name the case.</summary>
    private static readonly Dictionary<string, (string Text, SourceKeys Keys)> Cases = new()
    {
        ["extras"] = (Lines(
            "3",
            "Lattice=\"4 0 0 0 5 0 0 0 6\" Properties=species:S:1:pos:R:3:forces:R:3:charge:R:1:tags:I:1:flag:L:1:vec:R:3:imat:I:2:move_mask:L:1:label:S:1 "
                + "energy=-1.5 config_type=bulk charge=2 spin=T config_weight=0.5 step=7 temperature=300.25 converged=F ivec=\"1 2 3\" "
                + "fvec=\"1, 2.5 -3e-2\" bvec=\"T F T\" note=\"hello world\" virial=\"1 2 3 4 5 6 7 8 9\" stress=[1 2 3 2 5 6 3 6 9] uid=0012 "
                + "big=99999999999999999999 js=\"_JSON [[1, 2.5], [3, 4]]\" jn=\"_JSON null\" pbc=\"T T T\"",
            "H 0 0 0 1 2 3 0.5 1 T 1 2 3 4 5 F a",
            "O 1 1 1 4 5 6 -0.5 2 False 4 5 6 -6 7 T b",
            "H 0.5 0.25 1.5 0.1 0.2 0.3 1e-3 -3 True 7.5 8 9 0 0 F c",
            "2",
            "Properties=species:S:1:pos:R:3:forces:I:3:flag:L:1 energy=2 config_type=1.50 total_charge=-1 charge=5 total_spin=1.5e-5 "
                + "temperature=12 ivec=\"4,5\" js=\"_JSON [true, 2]\" jstext=\"_JSON \\\"text\\\"\" config_type=0.1",
            "Cu 0 0 0 1 2 3 F",
            "Au 1 0 0 -1 -2 -3 T",
            "1",
            "Lattice=\"3 0.5 0 0 3 0 0.25 0 3\" Properties=Z:I:1:pos:R:3:masses:R:1:move_mask:L:3 config_type=T config_weight=1 converged=T "
                + "js=\"_JSON 5\" bvec=T,F note=\"a \\\"quoted\\\" note\"",
            "29 0 0 0 63.5 T F T",
            "1",
            "config_type=\"_JSON null\" fvec=\"inf -nan 1_0.5\"",
            "He 0 0 0"), ExtrasKeys),
        ["config_types"] = (string.Concat(new[]
        {
            "T", "F", "1", "-0", "007", "1.50", "1e-5", "0.0001", "1e16", "1e15", "123456789012345678", "1.5e300", "-2.5e-300",
            "inf", "-inf", "nan", "\"_JSON null\"", "\"_JSON 5\"", "\"_JSON 0.1\"", "\"_JSON \\\"x y\\\"\"", "\"_JSON true\"", "bulk_fcc",
            "0.30000000000000004", "5e-324", "1.7976931348623157e308", "1_000", "٣", "99999999999999999999",
        }.Select(v => Lines("1", $"config_type={v}", "H 0 0 0"))), SourceKeys.Default),
        ["info_values"] = (string.Concat(new[]
        {
            "1,2", "T,F", "\"1 T\"", "\"1 2.5 3\"", "1e400", "-0.0", "0x1", "nan", "\" 5 \"", "١٢", "1_000", "+7", "-nan", "inf,-inf",
            "F", "True", "\"_JSON [1, 2]\"", "\"_JSON [[true, false]]\"", "\"_JSON -0\"", "\"_JSON 1e2\"", "\"_JSON [1.5, true]\"",
            "\"_JSON \\\"\\\"\"", "abc", "\"a b\"", "{1 2 3}", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "\"1 99999999999999999999\"", "[4 5 6 7 8 9 1 2 3]", "\"_JSON [[1], [2]]\"", "=3", "a=b",
        }.Select(v => Lines("1", $"v={v}", "H 0 0 0"))), new SourceKeys { KeepInfo = ["v"] }),
        ["asymmetric_stress"] = (Lines(
            "1", "Lattice=\"3 0 0 0 3 0 0 0 3\" REF_stress=\"1 2 3 4 5 6 7 8 9\" stress=\"10 20 30 40 50 60 70 80 90\"", "H 0 0 0",
            "1", "Lattice=\"3 0 0 0 3 0 0 0 3\" REF_stress=\"1 2 3 4 5 6\" stress=\"10 20 30 40 50 60 70 80 90\"", "H 0 0 0"),
            new SourceKeys { StressKey = "REF_stress" }),
    };

    private static readonly Dictionary<string, SourceKeys> AliasCases = new()
    {
        ["asymmetric_stress_key"] = new SourceKeys { StressKey = "stress" },
        ["asymmetric_stress_default"] = SourceKeys.Default,
    };

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    // reference_930.extxyz with MACE's REF_ names for energy, forces and stress (atom lines hold only numbers).
    private static string RenameToRefKeys(string text) =>
        text.Replace(" energy=", " REF_energy=").Replace(" stress=", " REF_stress=").Replace(":forces:R:3", ":REF_forces:R:3");

    // Virials on the reference's periodic cells and on random sheared ones, 9 or 6 numbers; then a slab with virials
    // and a bulk frame without.
    private static string VirialsText()
    {
        var cells = new List<double[]>();
        using (var reader = new ExtxyzReader(RepoPaths.Of("data", "samples", "reference_930.extxyz")))
            cells.AddRange(reader.ReadFrames().Where(f => f.Structure.Pbc.All(p => p)).Select(f => f.Structure.Cell));
        var rng = new Random(7);
        for (int k = 0; k < 600; k++)
            cells.Add(Enumerable.Range(0, 9).Select(i => (i % 4 == 0 ? 3 + 20 * rng.NextDouble() : 0) + (rng.NextDouble() - 0.5) * 4).ToArray());
        var text = new StringBuilder();
        string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        for (int k = 0; k < cells.Count; k++)
        {
            int n = k % 5 == 0 ? 6 : 9;
            var virial = Enumerable.Range(0, n).Select(_ => R((rng.NextDouble() - 0.5) * 200));
            text.Append("1\nLattice=\"").AppendJoin(' ', cells[k].Select(R)).Append("\" pbc=\"T T T\" REF_virials=\"")
                .AppendJoin(' ', virial).Append("\" energy=").Append(k).Append("\nH 0 0 0\n");
        }
        text.Append(Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 9\" pbc=\"T T F\" REF_virials=\"1 2 3 4 5 6 7 8 9\"", "H 0 0 0"));
        text.Append(Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\"", "H 0 0 0"));
        return text.ToString();
    }

    private static List<SourceFrame> ReadText(string text, SourceKeys keys)
    {
        using var reader = new ExtxyzReader(new StringReader(text), FileName, keys);
        return reader.ReadFrames().ToList();
    }

    private static List<SourceFrame> ReadFile(string path, SourceKeys keys)
    {
        using var reader = new ExtxyzReader(path, keys);
        return reader.ReadFrames().ToList();
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    private static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static void ShouldMatchLabels(List<SourceFrame> ours, List<AseFrame> ase, string context)
    {
        ours.Should().HaveCount(ase.Count, context);
        for (int i = 0; i < ours.Count; i++)
        {
            (ours[i].Energy is { } e ? Bits(e) : (long?)null).Should().Be(ase[i].Energy, "{0}, frame {1}: energy", context, i);
            (ours[i].Forces is { } f ? Bits(f) : null).Should().BeEquivalentTo(ase[i].Forces, o => o.WithStrictOrdering(), "{0}, frame {1}: forces", context, i);
            (ours[i].Stress is { } s ? Bits(s) : null).Should().BeEquivalentTo(ase[i].Stress, o => o.WithStrictOrdering(), "{0}, frame {1}: stress", context, i);
        }
    }

    private static void ShouldMatchExtras(SourceFrame ours, AseFrame ase, string context)
    {
        var info = ours.Extras?.Info ?? StructureExtras.Empty.Info;
        var arrays = ours.Extras?.Arrays ?? StructureExtras.Empty.Arrays;
        info.Keys.Should().BeEquivalentTo(ase.Info.Keys, "{0}: info names", context);
        arrays.Keys.Should().BeEquivalentTo(ase.Arrays.Keys, "{0}: arrays names", context);
        foreach (var (name, expected) in ase.Info)
            ShouldMatch(info[name], expected, $"{context}: info {name}");
        foreach (var (name, expected) in ase.Arrays)
            ShouldMatch(arrays[name], expected, $"{context}: arrays {name}");
    }

    private static void ShouldMatch(ExtraValue ours, JsonElement expected, string context)
    {
        var values = expected.GetProperty("values").EnumerateArray().ToArray();
        ours.RowShape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()), "{0}: row shape", context);
        switch (expected.GetProperty("kind").GetString())
        {
            case "f":
                ours.Kind.Should().Be(ExtraKind.Float, context);
                Bits(ours.Floats!).Should().Equal(values.Select(v => v.GetInt64()), "{0}: values", context);
                break;
            case "i":
                ours.Kind.Should().Be(ExtraKind.Integer, context);
                ours.Integers.Should().Equal(values.Select(v => v.GetInt64()), "{0}: values", context);
                break;
            case "b":
                ours.Kind.Should().Be(ExtraKind.Bool, context);
                ours.Bools.Should().Equal(values.Select(v => v.GetBoolean()), "{0}: values", context);
                break;
            case "s":
                ours.Kind.Should().Be(ExtraKind.String, context);
                ours.Strings.Should().Equal(values.Select(v => v.GetString()), "{0}: values", context);
                break;
            default:
                throw new InvalidOperationException($"{context}: ASE holds {expected}, which the test cannot compare");
        }
    }

    /// <summary>One frame as the oracle saw it; floats as their 64 bits, extras as JSON descriptions.</summary>
    private sealed record AseFrame(long? Energy, long[]? Forces, long[]? Stress, Dictionary<string, JsonElement> Info, Dictionary<string, JsonElement> Arrays);

    /// <summary>Everything the tests ask ASE, answered by one run of extxyz_keys_oracle.py.</summary>
    private sealed class Oracle
    {
        private readonly Dictionary<string, JsonElement> _reads;
        private readonly Dictionary<string, JsonElement> _aseFrames;

        private Oracle(Dictionary<string, JsonElement> reads, Dictionary<string, JsonElement> aseFrames, (double[], string[]) reprs)
        {
            _reads = reads;
            _aseFrames = aseFrames;
            Reprs = reprs;
        }

        /// <summary>Doubles and Python's repr() of each.</summary>
        public (double[] Values, string[] Reprs) Reprs { get; }

        public List<AseFrame> Frames(string name) => Parse(_reads[name], name);

        public List<AseFrame> AseFrames(string name) => Parse(_aseFrames[name], name);

        private static List<AseFrame> Parse(JsonElement read, string name)
        {
            if (read.TryGetProperty("error", out var error))
                throw new InvalidOperationException($"ASE could not read case {name}: {error.GetString()}");
            return read.GetProperty("frames").EnumerateArray().Select(f => new AseFrame(
                f.GetProperty("energy").ValueKind == JsonValueKind.Null ? null : f.GetProperty("energy").GetInt64(),
                Longs(f.GetProperty("forces")),
                Longs(f.GetProperty("stress")),
                Members(f, "info"),
                Members(f, "arrays"))).ToList();
        }

        private static Dictionary<string, JsonElement> Members(JsonElement frame, string name) =>
            frame.TryGetProperty(name, out var e) ? e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()) : [];

        private static long[]? Longs(JsonElement e) =>
            e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

        public static Oracle Run()
        {
            var directory = Directory.CreateTempSubdirectory("extxyz-keys-oracle-").FullName;
            try
            {
                return Run(directory);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        private static Oracle Run(string directory)
        {
            var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            var paths = new Dictionary<string, string>();
            var jobs = new Dictionary<string, SourceKeys>();
            foreach (var (name, (text, keys)) in Cases)
            {
                paths[name] = System.IO.Path.Combine(directory, name + ".xyz");
                File.WriteAllText(paths[name], text, utf8);
                jobs[name] = keys;
            }
            foreach (var (name, keys) in AliasCases)
            {
                paths[name] = paths["asymmetric_stress"];
                jobs[name] = keys;
            }
            paths["ref"] = System.IO.Path.Combine(directory, "ref.xyz");
            File.WriteAllText(paths["ref"], RenameToRefKeys(File.ReadAllText(RepoPaths.Of("data", "samples", "reference_930.extxyz"))), utf8);
            jobs["ref"] = RefKeys;
            paths["virials"] = System.IO.Path.Combine(directory, "virials.xyz");
            File.WriteAllText(paths["virials"], VirialsText(), utf8);
            jobs["virials"] = VirialKeys;

            var names = jobs.Keys.ToArray();
            object Job(string name) => new
            {
                path = paths[name],
                energy_key = jobs[name].EnergyKey,
                forces_key = jobs[name].ForcesKey,
                stress_key = jobs[name].StressKey,
                virials_key = jobs[name].VirialsKey,
                keep_info = jobs[name].KeepInfo,
                keep_arrays = jobs[name].KeepArrays,
            };
            string[] viaAseFrames = ["ref", "virials"];
            var reprValues = ReprValues();
            var request = new
            {
                reads = names.Select(Job).ToArray(),
                ase_frames = viaAseFrames.Select(Job).ToArray(),
                reprs = reprValues.Select(BitConverter.DoubleToInt64Bits).ToArray(),
            };
            var requestPath = System.IO.Path.Combine(directory, "request.json");
            File.WriteAllText(requestPath, JsonSerializer.Serialize(request), utf8);
            var answer = JsonDocument.Parse(PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "extxyz_keys_oracle.py"), requestPath)).RootElement;

            var reads = answer.GetProperty("reads").EnumerateArray().Select((r, i) => (names[i], r.Clone())).ToDictionary(x => x.Item1, x => x.Item2);
            var aseFrames = answer.GetProperty("ase_frames").EnumerateArray().Select((r, i) => (viaAseFrames[i], r.Clone())).ToDictionary(x => x.Item1, x => x.Item2);
            var reprs = answer.GetProperty("reprs").EnumerateArray().Select(x => x.GetString()!).ToArray();
            return new Oracle(reads, aseFrames, (reprValues, reprs));
        }

        // Doubles of every magnitude, random bit patterns, and the edges of repr's positional range.
        private static double[] ReprValues()
        {
            var rng = new Random(11);
            var values = new List<double>
            {
                0.0, -0.0, 1, -1, 0.1, 0.5, 1.5, 1e16, 1e15, 9999999999999998, 1e-4, 1e-5, 0.00012, 123456789012345678,
                5e-324, double.Epsilon * 3, 1.7976931348623157e308, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
                0.30000000000000004, 1.0 / 3, 2.0 / 3, 100, 1e22, 1e23, 12345.678, 9007199254740993, 4.35, 2.675,
            };
            for (int i = 0; i < 1000; i++)
            {
                double x = BitConverter.Int64BitsToDouble(rng.NextInt64());
                if (double.IsFinite(x))
                    values.Add(x);
            }
            for (int e = -30; e <= 30; e++)
            {
                values.Add(Math.Pow(10, e) * (1 + rng.NextDouble()));
                values.Add(-Math.Pow(10, e) * rng.Next(1, 10));
            }
            return [.. values];
        }
    }
}
