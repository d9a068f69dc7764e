using System.Text.Json;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5;

[Collection(NativeStateCollection.Name)]
public sealed class H5StringDatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    [Fact]
    public void Append_NonAsciiStrings_ReadBackExactly()
    {
        string path = _dir.File("s.h5");
        string[] values = ["", "bulk", "Pt–O ✓", "日本語", new string('x', 5000)];
        using (var file = H5File.Create(path))
        using (var d = file.CreateStringDataset("names", [], chunkRows: 2))
        {
            d.Append(values.AsSpan(0, 2));
            d.Append(values.AsSpan(2));
            d.Rows.Should().Be(5);
        }
        using var reopened = H5File.Open(path);
        using var r = reopened.OpenStringDataset("names");
        r.Rows.Should().Be(5);
        r.ChunkRows.Should().Be(2);
        r.Read(0, 5).Should().Equal(values);
        r.Read(2, 1).Should().Equal("Pt–O ✓");
    }

    [Fact]
    public void Append_GzipChunks_H5pyReadsUtf8Strings()
    {
        string path = _dir.File("s.h5");
        using (var file = H5File.Create(path))
        using (var d = file.CreateStringDataset("names", [], chunkRows: 4, new H5FilterPipeline(Shuffle: true, DeflateLevel: 4)))
            d.Append(["a", "Pt–O ✓", "", "ccc", "d"]);

        var output = PythonScript.Run("""
import h5py, json, sys
with h5py.File(sys.argv[1], "r") as f:
    d = f["names"]
    info = h5py.check_string_dtype(d.dtype)
    print(json.dumps({"values": list(d.asstr()[:]), "encoding": info.encoding, "length": info.length,
                      "maxshape": [m if m is not None else -1 for m in d.maxshape], "compression": d.compression}))
""", path);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        root.GetProperty("values").EnumerateArray().Select(e => e.GetString()).Should().Equal("a", "Pt–O ✓", "", "ccc", "d");
        root.GetProperty("encoding").GetString().Should().Be("utf-8");
        root.GetProperty("length").ValueKind.Should().Be(JsonValueKind.Null, "the strings are variable-length");
        root.GetProperty("maxshape")[0].GetInt32().Should().Be(-1);
        root.GetProperty("compression").GetString().Should().Be("gzip");
    }

    [Fact]
    public void Append_Lzf_ReadsBackThroughOurFilter()
    {
        string path = _dir.File("s.h5");
        var values = Enumerable.Range(0, 300).Select(i => $"config {i % 7}").ToArray();
        using (var file = H5File.Create(path))
        using (var d = file.CreateStringDataset("names", [], chunkRows: 64, new H5FilterPipeline(Lzf: true)))
            d.Append(values);

        using var reopened = H5File.Open(path);
        using var r = reopened.OpenStringDataset("names");
        r.Filters.Lzf.Should().BeTrue();
        r.Read(0, r.Rows).Should().Equal(values);
        PythonScript.Run("import h5py, sys\nprint(list(h5py.File(sys.argv[1], 'r')['names'].asstr()[-2:]))", path).Trim()
            .Should().Be("['config 4', 'config 5']");
    }

    [Fact]
    public void OpenStringDataset_H5pyAsciiStrings_ReadsThem()
    {
        string path = _dir.File("h5py.h5");
        PythonScript.Run("""
import h5py, sys
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("ascii", data=[b"one", b"two"], dtype=h5py.string_dtype("ascii"), maxshape=(None,), chunks=(8,))
""", path);
        using var file = H5File.Open(path, readOnly: false);
        using var d = file.OpenStringDataset("ascii");
        d.Append(["three"]);
        d.Read(0, 3).Should().Equal("one", "two", "three");
    }

    [Fact]
    public void OpenStringDataset_NumericDataset_ThrowsInvalidData()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using (file.CreateDataset<double>("x", [], 4)) { }
        var act = () => file.OpenStringDataset("x");
        act.Should().Throw<InvalidDataException>().WithMessage("*float64*string*");
    }

    [Fact]
    public void Resize_Shrink_DropsRows()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using var d = file.CreateStringDataset("s", [], 2);
        d.Append(["a", "b", "c"]);
        d.Resize(1);
        d.Rows.Should().Be(1);
        d.Read(0, 1).Should().Equal("a");
    }

    [Fact]
    public void Append_NullString_ThrowsArgumentException()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using var d = file.CreateStringDataset("s", [], 2);
        var act = () => d.Append(new string[] { "a", null! });
        act.Should().Throw<ArgumentException>().WithMessage("*null*");
        d.Rows.Should().Be(0);
    }
}
