using System.Runtime.InteropServices;
using MlffData.UnitTests.TestSupport;
using MlffData.Hdf5.Filters;

namespace MlffData.UnitTests.Hdf5.Filters;

/// <summary>
/// Tests <see cref="LzfCodec"/> by round trips, against h5py's LZF filter (lzf_oracle.py) in both directions,
/// and against liblzf.so.1 itself, the library Debian's python3-h5py links for filter 32000.
/// </summary>
public sealed class LzfCodecTests : IDisposable
{
    private const int E2Big = 7;
    private const int EInval = 22;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mlff-lzf-");

    public void Dispose() => _directory.Delete(recursive: true);

    public static TheoryData<int> ShortLengths => new() { 0, 1, 2, 3, 4, 5, 8, 31, 32, 33, 64, 65 };

    [Theory]
    [MemberData(nameof(ShortLengths))]
    public void Compress_ShortInputs_RoundTrip(int length)
    {
        // Arrange: both a repetitive and a random input of each length.
        byte[] repetitive = Enumerable.Repeat((byte)'a', length).ToArray();
        byte[] random = RandomBytes(length, seed: length);

        // Act and Assert
        RoundTrip(repetitive).Should().Equal(repetitive);
        RoundTrip(random).Should().Equal(random);
    }

    [Fact]
    public void Compress_EmptyInput_ReturnsZeroAsLiblzfDoes()
    {
        // Act
        int written = LzfCodec.Compress([], new byte[16]);

        // Assert
        written.Should().Be(0);
        LzfCodec.Decompress([], new byte[16]).Should().Be(0);
    }

    [Theory]
    [InlineData("zeros")]
    [InlineData("positions")]
    [InlineData("frames")]
    [InlineData("mixed")]
    [InlineData("random")]
    public void Compress_Samples_RoundTrip(string name)
    {
        // Arrange
        byte[] input = Samples().Single(sample => sample.Name == name).Bytes;

        // Act
        byte[] restored = RoundTrip(input);

        // Assert
        restored.Should().Equal(input);
    }

    [Fact]
    public void Compress_IncompressibleInputWithH5pyBudget_ReturnsZero()
    {
        // Arrange: h5py's filter offers an output buffer as long as the chunk.
        byte[] input = RandomBytes(100_000, seed: 1);

        // Act
        int written = LzfCodec.Compress(input, new byte[input.Length]);

        // Assert
        written.Should().Be(0);
    }

    [Fact]
    public void Compress_CompressibleInputWithH5pyBudget_IsSmaller()
    {
        // Arrange
        byte[] input = SampleBytes("frames");

        // Act
        int written = LzfCodec.Compress(input, new byte[input.Length]);

        // Assert
        written.Should().BeInRange(1, input.Length / 4);
    }

    [Fact]
    public void Compress_OutputExactlyLongEnough_SucceedsAndOneByteLessReturnsZero()
    {
        // Arrange
        byte[] input = SampleBytes("mixed");
        byte[] output = new byte[LzfCodec.MaxCompressedLength(input.Length)];
        int needed = LzfCodec.Compress(input, output);

        // Act
        int exact = LzfCodec.Compress(input, new byte[needed]);
        int short1 = LzfCodec.Compress(input, new byte[needed - 1]);

        // Assert
        exact.Should().Be(needed);
        short1.Should().Be(0);
    }

    [Fact]
    public void Compress_WorstCaseInputs_FitMaxCompressedLength()
    {
        // Arrange: random bytes, and 3-byte matches between single literals, the costliest mix of tokens.
        var inputs = new List<byte[]>();
        for (int length = 1; length < 300; length++)
        {
            inputs.Add(RandomBytes(length, seed: length));
        }

        var alternating = new List<byte>();
        for (int i = 0; alternating.Count < 20_000; i++)
        {
            alternating.AddRange([1, 2, 3, (byte)i, (byte)(i >> 8), 1, 2, 3]);
        }

        inputs.Add([.. alternating]);

        foreach (byte[] input in inputs)
        {
            // Act
            int written = LzfCodec.Compress(input, new byte[LzfCodec.MaxCompressedLength(input.Length)]);

            // Assert
            written.Should().BePositive("input of {0} bytes", input.Length);
        }
    }

    [Fact]
    public void Compress_SameInputAfterOtherInputs_GivesSameBytes()
    {
        // Arrange: the per-thread match table keeps entries from earlier calls.
        byte[] input = SampleBytes("positions");
        byte[] first = Compressed(input);
        Compressed(SampleBytes("mixed"));
        Compressed(SampleBytes("frames"));

        // Act
        byte[] again = Compressed(input);

        // Assert
        again.Should().Equal(first);
    }

    [Fact]
    public void Decompress_OverlappingReferences_RepeatByteByByte()
    {
        // Arrange: "ab", then 6 bytes from 2 behind, then 4 bytes from 1 behind.
        byte[] stream = [0x01, (byte)'a', (byte)'b', 4 << 5, 0x01, 2 << 5, 0x00];

        // Act
        byte[] output = new byte[12];
        int length = LzfCodec.Decompress(stream, output);

        // Assert
        length.Should().Be(12);
        output.Should().Equal("abababab"u8.ToArray().Concat("bbbb"u8.ToArray()));
    }

    [Fact]
    public void Decompress_LongestReference_Copies264Bytes()
    {
        // Arrange: one literal, then length code 7 + 255 at distance 1.
        byte[] stream = [0x00, 0x2a, 7 << 5, 255, 0x00];

        // Act
        byte[] output = new byte[265];
        int length = LzfCodec.Decompress(stream, output);

        // Assert
        length.Should().Be(265);
        output.Should().OnlyContain(b => b == 0x2a);
    }

    [Fact]
    public void Decompress_OutputTooSmall_ReturnsOutputTooSmall()
    {
        // Arrange
        byte[] input = SampleBytes("mixed");
        byte[] stream = Compressed(input);

        // Act
        int length = LzfCodec.Decompress(stream, new byte[input.Length - 1]);

        // Assert
        length.Should().Be(LzfCodec.OutputTooSmall);
    }

    [Theory]
    [InlineData(new byte[] { 0x03, 1, 2 }, "literal run past the end")]
    [InlineData(new byte[] { 0x20 }, "reference with no offset byte")]
    [InlineData(new byte[] { 0xe0, 0x01 }, "long reference with no offset byte")]
    [InlineData(new byte[] { 0x00, 1, 0x20, 0x01 }, "reference before the start")]
    [InlineData(new byte[] { 0x20, 0x00 }, "reference into empty output")]
    public void Decompress_CorruptStream_ThrowsInvalidDataException(byte[] stream, string because)
    {
        // Act
        Action act = () => LzfCodec.Decompress(stream, new byte[1000]);

        // Assert
        act.Should().Throw<InvalidDataException>(because);
    }

    [Fact]
    public void Decompress_CorruptAndTooLong_ReportsOutputTooSmallFirstLikeLiblzf()
    {
        // Arrange: a 4-byte literal run cut short, into a 2-byte output.
        byte[] stream = [0x03, 1, 2];

        // Act
        int length = LzfCodec.Decompress(stream, new byte[2]);

        // Assert
        length.Should().Be(LzfCodec.OutputTooSmall);
    }

    [Fact]
    public void Decompress_MutatedStreams_FailOnlyAsDocumentedAndStayInBounds()
    {
        // Arrange
        var random = new Random(42);
        byte[][] streams = Samples().Select(sample => Compressed(sample.Bytes)).ToArray();
        const int Guard = 64;
        const byte Canary = 0xa5;

        for (int trial = 0; trial < 5000; trial++)
        {
            byte[] stream = trial % 10 == 0
                ? RandomBytes(random.Next(0, 300), seed: trial)
                : Mutate(streams[trial % streams.Length], random);
            int size = random.Next(0, 3) == 0 ? random.Next(0, 300) : random.Next(0, 200_000);
            byte[] buffer = new byte[size + (2 * Guard)];
            buffer.AsSpan().Fill(Canary);

            // Act
            int length;
            try
            {
                length = LzfCodec.Decompress(stream, buffer.AsSpan(Guard, size));
            }
            catch (InvalidDataException)
            {
                length = 0;
            }

            // Assert: any other exception (IndexOutOfRangeException above all) fails the test by itself.
            length.Should().BeInRange(LzfCodec.OutputTooSmall, size, "trial {0}", trial);
            buffer.AsSpan(0, Guard).ToArray().Should().OnlyContain(b => b == Canary, "trial {0}", trial);
            buffer.AsSpan(Guard + size).ToArray().Should().OnlyContain(b => b == Canary, "trial {0}", trial);
        }
    }

    [Fact]
    public void Decompress_MutatedStreams_AgreeWithLiblzf()
    {
        // Arrange
        Liblzf.EnsureLoaded();
        var random = new Random(7);
        byte[][] streams = Samples().Select(sample => Compressed(sample.Bytes)).ToArray();

        for (int trial = 0; trial < 5000; trial++)
        {
            // liblzf reads one byte of an empty input, so it is left out here.
            byte[] stream = trial % 10 == 0
                ? RandomBytes(random.Next(1, 300), seed: trial)
                : Mutate(streams[trial % streams.Length], random);
            if (stream.Length == 0)
            {
                continue;
            }

            int size = random.Next(0, 3) == 0 ? random.Next(0, 300) : random.Next(0, 200_000);
            byte[] expected = new byte[size];
            byte[] actual = new byte[size];

            // Act
            uint status = Liblzf.Decompress(stream, (uint)stream.Length, expected, (uint)size);
            int errno = Marshal.GetLastPInvokeError();
            int length;
            try
            {
                length = LzfCodec.Decompress(stream, actual);
            }
            catch (InvalidDataException)
            {
                length = -EInval;
            }

            // Assert
            int liblzfLength = status > 0 ? (int)status : errno == E2Big ? LzfCodec.OutputTooSmall : -errno;
            length.Should().Be(liblzfLength, "trial {0}", trial);
            if (length > 0)
            {
                actual.AsSpan(0, length).SequenceEqual(expected.AsSpan(0, length)).Should().BeTrue("trial {0}", trial);
            }
        }
    }

    [Fact]
    public void Compress_ManyInputs_LiblzfDecompressesThem()
    {
        // Arrange
        Liblzf.EnsureLoaded();
        var random = new Random(3);

        foreach (byte[] input in VariedInputs(random, count: 400))
        {
            byte[] stream = Compressed(input);
            byte[] output = new byte[input.Length];

            // Act
            uint status = Liblzf.Decompress(stream, (uint)stream.Length, output, (uint)output.Length);

            // Assert
            status.Should().Be((uint)input.Length, "liblzf errno {0}", Marshal.GetLastPInvokeError());
            output.Should().Equal(input);
        }
    }

    [Fact]
    public void Decompress_ManyLiblzfStreams_ReturnOriginal()
    {
        // Arrange
        Liblzf.EnsureLoaded();
        var random = new Random(5);

        foreach (byte[] input in VariedInputs(random, count: 400))
        {
            byte[] stream = new byte[LzfCodec.MaxCompressedLength(input.Length) + 16];
            uint streamLength = Liblzf.Compress(input, (uint)input.Length, stream, (uint)stream.Length);
            streamLength.Should().BePositive();
            byte[] output = new byte[input.Length];

            // Act
            int length = LzfCodec.Decompress(stream.AsSpan(0, (int)streamLength), output);

            // Assert
            length.Should().Be(input.Length);
            output.Should().Equal(input);
        }
    }

    [Fact]
    public void Decompress_ChunksWrittenByH5py_ReturnOriginalBytes()
    {
        // Arrange: h5py compresses each sample as one chunk; the chunk is read back raw.
        Sample[] samples = Samples().Where(sample => sample.Name != "random").ToArray();
        var arguments = new List<string> { "compress", TempPath("h5py.h5") };
        foreach (Sample sample in samples)
        {
            File.WriteAllBytes(TempPath(sample.Name + ".bin"), sample.Bytes);
            arguments.AddRange([sample.DType, TempPath(sample.Name + ".bin"), TempPath(sample.Name + ".lzf")]);
        }

        string[] masks = RunOracle(arguments).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        masks.Should().Equal(samples.Select(_ => "0"), "h5py stores every sample compressed");
        foreach (Sample sample in samples)
        {
            byte[] chunk = File.ReadAllBytes(TempPath(sample.Name + ".lzf"));
            byte[] output = new byte[sample.Bytes.Length];

            // Act
            int length = LzfCodec.Decompress(chunk, output);

            // Assert
            length.Should().Be(sample.Bytes.Length, sample.Name);
            output.Should().Equal(sample.Bytes, sample.Name);
        }
    }

    [Fact]
    public void Compress_ChunksReadByH5py_ReturnOriginalArrays()
    {
        // Arrange: incompressible data is included too; its stream (longer than the data) must still decode.
        Sample[] samples = Samples();
        var arguments = new List<string> { "decompress", TempPath("ours.h5") };
        foreach (Sample sample in samples)
        {
            // Act
            File.WriteAllBytes(TempPath(sample.Name + ".lzf"), Compressed(sample.Bytes));
            arguments.AddRange([sample.DType, TempPath(sample.Name + ".lzf"), sample.Count.ToString(), TempPath(sample.Name + ".out")]);
        }

        RunOracle(arguments);

        // Assert
        foreach (Sample sample in samples)
        {
            File.ReadAllBytes(TempPath(sample.Name + ".out")).Should().Equal(sample.Bytes, sample.Name);
        }
    }

    private static byte[] Compressed(ReadOnlySpan<byte> input)
    {
        byte[] output = new byte[LzfCodec.MaxCompressedLength(input.Length)];
        int length = LzfCodec.Compress(input, output);
        if (input.Length > 0)
        {
            length.Should().BePositive("the worst-case output size always fits");
        }

        return output[..length];
    }

    private static byte[] RoundTrip(byte[] input)
    {
        byte[] stream = Compressed(input);
        byte[] output = new byte[input.Length];
        int length = LzfCodec.Decompress(stream, output);
        length.Should().Be(input.Length);
        return output;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] SampleBytes(string name) => Samples().Single(sample => sample.Name == name).Bytes;

    // Chunks like the ones we write: positions (Å) on a lattice with thermal noise, whole frames that repeat
    // (cell, atomic numbers, zero stress), a byte mix with long runs, and plain noise.
    private static Sample[] Samples()
    {
        var random = new Random(2024);

        double[] positions = new double[3 * 4096];
        for (int atom = 0; atom < 4096; atom++)
        {
            positions[(3 * atom) + 0] = (atom % 16 * 2.5) + ((random.NextDouble() - 0.5) * 0.1);
            positions[(3 * atom) + 1] = (atom / 16 % 16 * 2.5) + ((random.NextDouble() - 0.5) * 0.1);
            positions[(3 * atom) + 2] = (atom / 256 * 2.5) + ((random.NextDouble() - 0.5) * 0.1);
        }

        var frames = new List<double>();
        for (int frame = 0; frame < 500; frame++)
        {
            frames.AddRange([40.0, 0, 0, 0, 40.0, 0, 0, 0, 40.0]);
            frames.AddRange(Enumerable.Repeat(0.0, 6));
            frames.AddRange(Enumerable.Range(0, 64).Select(i => (double)(i % 3 == 0 ? 8 : 1)));
            frames.Add(-1234.5678 + (frame * 1e-3));
        }

        var mixed = new List<byte>(RandomBytes(3000, seed: 9));
        mixed.AddRange(new byte[70_000]);
        mixed.AddRange(Enumerable.Range(0, 4000).Select(i => (byte)"MLFF positions forces energy "[i % 29]));
        mixed.AddRange(RandomBytes(777, seed: 10));
        mixed.AddRange(Enumerable.Range(0, 5000).Select(i => (byte)(i % 251)));

        return
        [
            new("zeros", "float64", new byte[8 * 8192]),
            new("positions", "float64", MemoryMarshal.AsBytes(positions.AsSpan()).ToArray()),
            new("frames", "float64", MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(frames)).ToArray()),
            new("mixed", "uint8", [.. mixed]),
            new("random", "uint8", RandomBytes(50_000, seed: 11)),
        ];
    }

    // Inputs of many sizes and structures: noise, runs, short repeats and periodic doubles.
    private static IEnumerable<byte[]> VariedInputs(Random random, int count)
    {
        for (int i = 0; i < count; i++)
        {
            int length = random.Next(1, i % 20 == 0 ? 300_000 : 5000);
            byte[] bytes = new byte[length];
            switch (i % 4)
            {
                case 0:
                    random.NextBytes(bytes);
                    break;
                case 1:
                    for (int j = 0; j < length; j++)
                    {
                        bytes[j] = (byte)(random.Next(0, 8) == 0 ? random.Next(256) : 0);
                    }

                    break;
                case 2:
                    int period = random.Next(1, 300);
                    random.NextBytes(bytes.AsSpan(0, Math.Min(period, length)));
                    for (int j = period; j < length; j++)
                    {
                        bytes[j] = random.Next(0, 50) == 0 ? (byte)random.Next(256) : bytes[j - period];
                    }

                    break;
                default:
                    for (int j = 0; j + 8 <= length; j += 8)
                    {
                        BitConverter.TryWriteBytes(bytes.AsSpan(j), Math.Round(random.NextDouble() * 10, random.Next(0, 4)));
                    }

                    break;
            }

            yield return bytes;
        }
    }

    private static byte[] Mutate(byte[] stream, Random random)
    {
        byte[] bytes = (byte[])stream.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (int i = random.Next(1, 5); i > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            case 1:
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 2:
                return bytes[..random.Next(bytes.Length)];
            case 3:
                int at = random.Next(bytes.Length + 1);
                return [.. bytes[..at], .. RandomBytes(random.Next(1, 8), random.Next()), .. bytes[at..]];
            default:
                int start = random.Next(bytes.Length);
                random.NextBytes(bytes.AsSpan(start, Math.Min(random.Next(1, 40), bytes.Length - start)));
                return bytes;
        }
    }

    private string TempPath(string name) => Path.Combine(_directory.FullName, name);

    private static string RunOracle(IEnumerable<string> arguments) =>
        PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Hdf5", "Filters", "lzf_oracle.py"), [.. arguments]);

    private sealed record Sample(string Name, string DType, byte[] Bytes)
    {
        public int Count => DType == "float64" ? Bytes.Length / 8 : Bytes.Length;
    }

    // liblzf.so.1 comes with Debian's liblzf1, a dependency of python3-h5py; h5py's filter 32000 calls it.
    private static class Liblzf
    {
        private const string Library = "liblzf.so.1";

        public static void EnsureLoaded()
        {
            NativeLibrary.TryLoad(Library, out _).Should().BeTrue(
                "{0} (package liblzf1, pulled in by python3-h5py) is the reference; scripts/bootstrap installs it", Library);
        }

        [DllImport(Library, EntryPoint = "lzf_compress")]
        public static extern uint Compress(byte[] input, uint inputLength, byte[] output, uint outputLength);

        [DllImport(Library, EntryPoint = "lzf_decompress", SetLastError = true)]
        public static extern uint Decompress(byte[] input, uint inputLength, byte[] output, uint outputLength);
    }
}
