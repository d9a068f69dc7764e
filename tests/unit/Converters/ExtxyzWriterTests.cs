using System.Globalization;
using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// ExtxyzWriter: the exact text it writes, and that ASE 3.22.1 and our ExtxyzReader read it back bit for bit.
/// The reference file is read in-process, so the class shares the native-state collection.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ExtxyzWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "the reference reader must be disposed");
        _dir.Dispose();
    }

    private static string Write(string? keyPrefix, params LabelledStructure[] items)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = new ExtxyzWriter(text, keyPrefix))
            foreach (var item in items)
                writer.Write(item);
        return text.ToString();
    }

    private static LabelledStructure Water() => new(
        new Structure([8, 1, 1], [0, 0, 0.1, 0.75, 0, -0.5, -0.75, 0, -0.5], new double[9], [false, false, false]),
        new Labels(-14.25, [0, 0, 0.5, 0.125, 0, -0.25, -0.125, 0, -0.25]));

    private static LabelledStructure Copper() => new(
        new Structure([29, 29], [0, 0, 0, 1.8, 1.8, 1.8], [3.6, 0, 0, 0.1, 3.6, 0, 0, 0, 3.6], [true, true, true]),
        new Labels(-7.5, [0.5, -0.5, 0, -0.5, 0.5, 0], [1, 2, 3, 4, 5, 6]));

    // ---------------------------------------------------------------- text

    [Fact]
    public void Write_Molecule_NoLatticeAndPbcFalse()
    {
        // Act
        string text = Write(null, Water());

        // Assert
        text.Should().Be(
            "3\n" +
            "Properties=species:S:1:pos:R:3:forces:R:3 energy=-14.25 pbc=\"F F F\"\n" +
            "O 0.0 0.0 0.1 0.0 0.0 0.5\n" +
            "H 0.75 0.0 -0.5 0.125 0.0 -0.25\n" +
            "H -0.75 0.0 -0.5 -0.125 0.0 -0.25\n");
    }

    [Fact]
    public void Write_BulkWithStress_LatticeRowsAndSymmetricNineNumberStress()
    {
        // Act
        string text = Write(null, Copper());

        // Assert: Voigt xx yy zz yz xz xy = 1..6 is the tensor [[1 6 5] [6 2 4] [5 4 3]].
        text.Split('\n')[1].Should().Be(
            "Lattice=\"3.6 0.0 0.0 0.1 3.6 0.0 0.0 0.0 3.6\" Properties=species:S:1:pos:R:3:forces:R:3 energy=-7.5 " +
            "stress=\"1.0 6.0 5.0 6.0 2.0 4.0 5.0 4.0 3.0\" pbc=\"T T T\"");
    }

    [Fact]
    public void Write_KeyPrefix_PrefixedKeysAndColumnWithVoigtStress()
    {
        // Act
        string text = Write("REF_", Copper());

        // Assert
        text.Split('\n')[1].Should().Be(
            "Lattice=\"3.6 0.0 0.0 0.1 3.6 0.0 0.0 0.0 3.6\" Properties=species:S:1:pos:R:3:REF_forces:R:3 REF_energy=-7.5 " +
            "REF_stress=\"1.0 2.0 3.0 4.0 5.0 6.0\" pbc=\"T T T\"");
    }

    [Fact]
    public void Write_NineNumberStress_WritesTheVoigtHDF5DatasetWriterStores()
    {
        // Arrange: an asymmetric tensor, whose off-diagonal pairs the dataset writer averages.
        var copper = Copper();
        var item = copper with { Labels = copper.Labels with { Stress = [1, 2, 3, 4, 5, 6, 7, 8, 9] } };

        // Act
        string text = Write("P", item);

        // Assert: yz = (6 + 8) / 2, xz = (3 + 7) / 2, xy = (2 + 4) / 2.
        text.Should().Contain("Pstress=\"1.0 5.0 9.0 7.0 5.0 3.0\"");
    }

    public static TheoryData<double, string> FormatCases => new()
    {
        { 0.0, "0.0" },
        { -0.0, "-0.0" },
        { -5, "-5.0" },
        { 0.1, "0.1" },
        { 1e20, "1E+20" },
        { 1e-5, "1E-05" },
        { double.Epsilon, "5E-324" },
        { double.MaxValue, "1.7976931348623157E+308" },
        { 0.1f, "0.10000000149011612" },
        { double.PositiveInfinity, "inf" },
        { double.NegativeInfinity, "-inf" },
        { BitConverter.Int64BitsToDouble(0x7FF8000000000000), "nan" },
    };

    [Theory]
    [MemberData(nameof(FormatCases))]
    public void Format_Value_ShortestRoundTripTextThatPythonReadsAsFloat(double value, string expected)
    {
        // Act
        string text = ExtxyzWriter.Format(value, stackalloc char[32]).ToString();

        // Assert
        text.Should().Be(expected);
    }

    [Fact]
    public void Format_RandomBitPatterns_FloatParsesBackToTheSameBits()
    {
        // Arrange: every exponent, including subnormals, and float32 values widened as stored forces are.
        var random = new Random(7);
        Span<char> buffer = stackalloc char[32];
        for (int i = 0; i < 200_000; i++)
        {
            double value = i % 2 == 0
                ? BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue))
                : BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue));
            if (!double.IsFinite(value)) continue;

            // Act: PythonText.TryParseFloat is float() to the bit (ExtxyzReaderTests checks it against CPython).
            var text = ExtxyzWriter.Format(value, buffer);
            bool parsed = PythonText.TryParseFloat(text, out double back);

            // Assert
            if (!parsed || BitConverter.DoubleToInt64Bits(back) != BitConverter.DoubleToInt64Bits(value))
                Assert.Fail($"{value:R} was written as \"{text}\" and read back as {back:R}");
        }
    }

    // ---------------------------------------------------------------- read back

    // Reads an extxyz file with ASE 3.22 and prints, per frame, every number as its float64 bits.
    private const string AseBits = """
        import json, sys
        import numpy as np
        import ase.io

        def bits(x):
            return np.asarray(x, dtype=np.float64).reshape(-1).view(np.int64).tolist()

        prefix = sys.argv[2]
        frames = []
        for atoms in ase.io.read(sys.argv[1], index=":", format="extxyz"):
            if prefix:
                energy = atoms.info[prefix + "energy"]
                forces = atoms.arrays[prefix + "forces"]
                stress = atoms.info.get(prefix + "stress")
            else:
                energy = atoms.get_potential_energy()
                forces = atoms.get_forces()
                stress = atoms.get_stress() if "stress" in atoms.calc.results else None
            frames.append({
                "numbers": atoms.numbers.tolist(),
                "positions": bits(atoms.positions),
                "cell": bits(atoms.cell.array),
                "pbc": atoms.pbc.tolist(),
                "energy": bits(energy),
                "energy_dtype": str(np.asarray(energy).dtype),
                "forces": bits(forces),
                "forces_shape": list(np.shape(forces)),
                "stress": None if stress is None else bits(stress),
                "stress_shape": None if stress is None else list(np.shape(stress)),
            })
        print(json.dumps(frames))
        """;

    private static LabelledStructure[] EdgeCases()
    {
        float f32 = 0.1f;
        return
        [
            // A sheared bulk cell, signed zeros, a subnormal, huge and integral values, float32 forces.
            new(new Structure([29, 79], [-0.0, 1e-310, 1e300, 1, 2, 3], [3.6, 0.2, -0.1, 0.3, 3.7, 0, -0.0, 0.5, 4.1], [true, true, true]),
                new Labels(-5, [f32, -f32, 1e-7f, 3.4028235e38f, -1.17549435e-38f, 0], [1e-3, -2.5e-3, 0, -0.0, 1e-12, 7])),
            // A slab without stress.
            new(new Structure([1, 6], [0, 0, 0, 0.5, 0.5, 1.1], [2.5, 0, 0, 1.25, 2.165, 0, 0, 0, 20], [true, true, false]),
                new Labels(0.1 + 0.2, [0.3, 0.2, 0.1, -0.3, -0.2, -0.1])),
            // A zero cell that is periodic along one axis: ASE keeps the zeros and the pbc.
            new(new Structure([8], [1.5, 2.5, 3.5], new double[9], [false, true, false]), new Labels(-0.0, [0, 0, 0])),
            // A single-atom molecule.
            new(new Structure([118], [0.1, 0.2, 0.3], new double[9], [false, false, false]), new Labels(1e-300, [1, -1, 0.5])),
        ];
    }

    [Theory]
    [InlineData("")]
    [InlineData("REF_")]
    public void Write_EdgeValues_AseReadsTheSameBits(string keyPrefix)
    {
        // Arrange
        var items = EdgeCases();
        string path = _dir.File("edge.extxyz");
        File.WriteAllText(path, Write(keyPrefix, items));

        // Act
        using var json = JsonDocument.Parse(PythonScript.Run(AseBits, path, keyPrefix));

        // Assert
        var frames = json.RootElement.EnumerateArray().ToList();
        frames.Should().HaveCount(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            var (s, l) = (items[i].Structure, items[i].Labels);
            var frame = frames[i];
            Ints(frame, "numbers").Should().Equal(s.AtomicNumbers.Select(z => (long)z), "frame {0} numbers", i);
            Ints(frame, "positions").Should().Equal(Bits(s.Positions), "frame {0} positions", i);
            Ints(frame, "cell").Should().Equal(Bits(s.Cell), "frame {0} cell", i);
            frame.GetProperty("pbc").EnumerateArray().Select(b => b.GetBoolean()).Should().Equal(s.Pbc, "frame {0} pbc", i);
            Ints(frame, "energy").Should().Equal(Bits([l.Energy]), "frame {0} energy", i);
            frame.GetProperty("energy_dtype").GetString().Should().Be("float64", "an integral energy must not come back as an int");
            Ints(frame, "forces").Should().Equal(Bits(l.Forces), "frame {0} forces", i);
            Ints(frame, "forces_shape").Should().Equal(s.NumAtoms, 3);
            if (l.Stress is null)
            {
                frame.GetProperty("stress").ValueKind.Should().Be(JsonValueKind.Null, "frame {0} has no stress", i);
            }
            else
            {
                Ints(frame, "stress").Should().Equal(Bits(l.Stress), "frame {0} stress", i);
                Ints(frame, "stress_shape").Should().Equal(6);
            }
        }
    }

    [Fact]
    public void Write_Reference930_ExtxyzReaderReadsIdenticalStructuresAndLabels()
    {
        // Arrange
        using var reference = new HDF5DatasetReader(RepoPaths.Of("data", "samples", "reference_930.h5"));
        var items = reference.ToList();

        // Act
        string text = Write(null, [.. items]);
        List<SourceFrame> frames;
        using (var reader = new ExtxyzReader(new StringReader(text), "exported.extxyz"))
            frames = reader.ReadFrames().ToList();

        // Assert
        frames.Should().HaveCount(930);
        items.Count(x => x.Labels.Stress is not null).Should().BePositive("the reference has bulk structures with stress");
        items.Count(x => x.Labels.Stress is null).Should().BePositive("and slabs and molecules without");
        for (int i = 0; i < frames.Count; i++)
        {
            var (s, l) = (items[i].Structure, items[i].Labels);
            var frame = frames[i];
            frame.Structure.AtomicNumbers.Should().Equal(s.AtomicNumbers, "structure {0}", i);
            Bits(frame.Structure.Positions).Should().Equal(Bits(s.Positions), "structure {0} positions", i);
            Bits(frame.Structure.Cell).Should().Equal(Bits(s.Cell), "structure {0} cell", i);
            frame.Structure.Pbc.Should().Equal(s.Pbc, "structure {0} pbc", i);
            Bits([frame.Energy!.Value]).Should().Equal(Bits([l.Energy]), "structure {0} energy", i);
            Bits(frame.Forces!).Should().Equal(Bits(l.Forces), "structure {0} forces", i);
            if (l.Stress is null)
                frame.Stress.Should().BeNull("structure {0} has no stress", i);
            else
                Bits(frame.Stress!).Should().Equal(Bits(l.Stress), "structure {0} stress", i);
        }
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void Write_AtomicNumberOutOfRange_ThrowsValidationExceptionAndWritesNothing()
    {
        // Arrange
        var text = new StringWriter();
        using var writer = new ExtxyzWriter(text);
        writer.Write(Water());
        string before = text.ToString();
        var water = Water();
        var bad = water with { Structure = water.Structure with { AtomicNumbers = [8, 1, 119] } };

        // Act
        var act = () => writer.Write(bad);

        // Assert
        act.Should().Throw<ValidationException>().Where(e => e.StructureIndex == 1 && e.Field == "atomic_numbers" && e.Reason.Contains("119"));
        text.ToString().Should().Be(before);
        writer.Count.Should().Be(1);
    }

    [Fact]
    public void Write_ForcesOfWrongLength_ThrowsValidationException()
    {
        // Arrange
        using var writer = new ExtxyzWriter(new StringWriter());
        var water = Water();
        var bad = water with { Labels = water.Labels with { Forces = [1, 2, 3] } };

        // Act
        var act = () => writer.Write(bad);

        // Assert
        act.Should().Throw<ValidationException>().Where(e => e.Field == "forces");
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("REF=")]
    [InlineData("a:b")]
    [InlineData("\"q")]
    [InlineData("é")]
    public void Constructor_KeyPrefixThatAseWouldSplit_ThrowsArgumentException(string keyPrefix)
    {
        // Act
        var act = () => new ExtxyzWriter(new StringWriter(), keyPrefix);

        // Assert
        act.Should().Throw<ArgumentException>().WithMessage("*key prefix*");
    }

    [Fact]
    public void Dispose_ClosesTheTextWriter()
    {
        // Arrange
        var stream = new MemoryStream();
        var writer = new ExtxyzWriter(new StreamWriter(stream));
        writer.Write(Water());

        // Act
        writer.Dispose();

        // Assert
        stream.CanWrite.Should().BeFalse();
        writer.Count.Should().Be(1);
        writer.NumAtoms.Should().Be(3);
        writer.Invoking(w => w.Write(Water())).Should().Throw<ObjectDisposedException>();
    }

    private static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static long[] Ints(JsonElement frame, string name) => frame.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()).ToArray();
}
