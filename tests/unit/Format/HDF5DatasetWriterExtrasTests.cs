using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>FORMAT.md's optional /info and /arrays groups: lazy columns, missing values, masks, append and abort.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetWriterExtrasTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    private string Output => _dir.File("out.h5");

    private WriteOptions Options(long chunkBytes = 1 << 20) =>
        Samples.Collecting(_warnings, new WriteOptions { Compression = Compression.Gzip(4), ChunkBytes = chunkBytes });

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once writers and files are disposed");
        _dir.Dispose();
    }

    // Every dataset of /info and /arrays as plain h5py sees it: dtype, shape, string encoding, values (NaN as null).
    private const string DumpScript = """
import h5py, json, math, sys
out = {"groups": [], "datasets": {}}
with h5py.File(sys.argv[1], "r") as f:
    out["groups"] = sorted(f.keys())
    for g in ("info", "arrays"):
        if g not in f:
            continue
        for name, d in f[g].items():
            s = h5py.check_string_dtype(d.dtype)
            if s is not None:
                values = d.asstr()[()].reshape(-1).tolist()
            else:
                a = d[()]
                values = [None if a.dtype.kind == "f" and math.isnan(x) else x for x in a.reshape(-1).tolist()]
            out["datasets"][g + "/" + name] = {"dtype": str(d.dtype), "shape": list(d.shape),
                                               "encoding": None if s is None else s.encoding, "values": values}
print(json.dumps(out))
""";

    private sealed class Dump(JsonDocument doc) : IDisposable
    {
        private JsonElement Datasets => doc.RootElement.GetProperty("datasets");

        public IEnumerable<string> Groups => doc.RootElement.GetProperty("groups").EnumerateArray().Select(e => e.GetString()!);

        public IEnumerable<string> Names => Datasets.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);

        public string DType(string name) => Datasets.GetProperty(name).GetProperty("dtype").GetString()!;

        public string? Encoding(string name) => Datasets.GetProperty(name).GetProperty("encoding").GetString();

        public int[] Shape(string name) => Datasets.GetProperty(name).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        private IEnumerable<JsonElement> Values(string name) => Datasets.GetProperty(name).GetProperty("values").EnumerateArray();

        public string[] Strings(string name) => Values(name).Select(e => e.GetString()!).ToArray();

        public double[] Floats(string name) => Values(name).Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble()).ToArray();

        public long[] Ints(string name) => Values(name).Select(e => e.GetInt64()).ToArray();

        public bool[] Bools(string name) => Values(name).Select(e => e.GetBoolean()).ToArray();

        public void Dispose() => doc.Dispose();
    }

    private static Dump Read(string path) => new(JsonDocument.Parse(PythonScript.Run(DumpScript, path)));

    private static StructureExtras Extras(Dictionary<string, ExtraValue>? info = null, Dictionary<string, ExtraValue>? arrays = null) =>
        new(info ?? new Dictionary<string, ExtraValue>(), arrays ?? new Dictionary<string, ExtraValue>());

    private static LabelledStructure Item(int seed, StructureExtras? extras) => Samples.Labelled(seed) with { Extras = extras };

    /// <summary>Per-atom charges of a structure: atom k of structure seed holds seed + k / 10.</summary>
    private static ExtraValue Charges(int seed) =>
        ExtraValue.FloatRows(Enumerable.Range(0, Samples.Labelled(seed).Structure.NumAtoms).Select(k => seed + k / 10.0).ToArray());

    [Fact]
    public void AddStructure_NameFirstSeenAt500_EarlierRowsBackfilledAndMasked()
    {
        var items = Enumerable.Range(0, 520).Select(i => Item(i, i < 500 ? null : Extras(
            new() { [FormatNames.ConfigType] = ExtraValue.String($"late {i}") },
            new() { ["charges"] = Charges(i) }))).ToList();
        using (var w = new HDF5DatasetWriter(Output, options: Options(chunkBytes: 256)))
            foreach (var item in items) w.AddStructure(item);

        using var dump = Read(Output);
        dump.Groups.Should().Equal("arrays", "info", "labels", "metadata", "structures");
        dump.Names.Should().Equal("arrays/charges", "arrays/charges_mask", "info/config_type", "info/config_type_mask");
        dump.Strings("info/config_type").Should().Equal(Enumerable.Range(0, 520).Select(i => i < 500 ? "" : $"late {i}"));
        dump.Bools("info/config_type_mask").Should().Equal(Enumerable.Range(0, 520).Select(i => i >= 500));
        int atomsBefore = items.Take(500).Sum(i => i.Structure.NumAtoms);
        var charges = dump.Floats("arrays/charges");
        charges.Should().HaveCount(items.Sum(i => i.Structure.NumAtoms));
        charges.Take(atomsBefore).Should().OnlyContain(x => double.IsNaN(x));
        charges.Skip(atomsBefore).Should().Equal(Enumerable.Range(500, 20).SelectMany(i => Charges(i).Floats!));
        dump.Shape("arrays/charges_mask").Should().Equal(520);
        dump.Bools("arrays/charges_mask").Should().Equal(Enumerable.Range(0, 520).Select(i => i >= 500));
    }

    [Fact]
    public void AddStructure_NameMissingLater_MissingValuesAndFalseInMask()
    {
        // Present, present, missing, present, missing (the last gap is filled at Complete).
        bool[] has = [true, true, false, true, false];
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            for (int i = 0; i < has.Length; i++)
            {
                var s = Samples.Labelled(i);
                int n = s.Structure.NumAtoms;
                var extras = has[i]
                    ? Extras(new() { ["tag"] = ExtraValue.Integer(10 + i), ["ok"] = ExtraValue.Bool(true), [FormatNames.TotalCharge] = ExtraValue.Float(-i) },
                             new() { ["magmom"] = ExtraValue.FloatRows(Enumerable.Repeat(1.5, 3 * n).ToArray(), 3), [FormatNames.Fixed] = ExtraValue.BoolRows(Enumerable.Repeat(true, n).ToArray()) })
                    : null;
                w.AddStructure(s.Structure, s.Labels.Energy, s.Labels.Forces, s.Labels.Stress, extras: extras);
            }

        using var dump = Read(Output);
        dump.Ints("info/tag").Should().Equal(10, 11, 0, 13, 0);
        dump.Bools("info/ok").Should().Equal(true, true, false, true, false);
        dump.Floats("info/total_charge").Should().Equal([0, -1, double.NaN, -3, double.NaN]);
        foreach (var mask in new[] { "info/tag_mask", "info/ok_mask", "info/total_charge_mask", "arrays/magmom_mask", "arrays/fixed_mask" })
        {
            dump.DType(mask).Should().Be("bool", mask);
            dump.Bools(mask).Should().Equal(has, mask);
        }
        var sizes = Enumerable.Range(0, 5).Select(i => Samples.Labelled(i).Structure.NumAtoms).ToArray();
        dump.Shape("arrays/magmom").Should().Equal(sizes.Sum(), 3);
        dump.Floats("arrays/magmom").Should().Equal(Enumerable.Range(0, 5).SelectMany(i => Enumerable.Repeat(has[i] ? 1.5 : double.NaN, 3 * sizes[i])));
        dump.Bools("arrays/fixed").Should().Equal(Enumerable.Range(0, 5).SelectMany(i => Enumerable.Repeat(has[i], sizes[i])));
    }

    [Fact]
    public void AddStructure_EveryStructureHasEveryName_NoMasks()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            for (int i = 0; i < 6; i++)
                w.AddStructure(Item(i, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("bulk"), [FormatNames.ConfigWeight] = ExtraValue.Float(1) },
                                              new() { ["charges"] = Charges(i) })));

        using var dump = Read(Output);
        dump.Names.Should().Equal("arrays/charges", "info/config_type", "info/config_weight");
        dump.DType("info/config_weight").Should().Be("float64");
        dump.DType("info/config_type").Should().Be("object");
        dump.Encoding("info/config_type").Should().Be("utf-8");
        dump.Shape("info/config_type").Should().Equal(6);
    }

    [Fact]
    public void AddStructure_NoExtras_NoOptionalGroups()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Samples.Labelled(0));
            w.AddStructure(Item(1, StructureExtras.Empty));
        }
        using var dump = Read(Output);
        dump.Groups.Should().Equal("labels", "metadata", "structures");
    }

    [Fact]
    public void AddStructure_KindChanges_ThrowsNamingFieldAndWriterStaysUsable()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Item(0, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("bulk") })));

            var act = () => w.AddStructure(Item(1, Extras(new() { [FormatNames.ConfigType] = ExtraValue.Float(1.0) })));

            var e = act.Should().Throw<ValidationException>().Which;
            e.Field.Should().Be("info/config_type");
            e.StructureIndex.Should().Be(1);
            e.Message.Should().Contain("info/config_type: is float64 here but string in earlier structures");
            w.Count.Should().Be(1);
            w.AddStructure(Item(1, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("surface") })));
        }
        using var dump = Read(Output);
        dump.Strings("info/config_type").Should().Equal("bulk", "surface");
    }

    [Fact]
    public void AddStructure_RowShapeChanges_Rejected()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        int n0 = Samples.Labelled(0).Structure.NumAtoms, n2 = Samples.Labelled(2).Structure.NumAtoms;
        w.AddStructure(Item(0, Extras(arrays: new() { ["magmom"] = ExtraValue.FloatRows(new double[3 * n0], 3) })));

        var act = () => w.AddStructure(Item(2, Extras(arrays: new() { ["magmom"] = ExtraValue.FloatRows(new double[n2]) })));

        act.Should().Throw<ValidationException>().Which.Message.Should().Contain("arrays/magmom: is float64 here but float64 (3) in earlier structures");
        w.Abort();
    }

    [Fact]
    public void AddStructure_InfoWithTwoRows_Rejected()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var act = () => w.AddStructure(Item(0, Extras(new() { ["pair"] = ExtraValue.FloatRows([1.0, 2.0]) })));
        var e = act.Should().Throw<ValidationException>().Which;
        e.Field.Should().Be("info/pair");
        e.Message.Should().Contain("has 2 rows, expected 1");
        w.Count.Should().Be(0);
        w.Abort();
    }

    [Fact]
    public void AddStructure_ArrayRowsNotAtomCount_Rejected()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        int n = Samples.Labelled(0).Structure.NumAtoms;
        var act = () => w.AddStructure(Item(0, Extras(arrays: new() { ["charges"] = ExtraValue.FloatRows(new double[n + 1]) })));
        var e = act.Should().Throw<ValidationException>().Which;
        e.Field.Should().Be("arrays/charges");
        e.Message.Should().Contain($"has {n + 1} rows, expected one per atom ({n})");
        w.Abort();
    }

    [Fact]
    public void AddStructure_StringInArrays_Rejected()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var single = Samples.Molecule(1);
        var act = () => w.AddStructure(single, -1.0, new double[3], extras: Extras(arrays: new() { ["label"] = ExtraValue.String("O") }));
        act.Should().Throw<ValidationException>().Which.Field.Should().Be("arrays/label");
        w.Abort();
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("energy_mask")]
    [InlineData("")]
    [InlineData(".")]
    public void AddStructure_InvalidName_Rejected(string name)
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var act = () => w.AddStructure(Item(0, Extras(new() { [name] = ExtraValue.Float(1) })));
        act.Should().Throw<ValidationException>().Which.Field.Should().Be($"info/{name}");
        w.Abort();
    }

    [Fact]
    public void AddBatch_ConflictingKindInsideBatch_AddsNothing()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Samples.Labelled(0));
            var batch = Enumerable.Range(1, 5).Select(i => Item(i, Extras(new() { ["weight"] = i == 4 ? ExtraValue.Integer(4) : ExtraValue.Float(i) }))).ToList();

            var act = () => w.AddBatch(batch);

            var e = act.Should().Throw<ValidationException>().Which;
            e.StructureIndex.Should().Be(4);
            e.Message.Should().Contain("info/weight: is int64 here but float64 in earlier structures");
            w.Count.Should().Be(1);
        }
        using var dump = Read(Output);
        dump.Groups.Should().Equal("labels", "metadata", "structures");
    }

    [Fact]
    public void AddBatch_WithExtras_SameFileAsOneByOne()
    {
        var items = Enumerable.Range(0, 30).Select(i => Item(i, i % 3 == 0 ? null : Extras(
            new() { [FormatNames.ConfigType] = ExtraValue.String($"c{i % 4}") }, new() { ["charges"] = Charges(i) }))).ToList();
        string one = _dir.File("one.h5"), all = _dir.File("all.h5");
        using (var w = new HDF5DatasetWriter(one, options: Options()))
            foreach (var item in items) w.AddStructure(item);
        using (var w = new HDF5DatasetWriter(all, options: Options()))
            w.AddBatch(items);

        var comparison = DatasetComparer.Compare(one, all);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        using var dump = Read(all);
        dump.Bools("info/config_type_mask").Should().Equal(items.Select(i => i.Extras is not null));
    }

    [Fact]
    public void Append_ExistingExtras_ContinuedAndNewNamesBackfilled()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Item(0, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("a"), ["x"] = ExtraValue.Float(1) })));
            w.AddStructure(Item(1, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("b") })));
        }
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options()))
        {
            w.AddStructure(Item(2, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("c"), ["x"] = ExtraValue.Float(3) },
                                          new() { ["charges"] = Charges(2) })));
            w.AddStructure(Item(3, Extras(new() { ["new_key"] = ExtraValue.Integer(7) })));
        }

        using var dump = Read(Output);
        dump.Names.Should().Equal("arrays/charges", "arrays/charges_mask", "info/config_type", "info/config_type_mask",
            "info/new_key", "info/new_key_mask", "info/x", "info/x_mask");
        dump.Strings("info/config_type").Should().Equal("a", "b", "c", "");
        dump.Bools("info/config_type_mask").Should().Equal(true, true, true, false);
        dump.Floats("info/x").Should().Equal([1, double.NaN, 3, double.NaN]);
        dump.Bools("info/x_mask").Should().Equal(true, false, true, false);
        dump.Ints("info/new_key").Should().Equal(0, 0, 0, 7);
        dump.Bools("info/new_key_mask").Should().Equal(false, false, false, true);
        int before = Samples.Labelled(0).Structure.NumAtoms + Samples.Labelled(1).Structure.NumAtoms;
        var charges = dump.Floats("arrays/charges");
        charges.Take(before).Should().OnlyContain(x => double.IsNaN(x));
        charges.Skip(before).Take(Samples.Labelled(2).Structure.NumAtoms).Should().Equal(Charges(2).Floats!);
        dump.Bools("arrays/charges_mask").Should().Equal(false, false, true, false);
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(4);
    }

    [Fact]
    public void Abort_Append_RemovesNewDatasetsAndCutsContinuedOnes()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddBatch([Item(0, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("a") })),
                        Item(1, Extras(new() { [FormatNames.ConfigType] = ExtraValue.String("b") }))]);
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options(chunkBytes: 64)))
        {
            for (int i = 2; i < 120; i++)
                w.AddStructure(Item(i, i % 2 == 0
                    ? Extras(new() { [FormatNames.ConfigType] = ExtraValue.String($"s{i}"), ["new_key"] = ExtraValue.Float(i) }, new() { ["charges"] = Charges(i) })
                    : null));
            w.Abort();
        }

        var output = PythonScript.Run("""
import h5py, json, sys
with h5py.File(sys.argv[1], "r") as f:
    print(json.dumps({"groups": sorted(f.keys()), "info": sorted(f["info"].keys()),
                      "config_type": list(f["info/config_type"].asstr()[:]), "energy": len(f["labels/energy"])}))
""", Output);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        root.GetProperty("groups").EnumerateArray().Select(e => e.GetString()).Should().Equal("info", "labels", "metadata", "structures");
        root.GetProperty("info").EnumerateArray().Select(e => e.GetString()).Should().Equal("config_type");
        root.GetProperty("config_type").EnumerateArray().Select(e => e.GetString()).Should().Equal("a", "b");
        root.GetProperty("energy").GetInt32().Should().Be(2);
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(2);
    }

    [Fact]
    public void Abort_AppendToFileWithoutExtras_RemovesNewGroups()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options(chunkBytes: 64)))
        {
            for (int i = 1; i < 40; i++)
                w.AddStructure(Item(i, Extras(new() { ["x"] = ExtraValue.Float(i) }, new() { ["charges"] = Charges(i) })));
            w.Abort();
        }
        using var dump = Read(Output);
        dump.Groups.Should().Equal("labels", "metadata", "structures");
    }

    [Theory]
    [InlineData("info", "total_charge")]
    [InlineData("info", "total_charge_mask")]
    [InlineData("arrays", "charges")]
    public void DatasetLayout_ExtraWithWrongRowCount_ThrowsNamingTheDataset(string group, string name)
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Item(0, Extras(new() { [FormatNames.TotalCharge] = ExtraValue.Float(0) }, new() { ["charges"] = Charges(0) })));
            w.AddStructure(Samples.Labelled(1));
        }
        PythonScript.Run("""
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    d = f[sys.argv[2]]
    d.resize(d.shape[0] + 1, axis=0)
""", Output, $"{group}/{name}");

        var act = () => new HDF5DatasetReader(Output);

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().Contain($"/{group}/{name}").And.Contain("rows");
        var append = () => new HDF5DatasetWriter(Output, WriteMode.Append, Options());
        append.Should().Throw<DatasetFormatException>();
    }

    [Fact]
    public void Append_ExtraOfAnotherDtype_ThrowsNamingItAndLeavesFileUntouched()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    f.create_dataset("info/energy_f32", data=np.zeros(1, dtype=np.float32), maxshape=(None,), chunks=(4,))
""", Output);
        var before = File.ReadAllBytes(Output);

        var act = () => new HDF5DatasetWriter(Output, WriteMode.Append, Options());

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().Contain("/info/energy_f32").And.Contain("float32");
        File.ReadAllBytes(Output).Should().Equal(before);
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(1, "readers ignore what they do not use; only append must know every extra's type");
    }

    [Fact]
    public void DatasetLayout_MaskWithoutItsDataset_ThrowsNamingTheMask()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    f.create_dataset("arrays/orphan_mask", data=np.ones(1, dtype=bool), maxshape=(None,), chunks=(4,))
""", Output);

        var act = () => new HDF5DatasetReader(Output);

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().Contain("/arrays/orphan_mask").And.Contain("without its dataset");
    }

    [Fact]
    public void DatasetComparer_FilesDifferOnlyInInfo_ReportsTheDataset()
    {
        string a = _dir.File("a.h5"), b = _dir.File("b.h5"), c = _dir.File("c.h5");
        void Write(string path, string? type)
        {
            using var w = new HDF5DatasetWriter(path, options: Options());
            for (int i = 0; i < 4; i++)
                w.AddStructure(Item(i, type is null ? null : Extras(new() { [FormatNames.ConfigType] = ExtraValue.String(i == 2 ? type : "bulk"), ["q"] = ExtraValue.Float(double.NaN) })));
        }
        Write(a, "slab");
        Write(b, "surface");
        Write(c, null);

        DatasetComparer.Compare(a, a).Equal.Should().BeTrue("NaN equals NaN");
        var differs = DatasetComparer.Compare(a, b);
        differs.Equal.Should().BeFalse();
        differs.Dataset.Should().Be("/info/config_type");
        differs.Row.Should().Be(2);
        differs.Detail.Should().Contain("expected \"slab\", got \"surface\"");
        var missing = DatasetComparer.Compare(a, c);
        missing.Equal.Should().BeFalse();
        missing.Dataset.Should().Be("/info/config_type");
        DatasetComparer.Compare(c, a).Detail.Should().Contain("is not in the expected file");
    }

    [Fact]
    public void AddStructure_EmptyExtras_AllocatesNothingPerStructure()
    {
        var s = Samples.Labelled(0);
        using var w = new HDF5DatasetWriter(Output, options: Options() with { Validate = false });
        for (int i = 0; i < 100; i++) w.AddStructure(s.Structure, s.Labels.Energy, s.Labels.Forces, extras: StructureExtras.Empty);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) w.AddStructure(s.Structure, s.Labels.Energy, s.Labels.Forces, extras: StructureExtras.Empty);
        long perStructure = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000;

        perStructure.Should().BeLessThan(64, "the empty-extras path must not allocate per structure");
    }
}
