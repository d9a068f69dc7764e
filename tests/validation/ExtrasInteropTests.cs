using System.Text.Json;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.ValidationTests;

/// <summary>
/// FORMAT.md's optional /info and /arrays groups, with h5py as the oracle: it must see exactly FORMAT.md's types
/// (variable-length UTF-8 strings, float64, int64, the bool enum) and shapes, and our append must continue the extras
/// of a file h5py wrote.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ExtrasInteropTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // Low-level type facts as well as numpy's view: a numpy dtype alone cannot tell h5py's bool enum from a plain bool.
    private const string TypesScript = """
import h5py, json, math, sys
out = {}
with h5py.File(sys.argv[1], "r") as f:
    for g in ("info", "arrays"):
        for name, d in f[g].items():
            t = d.id.get_type()
            entry = {"dtype": d.dtype.str if d.dtype.kind != "O" else "O", "numpy": str(d.dtype), "shape": list(d.shape),
                     "maxshape": [m if m is not None else -1 for m in d.maxshape], "chunked": d.chunks is not None,
                     "compression": d.compression, "class": t.get_class()}
            if t.get_class() == h5py.h5t.STRING:
                entry["vlen"] = bool(t.is_variable_str())
                entry["utf8"] = t.get_cset() == h5py.h5t.CSET_UTF8
                entry["values"] = d.asstr()[()].reshape(-1).tolist()
            elif t.get_class() == h5py.h5t.ENUM:
                entry["members"] = [(t.get_member_name(i).decode(), int(t.get_member_value(i))) for i in range(t.get_nmembers())]
                entry["base_size"] = t.get_super().get_size()
                entry["values"] = d[()].reshape(-1).tolist()
            else:
                a = d[()]
                entry["values"] = [None if a.dtype.kind == "f" and math.isnan(x) else x for x in a.reshape(-1).tolist()]
            out[g + "/" + name] = entry
print(json.dumps(out))
""";

    [Fact]
    public void H5py_ReadsOurExtras_WithFormatMdTypesAndShapes()
    {
        string path = _dir.File("extras.h5");
        var items = Enumerable.Range(0, 12).Select(i => Samples.Labelled(i)).ToList();
        string[] types = ["Pt–O ✓", "bulk", "日本語 surface"];
        using (var w = new HDF5DatasetWriter(path, options: new WriteOptions { Compression = Compression.Gzip(4), Warning = _ => { } }))
        {
            for (int i = 0; i < items.Count; i++)
            {
                int n = items[i].Structure.NumAtoms;
                var info = new Dictionary<string, ExtraValue>
                {
                    [FormatNames.ConfigType] = ExtraValue.String(types[i % 3]),
                    [FormatNames.TotalCharge] = ExtraValue.Float(i * 0.5),
                    ["step"] = ExtraValue.Integer(100 + i),
                    ["converged"] = ExtraValue.Bool(i % 2 == 0),
                    ["dipole"] = ExtraValue.FloatRows([i, i + 0.25, i + 0.5], 3),
                };
                var arrays = new Dictionary<string, ExtraValue>
                {
                    ["charges"] = ExtraValue.FloatRows(Enumerable.Range(0, n).Select(k => i + k * 0.125).ToArray()),
                    ["magmoms"] = ExtraValue.FloatRows(Enumerable.Range(0, 3 * n).Select(k => k * 0.5).ToArray(), 3),
                    ["tags"] = ExtraValue.IntegerRows(Enumerable.Range(0, n).Select(k => (long)k).ToArray()),
                    [FormatNames.Fixed] = ExtraValue.BoolRows(Enumerable.Range(0, n).Select(k => k == 0).ToArray()),
                };
                // One structure lacks total_charge, so its mask appears.
                if (i == 5) info.Remove(FormatNames.TotalCharge);
                w.AddStructure(items[i] with { Extras = new StructureExtras(info, arrays) });
            }
        }

        using var doc = JsonDocument.Parse(PythonScript.Run(TypesScript, path));
        var root = doc.RootElement;
        int s = items.Count, a = items.Sum(i => i.Structure.NumAtoms);
        root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).Should().Equal(
            "arrays/charges", "arrays/fixed", "arrays/magmoms", "arrays/tags",
            "info/config_type", "info/converged", "info/dipole", "info/step", "info/total_charge", "info/total_charge_mask");

        void Expect(string name, string dtype, params int[] shape)
        {
            var d = root.GetProperty(name);
            d.GetProperty("dtype").GetString().Should().Be(dtype, name);
            d.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(shape, name);
            d.GetProperty("maxshape")[0].GetInt32().Should().Be(-1, $"{name} must be extensible (maxshape None)");
            d.GetProperty("chunked").GetBoolean().Should().BeTrue(name);
            d.GetProperty("compression").GetString().Should().Be("gzip", name);
        }
        Expect("info/config_type", "O", s);
        Expect("info/total_charge", "<f8", s);
        Expect("info/step", "<i8", s);
        Expect("info/converged", "|b1", s);
        Expect("info/dipole", "<f8", s, 3);
        Expect("info/total_charge_mask", "|b1", s);
        Expect("arrays/charges", "<f8", a);
        Expect("arrays/magmoms", "<f8", a, 3);
        Expect("arrays/tags", "<i8", a);
        Expect("arrays/fixed", "|b1", a);

        var config = root.GetProperty("info/config_type");
        config.GetProperty("vlen").GetBoolean().Should().BeTrue("FORMAT.md strings are variable-length");
        config.GetProperty("utf8").GetBoolean().Should().BeTrue("FORMAT.md strings are UTF-8");
        config.GetProperty("values").EnumerateArray().Select(e => e.GetString()).Should().Equal(Enumerable.Range(0, s).Select(i => types[i % 3]));

        foreach (var name in new[] { "info/converged", "info/total_charge_mask", "arrays/fixed" })
        {
            var d = root.GetProperty(name);
            d.GetProperty("members").EnumerateArray().Select(m => (m[0].GetString(), m[1].GetInt32())).Should().Equal([("FALSE", 0), ("TRUE", 1)], name);
            d.GetProperty("base_size").GetInt32().Should().Be(1, name);
        }
        root.GetProperty("info/converged").GetProperty("values").EnumerateArray().Select(e => e.GetBoolean()).Should().Equal(Enumerable.Range(0, s).Select(i => i % 2 == 0));
        root.GetProperty("info/total_charge_mask").GetProperty("values").EnumerateArray().Select(e => e.GetBoolean()).Should().Equal(Enumerable.Range(0, s).Select(i => i != 5));
        root.GetProperty("info/total_charge").GetProperty("values").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble())
            .Should().Equal(Enumerable.Range(0, s).Select(i => i == 5 ? double.NaN : i * 0.5));
        root.GetProperty("info/step").GetProperty("values").EnumerateArray().Select(e => e.GetInt64()).Should().Equal(Enumerable.Range(0, s).Select(i => 100L + i));
        root.GetProperty("info/dipole").GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).Should().Equal(Enumerable.Range(0, s).SelectMany(i => new[] { i, i + 0.25, i + 0.5 }));
        root.GetProperty("arrays/tags").GetProperty("values").EnumerateArray().Select(e => e.GetInt64())
            .Should().Equal(items.SelectMany(i => Enumerable.Range(0, i.Structure.NumAtoms).Select(k => (long)k)));
        root.GetProperty("arrays/fixed").GetProperty("values").EnumerateArray().Select(e => e.GetBoolean())
            .Should().Equal(items.SelectMany(i => Enumerable.Range(0, i.Structure.NumAtoms).Select(k => k == 0)));
    }

    private const string WriteScript = """
import h5py, numpy as np, sys
sizes = np.array([2, 3, 1, 4])
S, A = len(sizes), int(sizes.sum())
splits = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
data = {
  "structures/atomic_numbers": np.full(A, 8, dtype=np.int64),
  "structures/atomic_numbers_splits": splits,
  "structures/positions": np.arange(3 * A, dtype=np.float64).reshape(A, 3) * 1.5,
  "structures/cells": np.zeros((S, 3, 3)),
  "structures/pbc": np.zeros((S, 3), dtype=bool),
  "labels/energy": -np.arange(S, dtype=np.float64),
  "labels/forces": np.zeros((A, 3), dtype=np.float32),
  "labels/forces_splits": splits.copy(),
  "labels/stress": np.zeros((S, 6)),
  "labels/stress_mask": np.zeros(S, dtype=bool),
  "labels/structure_indices": np.arange(S, dtype=np.int64),
  "info/total_spin": np.array([1.0, 2.0, 1.0, 3.0]),
  "arrays/charges": np.linspace(-1, 1, A),
}
with h5py.File(sys.argv[1], "w") as f:
    for name, a in data.items():
        f.create_dataset(name, data=a, maxshape=(None,) + a.shape[1:], chunks=(4,) + a.shape[1:], compression="gzip")
    f.create_dataset("info/config_type", data=["a", "Pt–O ✓", "c", "d"], dtype=h5py.string_dtype(), maxshape=(None,), chunks=(4,), compression="gzip")
    f.create_group("metadata").attrs["num_structures"] = S
""";

    [Fact]
    public void Append_ToH5pyFileWithExtras_ContinuesThemAndH5pyReadsTheResult()
    {
        string path = _dir.File("h5py-extras.h5");
        PythonScript.Run(WriteScript, path);
        var item = Samples.Labelled(2);
        int n = item.Structure.NumAtoms;
        using (var w = new HDF5DatasetWriter(path, WriteMode.Append, new WriteOptions { Compression = Compression.Gzip(4), Warning = _ => { } }))
        {
            w.Count.Should().Be(4);
            w.AddStructure(item with
            {
                Extras = new StructureExtras(
                    new Dictionary<string, ExtraValue> { [FormatNames.ConfigType] = ExtraValue.String("ours ✓") },
                    new Dictionary<string, ExtraValue> { ["charges"] = ExtraValue.FloatRows(Enumerable.Repeat(0.5, n).ToArray()) }),
            });
        }

        var output = PythonScript.Run("""
import h5py, json, math, sys
with h5py.File(sys.argv[1], "r") as f:
    print(json.dumps({"config_type": f["info/config_type"].asstr()[:].tolist(),
                      "total_spin": [None if math.isnan(x) else x for x in f["info/total_spin"][:].tolist()],
                      "total_spin_mask": f["info/total_spin_mask"][:].tolist(),
                      "charges": f["arrays/charges"][-int(sys.argv[2]):].tolist(), "charges_rows": len(f["arrays/charges"]),
                      "info": sorted(f["info"].keys())}))
""", path, n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        root.GetProperty("config_type").EnumerateArray().Select(e => e.GetString()).Should().Equal("a", "Pt–O ✓", "c", "d", "ours ✓");
        root.GetProperty("total_spin").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble())
            .Should().Equal([1.0, 2.0, 1.0, 3.0, double.NaN]);
        root.GetProperty("total_spin_mask").EnumerateArray().Select(e => e.GetBoolean()).Should().Equal(true, true, true, true, false);
        root.GetProperty("charges").EnumerateArray().Select(e => e.GetDouble()).Should().Equal(Enumerable.Repeat(0.5, n));
        root.GetProperty("charges_rows").GetInt32().Should().Be(10 + n);
        root.GetProperty("info").EnumerateArray().Select(e => e.GetString()).Should().Equal("config_type", "total_spin", "total_spin_mask");
    }
}
