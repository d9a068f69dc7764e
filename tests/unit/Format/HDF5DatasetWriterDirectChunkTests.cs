using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>Whole chunks of uncompressed datasets stored as they are (H5Dwrite_chunk): what h5py and our reader read
/// back against a write whose rows all go through H5Dwrite, across checkpoints, appends and aborts.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetWriterDirectChunkTests : IDisposable
{
    // Small chunks, so a few hundred structures make dozens of whole chunks per dataset.
    private const long SmallChunkBytes = 4096;
    // One buffer holds the whole test's rows, so nothing is stored before Complete.
    private const long HugeChunkBytes = 1 << 24;

    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    private string Output => _dir.File("out.h5");

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once writers and files are disposed");
        _dir.Dispose();
    }

    private WriteOptions Options(long chunkBytes = SmallChunkBytes) =>
        Samples.Collecting(_warnings, new WriteOptions { Compression = Compression.None, ChunkBytes = chunkBytes });

    private static void Write(HDF5DatasetWriter writer, int from, int to)
    {
        for (int i = from; i < to; i++) writer.AddStructure(Samples.Labelled(i));
    }

    /// <summary>The same rows with every one of them through libhdf5's H5Dwrite: lzf is a filter, so no chunk of it is
    /// stored directly (the comparison is of values, not of compression).</summary>
    private string Reference(int count)
    {
        string path = _dir.File($"reference-{count}.h5");
        using (var writer = new HDF5DatasetWriter(path, options: Options(HugeChunkBytes) with { Compression = Compression.Lzf }))
            Write(writer, 0, count);
        return path;
    }

    private static void SameRows(string expected, string actual, int minChunks)
    {
        var comparison = DatasetComparer.Compare(expected, actual, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        string chunks = PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
                for g in ("structures", "labels"):
                    for name, d in b[g].items():
                        assert np.array_equal(a[g][name][()], d[()]), f"{g}/{name} differs"
                        assert d.dtype == a[g][name].dtype and d.compression is None, name
                print(b["structures"]["positions"].id.get_num_chunks())
            """, expected, actual);
        int.Parse(chunks.Trim()).Should().BeGreaterThanOrEqualTo(minChunks);
    }

    [Fact]
    public void Complete_UncompressedManyChunks_ReadsLikeRowsWrittenThroughH5Dwrite()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
        {
            Write(writer, 0, 600);
            writer.Complete();
        }

        SameRows(Reference(600), Output, minChunks: 20);
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(600);
        var item = reader[417];
        var expected = Samples.Labelled(417);
        item.Structure.AtomicNumbers.Should().Equal(expected.Structure.AtomicNumbers);
        item.Structure.Positions.Should().Equal(expected.Structure.Positions);
        item.Labels.Forces.Should().Equal(expected.Labels.Forces.Select(f => (double)(float)f));
    }

    [Fact]
    public void Checkpoint_PartialChunksBetweenWholeOnes_ReadsLikeOneUninterruptedWrite()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
        {
            for (int i = 0; i < 700; i++)
            {
                writer.AddStructure(Samples.Labelled(i));
                if (i % 97 == 5) writer.Checkpoint();
            }
        }

        SameRows(Reference(700), Output, minChunks: 20);
    }

    [Fact]
    public void Append_FileWithAPartialLastChunk_ReadsLikeOneUninterruptedWrite()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
            Write(writer, 0, 123);
        using (var appender = new HDF5DatasetWriter(Output, WriteMode.Append, Options()))
            Write(appender, 123, 700);

        SameRows(Reference(700), Output, minChunks: 20);
    }

    [Fact]
    public void Abort_AppendAfterWholeChunksWereStored_LeavesTheOriginalRows()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
            Write(writer, 0, 150);
        string original = _dir.File("original.h5");
        File.Copy(Output, original);

        var appender = new HDF5DatasetWriter(Output, WriteMode.Append, Options());
        Write(appender, 150, 600);
        appender.Abort();
        appender.Dispose();

        using (var reader = new HDF5DatasetReader(Output))
            reader.Count.Should().Be(150);
        var comparison = DatasetComparer.Compare(original, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }

    [Fact]
    public void EdgeChunk_StoredDirectly_IsPaddedWithZeros()
    {
        // 200 structures, 600 position rows in chunks of 4096 / 24 = 170: three whole chunks go through the buffer
        // first, so the buffer behind the edge chunk's 90 rows holds rows of the chunk before it.
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
            Write(writer, 0, 200);
        string result = PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as f:
                d = f["structures/positions"]
                n, rows_per_chunk = d.shape[0], d.chunks[0]
                last = d.id.get_num_chunks() - 1
                assert last * rows_per_chunk < n < (last + 1) * rows_per_chunk, (n, d.chunks, last)
                _, raw = d.id.read_direct_chunk((last * rows_per_chunk, 0))
                # The stored chunk ends with its fletcher32 checksum.
                assert d.fletcher32
                rows = np.frombuffer(raw[:-4], "<f8").reshape(-1, 3)
                kept = n - last * rows_per_chunk
                assert len(rows) == rows_per_chunk and np.array_equal(rows[:kept], d[last * rows_per_chunk:])
                print(int(np.count_nonzero(rows[kept:])))
            """, Output);
        result.Trim().Should().Be("0", "the chunk's bytes past the rows are zeros, never stale memory");
        var comparison = DatasetComparer.Compare(Reference(200), Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }
}
