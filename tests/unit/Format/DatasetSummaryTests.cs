using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary><see cref="DatasetSummary"/> against numpy and h5py computing the same from the same files.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class DatasetSummaryTests : IDisposable
{
    private static readonly string Reference = RepoPaths.Of("data", "samples", "reference_930.h5");

    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "the summary must close every HDF5 id it opens");
        _dir.Dispose();
    }

    // numpy's figures for everything DatasetContents holds.
    private const string NumpyContents = """
        import json, sys
        import h5py, numpy as np
        from ase.data import chemical_symbols
        with h5py.File(sys.argv[1], "r") as f:
            splits = f["structures/atomic_numbers_splits"][:]
            z = f["structures/atomic_numbers"][:]
            pbc = f["structures/pbc"][:]
            e = f["labels/energy"][:]
            forces = f["labels/forces"][:].astype(np.float64)
            mask = f["labels/stress_mask"][:]
        n = np.diff(splits)
        owner = np.repeat(np.arange(len(n)), n)
        elements = {chemical_symbols[k]: [int(k), int((z == k).sum()), len(np.unique(owner[z == k]))] for k in np.unique(z)}
        kinds = {}
        for row in pbc:
            key = "".join("T" if b else "F" for b in row)
            kinds[key] = kinds.get(key, 0) + 1
        print(json.dumps(dict(
            S=len(n), A=len(z), min=int(n.min()), mean=float(n.mean()), max=int(n.max()),
            elements=elements, pbc=kinds, stress=int(mask.sum()),
            e_min=float(e.min()), e_max=float(e.max()), e_mean=float(e.mean()), e_std=float(e.std()),
            epa_mean=float((e / n).mean()), epa_std=float((e / n).std()),
            f_max=float(np.abs(forces).max()), f_norm=float(np.linalg.norm(forces, axis=1).max()),
            f_rms=float(np.sqrt((forces ** 2).mean())))))
        """;

    // h5py's view of every dataset, named the way H5DatasetDescription names dtypes.
    private const string H5pyDatasets = """
        import json, sys
        import h5py
        out = {}
        def visit(name, d):
            if not isinstance(d, h5py.Dataset):
                return
            s = h5py.check_string_dtype(d.dtype)
            dtype = "string" if s is not None and s.length is None else d.dtype.str[1:] if d.dtype.kind == "S" else d.dtype.name
            out["/" + name] = dict(dtype=dtype, shape=list(d.shape), chunks=list(d.chunks) if d.chunks else None,
                compression=d.compression, level=d.compression_opts if d.compression == "gzip" else None,
                shuffle=d.shuffle, fletcher32=d.fletcher32, stored=d.id.get_storage_size())
        with h5py.File(sys.argv[1], "r") as f:
            f.visititems(visit)
        print(json.dumps(out))
        """;

    private string CopyOfReference(string name, string? h5pyEdit = null)
    {
        string path = _dir.File(name);
        File.Copy(Reference, path);
        if (h5pyEdit is not null)
            PythonScript.Run($"import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'a') as f:\n{Indent(h5pyEdit)}\n", path);
        return path;
    }

    private static string Indent(string code) => string.Join("\n", code.Split('\n').Select(line => "    " + line));

    private string Write(string name, Compression compression, int structures)
    {
        string path = _dir.File(name);
        using var writer = new HDF5DatasetWriter(path, options: Samples.Collecting([], new WriteOptions { Compression = compression }));
        for (int i = 0; i < structures; i++) writer.AddStructure(Samples.Labelled(i));
        writer.Complete();
        return path;
    }

    private static void ShouldMatchH5py(DatasetSummary summary, string path)
    {
        using var expected = JsonDocument.Parse(PythonScript.Run(H5pyDatasets, path));
        summary.Datasets.Select(d => d.Path).Should().Equal(expected.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var d in summary.Datasets)
        {
            var h = expected.RootElement.GetProperty(d.Path);
            d.DType.Should().Be(h.GetProperty("dtype").GetString(), d.Path);
            d.Shape.Should().Equal(h.GetProperty("shape").EnumerateArray().Select(x => x.GetUInt64()), d.Path);
            if (h.GetProperty("chunks").ValueKind == JsonValueKind.Null) d.Chunks.Should().BeNull(d.Path);
            else d.Chunks.Should().Equal(h.GetProperty("chunks").EnumerateArray().Select(x => x.GetUInt64()), d.Path);
            string? compression = h.GetProperty("compression").GetString();
            d.Filters.Lzf.Should().Be(compression == "lzf", d.Path);
            d.Filters.DeflateLevel.Should().Be(compression == "gzip" ? h.GetProperty("level").GetInt32() : 0, d.Path);
            d.Filters.Shuffle.Should().Be(h.GetProperty("shuffle").GetBoolean(), d.Path);
            d.Filters.Fletcher32.Should().Be(h.GetProperty("fletcher32").GetBoolean(), d.Path);
            d.StorageBytes.Should().Be(h.GetProperty("stored").GetInt64(), d.Path);
        }
    }

    [Fact]
    public void Read_Reference930_CountsMatchNumpy()
    {
        using var expected = JsonDocument.Parse(PythonScript.Run(NumpyContents, Reference));
        var numpy = expected.RootElement;

        var summary = DatasetSummary.Read(Reference);

        summary.LayoutOk.Should().BeTrue();
        var c = summary.Contents!;
        c.NumStructures.Should().Be(numpy.GetProperty("S").GetInt64()).And.Be(930);
        c.NumAtoms.Should().Be(numpy.GetProperty("A").GetInt64());
        c.AtomsPerStructureMin.Should().Be(numpy.GetProperty("min").GetInt64());
        c.AtomsPerStructureMax.Should().Be(numpy.GetProperty("max").GetInt64());
        c.AtomsPerStructureMean.Should().BeApproximately(numpy.GetProperty("mean").GetDouble(), 1e-12);
        c.Elements.Select(e => (e.Symbol, e.AtomicNumber, e.Atoms, e.Structures)).Should().Equal(
            numpy.GetProperty("elements").EnumerateObject().Select(p =>
                (p.Name, p.Value[0].GetInt64(), p.Value[1].GetInt64(), p.Value[2].GetInt64())));
        c.PbcKinds.Should().BeEquivalentTo(numpy.GetProperty("pbc").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        c.StressCount.Should().Be(numpy.GetProperty("stress").GetInt64());
    }

    [Fact]
    public void Read_Reference930_EnergyAndForceStatisticsMatchNumpy()
    {
        using var expected = JsonDocument.Parse(PythonScript.Run(NumpyContents, Reference));
        double Numpy(string name) => expected.RootElement.GetProperty(name).GetDouble();

        var c = DatasetSummary.Read(Reference).Contents!;

        c.EnergyMin.Should().Be(Numpy("e_min"));
        c.EnergyMax.Should().Be(Numpy("e_max"));
        c.EnergyMean!.Value.Should().BeApproximately(Numpy("e_mean"), 1e-10);
        c.EnergyStd!.Value.Should().BeApproximately(Numpy("e_std"), 1e-10);
        c.EnergyPerAtomMean!.Value.Should().BeApproximately(Numpy("epa_mean"), 1e-12);
        c.EnergyPerAtomStd!.Value.Should().BeApproximately(Numpy("epa_std"), 1e-12);
        c.MaxAbsForce.Should().Be(Numpy("f_max"));
        c.MaxForceNorm!.Value.Should().BeApproximately(Numpy("f_norm"), 1e-12);
        c.RmsForce!.Value.Should().BeApproximately(Numpy("f_rms"), 1e-12);
    }

    [Fact]
    public void Read_SmallAtomBudget_SameFiguresAsLargeBlocks()
    {
        var whole = DatasetSummary.Read(Reference).Contents!;

        // 50 atoms a block: most blocks hold one or two structures, and a 108-atom one comes alone.
        var streamed = DatasetSummary.Read(Reference, maxAtoms: 50).Contents!;

        streamed.Should().BeEquivalentTo(whole, o => o
            .Using<double>(x => x.Subject.Should().BeApproximately(x.Expectation, 1e-9)).WhenTypeIs<double>());
    }

    [Fact]
    public void Read_Reference930_DatasetsMatchH5py()
    {
        var summary = DatasetSummary.Read(Reference);

        summary.Datasets.Should().HaveCount(11);
        ShouldMatchH5py(summary, Reference);
        var forces = summary.Datasets.Single(d => d.Path == "/labels/forces");
        forces.DType.Should().Be("float32");
        forces.LogicalBytes.Should().Be(47034L * 3 * 4);
        forces.CompressionRatio.Should().BeApproximately((double)forces.LogicalBytes / forces.StorageBytes, 1e-12);
        summary.FileSize.Should().Be(new FileInfo(Reference).Length);
    }

    [Fact]
    public void Read_Reference930_MetadataKeepsTypes()
    {
        var metadata = DatasetSummary.Read(Reference).Metadata;

        metadata[FormatNames.NumStructures].Should().Be(930L);
        metadata[FormatNames.EnergyMax].Should().BeOfType<double>();
        metadata[FormatNames.Compression].Should().Be("gzip-4");
        metadata["teacher_model"].Should().Be("ase.calculators.emt.EMT");
    }

    [Theory]
    [InlineData("lzf")]
    [InlineData("none")]
    [InlineData("gzip-6")]
    public void Read_WrittenByOurWriter_FiltersAndFiguresMatchH5py(string compression)
    {
        string path = Write("ours.h5", Compression.Parse(compression), 12);

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeTrue();
        ShouldMatchH5py(summary, path);
        summary.Datasets.Should().OnlyContain(d => d.Filters.CompressionName == compression);
        summary.Contents!.NumStructures.Should().Be(12);
        summary.Contents.PbcKinds.Should().BeEquivalentTo(new Dictionary<string, long> { ["FFF"] = 6, ["TTT"] = 6 });
        summary.Contents.StressCount.Should().Be(6);
        summary.Contents.Elements.Select(e => e.Symbol).Should().Equal("H", "O", "Cu");
        summary.Contents.EnergyMax.Should().Be(-10.0);
        summary.Metadata[FormatNames.Compression].Should().Be(compression);
    }

    [Fact]
    public void Read_EmptyDataset_CountsZeroAndStatisticsNull()
    {
        string path = Write("empty.h5", Compression.None, 0);

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeTrue();
        summary.Datasets.Should().HaveCount(11);
        var c = summary.Contents!;
        c.NumStructures.Should().Be(0);
        c.NumAtoms.Should().Be(0);
        c.Elements.Should().BeEmpty();
        c.PbcKinds.Should().BeEmpty();
        c.AtomsPerStructureMean.Should().BeNull();
        c.EnergyMean.Should().BeNull();
        c.RmsForce.Should().BeNull();
    }

    [Fact]
    public void Read_InfoAndArraysGroups_EveryDatasetListedWithH5pysDtype()
    {
        string path = CopyOfReference("extras.h5", """
            f.create_dataset("info/config_type", data=["bulk"] * 930, dtype=h5py.string_dtype(), chunks=True, maxshape=(None,))
            f.create_dataset("info/total_charge", data=np.zeros(930), compression="lzf", chunks=(100,), maxshape=(None,))
            f.create_dataset("info/config_type_mask", data=np.ones(930, dtype=bool))
            f.create_dataset("arrays/tags", data=np.zeros(47034, dtype=np.int8), fletcher32=True, chunks=(4096,))
            f.create_dataset("arrays/magmoms", data=np.zeros((47034, 3), dtype=np.float32), compression="gzip", compression_opts=9, shuffle=False)
            f.create_dataset("arrays/label", data=np.array([b"abc"] * 47034, dtype="S5"))
            f.create_dataset("arrays/weights", data=np.zeros(47034, dtype=np.uint16))
            """);

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeTrue("optional groups are allowed");
        summary.Datasets.Should().HaveCount(18);
        ShouldMatchH5py(summary, path);
        summary.Datasets.Single(d => d.Path == "/info/config_type").DType.Should().Be("string");
        summary.Datasets.Single(d => d.Path == "/info/config_type").CompressionRatio.Should().BeNull();
        summary.Datasets.Single(d => d.Path == "/arrays/tags").Filters.ToString().Should().Be("fletcher32");
        summary.Datasets.Single(d => d.Path == "/arrays/label").DType.Should().Be("S5");
        summary.Datasets.Single(d => d.Path == "/info/config_type_mask").Chunks.Should().BeNull("h5py writes it contiguous");
    }

    [Fact]
    public void Read_EnergyDeleted_LayoutProblemNamedAndDatasetsStillListed()
    {
        string path = CopyOfReference("no_energy.h5", "del f['labels/energy']");

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeFalse();
        summary.LayoutError!.Dataset.Should().Be("/labels/energy");
        summary.LayoutError.Message.Should().Be($"{path}: /labels/energy: dataset is missing");
        summary.Contents.Should().BeNull();
        summary.Datasets.Should().HaveCount(10);
        ShouldMatchH5py(summary, path);
        summary.Metadata[FormatNames.NumStructures].Should().Be(930L);
    }

    [Fact]
    public void Read_SplitsDecrease_LayoutProblemNamesSplitsAndRow()
    {
        string path = CopyOfReference("decreasing.h5", "f['structures/atomic_numbers_splits'][5] = f['structures/atomic_numbers_splits'][4] - 1");

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeFalse();
        summary.LayoutError!.Dataset.Should().Be("/structures/atomic_numbers_splits");
        summary.LayoutError.Problem.Should().StartWith("decreases at row 5");
        summary.Datasets.Should().HaveCount(11);
    }

    [Fact]
    public void Read_CorruptForcesChunk_ProblemSaysUnreadableAndDatasetsStillListed()
    {
        string path = CopyOfReference("corrupt.h5");
        long offset = long.Parse(PythonScript.Run("import sys, h5py\nprint(h5py.File(sys.argv[1], 'r')['labels/forces'].id.get_chunk_info(0).byte_offset)", path));
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            // Garbage in the middle of the first gzip chunk: the layout still checks out, but inflate fails.
            stream.Position = offset + 100;
            stream.Write(Enumerable.Repeat((byte)0xA5, 256).ToArray());
        }

        var summary = DatasetSummary.Read(path);

        summary.LayoutOk.Should().BeFalse();
        summary.LayoutError!.Problem.Should().StartWith("cannot be read in full");
        summary.LayoutError.Message.Should().Contain("/labels/forces");
        summary.Contents.Should().BeNull();
        summary.Datasets.Should().HaveCount(11);
    }

    [Fact]
    public void Read_GroupLinkedIntoItself_EachDatasetListedOnce()
    {
        // A hard link back to an ancestor makes a cycle; a soft link to a dataset is a second name for it.
        string path = CopyOfReference("cycle.h5", """
            f["labels/again"] = f["labels"]
            f["structures_alias"] = h5py.SoftLink("/structures/positions")
            """);

        var summary = DatasetSummary.Read(path);

        summary.Datasets.Select(d => d.Path).Should().OnlyHaveUniqueItems().And.HaveCount(11);
        summary.LayoutOk.Should().BeTrue();
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound()
    {
        var act = () => DatasetSummary.Read(_dir.File("missing.h5"));

        act.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void Read_NotHdf5_ThrowsDatasetFormatExceptionNamingTheFile()
    {
        string path = _dir.File("text.h5");
        File.WriteAllText(path, "not an HDF5 file\n");

        var act = () => DatasetSummary.Read(path);

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().StartWith($"{path}: not a readable HDF5 file");
    }
}
