using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.UnitTests.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// The CUDA path's teacher, tests/teacher/torch_pair.py (a torch Morse pair potential), on this machine's CPU with
/// Debian's real torch: its autograd forces and stress equal finite differences; through the labeler it gets whole
/// batches (the batched-API protocol) and gives what ASE's path gives in another process; a structure that breaks
/// the batched call is retried alone; CUDA requested here falls back to the CPU (scripts/gpu-check runs it on a GPU).
/// </summary>
[Collection(PythonCollection.Name)]
public sealed class CalculatorLabelerTorchPairTests : IDisposable
{
    private static readonly string TorchPair = RepoPaths.Of("tests", "teacher", "torch_pair.py");
    private static readonly string Cases = RepoPaths.Of("tests", "unit", "Converters", "calculator_labeler_cases.py");
    private readonly TempDirectory _dir = new();

    public CalculatorLabelerTorchPairTests(PythonFixture python) => _ = python;

    public void Dispose() => _dir.Dispose();

    private string Recording(out string log)
    {
        log = _dir.File($"calls-{Guid.NewGuid():N}.log");
        return JsonSerializer.Serialize(new { log });
    }

    [Fact]
    public void TorchPair_FiniteDifferences_EqualAutogradForcesAndStress()
    {
        var results = JsonDocument.Parse(PythonScript.RunFile(RepoPaths.Of("tests", "teacher", "check_torch_pair.py"))).RootElement;

        foreach (string name in new[] { "skewed_primitive", "cubic_supercell", "slab", "molecule" })
        {
            var r = results.GetProperty(name);
            // Central differences with d = 1e-5 Å are good to ~1e-9 eV/Å here; forces are of order 1 eV/Å.
            r.GetProperty("force_error").GetDouble().Should().BeLessThan(1e-7, name);
            r.GetProperty("wrap_energy_difference").GetDouble().Should().BeLessThan(1e-10, name);
            r.GetProperty("batch_energy_difference").GetDouble().Should().BeLessThan(1e-10, name);
            r.GetProperty("batch_force_difference").GetDouble().Should().BeLessThan(1e-10, name);
            bool periodic = name is "skewed_primitive" or "cubic_supercell";
            r.GetProperty("batch_stress").GetBoolean().Should().Be(periodic, name);
            if (periodic)
            {
                r.GetProperty("stress_error").GetDouble().Should().BeLessThan(1e-8, name);
                r.GetProperty("stress_scale").GetDouble().Should().BeGreaterThan(1e-3, $"{name}: a zero stress would pass any check");
            }
        }
        results.GetProperty("cubic_supercell").GetProperty("force_scale").GetDouble().Should().BeGreaterThan(0.1);
    }

    [Fact]
    public void LabelAll_TorchPair_OneBatchedCallPerBatchEqualToAsesPath()
    {
        var structures = CalculatorLabelerTests.Structures();
        var expected = CalculatorLabelerTests.Reference(_dir, structures, torchPair: true);
        using var labeler = CalculatorLabeler.Create($"{Cases}:make_recording_torch_pair", Recording(out string log));

        var results = labeler.LabelAll(structures, s => s, batchSize: 2).ToList();

        labeler.UsesBatchedApi.Should().BeTrue();
        labeler.Device.Should().Be("cpu");
        File.ReadAllLines(log).Should().Equal("2", "2", "1");
        for (int i = 0; i < structures.Length; i++)
            CalculatorLabelerTests.ShouldMatch(results[i].Result.Labels!, expected[i], 1e-10, 1e-10);
    }

    [Fact]
    public void LabelBatch_TorchPairFromItsFile_TakesArgumentsAndLabels()
    {
        using var near = CalculatorLabeler.Create($"{TorchPair}:TorchPair", """{"cutoff": 4.0}""");
        using var far = CalculatorLabeler.Create($"{TorchPair}:TorchPair", """{"cutoff": 6.0}""");
        var bulk = Samples.Bulk(3);

        var nearLabels = near.Label(bulk);
        var farLabels = far.Label(bulk);

        near.UsesBatchedApi.Should().BeTrue();
        near.Versions.Should().ContainKey("torch");
        nearLabels.Energy.Should().NotBe(farLabels.Energy, "the cutoff argument reached the calculator");
        nearLabels.Forces.Should().HaveCount(81);
        nearLabels.Stress.Should().HaveCount(6);
    }

    [Fact]
    public void LabelBatch_StructureBreakingTheBatchedCall_IsRetriedAloneAndTheOthersLabelled()
    {
        // Periodic with a zero cell: no volume, so no stress; the batched call fails and each structure is retried.
        var noVolume = new Structure([29, 29], [0, 0, 0, 1.5, 1.5, 0], new double[9], [true, true, true]);
        using var labeler = CalculatorLabeler.Create($"{Cases}:make_recording_torch_pair", Recording(out string log));

        var results = labeler.LabelBatch([Samples.Bulk(2), noVolume, Samples.Molecule()]);

        results.Select(r => r.Succeeded).Should().Equal(true, false, true);
        results[1].Error!.PythonType.Should().Be("TeacherOutputError");
        results[1].Error!.Message.Should().Be($"calculator '{Cases}:make_recording_torch_pair': structure 1: TeacherOutputError: stress is not all finite");
        File.ReadAllLines(log).Should().Equal("3", "1", "1", "1");
    }

    [Fact]
    public void Create_TorchPairOnCudaHere_WarnsAndLabelsOnCpu()
    {
        var warnings = new List<string>();

        using var labeler = CalculatorLabeler.Create($"{TorchPair}:TorchPair", device: "cuda", warning: warnings.Add);

        labeler.Device.Should().Be("cpu");
        warnings.Should().ContainSingle().Which.Should().StartWith("cuda requested but torch.cuda is not available (").And.EndWith("; using cpu");
        labeler.Label(Samples.Molecule()).Stress.Should().BeNull();
    }

    [Fact]
    public void Create_TorchPairOnCudaStrictHere_Throws()
    {
        var act = () => CalculatorLabeler.Create($"{TorchPair}:TorchPair", device: "cuda:0", strictDevice: true);

        act.Should().Throw<TeacherSetupException>().WithMessage("cuda:0 requested but torch.cuda is not available*--strict-device*");
    }
}
