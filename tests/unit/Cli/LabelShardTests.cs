using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// <c>mlff-data label --shard k/n</c> with the real EMT calculator: three shards cover the input disjointly, merge
/// into a file whose every structure index has the labels of one full run, and resume refuses another shard.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class LabelShardTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _emt;

    public LabelShardTests()
    {
        PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Cli", "label_inputs.py"), _dir.Path);
        _emt = _dir.File("emt.extxyz");
    }

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => CliRunner.Run([.. args, "--no-progress"]);

    // For every structure index of the merged file: the same atoms and labels as the full run's row of that index.
    private const string SameByIndex = """
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r") as full, h5py.File(sys.argv[2], "r") as merged:
    fi, mi = full["labels/structure_indices"][:], merged["labels/structure_indices"][:]
    assert sorted(mi.tolist()) == sorted(fi.tolist()), (mi, fi)
    row_of = {int(i): r for r, i in enumerate(fi)}
    fs, ms = full["structures/atomic_numbers_splits"][:], merged["structures/atomic_numbers_splits"][:]
    for r, i in enumerate(mi):
        q = row_of[int(i)]
        assert full["labels/energy"][q] == merged["labels/energy"][r], i
        assert np.array_equal(full["labels/forces"][fs[q]:fs[q + 1]], merged["labels/forces"][ms[r]:ms[r + 1]]), i
        assert np.array_equal(full["structures/positions"][fs[q]:fs[q + 1]], merged["structures/positions"][ms[r]:ms[r + 1]]), i
        assert np.array_equal(full["labels/stress"][q], merged["labels/stress"][r]), i
    print(merged["metadata"].attrs["label_shard"], merged["metadata"].attrs["teacher_model"])
""";

    [Fact]
    public void LabelThreeShardsThenMerge_EveryIndexEqualsTheFullRun()
    {
        string full = _dir.File("full.h5");
        Run("label", "-i", _emt, "-o", full, "--calculator", "emt").ExitCode.Should().Be(0);
        var parts = new List<string>();
        for (int k = 0; k < 3; k++)
        {
            string part = _dir.File($"part_{k}.h5");
            var (code, stdout, stderr) = Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--shard", $"{k}/3", "--batch-size", "5");
            code.Should().Be(0, stderr);
            stdout.Should().Contain($"Labelled 12 structures (shard {k}/3 of the input)");
            StoredDataset.Read(part).StructureIndices.Should().Equal(Enumerable.Range(0, 36).Where(i => i % 3 == k).Select(i => (long)i));
            StoredDataset.Read(part).Metadata["label_shard"].Should().Be($"{k}/3");
            parts.Add(part);
        }
        string merged = _dir.File("all.h5");

        var result = Run(["merge", "-o", merged, .. parts]);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().BeEmpty("the shards' indices are disjoint");
        PythonScript.Run(SameByIndex, full, merged).Trim().Should().Be("[\"0/3\",\"1/3\",\"2/3\"] emt");
    }

    [Fact]
    public void Label_ResumeWithAnotherShard_Refused()
    {
        string part = _dir.File("part_0.h5");
        Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--shard", "0/3", "--max-structures", "4").ExitCode.Should().Be(0);

        var (code, _, stderr) = Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--shard", "1/3", "--resume");
        var unsharded = Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--resume");

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {part} was labelled as shard 0/3, not as shard 1/3; resume refuses to mix them");
        unsharded.ExitCode.Should().Be(1);
        unsharded.Stderr.Should().Contain("was labelled as shard 0/3, not without --shard");
        StoredDataset.Read(part).StructureIndices.Should().Equal(0L, 3L, 6L, 9L);
    }

    [Fact]
    public void Label_ResumeSameShard_FinishesIt()
    {
        string part = _dir.File("part_2.h5");
        Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--shard", "2/3", "--max-structures", "5").ExitCode.Should().Be(0);

        var (code, stdout, stderr) = Run("label", "-i", _emt, "-o", part, "--calculator", "emt", "--shard", "2/3", "--resume");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Labelled 7 structures").And.Contain("5 already in the output");
        StoredDataset.Read(part).StructureIndices.Should().Equal(Enumerable.Range(0, 36).Where(i => i % 3 == 2).Select(i => (long)i));
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("1")]
    [InlineData("-1/3")]
    [InlineData("a/b")]
    public void Label_BadShard_OneLineError(string shard)
    {
        var (code, _, stderr) = Run("label", "-i", _emt, "-o", _dir.File("x.h5"), "--calculator", "emt", "--shard", shard);

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: --shard must be k/n with 0 <= k < n (0-based, e.g. 0/4 .. 3/4), not '{shard}'");
        File.Exists(_dir.File("x.h5")).Should().BeFalse();
    }
}
