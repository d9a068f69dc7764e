using System.Text.Json;
using MlffData.Converters;
using MlffData.Converters.Pickle;
using MlffData.Format;
using MlffData.UnitTests.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// The native ASE-pickle reader against the Python path it replaces (safe_pickle.py through the embedded CPython,
/// Debian's numpy 1.24 and ASE 3.22): for every pickle asepickle_cases.py writes (every protocol, one Atoms, a tuple,
/// no calculator, 3 x 3 stress, extras, FixAtoms, custom keys, virials, non-periodic cells, big-endian, Fortran-order,
/// float32 and int32 arrays) and for every refusal and label error, the same frames bit for bit, and the same
/// error (message, structure, field) after the same frames. The native reader must handle each case itself.
/// </summary>
[Collection(PythonCollection.Name)]
public sealed class AsePickleReaderTests(PythonFixture python, AsePickleReaderTests.Cases cases) : IClassFixture<AsePickleReaderTests.Cases>
{
    /// <summary>The pickles, written once by asepickle_cases.py.</summary>
    public sealed class Cases : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public Cases()
        {
            string output = PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "asepickle_cases.py"), _dir.Path);
            using var doc = JsonDocument.Parse(output);
            All = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (
                p.Value.GetProperty("file").GetString()!,
                Keys(p.Value.GetProperty("keys"))));
        }

        public IReadOnlyDictionary<string, (string File, SourceKeys Keys)> All { get; }

        public void Dispose() => _dir.Dispose();

        private static SourceKeys Keys(JsonElement keys)
        {
            string? Text(string name) => keys.TryGetProperty(name, out var v) ? v.GetString() : null;
            string[] List(string name) => keys.TryGetProperty(name, out var v) ? v.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];
            return new SourceKeys
            {
                EnergyKey = Text("energy_key"), ForcesKey = Text("forces_key"), StressKey = Text("stress_key"),
                VirialsKey = Text("virials_key"), KeepInfo = List("keep_info"), KeepArrays = List("keep_arrays"),
            };
        }
    }

    public static TheoryData<string> Benign => new(
        "protocol_0", "protocol_1", "protocol_2", "protocol_3", "protocol_4", "protocol_5",
        "extras_protocol_0", "extras_protocol_1", "extras_protocol_2", "extras_protocol_3", "extras_protocol_4", "extras_protocol_5",
        "single_atoms", "tuple", "empty_list", "no_calculator", "stress_3x3",
        "custom_keys_stress", "custom_keys_virials", "custom_keys_protocol_0", "results_key_as_energy",
        "non_periodic", "non_periodic_virials", "odd_arrays_protocol_2", "odd_arrays_protocol_4", "odd_arrays_protocol_5",
        "err_emt_calculator");

    public static TheoryData<string> Errors => new(
        "err_os_system_protocol_0", "err_os_system_protocol_2", "err_os_system_protocol_4", "err_os_system_protocol_5",
        "err_eval", "err_getattr_chain", "err_zlib_codec", "err_memo_bomb", "err_bytearray8_657GB", "err_persistent_id",
        "err_get_undefined", "err_ext", "err_truncated", "err_truncated_half", "err_not_a_pickle", "err_text_pickle",
        "err_unknown_opcode_high", "err_forbidden_then_truncated", "err_something_else", "err_list_with_other", "err_emt",
        "err_object_array_positions", "err_other_constraint", "err_float_numbers", "err_positions_shape", "err_text_energy",
        "err_forces_shape", "err_fixatoms_range", "err_missing_energy_key", "err_stress_key_nowhere", "err_keep_array_nowhere",
        "err_config_weight_text", "err_charge_array", "err_text_array_extra", "err_short_array_extra", "err_stress_key_shape",
        "err_empty_extra");

    [Theory]
    [MemberData(nameof(Benign))]
    public void Read_BenignPickle_SameFramesAsPythonBitForBit(string name)
    {
        var (file, keys) = cases.All[name];

        var ((native, nativeError), (reference, referenceError)) = ReadBoth(file, keys);

        referenceError.Should().BeNull();
        nativeError.Should().BeNull();
        ShouldBeSame(native, reference);
    }

    [Fact]
    public void Read_ReferencePickle_SameFramesAsPythonBitForBit()
    {
        var ((native, nativeError), (reference, referenceError)) = ReadBoth(RepoPaths.Of("data", "samples", "reference_930.pkl"), null);

        nativeError.Should().BeNull();
        referenceError.Should().BeNull();
        native.Should().HaveCount(930);
        ShouldBeSame(native, reference);
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void Read_RefusedOrMalformedPickle_SameErrorAfterSameFramesAsPython(string name)
    {
        var (file, keys) = cases.All[name];

        var ((native, nativeError), (reference, referenceError)) = ReadBoth(file, keys);

        referenceError.Should().NotBeNull();
        nativeError.Should().NotBeNull();
        nativeError!.Message.Should().Be(referenceError!.Message);
        nativeError.StructureIndex.Should().Be(referenceError.StructureIndex);
        nativeError.Field.Should().Be(referenceError.Field);
        nativeError.Detail.Should().Be(referenceError.Detail);
        ShouldBeSame(native, reference);
    }

    [Fact]
    public void ReadPickle_UnsafePickle_RefusedNativelyWithTheHint()
    {
        var (file, _) = cases.All["err_os_system_protocol_4"];

        var act = () => AseReader.ReadPickle(file).ToList();

        act.Should().Throw<ConversionException>().Which.Message.Should().Be(
            $"{file}: global 'posix.system' is forbidden in an ASE pickle (refused before it ran; pass --allow-unsafe-pickle only for a file you trust)");
    }

    [Fact]
    public void ReadPickle_StructureTheNativeReaderDoesNotModelAfterOthers_PythonGoesOnFromIt()
    {
        // Arrange: the native reader gives structures 0 and 1, then meets what it leaves to Python in structure 2.
        var (file, keys) = cases.All["fallback_late_virials"];

        // Act
        var nativeOnly = () => AsePickleReader.Read(file, keys).ToList();
        var (frames, error) = Collect(() => AseReader.ReadPickle(file, keys, false, python.Interpreter.Executable));
        var (reference, referenceError) = Collect(() => AseReader.ReadPickleWithPython(file, keys, false, python.Interpreter.Executable));

        // Assert: the same three structures, or the same error after the same ones, as Python alone gives.
        nativeOnly.Should().Throw<PickleNotSupportedException>();
        frames.Count.Should().Be(reference.Count);
        frames.Count.Should().BeGreaterThanOrEqualTo(2);
        (error?.Message).Should().Be(referenceError?.Message);
        ShouldBeSame(frames, reference);
    }

    [Fact]
    public void ReadPickle_PickleTheNativeReaderDoesNotModel_ReadWholeThroughPython()
    {
        var (file, keys) = cases.All["fallback_big_int"];

        var nativeOnly = () => AsePickleReader.Read(file, keys).ToList();
        var (frames, error) = Collect(() => AseReader.ReadPickle(file, keys, false, python.Interpreter.Executable));
        var (reference, referenceError) = Collect(() => AseReader.ReadPickleWithPython(file, keys, false, python.Interpreter.Executable));

        nativeOnly.Should().Throw<PickleNotSupportedException>();
        error.Should().BeNull();
        referenceError.Should().BeNull();
        frames.Should().HaveCount(2);
        ShouldBeSame(frames, reference);
    }

    [Theory]
    [InlineData("labels_dict")]
    [InlineData("labels_dict_protocol_0")]
    [InlineData("labels_tuple")]
    [InlineData("labels_list_no_stress")]
    [InlineData("labels_array_rows")]
    [InlineData("labels_err_missing")]
    [InlineData("labels_err_type")]
    [InlineData("labels_err_forces")]
    [InlineData("labels_err_energy")]
    [InlineData("labels_err_per_structure")]
    [InlineData("labels_err_stress_shape")]
    public void ReadLabels_LabelsPickle_SameLabelsOrErrorAsPython(string name)
    {
        var (file, _) = cases.All[name];

        var native = Labels(() => LabelsPickle.Read(file));
        var reference = Labels(() => LabelsPickle.ReadWithPython(file, false, python.Interpreter.Executable));

        Action nativeOnly = () =>
        {
            try
            {
                AsePickleReader.ReadLabels(file);
            }
            catch (ConversionException)
            {
                // An error of the file's, as Python gives it.
            }
        };

        native.Error.Should().Be(reference.Error);
        native.Frames.Should().HaveCount(reference.Frames.Count);
        ShouldBeSame(native.Frames, reference.Frames);
        nativeOnly.Should().NotThrow("the native reader handles the file itself");
    }

    // The labels applied to periodic structures of the atom counts they give, or the error's message.
    private static (List<SourceFrame> Frames, string? Error) Labels(Func<LabelsPickle> read)
    {
        LabelsPickle labels;
        try
        {
            labels = read();
        }
        catch (ConversionException e)
        {
            return ([], e.Message);
        }
        var forcesField = typeof(LabelsPickle).GetField("_forces", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var forces = (double[][])forcesField.GetValue(labels)!;
        var frames = forces.Select((f, i) => new SourceFrame(i, 0,
            new Structure(new int[f.Length / 3], new double[f.Length], new double[9], [true, true, true]), null, null, null));
        return (labels.Apply(frames, "structures").ToList(), null);
    }

    // The native reader (which must handle the file itself) and the Python path (safe_pickle.py), each to its end.
    private ((List<SourceFrame>, ConversionException?) Native, (List<SourceFrame>, ConversionException?) Python) ReadBoth(string file, SourceKeys? keys) =>
        (Collect(() => AsePickleReader.Read(file, keys)), Collect(() => AseReader.ReadPickleWithPython(file, keys, false, python.Interpreter.Executable)));

    private static (List<SourceFrame> Frames, ConversionException? Error) Collect(Func<IEnumerable<SourceFrame>> read)
    {
        var frames = new List<SourceFrame>();
        try
        {
            foreach (var frame in read()) frames.Add(frame);
            return (frames, null);
        }
        catch (ConversionException e)
        {
            return (frames, e);
        }
    }

    private static void ShouldBeSame(List<SourceFrame> native, List<SourceFrame> reference)
    {
        native.Should().HaveCount(reference.Count);
        for (int i = 0; i < native.Count; i++)
        {
            var a = native[i];
            var b = reference[i];
            string at = $"structure {i}";
            a.Index.Should().Be(b.Index, at);
            a.Line.Should().Be(b.Line, at);
            a.Structure.AtomicNumbers.Should().Equal(b.Structure.AtomicNumbers, at);
            Bits(a.Structure.Positions).Should().Equal(Bits(b.Structure.Positions), at);
            Bits(a.Structure.Cell).Should().Equal(Bits(b.Structure.Cell), at);
            a.Structure.Pbc.Should().Equal(b.Structure.Pbc, at);
            Bits(a.Energy is { } e ? [e] : null).Should().Equal(Bits(b.Energy is { } f ? [f] : null), at);
            Bits(a.Forces).Should().Equal(Bits(b.Forces), at);
            Bits(a.Stress).Should().Equal(Bits(b.Stress), at);
            (a.Extras is null).Should().Be(b.Extras is null, at);
            if (a.Extras is null) continue;
            ShouldBeSame(a.Extras.Info, b.Extras!.Info, at + " info");
            ShouldBeSame(a.Extras.Arrays, b.Extras.Arrays, at + " arrays");
        }
    }

    private static void ShouldBeSame(IReadOnlyDictionary<string, ExtraValue> a, IReadOnlyDictionary<string, ExtraValue> b, string at)
    {
        a.Keys.Should().Equal(b.Keys, at);
        foreach (var (name, value) in a)
        {
            var other = b[name];
            value.Kind.Should().Be(other.Kind, $"{at} {name}");
            value.RowShape.Should().Equal(other.RowShape, $"{at} {name}");
            Bits(value.Floats).Should().Equal(Bits(other.Floats), $"{at} {name}");
            (value.Integers ?? []).Should().Equal(other.Integers ?? [], $"{at} {name}");
            (value.Bools ?? []).Should().Equal(other.Bools ?? [], $"{at} {name}");
            (value.Strings ?? []).Should().Equal(other.Strings ?? [], $"{at} {name}");
        }
    }

    private static long[] Bits(double[]? values) => values is null ? [long.MinValue] : values.Select(BitConverter.DoubleToInt64Bits).ToArray();
}
