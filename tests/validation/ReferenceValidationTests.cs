using MlffData.UnitTests.TestSupport;

namespace MlffData.ValidationTests;

/// <summary>
/// <c>mlff-data validate</c> on the 930-structure reference (written by h5py, scripts/make_reference_dataset.py):
/// every rewrite must match it, h5py must agree that they do, and a copy with one value changed must fail, naming
/// the dataset and the row.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ReferenceValidationTests : IDisposable
{
    private static readonly string Reference = RepoPaths.Of("data", "samples", "reference_930.h5");
    private static readonly string Source = RepoPaths.Of("data", "samples", "reference_930.extxyz");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // h5py, independently of our comparer: every dataset of every output equals the reference's, bit for bit.
    private const string CompareScript = """
import glob, h5py, numpy as np, os, sys
ref, work = sys.argv[1], sys.argv[2]
names = ["structures/" + n for n in ("atomic_numbers", "atomic_numbers_splits", "positions", "cells", "pbc")] + \
        ["labels/" + n for n in ("energy", "forces", "forces_splits", "stress", "stress_mask", "structure_indices")]
with h5py.File(ref, "r") as r:
    expected = {n: r[n][()] for n in names}
outputs = sorted(glob.glob(os.path.join(work, "*.h5")))
for path in outputs:
    with h5py.File(path, "r") as f:
        for n in names:
            a = f[n][()]
            assert a.dtype == expected[n].dtype, (path, n, a.dtype)
            assert np.array_equal(a.view(np.uint8), expected[n].view(np.uint8)), (path, n)
        assert f["metadata"].attrs["num_structures"] == len(expected["labels/energy"]), path
print(" ".join(os.path.basename(p) for p in outputs))
""";

    [Fact]
    public void Validate_passes_on_the_reference_and_h5py_agrees_every_output_is_identical()
    {
        string work = _dir.File("work");
        var (code, stdout, stderr) = CliRunner.Run("validate", "--reference", Reference, "--source", Source, "--work-dir", work);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("930 structures").And.Contain("All 8 outputs match the reference.");
        foreach (var name in new[] { "incremental", "batch", "append", "compression-none", "compression-lzf", "compression-gzip-4", "compression-gzip-9", "source" })
            stdout.Should().MatchRegex($@"\| {name} \|[^\n]*\| match, bit-exact \|");
        // The seed's compression summary: gzip and lzf smaller than none.
        stdout.Should().MatchRegex(@"\| none \| [0-9.]+ MiB \| 100\.0% \| 0\.0% \|");
        stdout.Should().MatchRegex(@"\| gzip-9 \| [0-9.]+ MiB \| [1-9][0-9]\.[0-9]% \|");

        PythonScript.Run(CompareScript, Reference, work).Trim().Split(' ').Should().HaveCount(8);
    }

    [Theory]
    // A position nudged in the reference: the structures converted from its extxyz no longer match it.
    [InlineData("f['structures/positions'][1234, 1] += 1e-3", true, "source differs from*/structures/positions: row 1234, column 1: expected*(structure *)")]
    // An energy changed: the same, in a per-structure dataset.
    [InlineData("f['labels/energy'][17] += 0.5", true, "source differs from*/labels/energy: row 17: expected*")]
    // A stress where stress_mask says there is none: every rewrite writes the zeros FORMAT.md requires there.
    [InlineData("i = list(f['labels/stress_mask'][()]).index(False); f['labels/stress'][i, 2] = 1.0", false, "incremental differs from*/labels/stress: row *, column 2: expected 1, got 0")]
    // A value no file of this format may hold: the writer refuses it, and validate says which structure and field.
    [InlineData("f['labels/energy'][5] = float('nan')", false, "incremental differs from*the writer refused structure 5: energy: Invalid energy: NaN")]
    public void Validate_fails_on_a_reference_copy_with_one_value_changed_naming_the_dataset(string change, bool withSource, string expected)
    {
        string copy = _dir.File("changed.h5");
        File.Copy(Reference, copy);
        PythonScript.Run($"import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    {change}\n", copy);

        string[] args = withSource ? ["validate", "-r", copy, "--source", Source] : ["validate", "-r", copy];
        var (code, stdout, stderr) = CliRunner.Run(args);

        code.Should().Be(1, stdout);
        var errors = stderr.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        errors.Should().ContainSingle().Which.Should().Match($"error: {expected}");
        stderr.Should().NotContain("   at ", "no stack trace without -v");
        stdout.Should().Contain("DIFFERS");
    }

    [Fact]
    public void Validate_on_a_broken_file_is_one_line_naming_the_dataset()
    {
        string copy = _dir.File("broken.h5");
        File.Copy(Reference, copy);
        PythonScript.Run("import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    del f['labels/forces']\n", copy);

        var (code, _, stderr) = CliRunner.Run("validate", "-r", copy);
        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {copy}: /labels/forces: dataset is missing");
    }
}
