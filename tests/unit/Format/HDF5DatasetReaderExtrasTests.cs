using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// The reader's extras (FORMAT.md's /info and /arrays): what our writer wrote comes back through every way of reading,
/// files h5py wrote (with and without masks, with dtypes an extra cannot hold) read as h5py wrote them, and a
/// reference with extras survives the rewrite of <see cref="ReferenceValidator"/> and appends into other files.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetReaderExtrasTests : IDisposable
{
    private static readonly string Reference = RepoPaths.Of("data", "samples", "reference_930.h5");
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once readers and writers are disposed");
        _dir.Dispose();
    }

    private static WriteOptions Options => WriteOptions.Default with { Compression = Compression.Gzip(4), Warning = _ => { } };

    private string Write(IEnumerable<LabelledStructure> items, string name = "extras.h5")
    {
        string path = _dir.File(name);
        using var writer = new HDF5DatasetWriter(path, options: Options);
        foreach (var item in items) writer.AddStructure(item);
        writer.Complete();
        return path;
    }

    private static ExtraValue PerAtom(int atoms, Func<int, double> value, params int[] rowShape)
    {
        int width = rowShape.Aggregate(1, (a, b) => a * b);
        return ExtraValue.FloatRows(Enumerable.Range(0, atoms * width).Select(value).ToArray(), rowShape);
    }

    /// <summary>
    /// Structure <paramref name="i"/> with every kind of extra: strings, float rows (3,), ints and bools per structure,
    /// floats, (3,) floats, bools and ints per atom. Names go missing in some structures (config_type, magmom), appear
    /// late (tags), and some structures have no extras at all or only /info.
    /// </summary>
    private static LabelledStructure Rich(int i)
    {
        var item = Samples.Labelled(i, sourceIndex: i);
        if (i % 7 == 3) return item;
        int n = item.Structure.NumAtoms;
        var info = new Dictionary<string, ExtraValue>
        {
            [FormatNames.ConfigWeight] = ExtraValue.Float(1 + i * 0.25),
            ["dipole"] = ExtraValue.FloatRows([i, -i, 0.1 * i], 3),
            ["n_relax"] = ExtraValue.Integer(i * 1_000_000_007L),
            ["converged"] = ExtraValue.Bool(i % 2 == 0),
        };
        if (i % 4 != 1) info[FormatNames.ConfigType] = ExtraValue.String(i % 3 == 0 ? "bulk" : $"surface ü {i}");
        var arrays = new Dictionary<string, ExtraValue>();
        if (i % 11 != 5)
        {
            arrays["charges"] = PerAtom(n, k => i + k / 10.0);
            arrays[FormatNames.Fixed] = ExtraValue.BoolRows(Enumerable.Range(0, n).Select(k => (i + k) % 2 == 0).ToArray());
            if (i % 5 != 2) arrays["magmom"] = PerAtom(n, k => k % 3 == 0 ? double.NaN : i - k, 3);
            if (i >= 20) arrays["tags"] = ExtraValue.IntegerRows(Enumerable.Range(0, n).Select(k => (long)(k - i)).ToArray());
        }
        return item with { Extras = new StructureExtras(info, arrays) };
    }

    private static void ShouldMatch(StructureExtras? actual, StructureExtras? expected, long index)
    {
        if (expected is null || expected.IsEmpty)
        {
            actual.Should().BeNull($"structure {index} has no extras");
            return;
        }
        actual.Should().NotBeNull($"structure {index} has extras");
        ShouldMatch(actual!.Info, expected.Info, $"info of structure {index}");
        ShouldMatch(actual.Arrays, expected.Arrays, $"arrays of structure {index}");
    }

    private static void ShouldMatch(IReadOnlyDictionary<string, ExtraValue> actual, IReadOnlyDictionary<string, ExtraValue> expected, string what)
    {
        actual.Keys.Should().BeEquivalentTo(expected.Keys, what);
        foreach (var (name, e) in expected) ShouldEqual(actual[name], e, $"{what}: {name}");
    }

    private static void ShouldEqual(ExtraValue actual, ExtraValue expected, string what)
    {
        actual.Kind.Should().Be(expected.Kind, what);
        actual.RowShape.Should().Equal(expected.RowShape, what);
        actual.Rows.Should().Be(expected.Rows, what);
        switch (expected.Kind)
        {
            case ExtraKind.Float: actual.Floats.Should().Equal(expected.Floats, what); break;
            case ExtraKind.Integer: actual.Integers.Should().Equal(expected.Integers, what); break;
            case ExtraKind.Bool: actual.Bools.Should().Equal(expected.Bools, what); break;
            default: actual.Strings.Should().Equal(expected.Strings, what); break;
        }
    }

    [Fact]
    public void Indexer_OurFileWithExtras_ReturnsWhatWasWritten()
    {
        var items = Enumerable.Range(0, 40).Select(Rich).ToList();
        using var reader = new HDF5DatasetReader(Write(items));

        reader.SkippedExtras.Should().BeEmpty();
        for (int i = 0; i < items.Count; i++) ShouldMatch(reader[i].Extras, items[i].Extras, i);
        reader[1].Extras!.Info.Should().NotContainKey(FormatNames.ConfigType, "a masked-out name is absent, not NaN or \"\"");
        reader[5].Extras!.Arrays.Should().BeEmpty("structure 5 has only /info extras");
        reader[2].Extras!.Arrays.Should().NotContainKey("magmom");
        reader[19].Extras!.Arrays.Should().NotContainKey("tags", "tags first appear at structure 20");
    }

    [Fact]
    public void ReadAndReadBlocks_OurFileWithExtras_SameAsWrittenInEveryBlockSize()
    {
        var items = Enumerable.Range(0, 40).Select(Rich).ToList();
        using var reader = new HDF5DatasetReader(Write(items));

        var range = reader.Read(13, 17);
        for (int i = 0; i < range.Count; i++) ShouldMatch(range[i].Extras, items[13 + i].Extras, 13 + i);
        // Blocks cut by structure count and by atom budget: each cut must give every structure its own rows.
        foreach (var (structures, atoms) in new[] { (1, 1L << 20), (3, 1L << 20), (64, 10L), (7, 25L) })
        {
            var read = reader.ReadBlocks(2, 35, structures, atoms).SelectMany(b => b).ToList();
            read.Should().HaveCount(35);
            for (int i = 0; i < read.Count; i++) ShouldMatch(read[i].Extras, items[2 + i].Extras, 2 + i);
        }
        int k = 0;
        foreach (var item in reader) ShouldMatch(item.Extras, items[k].Extras, k++);
        k.Should().Be(40);
    }

    [Fact]
    public void Read_FileWithoutExtras_ExtrasAreNull()
    {
        using var reader = new HDF5DatasetReader(Reference);

        reader.Should().OnlyContain(item => item.Extras == null);
        reader.Read(0, reader.Count).Should().OnlyContain(item => item.Extras == null);
        reader.SkippedExtras.Should().BeEmpty();
    }

    [Fact]
    public void Indexer_StructureWithoutExtrasInFileWithExtras_ExtrasAreNull()
    {
        // Structures 3 and 10 have no extras (every name masked out), their neighbours have.
        using var reader = new HDF5DatasetReader(Write(Enumerable.Range(0, 12).Select(Rich)));

        reader[3].Extras.Should().BeNull();
        reader[10].Extras.Should().BeNull();
        reader.Read(2, 3).Select(item => item.Extras is null).Should().Equal(false, true, false);
    }

    // Adds /info and /arrays as a user of h5py would: contiguous datasets, numpy's dtypes, masks on some names (one all
    // true), and two datasets no ExtraValue can hold (fixed-length bytes, strings per atom).
    private const string AddExtrasScript = """
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    s = f["structures/atomic_numbers_splits"][:]
    S, A = len(s) - 1, int(s[-1])
    info, arrays = f.create_group("info"), f.create_group("arrays")
    info.create_dataset("config_type", data=np.array(["type %d é" % i for i in range(S)], dtype=h5py.string_dtype()))
    info["weight"] = np.arange(S) * 0.5
    info["weight_mask"] = np.arange(S) % 3 != 0
    info["vec"] = (np.arange(3 * S, dtype=np.float32) / 4).reshape(S, 3)
    info["tag"] = np.arange(S, dtype=np.int32) - 3
    info["small"] = np.arange(S, dtype=np.uint8)
    info["flag"] = np.arange(S) % 2 == 0
    info["flag_mask"] = np.ones(S, dtype=bool)
    info["code"] = np.array([b"ab"] * S)
    arrays["charges"] = np.arange(A) * 0.1
    arrays.create_dataset("magmom", data=np.arange(3 * A, dtype=np.float64).reshape(A, 3), chunks=(2, 3), compression="gzip")
    arrays["magmom_mask"] = np.arange(S) != 1
    arrays["fixed"] = np.arange(A) % 2 == 1
    arrays["symbols"] = np.array(["X"] * A, dtype=h5py.string_dtype())
""";

    [Fact]
    public void Read_H5pyWrittenExtras_ValuesAsH5pyWroteThem()
    {
        var items = Enumerable.Range(0, 7).Select(i => Samples.Labelled(i)).ToList();
        string path = Write(items, "h5py.h5");
        PythonScript.Run(AddExtrasScript, path);

        using var reader = new HDF5DatasetReader(path);

        reader.SkippedExtras.Keys.Should().BeEquivalentTo("/info/code", "/arrays/symbols");
        reader.SkippedExtras["/info/code"].Should().Contain("S2");
        reader.SkippedExtras["/arrays/symbols"].Should().Contain("strings per atom");
        long atom = 0;
        for (int i = 0; i < items.Count; i++)
        {
            int n = items[i].Structure.NumAtoms;
            var expectedInfo = new Dictionary<string, ExtraValue>
            {
                ["config_type"] = ExtraValue.String($"type {i} é"),
                // float32 and the narrow integers widen to float64 and int64, exactly.
                ["vec"] = ExtraValue.FloatRows([3 * i / 4.0, (3 * i + 1) / 4.0, (3 * i + 2) / 4.0], 3),
                ["tag"] = ExtraValue.Integer(i - 3),
                ["small"] = ExtraValue.Integer(i),
                ["flag"] = ExtraValue.Bool(i % 2 == 0),
            };
            if (i % 3 != 0) expectedInfo["weight"] = ExtraValue.Float(i * 0.5);
            long first = atom;
            var expectedArrays = new Dictionary<string, ExtraValue>
            {
                ["charges"] = ExtraValue.FloatRows(Enumerable.Range(0, n).Select(k => (first + k) * 0.1).ToArray()),
                ["fixed"] = ExtraValue.BoolRows(Enumerable.Range(0, n).Select(k => (first + k) % 2 == 1).ToArray()),
            };
            if (i != 1) expectedArrays["magmom"] = ExtraValue.FloatRows(Enumerable.Range(0, 3 * n).Select(k => (double)(3 * first + k)).ToArray(), 3);
            ShouldMatch(reader[i].Extras, new StructureExtras(expectedInfo, expectedArrays), i);
            atom += n;
        }
    }

    [Fact]
    public void Read_H5pyInfoWithoutMasks_EveryStructureHasTheName()
    {
        string path = Write(Enumerable.Range(0, 5).Select(i => Samples.Labelled(i)), "nomask.h5");
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    S = len(f["labels/energy"])
    f["info/total_charge"] = np.array([0.0, np.nan, -1.0, 2.5, 0.0])[:S]
""", path);

        using var reader = new HDF5DatasetReader(path);

        var charges = reader.Select(item => item.Extras!.Info[FormatNames.TotalCharge].Floats!.Single()).ToList();
        charges.Should().Equal([0.0, double.NaN, -1.0, 2.5, 0.0], "without a mask a NaN is a value the structure has");
        reader.Should().OnlyContain(item => item.Extras!.Arrays.Count == 0);
    }

    [Fact]
    public void AddBatch_AppendItemsReadFromFileWithExtras_ExtrasKept()
    {
        var source = Enumerable.Range(0, 30).Select(Rich).ToList();
        string sourcePath = Write(source, "source.h5");
        // The target already has its own extras: merged names continue, new ones are back-filled.
        string target = Write(Enumerable.Range(100, 4).Select(i => Samples.Labelled(i) with
        {
            Extras = new StructureExtras(new Dictionary<string, ExtraValue> { [FormatNames.ConfigType] = ExtraValue.String("old"), ["origin"] = ExtraValue.Integer(i) },
                                         new Dictionary<string, ExtraValue>()),
        }), "target.h5");

        using (var reader = new HDF5DatasetReader(sourcePath))
        using (var writer = new HDF5DatasetWriter(target, WriteMode.Append, Options))
        {
            foreach (var block in reader.ReadBlocks(maxStructures: 8)) writer.AddBatch(block);
            writer.Complete();
        }

        using var merged = new HDF5DatasetReader(target);
        merged.Count.Should().Be(34);
        merged[0].Extras!.Info[FormatNames.ConfigType].Strings.Should().Equal("old");
        for (int i = 0; i < source.Count; i++)
            ShouldMatch(merged[4 + i].Extras, source[i].Extras, 4 + i);
    }

    [Fact]
    public void AddStructure_RewriteOfFileWithExtras_EqualsTheFile()
    {
        string original = Write(Enumerable.Range(0, 40).Select(Rich), "original.h5");
        string copy = _dir.File("copy.h5");

        using (var reader = new HDF5DatasetReader(original))
        using (var writer = new HDF5DatasetWriter(copy, options: Options))
        {
            foreach (var item in reader) writer.AddStructure(item);
            writer.Complete();
        }

        var comparison = DatasetComparer.Compare(original, copy);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }

    /// <summary>
    /// A reference for <see cref="ReferenceValidator"/>: config_type and charges in every structure (no masks),
    /// names only in the first half, only in the second (so the append check creates the mask), and here and there.
    /// </summary>
    private string WriteReferenceWithExtras(int count = 50)
    {
        return Write(Enumerable.Range(0, count).Select(i =>
        {
            var item = Samples.Labelled(i, sourceIndex: 1000 + i);
            int n = item.Structure.NumAtoms;
            var info = new Dictionary<string, ExtraValue> { [FormatNames.ConfigType] = ExtraValue.String($"c{i % 3}") };
            if (i < count / 2) info["early"] = ExtraValue.Integer(i);
            if (i >= count / 2 + 3) info["late"] = ExtraValue.FloatRows([i, 2.0 * i], 2);
            if (i % 4 == 0) info[FormatNames.TotalCharge] = ExtraValue.Float(-i);
            var arrays = new Dictionary<string, ExtraValue> { ["charges"] = PerAtom(n, k => 0.5 * k - i) };
            if (i % 3 == 1) arrays[FormatNames.Fixed] = ExtraValue.BoolRows(Enumerable.Range(0, n).Select(k => k == 0).ToArray());
            return item with { Extras = new StructureExtras(info, arrays) };
        }), "reference.h5");
    }

    [Fact]
    public void ReferenceValidator_ReferenceWithExtras_EveryRewriteMatches()
    {
        string reference = WriteReferenceWithExtras();

        var report = ReferenceValidator.Run(reference, _dir.File("work"));

        report.Checks.Should().HaveCount(7);
        report.FirstFailure?.Comparison.Detail.Should().BeNull();
        report.Passed.Should().BeTrue();
        // h5py, independently: the rewrites carry the reference's extras and its masks, no more, no fewer.
        string listing = PythonScript.Run("""
import glob, h5py, os, sys
for path in [sys.argv[1]] + sorted(glob.glob(os.path.join(sys.argv[2], "*.h5"))):
    with h5py.File(path, "r") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if n.startswith(("info/", "arrays/")) else None)
        print(" ".join(sorted(names)))
""", reference, _dir.File("work"));
        var lines = listing.Trim().Split('\n');
        lines.Should().HaveCount(8);
        lines[0].Should().Be("arrays/charges arrays/fixed arrays/fixed_mask info/config_type info/early info/early_mask info/late info/late_mask info/total_charge info/total_charge_mask");
        lines.Should().AllBe(lines[0]);
    }

    [Fact]
    public void ReferenceValidator_AllTrueMaskInReference_PassesWithoutTheMaskInRewrites()
    {
        // A mask that says every structure has the name: the writer makes none, and the comparer takes them as equal.
        string reference = WriteReferenceWithExtras();
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    f["info/config_type_mask"] = np.ones(len(f["labels/energy"]), dtype=bool)
""", reference);

        var report = ReferenceValidator.Run(reference, _dir.File("work"));

        report.FirstFailure?.Comparison.Detail.Should().BeNull();
        report.Passed.Should().BeTrue();
    }

    [Fact]
    public void ReferenceValidator_ExtraTheReaderSkips_FailsSayingWhy()
    {
        string reference = WriteReferenceWithExtras(10);
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    f["arrays/symbols"] = np.array(["X"] * len(f["structures/atomic_numbers"]), dtype=h5py.string_dtype())
""", reference);

        var report = ReferenceValidator.Run(reference, _dir.File("work"));

        report.Passed.Should().BeFalse();
        var failure = report.FirstFailure!.Comparison;
        failure.Dataset.Should().Be("/arrays/symbols");
        failure.Detail.Should().Contain("is missing").And.Contain("the reader skips it").And.Contain("strings per atom");
    }

    [Fact]
    public void DatasetComparer_MaskAllTrueAgainstNoMask_Equal()
    {
        string withoutMask = WriteReferenceWithExtras(8);
        string withMask = _dir.File("with-mask.h5");
        File.Copy(withoutMask, withMask);
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    f["arrays/charges_mask"] = np.ones(len(f["labels/energy"]), dtype=bool)
""", withMask);

        DatasetComparer.Compare(withMask, withoutMask).Equal.Should().BeTrue();
        DatasetComparer.Compare(withoutMask, withMask).Equal.Should().BeTrue();
    }

    [Fact]
    public void DatasetComparer_MaskWithFalseAgainstNoMask_Differs()
    {
        string withoutMask = WriteReferenceWithExtras(8);
        string withMask = _dir.File("with-mask.h5");
        File.Copy(withoutMask, withMask);
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    m = np.ones(len(f["labels/energy"]), dtype=bool)
    m[3] = False
    f["arrays/charges_mask"] = m
""", withMask);

        var missing = DatasetComparer.Compare(withMask, withoutMask);
        missing.Equal.Should().BeFalse();
        missing.Dataset.Should().Be("/arrays/charges_mask");
        missing.Detail.Should().Contain("is missing, but some structures lack the name");
        var extra = DatasetComparer.Compare(withoutMask, withMask);
        extra.Equal.Should().BeFalse();
        extra.Detail.Should().Contain("/arrays/charges_mask: is not in the expected file");
    }
}
