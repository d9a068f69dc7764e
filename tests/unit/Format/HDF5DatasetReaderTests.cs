using System.Text.Json;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// The reader on our files, on h5py-written files in every compression h5py ships, and on malformed files, which must
/// raise a <see cref="DatasetFormatException"/> naming the dataset (never an IndexOutOfRange, a hang or a crash).
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetReaderTests : IDisposable
{
    private static readonly string Reference = RepoPaths.Of("data", "samples", "reference_930.h5");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteOurs(IReadOnlyList<LabelledStructure> items, Compression? compression = null, string name = "ours.h5")
    {
        string path = _dir.File(name);
        using var writer = new HDF5DatasetWriter(path, options: WriteOptions.Default with { Compression = compression ?? Compression.Gzip(4), Warning = _ => { } });
        writer.AddBatch(items);
        writer.Complete(new Dictionary<string, object?> { ["teacher_model"] = "emt", ["seed"] = 3L, ["strict"] = true });
        return path;
    }

    private static void ShouldEqual(LabelledStructure actual, LabelledStructure expected, long index)
    {
        actual.Structure.AtomicNumbers.Should().Equal(expected.Structure.AtomicNumbers, $"numbers of structure {index}");
        actual.Structure.Positions.Should().Equal(expected.Structure.Positions, $"positions of structure {index}");
        actual.Structure.Cell.Should().Equal(expected.Structure.Cell);
        actual.Structure.Pbc.Should().Equal(expected.Structure.Pbc);
        actual.Labels.Energy.Should().Be(expected.Labels.Energy);
        // Forces are stored as float32 on purpose (FORMAT.md): the reader returns exactly those values.
        actual.Labels.Forces.Should().Equal(expected.Labels.Forces.Select(f => (double)(float)f));
        if (expected.Labels.Stress is null) actual.Labels.Stress.Should().BeNull();
        else actual.Labels.Stress.Should().Equal(expected.Labels.Stress);
        actual.SourceIndex.Should().Be(expected.SourceIndex);
    }

    [Fact]
    public void Reads_back_what_the_writer_wrote_structure_by_structure()
    {
        var items = Enumerable.Range(0, 25).Select(i => Samples.Labelled(i, sourceIndex: 100 + i)).ToList();
        using var reader = new HDF5DatasetReader(WriteOurs(items));

        reader.Count.Should().Be(25);
        reader.NumAtoms.Should().Be(items.Sum(i => i.Structure.NumAtoms));
        reader.Compression.Should().Be("gzip-4");
        for (int i = 0; i < items.Count; i++) ShouldEqual(reader[i], items[i], i);
        reader.Select((s, i) => (s, i)).Should().HaveCount(25);
    }

    [Fact]
    public void Metadata_comes_back_typed()
    {
        using var reader = new HDF5DatasetReader(WriteOurs([Samples.Labelled(1)]));
        reader.Metadata["num_structures"].Should().Be(1L);
        reader.Metadata["format_version"].Should().Be("1.0");
        reader.Metadata["teacher_model"].Should().Be("emt");
        reader.Metadata["seed"].Should().Be(3L);
        reader.Metadata["strict"].Should().Be(true);
        reader.Metadata["energy_mean"].Should().BeOfType<double>();
    }

    [Fact]
    public void Blocks_respect_structure_and_atom_budgets_and_cover_everything_once()
    {
        var items = Enumerable.Range(0, 40).Select(i => Samples.Labelled(i)).ToList();
        using var reader = new HDF5DatasetReader(WriteOurs(items));

        var blocks = reader.ReadBlocks(maxStructures: 7, maxAtoms: 20).ToList();
        blocks.Should().OnlyContain(b => b.Count >= 1 && b.Count <= 7);
        // A block only passes the atom budget when it is a single structure larger than the budget.
        blocks.Should().OnlyContain(b => b.Count == 1 || b.Sum(s => s.Structure.NumAtoms) <= 20);
        var all = blocks.SelectMany(b => b).ToList();
        all.Should().HaveCount(40);
        for (int i = 0; i < all.Count; i++) ShouldEqual(all[i], items[i] with { SourceIndex = i }, i);

        var middle = reader.ReadBlocks(start: 10, count: 15, maxStructures: 4).SelectMany(b => b).ToList();
        middle.Select(s => s.SourceIndex).Should().Equal(Enumerable.Range(10, 15).Select(i => (long?)i));
    }

    [Fact]
    public void Out_of_range_access_is_an_ArgumentOutOfRange_naming_the_file()
    {
        using var reader = new HDF5DatasetReader(WriteOurs([Samples.Labelled(1), Samples.Labelled(2)]));
        reader.Invoking(r => r[2]).Should().Throw<ArgumentOutOfRangeException>();
        reader.Invoking(r => r[-1]).Should().Throw<ArgumentOutOfRangeException>();
        reader.Invoking(r => r.Read(1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ours.h5 with 2 structures*");
        reader.Invoking(r => r.ReadBlocks(1, 5)).Should().Throw<ArgumentOutOfRangeException>();
        reader.Read(2, 0).Should().BeEmpty();
    }

    [Fact]
    public void An_empty_dataset_reads_as_no_structures()
    {
        string path = _dir.File("empty.h5");
        using (var writer = new HDF5DatasetWriter(path)) writer.Complete();
        using var reader = new HDF5DatasetReader(path);
        reader.Count.Should().Be(0);
        reader.NumAtoms.Should().Be(0);
        reader.Should().BeEmpty();
    }

    // h5py rewrites the reference with the given filters; our reader must see the same structures in each.
    private const string RewriteScript = """
import h5py, sys
src, dst, compression, shuffle = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
opts = {}
if compression.startswith("gzip"):
    opts = dict(compression="gzip", compression_opts=int(compression[5:]))
elif compression == "lzf":
    opts = dict(compression="lzf")
with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
    for group in ("structures", "labels"):
        for name, d in f[group].items():
            out = g.create_dataset(f"{group}/{name}", data=d[()], chunks=True, maxshape=(None,) + d.shape[1:], shuffle=shuffle, **opts)
            out.attrs.update(d.attrs)
    g.create_group("metadata").attrs.update(f["metadata"].attrs)
""";

    [Theory]
    [InlineData("none", false)]
    [InlineData("gzip-4", true)]
    [InlineData("gzip-9", false)]
    [InlineData("lzf", false)]
    [InlineData("lzf", true)]
    public void Reads_h5py_written_files_in_every_compression(string compression, bool shuffle)
    {
        string copy = _dir.File($"h5py-{compression}-{shuffle}.h5");
        PythonScript.Run(RewriteScript, Reference, copy, compression, shuffle ? "1" : "0");

        using var expected = new HDF5DatasetReader(Reference);
        using var actual = new HDF5DatasetReader(copy);
        actual.Count.Should().Be(930);
        actual.Compression.Should().Be(compression);
        foreach (var (e, a) in expected.Zip(actual))
            ShouldEqual(a, e, e.SourceIndex!.Value);
    }

    [Fact]
    public void Reference_values_match_h5py_reading_the_same_rows()
    {
        // h5py is the independent reader: a structure in the middle, a slab without stress and the last one.
        const string script = """
import h5py, json, sys
with h5py.File(sys.argv[1], "r") as f:
    s = f["structures/atomic_numbers_splits"][:]
    out = []
    for i in map(int, sys.argv[2:]):
        a, b = s[i], s[i + 1]
        out.append({"numbers": f["structures/atomic_numbers"][a:b].tolist(), "positions": f["structures/positions"][a:b].ravel().tolist(),
                    "cell": f["structures/cells"][i].ravel().tolist(), "pbc": f["structures/pbc"][i].tolist(),
                    "energy": float(f["labels/energy"][i]), "forces": f["labels/forces"][a:b].astype(float).ravel().tolist(),
                    "stress": f["labels/stress"][i].tolist() if f["labels/stress_mask"][i] else None,
                    "index": int(f["labels/structure_indices"][i])})
print(json.dumps(out))
""";
        long[] rows = [0, 464, 700, 929];
        using var doc = JsonDocument.Parse(PythonScript.Run(script, [Reference, .. rows.Select(r => r.ToString())]));
        using var reader = new HDF5DatasetReader(Reference);
        int k = 0;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var s = reader[rows[k++]];
            s.Structure.AtomicNumbers.Should().Equal(e.GetProperty("numbers").EnumerateArray().Select(x => x.GetInt32()));
            s.Structure.Positions.Should().Equal(e.GetProperty("positions").EnumerateArray().Select(x => x.GetDouble()));
            s.Structure.Cell.Should().Equal(e.GetProperty("cell").EnumerateArray().Select(x => x.GetDouble()));
            s.Structure.Pbc.Should().Equal(e.GetProperty("pbc").EnumerateArray().Select(x => x.GetBoolean()));
            s.Labels.Energy.Should().Be(e.GetProperty("energy").GetDouble());
            s.Labels.Forces.Should().Equal(e.GetProperty("forces").EnumerateArray().Select(x => x.GetDouble()));
            var stress = e.GetProperty("stress");
            if (stress.ValueKind == JsonValueKind.Null) s.Labels.Stress.Should().BeNull();
            else s.Labels.Stress.Should().Equal(stress.EnumerateArray().Select(x => x.GetDouble()));
            s.SourceIndex.Should().Be(e.GetProperty("index").GetInt64());
        }
        doc.RootElement.EnumerateArray().Select(e => e.GetProperty("stress").ValueKind == JsonValueKind.Null)
            .Should().Contain(true).And.Contain(false, "the rows cover structures with and without stress");
    }

    // Each case damages a copy of the reference with h5py, the way a buggy writer or a bad copy would.
    [Theory]
    [InlineData("del f['labels/energy']", "/labels/energy", "dataset is missing")]
    [InlineData("del f['structures']", "/structures", "group is missing")]
    [InlineData("s = f['structures/atomic_numbers_splits']; s[5] = s[4] - 1", "/structures/atomic_numbers_splits", "decreases at row 5")]
    [InlineData("s = f['structures/atomic_numbers_splits']; s[0] = 1", "/structures/atomic_numbers_splits", "starts at 1")]
    [InlineData("for n in ('structures/atomic_numbers_splits', 'labels/forces_splits'): f[n][-1] = f[n][-1] - 1", "/structures/atomic_numbers_splits", "ends at 47033, but there are 47034 atoms")]
    [InlineData("s = f['labels/forces_splits']; s[3] = s[3] + 1", "/labels/forces_splits", "differs from atomic_numbers_splits at row 3")]
    [InlineData("e = f['labels/energy'][()]; del f['labels/energy']; f.create_dataset('labels/energy', data=e.astype('float32'), maxshape=(None,))", "/labels/energy", "has type float32*expected float64")]
    [InlineData("e = f['structures/pbc'][()]; del f['structures/pbc']; f.create_dataset('structures/pbc', data=e.astype('int8'), maxshape=(None, 3))", "/structures/pbc", "has type int8*expected bool")]
    [InlineData("f['labels/energy'].resize((929,))", "/labels/energy", "has 929 rows, expected S = 930")]
    [InlineData("f['structures/positions'].resize((47000, 3))", "/structures/positions", "has 47000 rows, expected A = 47034")]
    [InlineData("f.create_dataset('structures/extra', data=[1])", "/structures", "holds extra besides its five datasets")]
    [InlineData("f['metadata'].attrs['num_structures'] = 931", "/metadata", "num_structures is 931, but the datasets hold 930 structures")]
    public void Malformed_files_raise_a_clear_error_naming_the_dataset(string damage, string dataset, string problem)
    {
        string copy = _dir.File("bad.h5");
        File.Copy(Reference, copy);
        PythonScript.Run($"import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    {damage}\n", copy);

        var error = FluentActions.Invoking(() => new HDF5DatasetReader(copy)).Should().Throw<DatasetFormatException>().Which;
        error.Dataset.Should().Be(dataset);
        error.Problem.Should().Match($"*{problem}*");
        error.Message.Should().StartWith(copy);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.05)]
    public void A_truncated_file_is_a_format_error_not_a_crash(double keep)
    {
        string copy = _dir.File("truncated.h5");
        var bytes = File.ReadAllBytes(Reference);
        File.WriteAllBytes(copy, bytes[..(int)(bytes.Length * keep)]);

        FluentActions.Invoking(() =>
        {
            using var reader = new HDF5DatasetReader(copy);
            foreach (var _ in reader) { }
        }).Should().Throw<DatasetFormatException>().WithMessage($"{copy}: not a readable HDF5 file*");
    }

    [Fact]
    public void A_file_that_is_not_HDF5_or_missing_is_named()
    {
        string text = _dir.File("notes.h5");
        File.WriteAllText(text, "not hdf5 at all\n");
        FluentActions.Invoking(() => new HDF5DatasetReader(text)).Should().Throw<DatasetFormatException>().WithMessage($"{text}: not a readable HDF5 file*");
        FluentActions.Invoking(() => new HDF5DatasetReader(_dir.File("missing.h5"))).Should().Throw<FileNotFoundException>();
    }
}
