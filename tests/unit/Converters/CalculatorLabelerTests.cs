using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.Python;
using MlffData.UnitTests.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// The teacher labeler (CalculatorLabeler with src/MlffData/PythonScripts/teacher.py) with Debian's real ASE EMT:
/// its labels equal what EMT gives computed directly in a separate /usr/bin/python3; batches equal single calls; a
/// callable loaded from a file takes its JSON arguments; a structure that fails gets its own error; presets that are
/// not installed, unknown presets and CUDA on this CPU-only machine give the messages users see.
/// </summary>
[Collection(PythonCollection.Name)]
public sealed class CalculatorLabelerTests : IDisposable
{
    private static readonly string Cases = RepoPaths.Of("tests", "unit", "Converters", "calculator_labeler_cases.py");
    private readonly TempDirectory _dir = new();

    public CalculatorLabelerTests(PythonFixture python) => _ = python;

    public void Dispose() => _dir.Dispose();

    // Periodic bulk (stress), a molecule (no cell), a slab periodic on two axes (no stress) and a skewed periodic cell.
    internal static Structure[] Structures() =>
    [
        Samples.Bulk(2, seed: 1),
        Samples.Molecule(3, seed: 2),
        Samples.Bulk(3, seed: 3),
        Slab(),
        Skewed(),
    ];

    private static Structure Slab()
    {
        var bulk = Samples.Bulk(2, seed: 4);
        var cell = (double[])bulk.Cell.Clone();
        cell[8] = 15.0;
        return bulk with { Cell = cell, Pbc = [true, true, false] };
    }

    private static Structure Skewed() =>
        new([29, 29, 13], [0.1, 0.0, 0.2, 1.9, 1.7, 0.1, 3.6, 0.4, 1.8], [3.8, 0, 0, 1.2, 3.5, 0, 0.4, 0.7, 3.9], [true, true, true]);

    /// <summary>EMT labels computed by ASE in /usr/bin/python3, not in this process.</summary>
    internal static Labels[] Reference(TempDirectory dir, IReadOnlyList<Structure> structures, bool torchPair = false)
    {
        string input = dir.File($"structures-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, JsonSerializer.Serialize(new
        {
            structures = structures.Select(s => new { numbers = s.AtomicNumbers, positions = s.Positions, cell = s.Cell, pbc = s.Pbc }),
        }));
        string[] args = torchPair ? ["reference", input, "--torch-pair"] : ["reference", input];
        var labels = JsonDocument.Parse(PythonScript.RunFile(Cases, args)).RootElement.GetProperty("labels");
        return labels.EnumerateArray().Select(l => new Labels(
            l.GetProperty("energy").GetDouble(),
            l.GetProperty("forces").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            l.GetProperty("stress").ValueKind == JsonValueKind.Null ? null : l.GetProperty("stress").EnumerateArray().Select(e => e.GetDouble()).ToArray())).ToArray();
    }

    internal static void ShouldMatch(Labels actual, Labels expected, double energyTolerance, double forceTolerance)
    {
        actual.Energy.Should().BeApproximately(expected.Energy, energyTolerance);
        actual.Forces.Should().HaveSameCount(expected.Forces);
        for (int i = 0; i < expected.Forces.Length; i++)
            actual.Forces[i].Should().BeApproximately(expected.Forces[i], forceTolerance, $"force component {i}");
        if (expected.Stress is null)
        {
            actual.Stress.Should().BeNull();
            return;
        }
        actual.Stress.Should().HaveCount(6);
        for (int i = 0; i < 6; i++)
            actual.Stress![i].Should().BeApproximately(expected.Stress[i], forceTolerance, $"stress component {i}");
    }

    [Fact]
    public void LabelBatch_Emt_EqualsAseEmtComputedDirectly()
    {
        var structures = Structures();
        var expected = Reference(_dir, structures);
        using var labeler = CalculatorLabeler.Create("emt", python: PythonScript.Interpreter);

        var results = labeler.LabelBatch(structures);

        results.Should().HaveCount(structures.Length).And.OnlyContain(r => r.Succeeded);
        for (int i = 0; i < structures.Length; i++)
            ShouldMatch(results[i].Labels!, expected[i], 1e-9, 1e-12);
        results[0].Labels!.Stress.Should().NotBeNull("bulk is periodic on all three axes");
        results[1].Labels!.Stress.Should().BeNull("a molecule has no stress");
        results[3].Labels!.Stress.Should().BeNull("a slab is not periodic along z");
        results[4].Labels!.Stress.Should().NotBeNull();
    }

    [Fact]
    public void Label_EachStructure_EqualsItsLabelBatchResult()
    {
        var structures = Structures();
        using var labeler = CalculatorLabeler.Create("emt", python: PythonScript.Interpreter);

        var batch = labeler.LabelBatch(structures);
        var single = structures.Select(labeler.Label).ToArray();

        for (int i = 0; i < structures.Length; i++)
        {
            single[i].Energy.Should().Be(batch[i].Labels!.Energy);
            single[i].Forces.Should().Equal(batch[i].Labels!.Forces);
            if (batch[i].Labels!.Stress is { } stress) single[i].Stress.Should().Equal(stress);
            else single[i].Stress.Should().BeNull();
        }
    }

    [Fact]
    public void Create_Emt_RecordsSpecDeviceAndVersions()
    {
        var warnings = new List<string>();

        using var labeler = CalculatorLabeler.Create("emt", "{}", "cpu", warning: warnings.Add);

        labeler.Spec.Should().Be("emt");
        labeler.ArgumentsJson.Should().Be("{}");
        labeler.RequestedDevice.Should().Be("cpu");
        labeler.Device.Should().Be("cpu");
        labeler.UsesBatchedApi.Should().BeFalse();
        labeler.Versions["ase"].Should().Be(PythonInterpreter.Current!.AseVersion);
        labeler.Versions["python"].Should().Be(PythonInterpreter.Current!.Version.ToString());
        labeler.Versions.Should().ContainKeys("numpy", "torch");
        warnings.Should().BeEmpty();
    }

    [Fact]
    public void LabelAll_BatchesOfTwo_YieldsEveryItemInOrderWithItsLabels()
    {
        var structures = Structures();
        using var labeler = CalculatorLabeler.Create("emt");
        var expected = labeler.LabelBatch(structures);

        var streamed = labeler.LabelAll(Enumerable.Range(0, structures.Length), i => structures[i], batchSize: 2).ToList();

        streamed.Select(p => p.Item).Should().Equal(0, 1, 2, 3, 4);
        for (int i = 0; i < structures.Length; i++)
            streamed[i].Result.Labels!.Energy.Should().Be(expected[i].Labels!.Energy);
    }

    [Fact]
    public void LabelAll_EndlessStream_LabelsOnlyTheBatchesTaken()
    {
        using var labeler = CalculatorLabeler.Create("emt");
        var endless = Enumerable.Range(0, int.MaxValue).Select(seed => Samples.Bulk(2, seed));

        var firstThree = labeler.LabelAll(endless, s => s, batchSize: 2).Take(3).ToList();

        firstThree.Should().HaveCount(3).And.OnlyContain(p => p.Result.Succeeded);
    }

    [Fact]
    public void Create_CallableFromFileWithArguments_CallsItWithTheArgumentsAndTheDevice()
    {
        var structures = Structures();
        using var emt = CalculatorLabeler.Create("emt");
        var plain = emt.LabelBatch(structures);

        // make_shifted declares `device` without a default: it fails unless the labeler passes the device.
        using var shifted = CalculatorLabeler.Create($"{Cases}:make_shifted", """{"shift": 1.5}""");
        var results = shifted.LabelBatch(structures);

        shifted.Device.Should().Be("cpu");
        for (int i = 0; i < structures.Length; i++)
        {
            results[i].Labels!.Energy.Should().BeApproximately(plain[i].Labels!.Energy + 1.5, 1e-12);
            results[i].Labels!.Forces.Should().Equal(plain[i].Labels!.Forces);
        }
    }

    [Fact]
    public void LabelBatch_CallableRaisingOnChosenStructures_OthersAreLabelled()
    {
        var structures = Structures();
        using var labeler = CalculatorLabeler.Create($"{Cases}:ShiftedEMT", """{"fail_sizes": [27]}""");

        var results = labeler.LabelBatch(structures);

        results.Select(r => r.Succeeded).Should().Equal(true, true, false, true, true);
        var error = results[2].Error!;
        error.StructureIndex.Should().Be(2);
        error.PythonType.Should().Be("ValueError");
        error.PythonMessage.Should().Be("refusing a structure of 27 atoms");
        error.Message.Should().Be($"calculator '{Cases}:ShiftedEMT': structure 2: ValueError: refusing a structure of 27 atoms");
        error.InnerException.Should().BeOfType<PythonException>()
            .Which.PythonTraceback.Should().Contain("calculator_labeler_cases.py").And.Contain("raise ValueError");
        var act = () => results[2].GetLabels();
        act.Should().Throw<LabelingException>().Which.Should().BeSameAs(error);
    }

    [Fact]
    public void LabelBatch_EmtWithAnElementItLacks_ThatStructureGetsAsesError()
    {
        var iron = Samples.Bulk(2, seed: 5) with { AtomicNumbers = Enumerable.Repeat(26, 8).ToArray() };
        using var labeler = CalculatorLabeler.Create("emt");

        var results = labeler.LabelBatch([Samples.Bulk(2), iron, Samples.Molecule()]);

        results.Select(r => r.Succeeded).Should().Equal(true, false, true);
        results[1].Error!.PythonType.Should().Be("NotImplementedError");
        results[1].Error!.Message.Should().StartWith("calculator 'emt': structure 1: NotImplementedError: ").And.Contain("Fe");
    }

    [Fact]
    public void Label_RaisingStructure_ThrowsLabelingExceptionWithTheTraceback()
    {
        using var labeler = CalculatorLabeler.Create($"{Cases}:ShiftedEMT", """{"fail_sizes": [8]}""");

        var act = () => labeler.Label(Samples.Bulk(2));

        var e = act.Should().Throw<LabelingException>().Which;
        e.StructureIndex.Should().BeNull();
        e.Message.Should().Be($"calculator '{Cases}:ShiftedEMT': ValueError: refusing a structure of 8 atoms");
        e.InnerException.Should().BeOfType<PythonException>().Which.PythonTraceback.Should().StartWith("Traceback");
    }

    [Fact]
    public void LabelAll_FailingItem_ErrorNamesItsPositionInTheStream()
    {
        using var labeler = CalculatorLabeler.Create($"{Cases}:ShiftedEMT", """{"fail_sizes": [27]}""");
        Structure[] structures = [Samples.Bulk(2), Samples.Bulk(2, 2), Samples.Molecule(), Samples.Bulk(3), Samples.Molecule(4)];

        var results = labeler.LabelAll(structures, s => s, batchSize: 2).ToList();

        results.Select(r => r.Result.Succeeded).Should().Equal(true, true, true, false, true);
        results[3].Result.Error!.StructureIndex.Should().Be(3);
    }

    [Theory]
    [InlineData("orb-v2", "orb-models", "orb_models")]
    [InlineData("orb-v3", "orb-models", "orb_models")]
    [InlineData("mace-mp", "mace-torch", "mace")]
    public void Create_PresetNotInstalled_NamesThePackageAndHowToInstallIt(string spec, string package, string module)
    {
        var act = () => CalculatorLabeler.Create(spec);

        var e = act.Should().Throw<TeacherSetupException>().Which;
        e.Package.Should().Be(package);
        e.Spec.Should().Be(spec);
        e.Message.Should().Be($"calculator '{spec}' needs the Python package {package}: No module named '{module}'; " +
            $"install it (pip install {package}) into the interpreter used (--python), which is {PythonInterpreter.Current!.Executable}");
        e.InnerException.Should().BeOfType<PythonException>();
    }

    [Fact]
    public void Create_UnknownPreset_ListsThePresets()
    {
        var act = () => CalculatorLabeler.Create("orb-v9");

        act.Should().Throw<TeacherSetupException>().WithMessage(
            "unknown calculator 'orb-v9': use one of emt, mace-mp, orb-v2, orb-v3, or module:callable (e.g. mypkg.calc:MyCalculator or /path/calc.py:MyCalculator)")
            .Which.Package.Should().BeNull();
    }

    [Fact]
    public void Create_ModuleNotInstalled_NamesTheModule()
    {
        var act = () => CalculatorLabeler.Create("no_such_teacher.calc:Model");

        act.Should().Throw<TeacherSetupException>()
            .WithMessage("calculator 'no_such_teacher.calc:Model' needs the Python module no_such_teacher, which is missing: *pip install no_such_teacher*--python*")
            .Which.Package.Should().Be("no_such_teacher");
    }

    [Theory]
    [InlineData(":make_shifted", """{"nope": 1}""", "calculator '*:make_shifted' could not be made: TypeError: *nope*")]
    [InlineData(":not_a_calculator", null, "calculator '*:not_a_calculator' made a int, which is neither an ASE calculator*")]
    [InlineData(":missing_name", null, "calculator '*:missing_name': */calculator_labeler_cases.py has no attribute 'missing_name'")]
    public void Create_CallableRefused_ThrowsTeacherSetupException(string suffix, string? arguments, string message)
    {
        var act = () => CalculatorLabeler.Create(Cases + suffix, arguments);

        act.Should().Throw<TeacherSetupException>().WithMessage(message);
    }

    [Fact]
    public void Create_MissingFile_SaysSo()
    {
        string missing = _dir.File("nothing.py");

        var act = () => CalculatorLabeler.Create($"{missing}:Model");

        act.Should().Throw<TeacherSetupException>().WithMessage($"calculator '{missing}:Model': no such file: {missing}");
    }

    [Theory]
    [InlineData("{not json", "Calculator arguments are not valid JSON*")]
    [InlineData("[1, 2]", "Calculator arguments must be a JSON object*")]
    [InlineData("""{"device": "cuda"}""", "Pass the device with the device parameter (--device)*")]
    public void Create_BadArguments_ThrowsArgumentException(string arguments, string message)
    {
        var act = () => CalculatorLabeler.Create("emt", arguments);

        act.Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void Create_UnknownDevice_ThrowsArgumentException(string device)
    {
        var act = () => CalculatorLabeler.Create("emt", device: device);

        act.Should().Throw<ArgumentException>().WithMessage("Device '*' is not cpu, cuda or cuda:N*");
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Create_CudaOnThisCpuOnlyMachine_WarnsAndUsesCpu(string device)
    {
        var warnings = new List<string>();

        using var labeler = CalculatorLabeler.Create("emt", device: device, warning: warnings.Add);

        labeler.RequestedDevice.Should().Be(device);
        labeler.Device.Should().Be("cpu");
        warnings.Should().ContainSingle().Which.Should().Match($"{device} requested but torch.cuda is not available (torch * is a CPU-only build); using cpu");
        labeler.Warnings.Should().Equal(warnings);
        labeler.Label(Samples.Bulk()).Stress.Should().NotBeNull();
    }

    [Fact]
    public void Create_CudaStrictOnThisCpuOnlyMachine_Throws()
    {
        var act = () => CalculatorLabeler.Create("emt", device: "cuda", strictDevice: true);

        act.Should().Throw<TeacherSetupException>()
            .WithMessage("cuda requested but torch.cuda is not available (*); --strict-device forbids falling back to cpu");
    }

    [Fact]
    public void Dispose_ThenLabel_ThrowsObjectDisposedException()
    {
        var labeler = CalculatorLabeler.Create("emt");
        labeler.Dispose();
        labeler.Dispose();

        var label = () => labeler.Label(Samples.Bulk());
        var stream = () => labeler.LabelAll([Samples.Bulk()], s => s);

        label.Should().Throw<ObjectDisposedException>();
        stream.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void LabelBatch_MalformedStructure_ThrowsArgumentExceptionNamingIt()
    {
        using var labeler = CalculatorLabeler.Create("emt");
        var bad = Samples.Bulk() with { Positions = new double[5] };

        var act = () => labeler.LabelBatch([Samples.Bulk(), bad]);

        act.Should().Throw<ArgumentException>().WithMessage("Structure 1 has 8 atoms, 5 position components (expected 24)*");
    }

    [Fact]
    public void LabelBatch_Empty_ReturnsEmpty()
    {
        using var labeler = CalculatorLabeler.Create("emt");

        labeler.LabelBatch([]).Should().BeEmpty();
    }
}
