using System.Runtime.InteropServices;
using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// <see cref="ChunkReader{T}"/> (and so <see cref="MlffData.Hdf5.Filters.ChunkDecoder"/>) against libhdf5's own read
/// of the same datasets, which h5py wrote with every pipeline FORMAT.md allows: no filter, fletcher32, gzip with and
/// without shuffle, lzf (including chunks lzf left uncompressed, marked in their filter mask), chunks never written,
/// and the partial last chunk. Datasets whose chunks split rows or store another byte order are left to libhdf5.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class ChunkReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed");
        _dir.Dispose();
    }

    private const string Writer = """
import h5py, json, numpy as np, sys
rng = np.random.default_rng(5)
pos = rng.normal(size=(1000, 3))
big = rng.integers(0, 2**62, size=(1000, 3), dtype=np.int64)
opts = dict(chunks=(96, 3), maxshape=(None, 3))
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("g")
    g.create_dataset("none", data=pos, **opts)
    g.create_dataset("fletcher32", data=pos, fletcher32=True, **opts)
    g.create_dataset("gzip", data=pos, compression="gzip", compression_opts=4, **opts)
    g.create_dataset("shuffle_gzip_fletcher32", data=pos, compression="gzip", shuffle=True, fletcher32=True, **opts)
    g.create_dataset("shuffle_lzf", data=pos, compression="lzf", shuffle=True, **opts)
    g.create_dataset("float32", data=pos.astype("<f4"), compression="gzip", shuffle=True, fletcher32=True, **opts)
    g.create_dataset("int64", data=np.arange(1000, dtype=np.int64), chunks=(100,), maxshape=(None,), compression="gzip", shuffle=True, fletcher32=True)
    # Random bits do not compress: lzf gives up on every chunk and libhdf5 stores it raw, with the filter's mask bit set.
    g.create_dataset("lzf_incompressible", data=big, compression="lzf", fletcher32=True, **opts)
    gap = g.create_dataset("gaps", shape=(1000, 3), dtype="<f8", compression="gzip", **opts)
    gap[:200] = pos[:200]
    gap[500:600] = pos[500:600]
    g.create_dataset("rows_split", data=pos, chunks=(96, 1), maxshape=(None, 3))
    g.create_dataset("big_endian", data=pos.astype(">f8"), **opts)
    masks = [g["lzf_incompressible"].id.get_chunk_info(i).filter_mask for i in range(g["lzf_incompressible"].id.get_num_chunks())]
    print(json.dumps({"masks": masks, "gap_chunks": g["gaps"].id.get_num_chunks()}))
""";

    private static void ShouldReadAsLibhdf5<T>(H5Group group, string name) where T : unmanaged
    {
        using var dataset = group.OpenDataset<T>(name);
        ChunkReader<T>.Supports(dataset).Should().BeTrue(name);
        var expected = dataset.Read(0, dataset.Rows);
        var actual = new T[expected.Length];
        using (var reader = new ChunkReader<T>(dataset))
            for (long row = 0; row < dataset.Rows;)
            {
                var chunk = reader.At(row);
                chunk.FirstRow.Should().Be(row);
                chunk.Values[..(chunk.Rows * dataset.RowLength)].CopyTo(actual.AsSpan((int)(row * dataset.RowLength)));
                row += chunk.Rows;
            }
        MemoryMarshal.AsBytes(actual.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(expected.AsSpan())).Should().BeTrue(name);
    }

    [Fact]
    public void At_EveryPipelineH5pyWrites_ReadsWhatLibhdf5Reads()
    {
        string path = _dir.File("pipelines.h5");
        using var facts = JsonDocument.Parse(PythonScript.Run(Writer, path));
        // The premises: some chunks were stored past a filter, and some were never stored.
        facts.RootElement.GetProperty("masks").EnumerateArray().Should().Contain(m => m.GetInt32() != 0);
        facts.RootElement.GetProperty("gap_chunks").GetInt32().Should().BeLessThan(11);

        using var file = H5File.Open(path);
        using var group = file.OpenGroup("g");
        foreach (var name in new[] { "none", "fletcher32", "gzip", "shuffle_gzip_fletcher32", "shuffle_lzf", "gaps" })
            ShouldReadAsLibhdf5<double>(group, name);
        ShouldReadAsLibhdf5<float>(group, "float32");
        ShouldReadAsLibhdf5<long>(group, "int64");
        ShouldReadAsLibhdf5<long>(group, "lzf_incompressible");
    }

    [Fact]
    public void Supports_RowsSplitAcrossChunksOrBigEndian_False()
    {
        string path = _dir.File("pipelines.h5");
        PythonScript.Run(Writer, path);
        using var file = H5File.Open(path);
        using var group = file.OpenGroup("g");
        using (var split = group.OpenDataset<double>("rows_split")) ChunkReader<double>.Supports(split).Should().BeFalse();
        using (var big = group.OpenDataset<double>("big_endian")) ChunkReader<double>.Supports(big).Should().BeFalse();
    }

    [Fact]
    public void At_RowsFrontToBack_SkipsAheadAndRefusesAnEarlierChunk()
    {
        string path = _dir.File("pipelines.h5");
        PythonScript.Run(Writer, path);
        using var file = H5File.Open(path);
        using var group = file.OpenGroup("g");
        using var dataset = group.OpenDataset<double>("shuffle_gzip_fletcher32");
        var all = dataset.Read(0, dataset.Rows);
        using var reader = new ChunkReader<double>(dataset);

        reader.At(5).Index.Should().Be(0);
        var later = reader.At(960);
        later.Index.Should().Be(10);
        later.Rows.Should().Be(40);
        later.Values[..120].ToArray().Should().Equal(all[(960 * 3)..]);
        var act = () => reader.At(100);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void At_FlippedByteInAChunk_ThrowsNamingDatasetAndChunk()
    {
        string path = _dir.File("pipelines.h5");
        PythonScript.Run(Writer, path);
        ChunkCorruption.FlipByte(path, "g/shuffle_gzip_fletcher32", 3);
        using var file = H5File.Open(path);
        using var group = file.OpenGroup("g");
        using var dataset = group.OpenDataset<double>("shuffle_gzip_fletcher32");
        using var reader = new ChunkReader<double>(dataset);

        reader.At(2 * 96).Index.Should().Be(2);
        var act = () => reader.At(3 * 96);

        act.Should().Throw<InvalidDataException>().WithMessage("/g/shuffle_gzip_fletcher32: chunk 3: data error detected by Fletcher32 checksum");
    }
}
