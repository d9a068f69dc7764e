using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// <see cref="DatasetMerger"/>: three files merged equal one file written with all their structures (extras and
/// masks included), --reindex offsets, combined metadata read back by h5py, and refusals that leave nothing behind.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class DatasetMergerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once the merge is done");
        _dir.Dispose();
    }

    private MergeOptions Options(MergeOptions? options = null) => (options ?? new MergeOptions()) with { Warning = _warnings.Add };

    private static LabelledStructure[] Items(int first, int count, Func<int, StructureExtras?>? extras = null) =>
        Enumerable.Range(first, count).Select(i => Samples.Labelled(i, i) with { Extras = extras?.Invoke(i) }).ToArray();

    private string Write(string name, IEnumerable<LabelledStructure> items, Dictionary<string, object?>? metadata = null, Compression? compression = null)
    {
        string path = _dir.File(name);
        using var writer = new HDF5DatasetWriter(path, WriteMode.Overwrite,
            Samples.Collecting([], new WriteOptions { Compression = compression ?? Compression.Gzip(4) }));
        foreach (var item in items) writer.AddStructure(item);
        writer.Complete(metadata);
        return path;
    }

    private static void ShouldBeSameDatasets(string expected, string actual)
    {
        var comparison = DatasetComparer.Compare(expected, actual, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        comparison.BitExact.Should().BeTrue();
    }

    [Fact]
    public void Merge_ThreeFiles_EqualsOneFileWithAllStructures()
    {
        var all = Items(0, 23);
        string a = Write("a.h5", all[..10]), b = Write("b.h5", all[10..11]), c = Write("c.h5", all[11..]);
        string expected = Write("expected.h5", all);
        string output = _dir.File("merged.h5");

        var summary = DatasetMerger.Merge(output, [a, b, c], Options(new MergeOptions { BlockStructures = 4 }));

        ShouldBeSameDatasets(expected, output);
        // The statistics are computed over the copied rows as the writer computes them over structures.
        using (var want = new HDF5DatasetReader(expected))
        using (var got = new HDF5DatasetReader(output))
            foreach (var key in new[] { FormatNames.EnergyMin, FormatNames.EnergyMax, FormatNames.EnergyMean, FormatNames.EnergyStd, FormatNames.MaxAbsForce, FormatNames.Elements })
                got.Metadata[key].Should().Be(want.Metadata[key], key);
        summary.Should().BeEquivalentTo(new { Inputs = 3, Structures = 23L, DuplicateIndices = 0L, Output = output });
        summary.Atoms.Should().Be(all.Sum(s => (long)s.Structure.NumAtoms));
        _warnings.Should().BeEmpty();
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Merge_ExtrasInOnlyOneInput_OtherInputsGetMasks()
    {
        StructureExtras Extra(int i) => new(
            new Dictionary<string, ExtraValue> { ["config_type"] = ExtraValue.String($"type{i}"), ["total_charge"] = ExtraValue.Float(i) },
            new Dictionary<string, ExtraValue>());
        var all = Items(0, 4).Concat(Items(4, 3, Extra)).Concat(Items(7, 2)).ToArray();
        string a = Write("a.h5", all[..4]), b = Write("b.h5", all[4..7]), c = Write("c.h5", all[7..]);
        string expected = Write("expected.h5", all);
        string output = _dir.File("merged.h5");

        DatasetMerger.Merge(output, [a, b, c], Options());

        ShouldBeSameDatasets(expected, output);
        var masks = PythonScript.Run("""
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    print(f["info/config_type_mask"].dtype, "".join("1" if x else "0" for x in f["info/config_type_mask"][:]),
          f["info/config_type"].asstr()[4])
""", output).Trim();
        masks.Should().Be("bool 000011100 type4");
    }

    [Fact]
    public void Merge_PerAtomAndPerStructureExtrasWithGapsAcrossBlocks_EqualsOneFileWithAllStructures()
    {
        // Per-atom values (charges, magmoms (n, 3), fixed) and per-structure ones, missing from some structures within
        // an input and from a whole input: the rows path must put each structure's atoms at the right rows.
        StructureExtras? Extra(int i)
        {
            if (i % 5 == 3) return null;
            int n = Samples.Labelled(i).Structure.NumAtoms;
            var arrays = new Dictionary<string, ExtraValue>
            {
                ["charges"] = ExtraValue.FloatRows(Enumerable.Range(0, n).Select(k => i + k * 0.125).ToArray()),
                ["fixed"] = ExtraValue.BoolRows(Enumerable.Range(0, n).Select(k => (i + k) % 3 == 0).ToArray()),
            };
            if (i % 2 == 0) arrays["magmoms"] = ExtraValue.FloatRows(Enumerable.Range(0, 3 * n).Select(k => -i - k * 0.5).ToArray(), 3);
            var info = new Dictionary<string, ExtraValue> { ["config_type"] = ExtraValue.String($"kind{i % 3}") };
            if (i % 4 == 1) info["total_charge"] = ExtraValue.Float(i);
            return new StructureExtras(info, arrays);
        }
        var all = Items(0, 9, Extra).Concat(Items(9, 5)).Concat(Items(14, 12, Extra)).ToArray();
        string a = Write("a.h5", all[..9]), b = Write("b.h5", all[9..14]), c = Write("c.h5", all[14..]);
        string expected = Write("expected.h5", all);
        string output = _dir.File("merged.h5");

        DatasetMerger.Merge(output, [a, b, c], Options(new MergeOptions { BlockStructures = 4 }));

        ShouldBeSameDatasets(expected, output);
        // h5py, the independent reader: every /info and /arrays dataset and mask equals the one-file write's.
        PythonScript.Run("""
import h5py, sys, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    for g in ("info", "arrays"):
        assert sorted(a[g]) == sorted(b[g]), (g, sorted(a[g]), sorted(b[g]))
        for name in a[g]:
            x, y = a[g][name][()], b[g][name][()]
            assert x.dtype == y.dtype and x.shape == y.shape, (name, x.dtype, y.dtype, x.shape, y.shape)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    assert len(b["arrays/magmoms_mask"]) == len(b["labels/energy"])
""", expected, output);
    }

    [Fact]
    public void Merge_Reindex_OffsetsEachInputByLargestIndicesBeforeIt()
    {
        var items = Items(0, 7);
        string a = Write("a.h5", [items[0] with { SourceIndex = 0 }, items[1] with { SourceIndex = 1 }, items[2] with { SourceIndex = 2 }]);
        string b = Write("b.h5", [items[3] with { SourceIndex = 0 }, items[4] with { SourceIndex = 1 }]);
        string c = Write("c.h5", [items[5] with { SourceIndex = 5 }, items[6] with { SourceIndex = 7 }]);
        string output = _dir.File("merged.h5");

        var summary = DatasetMerger.Merge(output, [a, b, c], Options(new MergeOptions { Reindex = true }));

        StoredDataset.Read(output).StructureIndices.Should().Equal(0L, 1L, 2L, 3L, 4L, 10L, 12L);
        summary.DuplicateIndices.Should().Be(0);
        _warnings.Should().BeEmpty();
        using var mergedFrom = JsonDocument.Parse((string)StoredDataset.Read(output).Metadata[DatasetMerger.MergedFromKey]);
        mergedFrom.RootElement.EnumerateArray().Select(e => e.GetProperty("structure_index_offset").GetInt64()).Should().Equal(0L, 3L, 5L);
    }

    [Fact]
    public void Merge_RepeatedIndicesWithoutReindex_KeptAndWarnedOnce()
    {
        string a = Write("a.h5", Items(0, 5));
        string b = Write("b.h5", Items(3, 4));
        string output = _dir.File("merged.h5");

        var summary = DatasetMerger.Merge(output, [a, b], Options());

        StoredDataset.Read(output).StructureIndices.Should().Equal(0L, 1L, 2L, 3L, 4L, 3L, 4L, 5L, 6L);
        summary.DuplicateIndices.Should().Be(2);
        _warnings.Should().ContainSingle().Which.Should().StartWith($"2 structure indices appear in more than one input (e.g. 3 in {a} and {b})");
    }

    [Fact]
    public void Merge_Metadata_EqualKeysKeptDifferingListedMergedFromReadableByH5py()
    {
        string a = Write("a.h5", Items(0, 2), new() { ["teacher_model"] = "emt", ["label_shard"] = "0/2", ["seed"] = 3L });
        string b = Write("b.h5", Items(2, 3), new() { ["teacher_model"] = "emt", ["label_shard"] = "1/2" });
        string output = _dir.File("merged.h5");

        DatasetMerger.Merge(output, [a, b], Options(new MergeOptions { Metadata = new Dictionary<string, object?> { ["note"] = "merged" } }));

        var text = PythonScript.Run("""
import h5py, json, sys
with h5py.File(sys.argv[1], "r") as f:
    m = f["metadata"].attrs
    merged = json.loads(m["merged_from"])
    print(m["teacher_model"], json.loads(m["label_shard"]), json.loads(m["seed"]), m["note"], m["num_structures"],
          [(e["file"].split("/")[-1], e["num_structures"]) for e in merged])
""", output).Trim();
        text.Should().Be("emt ['0/2', '1/2'] [3, None] merged 5 [('a.h5', 2), ('b.h5', 3)]");
    }

    [Fact]
    public void Merge_CompressionDefault_FirstInputsOtherwiseTheRequestedOne()
    {
        string a = Write("a.h5", Items(0, 2), compression: Compression.Lzf);
        string b = Write("b.h5", Items(2, 2), compression: Compression.None);

        DatasetMerger.Merge(_dir.File("first.h5"), [a, b], Options()).Compression.Should().Be(Compression.Lzf);
        DatasetMerger.Merge(_dir.File("gzip.h5"), [a, b], Options(new MergeOptions { Compression = Compression.Gzip(1) }));

        using (var reader = new HDF5DatasetReader(_dir.File("first.h5"))) reader.Compression.Should().Be("lzf");
        using (var reader = new HDF5DatasetReader(_dir.File("gzip.h5"))) reader.Compression.Should().Be("gzip-1");
    }

    [Fact]
    public void Merge_BrokenInput_RefusedNamingItAndNothingAtOutput()
    {
        string a = Write("a.h5", Items(0, 3));
        string broken = Write("broken.h5", Items(3, 3));
        PythonScript.Run("""
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    del f["labels/energy"]
""", broken);
        string output = _dir.File("merged.h5");

        var act = () => DatasetMerger.Merge(output, [a, broken], Options());

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().StartWith($"{broken}: ");
        File.Exists(output).Should().BeFalse();
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    // Bulk boxes of 216 atoms: 1,200 of them fill whole chunks of every per-atom dataset at the default chunk size
    // (1 MiB: 131,072 atomic numbers, 43,690 positions, 87,381 forces).
    private static LabelledStructure[] BulkItems(int first, int count) =>
        Enumerable.Range(first, count).Select(i =>
        {
            var structure = Samples.Bulk(6, i);
            return new LabelledStructure(structure, new Labels(-i * 0.5, Samples.Forces(structure, i), Samples.Stress(i)), i);
        }).ToArray();

    // The SHA-256 of the stored bytes of every chunk of the per-atom datasets, read by h5py.
    private static Dictionary<string, List<string>> StoredChunks(string path) =>
        JsonSerializer.Deserialize<Dictionary<string, List<string>>>(PythonScript.Run("""
import h5py, hashlib, json, sys
with h5py.File(sys.argv[1], "r") as f:
    out = {}
    for name in ["structures/atomic_numbers", "structures/positions", "labels/forces"]:
        d = f[name]
        out[name] = [hashlib.sha256(d.id.read_direct_chunk((i * d.chunks[0],) + (0,) * (d.ndim - 1))[1]).hexdigest()
                     for i in range(d.id.get_num_chunks())]
    print(json.dumps(out))
""", path))!;

    [Fact]
    public void Merge_ChunksThatLineUp_StoredAsTheInputStoredThemWithoutRecompressing()
    {
        var all = BulkItems(0, 1500);
        string ours = Write("ours.h5", all[..1200]);
        string a = _dir.File("a.h5");
        // The same rows as libhdf5's deflate stores them.
        H5pyRewrite.Run(ours, a);
        string b = Write("b.h5", all[1200..]);
        string expected = Write("expected.h5", all);
        string output = _dir.File("merged.h5");
        var input = StoredChunks(a);
        // The premise: libhdf5's deflate stores other bytes than ours, so a chunk compressed again would differ.
        input["structures/positions"][0].Should().NotBe(StoredChunks(ours)["structures/positions"][0]);

        DatasetMerger.Merge(output, [a, b], Options());

        ShouldBeSameDatasets(expected, output);
        var merged = StoredChunks(output);
        foreach (var (name, chunks) in input)
        {
            // Every whole chunk of the first input is the input's own bytes; its partial last chunk takes the second
            // input's first rows, so it is compressed here.
            int whole = chunks.Count - 1;
            whole.Should().BeGreaterThan(0, name);
            merged[name].Take(whole).Should().Equal(chunks.Take(whole), name);
            merged[name][whole].Should().NotBe(chunks[whole], name);
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("lzf")]
    [InlineData("gzip-4")]
    public void Merge_InputsOfEveryCompression_H5pyReadsTheRowsOfOneFileWithAllStructures(string output)
    {
        // The first input has the output's compression, so its whole chunks are copied as stored (none, gzip) or
        // decoded and written again (lzf, which libhdf5 compresses); the others are decoded from the other two.
        var compression = Compression.Parse(output);
        var others = new[] { "none", "lzf", "gzip-4" }.Where(c => c != output).Select(c => Compression.Parse(c)).ToArray();
        var all = BulkItems(0, 1500);
        string a = Write("a.h5", all[..1100], compression: compression);
        string b = Write("b.h5", all[1100..1350], compression: others[0]);
        string c = Write("c.h5", all[1350..], compression: others[1]);
        string expected = Write("expected.h5", all, compression: compression);
        string merged = _dir.File("merged.h5");

        DatasetMerger.Merge(merged, [a, b, c], Options(new MergeOptions { Compression = compression }));

        ShouldBeSameDatasets(expected, merged);
        PythonScript.Run("""
import h5py, sys, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    for g in ("structures", "labels"):
        for name, d in a[g].items():
            x, y = d[()], b[g][name][()]
            assert x.dtype == y.dtype and np.array_equal(x, y), f"{g}/{name} differs"
            assert d.compression == b[g][name].compression and b[g][name].fletcher32, name
""", expected, merged);
    }

    [Fact]
    public void Merge_CorruptChunkInAnInput_RefusedNamingFileDatasetAndChunkNothingAtOutput()
    {
        string a = Write("a.h5", BulkItems(0, 300));
        string broken = Write("broken.h5", BulkItems(300, 300));
        ChunkCorruption.FlipByte(broken, "structures/positions", 1, mask: 0x01);
        string output = _dir.File("merged.h5");

        var act = () => DatasetMerger.Merge(output, [a, broken], Options());

        act.Should().Throw<DatasetFormatException>().Which.Message.Should()
            .Be($"{broken}: /structures/positions: chunk 1: data error detected by Fletcher32 checksum");
        File.Exists(output).Should().BeFalse();
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Merge_ExtraOfAnotherKindInALaterInput_RefusedNamingThatInputOldOutputKept()
    {
        string a = Write("a.h5", Items(0, 2, i => new StructureExtras(
            new Dictionary<string, ExtraValue> { ["tag"] = ExtraValue.String("x") }, new Dictionary<string, ExtraValue>())));
        string b = Write("b.h5", Items(2, 2, i => new StructureExtras(
            new Dictionary<string, ExtraValue> { ["tag"] = ExtraValue.Float(i) }, new Dictionary<string, ExtraValue>())));
        string output = _dir.File("merged.h5");
        File.WriteAllText(output, "old");

        var act = () => DatasetMerger.Merge(output, [a, b], Options());

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().StartWith($"{b}: structure 0: ").And.Contain("info/tag");
        File.ReadAllText(output).Should().Be("old");
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Merge_OutputIsAnInput_ThrowsArgumentException()
    {
        string a = Write("a.h5", Items(0, 2));

        var act = () => DatasetMerger.Merge(a, [a], Options());

        act.Should().Throw<ArgumentException>().WithMessage($"{a}: the output is also an input*");
        StoredDataset.Read(a).Energy.Should().HaveCount(2);
    }

    [Fact]
    public void Merge_NoInputs_ThrowsArgumentException()
    {
        var act = () => DatasetMerger.Merge(_dir.File("out.h5"), [], Options());

        act.Should().Throw<ArgumentException>().WithMessage("Nothing to merge*");
    }

    [Fact]
    public void Merge_ReservedMetadataKey_ThrowsBeforeWriting()
    {
        string a = Write("a.h5", Items(0, 2));
        var options = Options(new MergeOptions { Metadata = new Dictionary<string, object?> { ["num_structures"] = 3L } });

        var act = () => DatasetMerger.Merge(_dir.File("out.h5"), [a], options);

        act.Should().Throw<ArgumentException>().WithMessage("Metadata key 'num_structures'*");
        File.Exists(_dir.File("out.h5")).Should().BeFalse();
    }

    [Fact]
    public void Merge_EmptyInput_AddsNothing()
    {
        string empty = Write("empty.h5", []);
        string a = Write("a.h5", Items(0, 3));
        string output = _dir.File("merged.h5");

        DatasetMerger.Merge(output, [empty, a, empty], Options(new MergeOptions { Reindex = true }));

        ShouldBeSameDatasets(a, output);
    }
}
