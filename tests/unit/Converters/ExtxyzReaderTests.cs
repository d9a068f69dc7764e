using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// ExtxyzReader against ASE 3.22.1 as the oracle: files ASE writes, hand-written edge cases ASE reads, and Python's
/// float()/int() and key_val_str_to_dict, all compared bit for bit. ASE runs once, in one Python process, for the class.
/// </summary>
public sealed class ExtxyzReaderTests : IDisposable
{
    private const string FileName = "test.xyz";

    private static readonly Lazy<AseOracle> Ase = new(AseOracle.Run);

    private readonly string _directory = Directory.CreateTempSubdirectory("extxyz-reader-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // ---------------------------------------------------------------- agreement with ASE

    [Fact]
    public void ReadFrames_FileWrittenByAse_MatchesAseBitForBit()
    {
        // Arrange: ASE wrote the file; the path constructor reads it from disk.
        var path = Path.Combine(_directory, "ase.xyz");
        File.WriteAllText(path, Ase.Value.GeneratedText);
        var expected = Ase.Value.Frames("generated");

        // Act
        List<SourceFrame> frames;
        using (var reader = new ExtxyzReader(path))
            frames = reader.ReadFrames().ToList();

        // Assert: the oracle holds what the generator meant to write, so a match below is not a match of nothings.
        expected.Should().HaveCount(5);
        expected[0].Stress.Should().NotBeNull("the bulk frame has a stress label");
        expected[0].Cell[1].Should().NotBe(expected[0].Cell[3], "the bulk cell is sheared, so a transposed cell differs");
        expected[1].Stress.Should().BeNull("the molecule has no cell, so no stress");
        expected[2].Pbc.Should().Equal(true, true, false);
        expected[3].Numbers.Should().HaveCount(1);
        expected[4].Energy.Should().BeNull("the last frame has no labels");

        frames.Should().HaveCount(expected.Count);
        long line = 1;
        for (int i = 0; i < frames.Count; i++)
        {
            frames[i].Index.Should().Be(i);
            frames[i].Line.Should().Be(line, "frame {0} starts after the previous frames' count, comment and atom lines", i);
            ShouldMatch(frames[i], expected[i], $"frame {i}");
            line += expected[i].Numbers.Length + 2;
        }
    }

    public static TheoryData<string> AgreementCaseNames => new(AgreementCases.Keys);

    [Theory]
    [MemberData(nameof(AgreementCaseNames))]
    public void ReadFrames_HandWrittenCase_MatchesAseBitForBit(string name)
    {
        // Arrange
        var expected = Ase.Value.Frames(name);
        expected.Should().NotBeEmpty("each case holds at least one frame");

        // Act
        var frames = Read(AgreementCases[name]);

        // Assert
        frames.Should().HaveCount(expected.Count);
        for (int i = 0; i < frames.Count; i++)
            ShouldMatch(frames[i], expected[i], $"{name}, frame {i}");
    }

    [Fact]
    public void ReadFrames_LatticeAndPbc_CellRowsAreLatticeVectorsInFileOrder()
    {
        // Act
        var frame = Read(AgreementCases["asymmetric_stress"]).Single();

        // Assert: Lattice="a1 a2 a3" gives cell rows a1, a2, a3; no pbc key with a Lattice means periodic.
        frame.Structure.Cell.Should().Equal(2, 0.1, 0.2, 0.3, 3, 0.4, 0.5, 0.6, 4);
        frame.Structure.Pbc.Should().Equal(true, true, true);
    }

    [Fact]
    public void ReadFrames_NineNumberStress_TakesAseFortranOrderWithoutSymmetrising()
    {
        // Act
        var frame = Read(AgreementCases["asymmetric_stress"]).Single();

        // Assert: ASE reshapes "1 2 3 4 5 6 7 8 9" in Fortran order, s[i, j] = v[i + 3j], and takes
        // [s00, s11, s22, s12, s02, s01] as they are.
        frame.Stress.Should().Equal(1, 5, 9, 8, 7, 4);
    }

    [Fact]
    public void ReadFrames_SixNumberStress_IsVoigtAsWrittenWhereAseRefusesIt()
    {
        // Arrange
        var text = Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" stress=\"1 2 3 4 5 6\"", "Cu 0 0 0");

        // Act
        var frame = Read(text).Single();

        // Assert
        frame.Stress.Should().Equal(1, 2, 3, 4, 5, 6);
        Ase.Value.Error("six_number_stress").Should().Contain("3x3", "ASE 3.22.1 accepts only 9 numbers for stress");
    }

    [Fact]
    public void ReadFrames_PlainXyz_HasNoCellNoPbcNoLabels()
    {
        // Act
        var frame = Read(AgreementCases["no_properties"]).Single();

        // Assert
        frame.Structure.AtomicNumbers.Should().Equal(8, 1, 1);
        frame.Structure.Positions.Should().Equal(0.0, 0.0, 0.119, 0.0, 0.763, -0.477, 0.0, -0.763, -0.477);
        frame.Structure.Cell.Should().OnlyContain(x => x == 0);
        frame.Structure.Pbc.Should().Equal(false, false, false);
        frame.Energy.Should().BeNull();
        frame.Forces.Should().BeNull();
        frame.Stress.Should().BeNull();
    }

    [Fact]
    public void ReadFrames_ZColumnWithoutSpecies_TakesAtomicNumbersFromZ()
    {
        // Act
        var frame = Read(AgreementCases["z_column"]).Single();

        // Assert
        frame.Structure.AtomicNumbers.Should().Equal(29, 79, 1);
        frame.Energy.Should().Be(-7.5);
        frame.Forces.Should().Equal(0.5, 0, 0, 0, -0.5, 0, 0, 0, 0.25);
    }

    [Fact]
    public void ReadFrames_QuotedBareAndRepeatedKeys_ParsedAsAseDoes()
    {
        // Act
        var quoting = Read(AgreementCases["quoting"]).Single();
        var bare = Read(AgreementCases["bare_keys"]).Single();

        // Assert: the later energy wins; {} and [] quote like "..."; pbc='T F T' is per axis, so the stress is
        // dropped; a bare pbc means True.
        quoting.Energy.Should().Be(-1.25);
        quoting.Structure.Cell.Should().Equal(4.0, 0.1, 0, 0, 4.0, 0, 0.2, 0, 5.0);
        quoting.Structure.Pbc.Should().Equal(true, false, true);
        quoting.Stress.Should().BeNull("stress needs pbc T T T");
        bare.Energy.Should().Be(0.5);
        bare.Structure.Pbc.Should().Equal(true, true, true);
        bare.Structure.Cell.Should().OnlyContain(x => x == 0);
    }

    [Fact]
    public void ReadFrames_CrLfAndLoneCr_SameFramesAsLf()
    {
        // Arrange
        var lf = AgreementCases["crlf"].Replace("\r\n", "\n");

        // Act
        var expected = Read(lf);
        var crlf = Read(AgreementCases["crlf"]);
        var cr = Read(AgreementCases["lone_cr"]);

        // Assert
        expected.Should().HaveCount(2);
        crlf.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        cr.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        crlf[1].Line.Should().Be(5);
    }

    // ---------------------------------------------------------------- rejections

    public static TheoryData<string, string, string, int, long, string> ErrorCases => new()
    {
        { "count not an integer", Lines("abc", "", "H 0 0 0"), "atom count", 0, 1, "expected an integer, found \"abc\"" },
        { "count not an integer in frame 1", Lines("1", "", "H 0 0 0", "2.5", "", "H 0 0 0", "H 0 0 1"), "atom count", 1, 4, "\"2.5\"" },
        { "VEC cell lines", Lines("1", "pbc=\"T T T\"", "H 0 0 0", "VEC1 3 0 0"), "atom count", 1, 4, "VEC lines (ASE's vec_cell=True) are not supported" },
        { "count negative", Lines("-1", ""), "atom count", 0, 1, "-1 is negative" },
        { "count absurd", Lines("100000001", "", "H 0 0 0"), "atom count", 0, 1, "exceeds the limit of 100000000 atoms" },
        { "count overflows", Lines("99999999999999999999999", "", "H 0 0 0"), "atom count", 0, 1, "exceeds the limit" },
        { "file ends in the atom lines", Lines("3", "Properties=species:S:1:pos:R:3", "H 0 0 0"), "atom count", 0, 1,
            "expected 3 atom lines after line 2, file ended after 1" },
        { "file ends after the count", "2\n", "atom count", 0, 1, "file ended after the atom count" },
        { "data after a blank line", Lines("1", "", "H 0 0 0", "", "1", "", "H 0 0 0"), "atom count", 1, 5, "blank line 4" },
        { "too few columns", Lines("1", "", "H 0 0"), "Properties", 0, 3, "atom 0 has 3 columns; Properties=species:S:1:pos:R:3 declares 4" },
        { "too many columns", Lines("2", "", "H 0 0 0", "H 0 0 1 7"), "Properties", 0, 4, "atom 1 has 5 columns" },
        { "unknown element", Lines("2", "", "H 0 0 0", "Qq 0 0 1"), "species", 0, 4, "\"Qq\" is not a chemical symbol" },
        { "dummy element X", Lines("1", "", "X 0 0 0"), "species", 0, 3, "\"X\"" },
        { "bad position", Lines("1", "", "H 0 1.0.0 0"), "pos", 0, 3, "atom 0, column 3: cannot parse \"1.0.0\"" },
        { "bad force", Lines("1", "Properties=species:S:1:pos:R:3:forces:R:3", "H 0 0 0 1 abc 2"), "forces", 0, 3, "column 6: cannot parse \"abc\"" },
        { "Lattice of 8 numbers", Lines("1", "Lattice=\"1 0 0 0 1 0 0 0\"", "H 0 0 0"), "Lattice", 0, 2, "has 8 values; expected 9 numbers" },
        { "Lattice of 10 numbers", Lines("1", "Lattice=\"1 0 0 0 1 0 0 0 1 5\"", "H 0 0 0"), "Lattice", 0, 2, "has 10 values" },
        { "Lattice not numbers", Lines("1", "Lattice=\"1 0 0 0 1 0 0 0 x\"", "H 0 0 0"), "Lattice", 0, 2, "cannot parse \"x\"" },
        { "pbc of 2 values", Lines("1", "pbc=\"T T\"", "H 0 0 0"), "pbc", 0, 2, "has 2 values; expected 1 or 3" },
        { "pbc of 4 values", Lines("1", "pbc=\"T T T T\"", "H 0 0 0"), "pbc", 0, 2, "more than 3 values" },
        { "pbc not logical", Lines("1", "pbc=maybe", "H 0 0 0"), "pbc", 0, 2, "\"maybe\" is not T or F" },
        { "Properties unknown type", Lines("1", "Properties=species:S:1:pos:Q:3", "H 0 0 0"), "Properties", 0, 2, "type \"Q\"" },
        { "Properties ragged", Lines("1", "Properties=species:S:1:pos:R", "H 0 0 0"), "Properties", 0, 2, "not a multiple of 3" },
        { "Properties bad count", Lines("1", "Properties=species:S:1:pos:R:x", "H 0 0 0"), "Properties", 0, 2, "column count \"x\"" },
        { "Properties zero count", Lines("1", "Properties=species:S:1:pos:R:3:q:R:0", "H 0 0 0"), "Properties", 0, 2, "column count \"0\"" },
        { "Properties repeated name", Lines("1", "Properties=species:S:1:pos:R:3:q:R:1:q:I:1", "H 0 0 0 1 1"), "Properties", 0, 2, "\"q\" appears twice" },
        { "Properties without elements", Lines("1", "Properties=pos:R:3", "0 0 0"), "Properties", 0, 2, "neither species:S:1 nor Z:I:1" },
        { "Properties without pos", Lines("1", "Properties=species:S:1:x:R:3", "H 0 0 0"), "pos", 0, 2, "no pos:R:3 column" },
        { "pos of 2 columns", Lines("1", "Properties=species:S:1:pos:R:2", "H 0 0"), "pos", 0, 2, "pos:R:2; expected pos:R:3" },
        { "forces of 2 columns", Lines("1", "Properties=species:S:1:pos:R:3:forces:R:2", "H 0 0 0 1 1"), "forces", 0, 2, "forces:R:2; expected forces:R:3" },
        { "forces as strings", Lines("1", "Properties=species:S:1:pos:R:3:forces:S:3", "H 0 0 0 a b c"), "forces", 0, 2, "forces:S:3" },
        { "species as integers", Lines("1", "Properties=species:I:1:pos:R:3", "1 0 0 0"), "species", 0, 2, "species:I:1" },
        { "energy not a number", Lines("1", "energy=abc", "H 0 0 0"), "energy", 0, 2, "cannot parse \"abc\"" },
        { "energy bare key", Lines("1", "energy", "H 0 0 0"), "energy", 0, 2, "cannot parse \"T\"" },
        { "energy of 2 numbers", Lines("1", "energy=\"1 2\"", "H 0 0 0"), "energy", 0, 2, "has 2 values; expected 1 number" },
        { "stress of 5 numbers", Lines("1", "stress=\"1 2 3 4 5\"", "H 0 0 0"), "stress", 0, 2, "has 5 values; expected 9 (3 x 3) or 6" },
        { "stress not numbers", Lines("1", "stress=\"1 2 3 4 5 x\"", "H 0 0 0"), "stress", 0, 2, "cannot parse \"x\"" },
        { "Z out of range", Lines("1", "Properties=Z:I:1:pos:R:3", "119 0 0 0"), "Z", 0, 3, "\"119\" is not an atomic number" },
        { "Z disagrees with species", Lines("1", "Properties=species:S:1:Z:I:1:pos:R:3", "H 2 0 0 0"), "Z", 0, 3, "Z 2 but species H" },
        { "'=' without a key", Lines("1", "=5", "H 0 0 0"), "comment line", 0, 2, "'=' without a key" },
        { "error in a later frame", Lines("1", "", "H 0 0 0", "2", "energy=1", "H 0 0 0", "He 0 0 1", "2", "", "H 0 0 0", "Hx 0 0 1"),
            "species", 2, 11, "atom 1, column 1: \"Hx\"" },
    };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void ReadFrames_MalformedInput_ThrowsConversionExceptionNamingFieldIndexAndLine(
        string name, string text, string field, int index, long line, string detail)
    {
        // Act
        Action act = () => Read(text);

        // Assert
        var e = act.Should().Throw<ConversionException>(name).Which;
        e.File.Should().Be(FileName);
        e.Field.Should().Be(field);
        e.StructureIndex.Should().Be(index);
        e.Line.Should().Be(line);
        e.Detail.Should().Contain(detail);
        e.Message.Should().StartWith($"{FileName}:{line}: structure {index}: {field}: ");
    }

    [Fact]
    public void ReadFrames_HugeCountInShortFile_FailsWithoutAllocatingForTheCount()
    {
        // Arrange
        var text = Lines("99999999", "", "H 0 0 0");
        long before = GC.GetAllocatedBytesForCurrentThread();

        // Act
        Action act = () => Read(text);

        // Assert: arrays for 10^8 atoms would be gigabytes; growing with the lines read costs a few megabytes.
        act.Should().Throw<ConversionException>().Which.Detail.Should().Contain("file ended after 1");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(64L << 20);
    }

    [Fact]
    public void ReadFrames_LineLongerThanLimit_ThrowsConversionExceptionForTheLine()
    {
        // Arrange
        var text = Lines("1", "comment=" + new string('x', 100), "H 0 0 0");
        using var reader = new ExtxyzReader(new StringReader(text), FileName, maxLineLength: 50);

        // Act
        Action act = () => reader.ReadFrames().ToList();

        // Assert
        var e = act.Should().Throw<ConversionException>().Which;
        e.Field.Should().Be("line");
        e.Line.Should().Be(2);
        e.StructureIndex.Should().Be(0);
        e.Detail.Should().Contain("longer than 50 characters");
    }

    // ---------------------------------------------------------------- streaming and buffering

    [Fact]
    public void ReadFrames_FirstFrame_ReturnedBeforeTheRestOfTheFileIsRead()
    {
        // Arrange: 20000 frames, about 1 MB; frame 19999 is broken.
        var text = new StringBuilder();
        for (int i = 0; i < 19_999; i++)
            text.Append("1\nenergy=").Append(i).Append("\nH 0 0 0\n");
        text.Append("1\n\nQq 0 0 0\n");
        var counting = new ChunkedReader(text.ToString(), int.MaxValue);
        using var reader = new ExtxyzReader(counting, FileName);
        using var frames = reader.ReadFrames().GetEnumerator();

        // Act
        frames.MoveNext().Should().BeTrue();
        long readAfterFirst = counting.CharsRead;
        int seen = 1;
        Action rest = () => { while (frames.MoveNext()) seen++; };

        // Assert
        frames.Current.Energy.Should().Be(0);
        readAfterFirst.Should().BeLessThan(text.Length / 4, "only the first buffer is read before the first frame");
        rest.Should().Throw<ConversionException>().Which.StructureIndex.Should().Be(19_999);
        seen.Should().Be(19_999);
    }

    [Fact]
    public void ReadFrames_FrameLargerThanInitialCapacity_ReadsEveryAtom()
    {
        // Arrange: more atoms than the reader allocates up front, so its arrays grow.
        const int n = 70_001;
        var text = new StringBuilder().Append(n).Append("\nProperties=species:S:1:pos:R:3:forces:R:3\n");
        for (int i = 0; i < n; i++)
            text.Append(i % 2 == 0 ? "Cu " : "Au ").Append(i).Append(" 0.5 -1 ").Append(-i).Append(" 0 2\n");

        // Act
        var frame = Read(text.ToString()).Single();

        // Assert
        frame.Structure.NumAtoms.Should().Be(n);
        frame.Structure.Positions.Should().HaveCount(3 * n);
        frame.Forces.Should().HaveCount(3 * n);
        for (int i = 0; i < n; i++)
        {
            frame.Structure.AtomicNumbers[i].Should().Be(i % 2 == 0 ? 29 : 79);
            frame.Structure.Positions[3 * i].Should().Be(i);
            frame.Forces![3 * i].Should().Be(-i);
            frame.Forces[3 * i + 2].Should().Be(2);
        }
    }

    [Fact]
    public void ReadFrames_ReaderReturnsOneCharacterAtATime_SameFrames()
    {
        // Arrange: a CRLF file read one character per call splits every "\r\n" across two reads.
        var text = AgreementCases["crlf"] + AgreementCases["crlf"];

        // Act
        var expected = Read(text);
        List<SourceFrame> trickled;
        using (var reader = new ExtxyzReader(new ChunkedReader(text, maxChunk: 1), FileName))
            trickled = reader.ReadFrames().ToList();

        // Assert
        expected.Should().HaveCount(4);
        trickled.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }

    [Fact]
    public void ReadFrames_CommentLongerThanTheBuffer_Parsed()
    {
        // Arrange: a 300000-character comment, several times the initial buffer.
        var text = Lines("1", $"info=\"{new string('x', 300_000)}\" energy=-4.25", "H 0 0 0");

        // Act
        var frame = Read(text).Single();

        // Assert
        frame.Energy.Should().Be(-4.25);
    }

    // ---------------------------------------------------------------- lifetime

    [Fact]
    public void ReadFrames_CalledTwice_ThrowsInvalidOperationException()
    {
        // Arrange
        using var reader = new ExtxyzReader(new StringReader(Lines("1", "", "H 0 0 0")), FileName);
        reader.ReadFrames().ToList();

        // Act
        Action act = () => reader.ReadFrames();

        // Assert
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Dispose_ThenReadFrames_ThrowsObjectDisposedExceptionAndClosesTheInput()
    {
        // Arrange
        var input = new StringReader(Lines("1", "", "H 0 0 0"));
        var reader = new ExtxyzReader(input, FileName);

        // Act
        reader.Dispose();
        Action read = () => reader.ReadFrames();
        Action readInput = () => input.ReadToEnd();

        // Assert
        read.Should().Throw<ObjectDisposedException>();
        readInput.Should().Throw<ObjectDisposedException>("the reader owns its input");
    }

    [Fact]
    public void Constructor_MissingFile_ThrowsFileNotFoundException()
    {
        // Act
        Action act = () => new ExtxyzReader(Path.Combine(_directory, "missing.xyz")).Dispose();

        // Assert
        act.Should().Throw<FileNotFoundException>();
    }

    // ---------------------------------------------------------------- the pieces, against Python

    public static readonly string[] FloatTokens =
    [
        "0", "-0", "-0.0", "1", "+1.5", ".5", "5.", "1.e5", "1e5", "1E-5", "1e+05", "00012.50", "-0.00000000",
        "1_000.5", "1_0e1_0", "0_0.0_1e-0_1", "1__0", "_1", "1_", "1_.5", "1._5", "1e_5",
        "inf", "-inf", "+inf", "INF", "Infinity", "-infinity", "+iNfInItY", "infinit", "nan", "-nan", "+NaN", "NAN", "nan(1)",
        "1e400", "-1e400", "1e-400", "4.9406564584124654e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
        "2.2250738585072011e-308", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "0.1000000000000000055511151231257827021181583404541015625", "0.30000000000000004", "9007199254740993",
        "123456789012345678901234567890", "-1.2345678901234567890123456789e-100",
        "0.0000000000000000000001", "0.00000000000000000000001", "-000000000000000000000000123.25", "999999999999999.9",
        "9999999999999999", "0.3333333333333333", "1.000000000000001", "-.5", "-.", "-5.", "+.",
        "1e23", "1.5e-05", "8.988465674311579e+307", "9007199254740995", "123456789012345678e-5", "0.1e-342",
        "-1.2345678901234567e-300", "1234567890123456789", "12345678901234567890", "7.2057594037927933e16",
        "0x10", "1d0", "1,5", "", ".", "e5", "1e", "1e+", "+", "-", "--1", "+-1", "1e5.5", "1.2.3", "∞", "1\0", "\u00001",
        "٣", "-١.٥e١", "１２.５", "𝟏𝟐", "٣x", "1\u00a0", "\u20001_5", "١_٥", "ⅷ", "²",
    ];

    [Fact]
    public void TryParseFloat_ManyForms_SameDoubleAsPythonFloat()
    {
        // Arrange
        var expected = Ase.Value.Floats;

        // Act and assert
        expected.Should().HaveCount(FloatTokens.Length);
        expected.Should().Contain(b => b == null, "some tokens are refused by Python");
        for (int i = 0; i < FloatTokens.Length; i++)
        {
            bool ok = PythonText.TryParseFloat(FloatTokens[i], out double value);
            long? bits = ok ? BitConverter.DoubleToInt64Bits(value) : null;
            bits.Should().Be(expected[i], "float({0}) in Python", Quote(FloatTokens[i]));
        }
    }

    public static readonly string[] IntTokens =
    [
        "0", "+7", "-0", "007", "0_7", " 8 ", "\t9\n", "1_000", "-9223372036854775808", "9223372036854775807",
        "1__0", "_1", "1_", "8.0", "1e3", "", " ", "+", "-", "+-1", "0x10", "1 2",
        "٣", "-١٢", "１_０", "𝟏", "٣.0", "\u00a07\u3000", "²",
    ];

    [Fact]
    public void TryParseInt_ManyForms_SameIntegerAsPythonInt()
    {
        // Arrange
        var expected = Ase.Value.Ints;

        // Act and assert
        expected.Should().HaveCount(IntTokens.Length);
        for (int i = 0; i < IntTokens.Length; i++)
        {
            bool ok = PythonText.TryParseInt(IntTokens[i], out long value);
            (ok ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : null)
                .Should().Be(expected[i], "int({0}) in Python", Quote(IntTokens[i]));
        }
    }

    [Fact]
    public void TryParseInt64_BeyondLong_RefusedAsNumpysOverflowError()
    {
        // Act and assert: np.array([token], dtype=int) raises OverflowError there, so ASE reads the value as a float.
        PythonText.TryParseInt64("99999999999999999999", out _).Should().BeFalse();
        PythonText.TryParseInt64("9223372036854775808", out _).Should().BeFalse();
        PythonText.TryParseInt64("-9223372036854775809", out _).Should().BeFalse();
        PythonText.TryParseInt64("9223372036854775807", out long max).Should().BeTrue();
        PythonText.TryParseInt64("-9223372036854775808", out long min).Should().BeTrue();
        max.Should().Be(long.MaxValue);
        min.Should().Be(long.MinValue);
    }

    [Fact]
    public void TryParseInt_BeyondLong_Saturates()
    {
        // Act and assert: the atom count check then refuses these as absurd instead of seeing a wrapped value.
        PythonText.TryParseInt("99999999999999999999", out long big).Should().BeTrue();
        PythonText.TryParseInt("-99999999999999999999", out long small).Should().BeTrue();
        big.Should().Be(long.MaxValue);
        small.Should().Be(long.MinValue);
    }

    public static readonly string[] CommentLines =
    [
        "a=\"\" b=1 c = 5 'd e'=[1 2] x\\\"y",
        "Lattice=\"1 0 0 0 1 0 0 0 1\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"",
        "key=value=more k2==v",
        "a={b {c} d} e",
        "unclosed=\"abc def",
        "trailing\\",
        "  spaced   out   =   value  ",
        "tab\tseparated=1\tx=2",
        "a b =c",
        "energy=-1.5 energy=2.5",
        "\\=x=1",
        "[a b]=c {d}={e f}",
        "note=\"escaped \\\" quote\" last",
        "",
        "=5",
        "\"\" = 3",
    ];

    [Fact]
    public void Parse_CommentLines_SamePairsAsAseKeyValStrToDict()
    {
        // Arrange
        var expected = Ase.Value.Comments;
        var parser = new ExtxyzCommentParser();

        // Act and assert
        expected.Should().HaveCount(CommentLines.Length);
        expected.Should().Contain(c => c == null, "some lines make ASE fail");
        for (int i = 0; i < CommentLines.Length; i++)
        {
            var error = parser.Parse(CommentLines[i]);
            if (expected[i] is null)
            {
                error.Should().NotBeNull("ASE fails on {0}", Quote(CommentLines[i]));
                continue;
            }
            error.Should().BeNull("ASE parses {0}", Quote(CommentLines[i]));
            var pairs = new Dictionary<string, string>();
            foreach (var (key, value) in parser.Pairs())
                pairs[key] = value;
            pairs.Should().BeEquivalentTo(expected[i], "ASE splits {0} so", Quote(CommentLines[i]));
        }
    }

    [Fact]
    public void Elements_SymbolTable_MatchesAseChemicalSymbols()
    {
        // Arrange
        var ase = Ase.Value.Symbols;

        // Act and assert
        ase.Should().HaveCount(ChemicalSymbols.MaxAtomicNumber + 1);
        for (int z = 1; z <= ChemicalSymbols.MaxAtomicNumber; z++)
        {
            ChemicalSymbols.Symbol(z).Should().Be(ase[z]);
            ChemicalSymbols.TryGetAtomicNumber(ase[z], out int back).Should().BeTrue();
            back.Should().Be(z);
            ChemicalSymbols.AtomicNumber(ase[z]).Should().Be(z);
        }
        ChemicalSymbols.TryGetAtomicNumber("X", out _).Should().BeFalse("Z = 0 is ASE's dummy, not an element");
        ChemicalSymbols.TryGetAtomicNumber("cu", out _).Should().BeFalse("the table is case-sensitive");
        ChemicalSymbols.TryGetAtomicNumber("CU", out _).Should().BeFalse("the table is case-sensitive");
        ChemicalSymbols.TryGetAtomicNumber("Cuu", out _).Should().BeFalse();
        ChemicalSymbols.TryGetAtomicNumber("", out _).Should().BeFalse();
        ((Action)(() => ChemicalSymbols.Symbol(0))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => ChemicalSymbols.Symbol(119))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => ChemicalSymbols.AtomicNumber("Qq"))).Should().Throw<ArgumentException>();
    }

    // ---------------------------------------------------------------- cases and helpers

    /// <summary>Inputs ASE 3.22.1 reads; the reader must give the same values. Keys name the case.</summary>
    private static readonly Dictionary<string, string> AgreementCases = new()
    {
        ["quoting"] = Lines(
            "2",
            "energy=99 Lattice={4.0 0.1 0 0 4.0 0 0.2 0 5.0} \"energy\" = -1.25 info='a \"quoted\" value' note=\"escaped \\\" quote\" "
                + "Properties=species:S:1:pos:R:3:forces:R:3 stress=[1 2 3 2 5 6 3 6 9] pbc='T F T'",
            "Cu 0 0 0 0.1 0.2 0.3",
            "Au 1.5 1.5 1.5 -0.1 -0.2 -0.3"),
        ["bare_keys"] = Lines("1", "Properties=species:S:1:pos:R:3 is_relaxed energy=0.5 pbc", "H 0.0 0.0 0.7"),
        ["crlf"] = "2\r\nLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-2.5 pbc=\"T T T\"\r\n"
            + "Cu 0 0 0 1 2 3\r\nCu 1.5 1.5 0 -1 -2 -3\r\n1\r\nProperties=species:S:1:pos:R:3 energy=1\r\nAg 0.25 0 0\r\n",
        ["lone_cr"] = "2\rLattice=\"3 0 0 0 3 0 0 0 3\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-2.5 pbc=\"T T T\"\r"
            + "Cu 0 0 0 1 2 3\rCu 1.5 1.5 0 -1 -2 -3\r1\rProperties=species:S:1:pos:R:3 energy=1\rAg 0.25 0 0\r",
        ["no_properties"] = Lines("3", "water molecule, plain xyz", "O 0.0 0.0 0.119", "H 0.0 0.763 -0.477", "H 0.0 -0.763 -0.477"),
        ["empty_comment"] = Lines("1", "", "He 1 2 3"),
        ["z_column"] = Lines("3", "Properties=Z:I:1:pos:R:3:forces:R:3 energy=-7.5",
            "29 0 0 0 0.5 0 0", "79 2 0 0 0 -0.5 0", "1 0 2 0 0 0 0.25"),
        ["species_and_z_agree"] = Lines("2", "Properties=species:S:1:Z:I:1:pos:R:3", "Cu 29 0 0 0", "O 8 1 1 1"),
        ["capitalisation"] = Lines("4", "", "cu 0 0 0", "CU 1 0 0", "h 2 0 0", "aU 3 0 0"),
        ["aliases"] = Lines("2", "Properties=symbols:S:1:positions:R:3", "Pt 0 0 0", "Pd 1 1 1"),
        ["repeated_aliases"] = Lines("1", "Properties=species:S:1:pos:R:3:symbols:S:1:positions:R:3", "H 0 0 0 He 1 2 3"),
        ["asymmetric_stress"] = Lines("1", "Lattice=\"2 0.1 0.2 0.3 3 0.4 0.5 0.6 4\" stress=\"1 2 3 4 5 6 7 8 9\" energy=3", "Cu 0 0 0"),
        ["lattice_commas_ints"] = Lines("1", "Lattice=\"3,0,0,0,4,0,0,0,5\" pbc=\"F,T,F\"", "Ni 1 1 1"),
        ["pbc_without_lattice"] = Lines("1", "pbc=\"T T F\"", "Ni 1 1 1"),
        ["pbc_numeric"] = Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" pbc=\"1 0 2\"", "Ni 1 1 1"),
        ["pbc_single"] = Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" pbc=F", "Ni 1 1 1"),
        ["count_forms"] = Lines(" +2 ", "", "C 0 0 0", "O 0 0 1.128", "0", "nothing here", "\t1\t", "", "N 0 0 0"),
        ["numbers"] = Lines("6", "Properties=species:S:1:pos:R:3",
            "H 1_0.5 +.5 5.", "H -0.0 1E-3 1e+05",
            "H 4.9406564584124654e-324 2.2250738585072011e-308 1.7976931348623157e308",
            "H 0.1000000000000000055511151231257827021181583404541015625 0.30000000000000004 9007199254740993",
            "H inf -Infinity 1e400",
            "H 123456789012345678901234567890 -1.2345678901234567890123456789e-100 1e-400"),
        ["whitespace"] = "2\nProperties=species:S:1:pos:R:3:forces:R:3 energy=1.5\n"
            + "  Cu\t0.5\f0.25\u001f0.125   1 2 3   \nAu\u00a01\u30002 3 4 5 6",
        ["trailing_blank_lines"] = Lines("1", "", "H 0 0 0", "", "   ", "\t"),
        ["mixed_properties"] = Lines(
            "2", "Properties=species:S:1:pos:R:3:forces:R:3 energy=1", "H 0 0 0 1 2 3", "H 0 0 1 4 5 6",
            "1", "Properties=species:S:1:pos:R:3 energy=2", "He 0 0 0",
            "1", "Properties=species:S:1:pos:R:3:charge:R:1:forces:R:3:tags:I:1 energy=3", "Li 0 0 0 0.5 7 8 9 4"),
        ["integer_columns"] = Lines("2", "Properties=species:S:1:pos:I:3:forces:I:3 energy=-3", "Fe 0 0 0 1 -2 3", "Fe 1 1 1 -1 2 -3"),
        ["virial_and_json"] = Lines("1",
            "virial=\"1 2 3 4 5 6 7 8 9\" data=\"_JSON {\\\"a\\\": [1, 2]}\" energy=1.5 free_energy=2.5 uid=abc",
            "Al 0 0 0"),
        ["energy_quoted_spaces"] = Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" energy=\" -3.5 \" stress=\"1,2,3,2,5,6,3,6,9\"", "Al 0 0 0"),
        ["full_precision"] = Lines("1",
            "Lattice=\"5.105310960166873 0.0 0.0 2.5526554800834367 4.421328985723636 0.0 0.0 0.0 16.168468943549097\" "
                + "Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.1136766299202918e-05",
            "Cu 0.123456789012345678 1.0000000000000002 2.9999999999999996 -0.1 1e-17 3.141592653589793"),
    };

    /// <summary>Inputs for which the oracle records ASE's refusal.</summary>
    private static readonly Dictionary<string, string> AseRefusalCases = new()
    {
        ["six_number_stress"] = Lines("1", "Lattice=\"3 0 0 0 3 0 0 0 3\" stress=\"1 2 3 4 5 6\"", "Cu 0 0 0"),
    };

    private static string Lines(params string[] lines) => string.Join("\n", lines) + "\n";

    private static List<SourceFrame> Read(string text)
    {
        using var reader = new ExtxyzReader(new StringReader(text), FileName);
        return reader.ReadFrames().ToList();
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s);

    private static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static void ShouldMatch(SourceFrame ours, AseFrame ase, string context)
    {
        ours.Structure.AtomicNumbers.Should().Equal(ase.Numbers, "{0}: numbers", context);
        Bits(ours.Structure.Positions).Should().Equal(ase.Positions, "{0}: positions", context);
        Bits(ours.Structure.Cell).Should().Equal(ase.Cell, "{0}: cell", context);
        ours.Structure.Pbc.Should().Equal(ase.Pbc, "{0}: pbc", context);
        (ours.Energy is { } e ? BitConverter.DoubleToInt64Bits(e) : (long?)null).Should().Be(ase.Energy, "{0}: energy", context);
        if (ase.Forces is null)
            ours.Forces.Should().BeNull("{0}: ASE has no forces", context);
        else
            Bits(ours.Forces.Should().NotBeNull("{0}: ASE has forces", context).And.Subject.ToArray()).Should().Equal(ase.Forces, "{0}: forces", context);
        // ase_frames.py keeps ASE's stress only for a cell periodic on all three axes, and so does the reader.
        if (ase.Stress is null || ase.Pbc.Contains(false))
            ours.Stress.Should().BeNull("{0}: ASE has no stress, or the cell is not periodic on all axes", context);
        else
            Bits(ours.Stress.Should().NotBeNull("{0}: ASE has stress", context).And.Subject.ToArray()).Should().Equal(ase.Stress, "{0}: stress", context);
    }

    /// <summary>One frame as ASE read it; floats as their 64 bits.</summary>
    private sealed record AseFrame(int[] Numbers, long[] Positions, long[] Cell, bool[] Pbc, long? Energy, long[]? Forces, long[]? Stress);

    /// <summary>Everything the tests ask ASE and Python, answered by one run of ase_read_extxyz.py.</summary>
    private sealed class AseOracle
    {
        private readonly Dictionary<string, JsonElement> _reads;

        private AseOracle(JsonElement answer, Dictionary<string, string> pathsByCase, string generatedText)
        {
            GeneratedText = generatedText;
            var reads = answer.GetProperty("read");
            _reads = pathsByCase.ToDictionary(kv => kv.Key, kv => reads.GetProperty(kv.Value).Clone());
            Floats = answer.GetProperty("floats").EnumerateArray()
                .Select(x => x.ValueKind == JsonValueKind.Null ? (long?)null : x.GetInt64()).ToList();
            Ints = answer.GetProperty("ints").EnumerateArray().Select(x => x.GetString()).ToList();
            Comments = answer.GetProperty("comments").EnumerateArray()
                .Select(x => x.TryGetProperty("pairs", out var pairs)
                    ? pairs.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                    : null)
                .ToList();
            Symbols = answer.GetProperty("symbols").EnumerateArray().Select(x => x.GetString()!).ToList();
        }

        /// <summary>The extxyz text ASE's writer produced.</summary>
        public string GeneratedText { get; }

        /// <summary>Bits of Python's float() of each of <see cref="FloatTokens"/>, or null where it raised.</summary>
        public List<long?> Floats { get; }

        /// <summary>Python's int() of each of <see cref="IntTokens"/> as text, or null where it raised.</summary>
        public List<string?> Ints { get; }

        /// <summary>The raw pairs of each of <see cref="CommentLines"/>, or null where ASE raised.</summary>
        public List<Dictionary<string, string>?> Comments { get; }

        /// <summary>ase.data.chemical_symbols.</summary>
        public List<string> Symbols { get; }

        public List<AseFrame> Frames(string caseName)
        {
            var read = _reads[caseName];
            if (read.TryGetProperty("error", out var error))
                throw new InvalidOperationException($"ASE could not read case {caseName}: {error.GetString()}");
            return read.GetProperty("frames").EnumerateArray().Select(f => new AseFrame(
                f.GetProperty("numbers").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                Longs(f.GetProperty("positions"))!,
                Longs(f.GetProperty("cell"))!,
                f.GetProperty("pbc").EnumerateArray().Select(x => x.GetBoolean()).ToArray(),
                f.GetProperty("energy").ValueKind == JsonValueKind.Null ? null : f.GetProperty("energy").GetInt64(),
                Longs(f.GetProperty("forces")),
                Longs(f.GetProperty("stress")))).ToList();
        }

        public string Error(string caseName) =>
            _reads[caseName].TryGetProperty("error", out var error)
                ? error.GetString()!
                : throw new InvalidOperationException($"ASE read case {caseName}, expected it to fail");

        private static long[]? Longs(JsonElement e) =>
            e.ValueKind == JsonValueKind.Null ? null : e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

        public static AseOracle Run()
        {
            var directory = Directory.CreateTempSubdirectory("extxyz-ase-oracle-").FullName;
            try
            {
                var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
                var paths = new Dictionary<string, string>();
                foreach (var (name, text) in AgreementCases.Concat(AseRefusalCases))
                {
                    paths[name] = Path.Combine(directory, name + ".xyz");
                    File.WriteAllText(paths[name], text, utf8);
                }
                paths["generated"] = Path.Combine(directory, "generated.xyz");
                var request = new
                {
                    generate = paths["generated"],
                    read = paths.Values.ToArray(),
                    floats = FloatTokens,
                    ints = IntTokens,
                    comments = CommentLines,
                    symbols = true,
                };
                var requestPath = Path.Combine(directory, "request.json");
                File.WriteAllText(requestPath, JsonSerializer.Serialize(request), utf8);

                var answer = RunPython(requestPath);
                return new AseOracle(answer, paths, File.ReadAllText(paths["generated"]));
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        private static JsonElement RunPython(string requestPath) =>
            JsonDocument.Parse(PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "ase_read_extxyz.py"), requestPath)).RootElement.Clone();
    }

    /// <summary>A reader that hands out at most maxChunk characters per call, as a pipe might, and counts them.</summary>
    private sealed class ChunkedReader(string text, int maxChunk) : TextReader
    {
        private int _position;

        public long CharsRead => _position;

        public override int Peek() => _position < text.Length ? text[_position] : -1;

        public override int Read() => _position < text.Length ? text[_position++] : -1;

        public override int Read(Span<char> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, maxChunk), text.Length - _position);
            text.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));
    }
}
