using MlffData.Format;
using MlffData.Hdf5;
using MlffData.Hdf5.Filters;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>gzip chunks shuffled and deflated on worker threads and stored with H5Dwrite_chunk: what h5py reads back,
/// the stored bytes themselves, and abort and failure while chunks are in flight.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetWriterParallelDeflateTests : IDisposable
{
    // Small chunks, so a few hundred structures make dozens of chunks per dataset.
    private const long SmallChunkBytes = 4096;

    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    private string Output => _dir.File("out.h5");

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once writers and files are disposed");
        _dir.Dispose();
    }

    private WriteOptions Options(Compression compression) =>
        Samples.Collecting(_warnings, new WriteOptions { Compression = compression, ChunkBytes = SmallChunkBytes });

    private static void Write(HDF5DatasetWriter writer, int from, int to)
    {
        for (int i = from; i < to; i++) writer.AddStructure(Samples.Labelled(i));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    public void Complete_GzipManyChunks_H5pyAndOurReaderReadTheSameValuesAsUncompressed(int level)
    {
        string plain = _dir.File("plain.h5");
        using (var writer = new HDF5DatasetWriter(plain, options: Options(Compression.None)))
            Write(writer, 0, 600);

        long stored;
        using (var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(level))))
        {
            Write(writer, 0, 600);
            writer.Complete();
            stored = writer.Compressor.Stored;
        }

        stored.Should().BeGreaterThan(20, "whole chunks go through the parallel pipeline");
        var comparison = DatasetComparer.Compare(plain, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        string report = PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
                for g in ("structures", "labels"):
                    for name, d in b[g].items():
                        assert np.array_equal(a[g][name][()], d[()]), f"{g}/{name} differs"
                        assert d.compression == "gzip" and d.compression_opts == int(sys.argv[3]), (name, d.compression, d.compression_opts)
                        assert d.shuffle, name
                f = b["structures"]["positions"]
                print(f.id.get_num_chunks())
            """, plain, Output, level.ToString());
        int.Parse(report.Trim()).Should().BeGreaterThan(10);
    }

    [Fact]
    public void WriteChunk_ShuffledDeflatedChunk_PythonZlibAndUnshuffleGiveTheRawRows()
    {
        const int rows = 100;
        var values = Enumerable.Range(0, rows * 3).Select(i => Math.Sin(i) * 1000).ToArray();
        using (var file = H5File.Create(Output))
        using (var dataset = file.CreateDataset<double>("x", [3], rows, new H5FilterPipeline(Shuffle: true, DeflateLevel: 4)))
        {
            var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
            var (buffer, length) = DeflateCodec.Compress(raw, sizeof(double), shuffle: true, level: 4);
            dataset.Resize(rows);
            dataset.WriteChunk(0, buffer.AsSpan(0, length));
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        File.WriteAllBytes(_dir.File("raw.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

        string output = PythonScript.Run("""
            import sys, zlib, h5py, numpy as np
            raw = np.fromfile(sys.argv[2], dtype="<f8").reshape(-1, 3)
            with h5py.File(sys.argv[1], "r") as f:
                d = f["x"]
                mask, stored = d.id.read_direct_chunk((0, 0))
                assert mask == 0, mask
                planes = np.frombuffer(zlib.decompress(stored), dtype=np.uint8).reshape(8, -1)
                unshuffled = planes.T.copy().view("<f8").reshape(-1, 3)
                assert np.array_equal(unshuffled, raw), "zlib + unshuffle differs from the raw rows"
                assert np.array_equal(d[()], raw), "h5py's read differs from the raw rows"
                print(d.compression, d.compression_opts, d.shuffle)
            """, Output, _dir.File("raw.bin"));
        output.Trim().Should().Be("gzip 4 True");
    }

    [Fact]
    public void Shuffle_ThreeElementsOfFourBytesAndALeftover_ByteMajorPlanesThenLeftover()
    {
        byte[] source = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99];
        var destination = new byte[source.Length];

        DeflateCodec.Shuffle(source, destination, 4);

        destination.Should().Equal(1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12, 99);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Shuffle_EveryElementSize_MatchesTheStridedDefinition(int elementSize)
    {
        var source = new byte[elementSize * 37 + elementSize - 1];
        new Random(elementSize).NextBytes(source);
        var destination = new byte[source.Length];

        DeflateCodec.Shuffle(source, destination, elementSize);

        int n = source.Length / elementSize;
        var expected = new byte[source.Length];
        for (int j = 0; j < elementSize; j++)
            for (int i = 0; i < n; i++)
                expected[j * n + i] = source[i * elementSize + j];
        source.AsSpan(n * elementSize).CopyTo(expected.AsSpan(n * elementSize));
        destination.Should().Equal(expected);
    }

    [Fact]
    public void Abort_NewFileWithChunksInFlight_LeavesNothing()
    {
        var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(4)));
        writer.Compressor.BeforeCompress = () => Thread.Sleep(200);
        Write(writer, 0, 300);
        writer.Compressor.InFlight.Should().BeGreaterThan(0, "the test needs chunks still being compressed");

        writer.Abort();
        writer.Dispose();

        writer.Compressor.InFlight.Should().Be(0);
        File.Exists(Output).Should().BeFalse();
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Abort_AppendWithChunksInFlight_LeavesTheOriginalRows()
    {
        string original = _dir.File("original.h5");
        using (var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 150);
        File.Copy(Output, original);

        var appender = new HDF5DatasetWriter(Output, WriteMode.Append, Options(Compression.Gzip(4)));
        appender.Compressor.BeforeCompress = () => Thread.Sleep(200);
        Write(appender, 150, 600);
        appender.Compressor.InFlight.Should().BeGreaterThan(0, "the test needs chunks still being compressed");
        appender.Abort();
        appender.Dispose();

        using (var reader = new HDF5DatasetReader(Output))
            reader.Count.Should().Be(150);
        var comparison = DatasetComparer.Compare(original, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }

    [Fact]
    public void Append_GzipFileWithAPartialLastChunk_ReadsLikeOneUninterruptedWrite()
    {
        string once = _dir.File("once.h5");
        using (var writer = new HDF5DatasetWriter(once, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 700);
        using (var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 123);

        long stored;
        using (var appender = new HDF5DatasetWriter(Output, WriteMode.Append, Options(Compression.Gzip(4))))
        {
            Write(appender, 123, 700);
            appender.Complete();
            stored = appender.Compressor.Stored;
        }

        stored.Should().BeGreaterThan(20);
        var comparison = DatasetComparer.Compare(once, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
                for g in ("structures", "labels"):
                    for name, d in b[g].items():
                        assert np.array_equal(a[g][name][()], d[()]), f"{g}/{name} differs"
            """, once, Output);
    }

    [Theory]
    [InlineData("rows split across chunks", "(obj.chunks[0],) + (1,) * (obj.ndim - 1)", "obj.dtype")]
    [InlineData("big-endian", "obj.chunks", "obj.dtype.newbyteorder('>') if obj.dtype.kind == 'f' else obj.dtype")]
    public void Append_GzipFileOfAnotherWritersChunksOrByteOrder_Libhdf5WritesItAndItReadsBackRight(string what, string chunks, string dtype)
    {
        string once = _dir.File("once.h5");
        using (var writer = new HDF5DatasetWriter(once, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 400);
        string ours = _dir.File("ours.h5");
        using (var writer = new HDF5DatasetWriter(ours, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 150);
        // The same file rewritten by h5py, gzip-4, with chunks that hold one column of rows, or big-endian floats:
        // stored chunks that are not rows of little-endian values, which only libhdf5's own filters can write.
        H5pyRewrite.Run(ours, Output, chunks, dtype);

        using (var appender = new HDF5DatasetWriter(Output, WriteMode.Append, Options(Compression.Gzip(4))))
        {
            Write(appender, 150, 400);
            appender.Complete();
        }

        PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
                for g in ("structures", "labels"):
                    for name, d in b[g].items():
                        assert np.array_equal(a[g][name][()], d[()]), f"{g}/{name} differs"
            """, once, Output);
        _ = what;
    }

    [Fact]
    public void Checkpoint_ManyChunksAndPaddedLastChunks_ReadsLikeOneUninterruptedWrite()
    {
        string once = _dir.File("once.h5");
        using (var writer = new HDF5DatasetWriter(once, options: Options(Compression.Gzip(4))))
            Write(writer, 0, 700);

        using (var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(4))))
        {
            for (int i = 0; i < 700; i++)
            {
                writer.AddStructure(Samples.Labelled(i));
                if (i % 97 == 5) writer.Checkpoint();
            }
        }

        var comparison = DatasetComparer.Compare(once, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        PythonScript.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
                for g in ("structures", "labels"):
                    for name, d in b[g].items():
                        assert np.array_equal(a[g][name][()], d[()]), f"{g}/{name} differs"
            """, once, Output);
    }

    [Fact]
    public void AddStructure_WorkerThrows_FaultsTheWriterWithThatException()
    {
        var injected = new InvalidDataException("injected failure on a worker");
        var writer = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(4)));
        writer.Compressor.BeforeCompress = () => throw injected;

        var act = () =>
        {
            Write(writer, 0, 600);
            writer.Complete();
        };

        act.Should().Throw<InvalidDataException>().Which.Should().BeSameAs(injected);
        FluentActions.Invoking(() => writer.AddStructure(Samples.Labelled(0))).Should().Throw<InvalidOperationException>();
        writer.Dispose();
        File.Exists(Output).Should().BeFalse();
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }
}
