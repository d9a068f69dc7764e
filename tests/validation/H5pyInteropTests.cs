using System.Globalization;
using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.ValidationTests;

/// <summary>
/// h5py is the independent oracle: it reads what we write and writes what we read, each side checking values
/// exactly and dtypes against FORMAT.md.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class H5pyInteropTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // Reads every dataset and attribute with plain h5py and prints dtypes, shapes, chunking and values as JSON
    // (floats as repr, which round-trips exactly).
    private const string DumpScript = """
import h5py, json, sys, numpy as np
out = {"datasets": {}, "attrs": {}, "units": {}}
with h5py.File(sys.argv[1], "r") as f:
    out["groups"] = sorted(f.keys())
    out["structures_members"] = sorted(f["structures"].keys())
    for g in ("structures", "labels"):
        for name, d in f[g].items():
            a = d[()]
            out["datasets"][g + "/" + name] = {
                "dtype": str(d.dtype), "shape": list(d.shape), "maxshape": [m if m is not None else -1 for m in d.maxshape],
                "chunked": d.chunks is not None, "compression": d.compression, "shuffle": bool(d.shuffle),
                "values": [repr(float(x)) if a.dtype.kind == "f" else (bool(x) if a.dtype.kind == "b" else int(x)) for x in a.reshape(-1)],
                "bool_enum": h5py.check_enum_dtype(d.dtype) is not None or d.dtype == np.bool_,
            }
            if "units" in d.attrs: out["units"][g + "/" + name] = d.attrs["units"]
    for k, v in f["metadata"].attrs.items():
        out["attrs"][k] = {"type": type(v).__name__, "value": v.item() if hasattr(v, "item") else v}
print(json.dumps(out))
""";

    [Fact]
    public void H5py_ReadsOurFile_WithFormatMdDtypesShapesAndExactValues()
    {
        string path = _dir.File("ours.h5");
        var items = Enumerable.Range(0, 40).Select(i => Samples.Labelled(i)).ToList();
        using (var w = new HDF5DatasetWriter(path, options: new WriteOptions { Compression = Compression.Gzip(4), Warning = _ => { } }))
        {
            w.AddBatch(items);
            w.Complete(new Dictionary<string, object?> { ["teacher_model"] = "orb-v2", ["seed"] = 7L, ["strict"] = true });
        }

        using var doc = JsonDocument.Parse(PythonScript.Run(DumpScript, path));
        var root = doc.RootElement;
        root.GetProperty("groups").EnumerateArray().Select(e => e.GetString()).Should().Equal("labels", "metadata", "structures");
        root.GetProperty("structures_members").EnumerateArray().Select(e => e.GetString()).Should().Equal("atomic_numbers", "atomic_numbers_splits", "cells", "pbc", "positions");

        var ds = root.GetProperty("datasets");
        int atoms = items.Sum(i => i.Structure.NumAtoms), n = items.Count;
        void Expect(string name, string dtype, int[] shape)
        {
            var d = ds.GetProperty(name);
            d.GetProperty("dtype").GetString().Should().Be(dtype, name);
            d.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(shape, name);
            d.GetProperty("maxshape")[0].GetInt32().Should().Be(-1, $"{name} must be extensible (maxshape None)");
            d.GetProperty("chunked").GetBoolean().Should().BeTrue(name);
            d.GetProperty("compression").GetString().Should().Be("gzip", name);
            d.GetProperty("shuffle").GetBoolean().Should().BeTrue(name);
        }
        Expect("structures/atomic_numbers", "int64", [atoms]);
        Expect("structures/atomic_numbers_splits", "int64", [n + 1]);
        Expect("structures/positions", "float64", [atoms, 3]);
        Expect("structures/cells", "float64", [n, 3, 3]);
        Expect("structures/pbc", "bool", [n, 3]);
        Expect("labels/energy", "float64", [n]);
        Expect("labels/forces", "float32", [atoms, 3]);
        Expect("labels/forces_splits", "int64", [n + 1]);
        Expect("labels/stress", "float64", [n, 6]);
        Expect("labels/stress_mask", "bool", [n]);
        Expect("labels/structure_indices", "int64", [n]);

        Floats(ds, "structures/positions").Should().Equal(items.SelectMany(i => i.Structure.Positions));
        Floats(ds, "structures/cells").Should().Equal(items.SelectMany(i => i.Structure.Cell));
        Floats(ds, "labels/energy").Should().Equal(items.Select(i => i.Labels.Energy));
        Floats(ds, "labels/forces").Should().Equal(items.SelectMany(i => i.Labels.Forces).Select(f => (double)(float)f));
        Floats(ds, "labels/stress").Should().Equal(items.SelectMany(i => i.Labels.Stress ?? new double[6]));
        Bools(ds, "structures/pbc").Should().Equal(items.SelectMany(i => i.Structure.Pbc));
        Bools(ds, "labels/stress_mask").Should().Equal(items.Select(i => i.Labels.Stress is not null));
        Ints(ds, "structures/atomic_numbers").Should().Equal(items.SelectMany(i => i.Structure.AtomicNumbers.Select(z => (long)z)));

        var units = root.GetProperty("units");
        units.GetProperty("structures/positions").GetString().Should().Be("Ang");
        units.GetProperty("structures/cells").GetString().Should().Be("Ang");
        units.GetProperty("labels/energy").GetString().Should().Be("eV");
        units.GetProperty("labels/forces").GetString().Should().Be("eV Ang-1");
        units.GetProperty("labels/stress").GetString().Should().Be("eV Ang-3");

        var attrs = root.GetProperty("attrs");
        (string Type, JsonElement Value) Attr(string name) => (attrs.GetProperty(name).GetProperty("type").GetString()!, attrs.GetProperty(name).GetProperty("value"));
        Attr("num_structures").Type.Should().Be("int64");
        Attr("num_structures").Value.GetInt64().Should().Be(n);
        Attr("num_atoms").Value.GetInt64().Should().Be(atoms);
        Attr("format_version").Type.Should().Be("str");
        Attr("format_version").Value.GetString().Should().Be("1.0");
        Attr("compression").Value.GetString().Should().Be("gzip-4");
        Attr("teacher_model").Type.Should().Be("str");
        Attr("seed").Type.Should().Be("int64");
        Attr("strict").Type.Should().Be("bool_", "a bool attribute is h5py's bool enum, read back as numpy.bool_");
        Attr("energy_mean").Type.Should().Be("float64");
    }

    private const string WriteScript = """
import h5py, json, sys, numpy as np
path, comp = sys.argv[1], sys.argv[2]
kw = {"none": {}, "gzip": {"compression": "gzip", "compression_opts": 4}, "gzip-shuffle": {"compression": "gzip", "compression_opts": 4, "shuffle": True},
      "lzf": {"compression": "lzf"}, "lzf-shuffle": {"compression": "lzf", "shuffle": True}}[comp]
rng = np.random.default_rng(5)
sizes = rng.integers(1, 40, size=200)
S, A = len(sizes), int(sizes.sum())
splits = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
data = {
  "structures/atomic_numbers": rng.integers(1, 90, size=A).astype(np.int64),
  "structures/atomic_numbers_splits": splits,
  "structures/positions": rng.normal(size=(A, 3)) * 5,
  "structures/cells": np.repeat(np.eye(3)[None] * 10.0, S, axis=0),
  "structures/pbc": rng.random((S, 3)) > 0.5,
  "labels/energy": rng.normal(size=S) * 100,
  "labels/forces": rng.normal(size=(A, 3)).astype(np.float32),
  "labels/forces_splits": splits.copy(),
  "labels/stress": rng.normal(size=(S, 6)) * 0.01,
  "labels/stress_mask": rng.random(S) > 0.5,
  "labels/structure_indices": np.arange(S, dtype=np.int64),
}
with h5py.File(path, "w") as f:
    for name, a in data.items():
        f.create_dataset(name, data=a, maxshape=(None,) + a.shape[1:], chunks=(min(64, len(a)),) + a.shape[1:], **kw)
    f.create_group("metadata").attrs["num_structures"] = S
print(json.dumps({k: [repr(float(x)) if v.dtype.kind == "f" else (bool(x) if v.dtype.kind == "b" else int(x)) for x in v.reshape(-1)] for k, v in data.items()}))
""";

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("gzip-shuffle")]
    [InlineData("lzf")]
    [InlineData("lzf-shuffle")]
    public void OurLayer_ReadsH5pyFile_ExactValues(string compression)
    {
        string path = _dir.File($"h5py-{compression}.h5");
        using var doc = JsonDocument.Parse(PythonScript.Run(WriteScript, path, compression));
        var expected = doc.RootElement;

        var stored = StoredDataset.Read(path);
        stored.Positions.Should().Equal(FloatList(expected, "structures/positions"));
        stored.Cells.Should().Equal(FloatList(expected, "structures/cells"));
        stored.Energy.Should().Equal(FloatList(expected, "labels/energy"));
        stored.Forces.Select(f => (double)f).Should().Equal(FloatList(expected, "labels/forces"));
        stored.Stress.Should().Equal(FloatList(expected, "labels/stress"));
        stored.Pbc.Should().Equal(expected.GetProperty("structures/pbc").EnumerateArray().Select(e => e.GetBoolean()));
        stored.StressMask.Should().Equal(expected.GetProperty("labels/stress_mask").EnumerateArray().Select(e => e.GetBoolean()));
        stored.AtomicNumbers.Should().Equal(expected.GetProperty("structures/atomic_numbers").EnumerateArray().Select(e => e.GetInt64()));
        stored.Splits.Should().Equal(expected.GetProperty("structures/atomic_numbers_splits").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Theory]
    [InlineData("lzf")]
    [InlineData("gzip-shuffle")]
    public void AppendToH5pyFile_H5pyReadsOurChunks(string compression)
    {
        // Our rows land in the h5py file's own chunks through its own filters: for lzf, h5py's liblzf must
        // decode what our C# LZF wrote.
        string path = _dir.File($"append-{compression}.h5");
        using var original = JsonDocument.Parse(PythonScript.Run(WriteScript, path, compression));
        var items = Enumerable.Range(0, 300).Select(i => Samples.Labelled(i)).ToList();
        using (var w = new HDF5DatasetWriter(path, WriteMode.Append, new WriteOptions { Compression = Compression.Lzf, Warning = _ => { } }))
        {
            w.Count.Should().Be(200);
            w.AddBatch(items);
        }

        using var doc = JsonDocument.Parse(PythonScript.Run(DumpScript, path));
        var ds = doc.RootElement.GetProperty("datasets");
        var positions = Floats(ds, "structures/positions");
        var before = FloatList(original.RootElement, "structures/positions");
        positions.Take(before.Count).Should().Equal(before);
        positions.Skip(before.Count).Should().Equal(items.SelectMany(i => i.Structure.Positions));
        Floats(ds, "labels/forces").Skip(FloatList(original.RootElement, "labels/forces").Count)
            .Should().Equal(items.SelectMany(i => i.Labels.Forces).Select(f => (double)(float)f));
        Ints(ds, "labels/structure_indices").Skip(200).Should().Equal(Enumerable.Range(200, 300).Select(i => (long)i));
        doc.RootElement.GetProperty("attrs").GetProperty("num_structures").GetProperty("value").GetInt64().Should().Be(500);
    }

    [Fact]
    public void H5py_ReadsOurLzfFile()
    {
        string path = _dir.File("ours-lzf.h5");
        var items = Enumerable.Range(0, 500).Select(i => Samples.Labelled(i % 7)).ToList();
        using (var w = new HDF5DatasetWriter(path, options: new WriteOptions { Compression = Compression.Lzf, Warning = _ => { } }))
            w.AddBatch(items);
        using var doc = JsonDocument.Parse(PythonScript.Run(DumpScript, path));
        var ds = doc.RootElement.GetProperty("datasets");
        ds.GetProperty("structures/positions").GetProperty("compression").GetString().Should().Be("lzf");
        Floats(ds, "structures/positions").Should().Equal(items.SelectMany(i => i.Structure.Positions));
        Floats(ds, "structures/cells").Should().Equal(items.SelectMany(i => i.Structure.Cell));
    }

    private static List<double> Floats(JsonElement ds, string name) => FloatList(ds.GetProperty(name), "values");

    private static List<double> FloatList(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(v => double.Parse(v.GetString()!, CultureInfo.InvariantCulture)).ToList();

    private static List<bool> Bools(JsonElement ds, string name) =>
        ds.GetProperty(name).GetProperty("values").EnumerateArray().Select(v => v.GetBoolean()).ToList();

    private static List<long> Ints(JsonElement ds, string name) =>
        ds.GetProperty(name).GetProperty("values").EnumerateArray().Select(v => v.GetInt64()).ToList();
}
