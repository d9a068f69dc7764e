using System.Text.Json;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// The ASE reading module (src/MlffData/PythonScripts/ase_frames.py) with Debian's real ASE 3.22: the reference
/// extxyz, and our own `export --key-prefix REF_` output read with MACE-style keys, give exactly the reference
/// dataset; virials become stress; a key asked for and found nowhere is an error naming it.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class AseFramesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Frames_and_keys_match_the_reference_and_errors_name_the_key()
    {
        string exported = _dir.File("ref_keys.extxyz");
        var export = CliRunner.Run("export", "-i", RepoPaths.Of("data", "samples", "reference_930.h5"), "-o", exported, "--key-prefix", "REF_");
        export.ExitCode.Should().Be(0, export.Stderr);

        string output = PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "ase_frames_cases.py"),
            RepoPaths.Of("src", "MlffData", "PythonScripts"), _dir.Path, RepoPaths.Of("data", "samples", "reference_930.extxyz"),
            RepoPaths.Of("data", "samples", "reference_930.h5"), exported);
        var results = JsonDocument.Parse(output).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());

        results["reference_extxyz"].Should().Be("ok");
        results["exported_ref_keys"].Should().Be("ok");
        results["virials"].Should().Be("ok");
        results["molecule_stress_dropped_and_extras"].Should().Be("ok");
        results["missing_key"].Should().Be("LabelError: structure 4: REF_energy: key 'REF_energy' is in neither Atoms.info nor the calculator's results");
        results["stress_key_in_no_structure"].Should().Be("LabelError: structure 1: REF_stress: key 'REF_stress' is in no structure's Atoms.info or calculator results");
        results["bad_forces_shape"].Should().Be("LabelError: structure 7: REF_forces: has shape (2, 2), expected (2, 3)");
    }
}
