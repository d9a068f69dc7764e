using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;
using MlffData.Hdf5.Filters;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5.Filters;

/// <summary>
/// DeflateCodec's choice of deflate strategy on whole chunks: runs only where a sample says they lose little (noisy
/// positions), the full match search where repeats at a distance pay (a perfect crystal), and a plain zlib stream
/// that Python's zlib inflates to the shuffled rows either way.
/// </summary>
public sealed class DeflateCodecTests : IDisposable
{
    // One default-sized chunk (WriteOptions.ChunkBytes) of n x 3 float64 rows.
    private const int Rows = (1 << 20) / 24;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // Positions of atoms anywhere in a 20 Å box, as sampled or simulated structures' are: no repeats at a distance.
    private static double[] NoisyPositions()
    {
        var random = new Random(3);
        return Enumerable.Range(0, Rows * 3).Select(_ => 20 * random.NextDouble()).ToArray();
    }

    // A perfect fcc crystal's positions, repeated: a few distinct values at fixed distances.
    private static double[] CrystalPositions() =>
        Enumerable.Range(0, Rows * 3).Select(i => (i / 3 % 32) * 1.805 + (i % 3) * 0.9025).ToArray();

    private static byte[] Shuffled(double[] values)
    {
        var raw = MemoryMarshal.AsBytes(values.AsSpan());
        var shuffled = new byte[raw.Length];
        DeflateCodec.Shuffle(raw, shuffled, sizeof(double));
        return shuffled;
    }

    private static byte[] Deflate(byte[] data, ZLibCompressionStrategy strategy)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = 4, CompressionStrategy = strategy }, leaveOpen: true))
            zlib.Write(data);
        return output.ToArray();
    }

    private static byte[] Compress(double[] values)
    {
        var (buffer, length) = DeflateCodec.Compress(MemoryMarshal.AsBytes(values.AsSpan()), sizeof(double), shuffle: true, level: 4);
        var stored = buffer.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return stored;
    }

    [Fact]
    public void Compress_NoisyPositions_RunsOnlyWithinAFewPercentOfTheFullSearch()
    {
        // Arrange
        var values = NoisyPositions();
        var full = Deflate(Shuffled(values), ZLibCompressionStrategy.Default);
        var runs = Deflate(Shuffled(values), ZLibCompressionStrategy.RunLengthEncoding);

        // Act
        var stored = Compress(values);

        // Assert: the run-length stream, a few percent from the full search's size.
        stored.Should().Equal(runs);
        stored.Length.Should().BeLessThan(full.Length * 103 / 100);
    }

    [Fact]
    public void Compress_PerfectCrystal_FullSearchWhichRunsWouldLoseTo()
    {
        // Arrange
        var values = CrystalPositions();
        var full = Deflate(Shuffled(values), ZLibCompressionStrategy.Default);
        var runs = Deflate(Shuffled(values), ZLibCompressionStrategy.RunLengthEncoding);

        // Act
        var stored = Compress(values);

        // Assert
        runs.Length.Should().BeGreaterThan(full.Length * 2, "the case only means something where runs lose");
        stored.Should().Equal(full);
    }

    [Fact]
    public void Compress_EitherStrategy_PythonZlibAndUnshuffleGiveTheRawRows()
    {
        // Arrange
        File.WriteAllBytes(_dir.File("noisy.raw"), MemoryMarshal.AsBytes(NoisyPositions().AsSpan()).ToArray());
        File.WriteAllBytes(_dir.File("noisy.z"), Compress(NoisyPositions()));
        File.WriteAllBytes(_dir.File("crystal.raw"), MemoryMarshal.AsBytes(CrystalPositions().AsSpan()).ToArray());
        File.WriteAllBytes(_dir.File("crystal.z"), Compress(CrystalPositions()));

        // Act
        string output = PythonScript.Run("""
            import sys, zlib, numpy as np
            for name in ("noisy", "crystal"):
                raw = np.fromfile(f"{sys.argv[1]}/{name}.raw", dtype="<f8")
                planes = np.frombuffer(zlib.decompress(open(f"{sys.argv[1]}/{name}.z", "rb").read()), dtype=np.uint8).reshape(8, -1)
                assert np.array_equal(planes.T.copy().view("<f8").ravel(), raw), name
            print("ok")
            """, _dir.Path);

        // Assert
        output.Trim().Should().Be("ok");
    }
}
