using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace MlffData.Hdf5.Filters;

/// <summary>
/// What libhdf5's shuffle (filter 2) and deflate (filter 1) filters make of a chunk, done in .NET so that chunks can
/// be compressed on worker threads and stored with <see cref="H5Dataset{T}.WriteChunk"/>: the shuffle splits the
/// chunk into byte planes exactly as H5Z_filter_shuffle does, and the deflate output is a zlib stream (header and
/// Adler-32), which is what H5Z_filter_deflate stores and inflates.
/// </summary>
/// <remarks>Thread-safe: every call works on its own buffers.</remarks>
internal static class DeflateCodec
{
    /// <summary>
    /// Shuffles then deflates one chunk's raw bytes.
    /// </summary>
    /// <param name="raw">The chunk as libhdf5 would hand it to its filters: elements in row-major order.</param>
    /// <param name="elementSize">Bytes per element of the dataset's type (the shuffle's plane count).</param>
    /// <param name="shuffle">Whether the shuffle filter runs before deflate.</param>
    /// <param name="level">Deflate level 1-9.</param>
    /// <returns>An array rented from <see cref="ArrayPool{T}.Shared"/> and the length of the stored chunk in it; the
    /// caller returns the array.</returns>
    internal static (byte[] Buffer, int Length) Compress(ReadOnlySpan<byte> raw, int elementSize, bool shuffle, int level)
    {
        byte[]? shuffled = null;
        try
        {
            var input = raw;
            // H5Z_filter_shuffle leaves 1-byte types (and chunks smaller than one element) as they are.
            if (shuffle && elementSize > 1 && raw.Length >= elementSize)
            {
                shuffled = ArrayPool<byte>.Shared.Rent(raw.Length);
                Shuffle(raw, shuffled.AsSpan(0, raw.Length), elementSize);
                input = shuffled.AsSpan(0, raw.Length);
            }
            var strategy = shuffled is null ? ZLibCompressionStrategy.Default : StrategyFor(input, elementSize, level);
            // Deflate seldom grows data by more than 0.1% plus a few bytes; the stream grows if it does.
            using var output = new PooledBufferStream(raw.Length + raw.Length / 256 + 64);
            Deflate(input, level, strategy, output);
            return output.Detach();
        }
        finally
        {
            if (shuffled is not null) ArrayPool<byte>.Shared.Return(shuffled);
        }
    }

    // Chunks this small are deflated with the default strategy: sampling would cost more than it could save.
    private const int SampledChunkBytes = 128 << 10;
    private const int SampleBytesPerPlane = 8 << 10;

    /// <summary>
    /// Deflate's run-length strategy (zlib's Z_RLE: matches at distance 1 only) when a sample of the shuffled chunk
    /// says it loses at most 3% against the full match search at this level, else the default strategy.
    /// </summary>
    /// <remarks>
    /// A shuffled chunk of positions or forces is byte planes of runs (sign and exponent bytes) and of noise (low
    /// mantissa bytes), where the full search finds little that runs do not: measured on the benchmark's data, the
    /// run-length strategy deflates these columns 2.2 times as fast, positions 0.7% larger and forces 0.6% smaller
    /// than the default (both smaller than h5py's gzip-4). A sample of 8 KiB per plane overstates the loss (2% for
    /// those positions), hence the 3%. Columns with repeats at a distance (energies, cells, a perfect crystal's
    /// positions) deflate 1.1 to 15 times smaller with the full search, and the sample sees that. The stream is plain
    /// deflate either way, and the sample depends on the chunk alone, so the same rows always give the same bytes.
    /// </remarks>
    private static ZLibCompressionStrategy StrategyFor(ReadOnlySpan<byte> shuffled, int planes, int level)
    {
        if (shuffled.Length < SampledChunkBytes) return ZLibCompressionStrategy.Default;
        int planeLength = shuffled.Length / planes;
        int take = Math.Min(SampleBytesPerPlane, planeLength);
        var sample = ArrayPool<byte>.Shared.Rent(take * planes);
        try
        {
            // The start of every plane: each plane compresses differently, and the sample must weigh them all.
            for (int p = 0; p < planes; p++)
                shuffled.Slice(p * planeLength, take).CopyTo(sample.AsSpan(p * take));
            var part = sample.AsSpan(0, take * planes);
            long full = DeflatedLength(part, level, ZLibCompressionStrategy.Default);
            long runs = DeflatedLength(part, level, ZLibCompressionStrategy.RunLengthEncoding);
            return runs * 100 <= full * 103 ? ZLibCompressionStrategy.RunLengthEncoding : ZLibCompressionStrategy.Default;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sample);
        }
    }

    private static long DeflatedLength(ReadOnlySpan<byte> data, int level, ZLibCompressionStrategy strategy)
    {
        using var counter = new CountingStream();
        Deflate(data, level, strategy, counter);
        return counter.Length;
    }

    // One zlib stream (header, deflate, Adler-32) of data into output, which stays open.
    private static void Deflate(ReadOnlySpan<byte> data, int level, ZLibCompressionStrategy strategy, Stream output)
    {
        using var zlib = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = strategy }, leaveOpen: true);
        zlib.Write(data);
    }

    /// <summary>
    /// HDF5's byte shuffle: byte j of element i goes to destination[j * n + i], for n = source.Length / elementSize
    /// whole elements; the bytes after the last whole element are copied as they are (H5Z_filter_shuffle's leftover).
    /// </summary>
    internal static unsafe void Shuffle(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        int n = source.Length / elementSize;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            // One pass reading elements in order and writing every plane is several times faster than a strided
            // pass per plane; 8 and 4 bytes are our float64/int64 and float32 columns.
            if (elementSize == 8)
            {
                byte* d0 = dst, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n, d4 = d3 + n, d5 = d4 + n, d6 = d5 + n, d7 = d6 + n;
                for (int i = 0; i < n; i++)
                {
                    ulong v = Unsafe.ReadUnaligned<ulong>(src + (long)i * 8);
                    d0[i] = (byte)v;
                    d1[i] = (byte)(v >> 8);
                    d2[i] = (byte)(v >> 16);
                    d3[i] = (byte)(v >> 24);
                    d4[i] = (byte)(v >> 32);
                    d5[i] = (byte)(v >> 40);
                    d6[i] = (byte)(v >> 48);
                    d7[i] = (byte)(v >> 56);
                }
            }
            else if (elementSize == 4)
            {
                byte* d0 = dst, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n;
                for (int i = 0; i < n; i++)
                {
                    uint v = Unsafe.ReadUnaligned<uint>(src + (long)i * 4);
                    d0[i] = (byte)v;
                    d1[i] = (byte)(v >> 8);
                    d2[i] = (byte)(v >> 16);
                    d3[i] = (byte)(v >> 24);
                }
            }
            else
            {
                for (int j = 0; j < elementSize; j++)
                {
                    byte* s = src + j;
                    byte* d = dst + (long)j * n;
                    for (int i = 0; i < n; i++, s += elementSize) d[i] = *s;
                }
            }
        }
        // The bytes are little-endian in memory, so byte k of an element is bits 8k.. of its value, as above.
        int whole = n * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    /// <summary>
    /// Inflates one zlib stream (what H5Z_filter_deflate stores) into exactly destination.Length bytes.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is corrupt, or holds fewer or more bytes than destination.</exception>
    internal static unsafe void Inflate(ReadOnlySpan<byte> stored, Span<byte> destination)
    {
        fixed (byte* p = stored)
        {
            using var input = new UnmanagedMemoryStream(p, stored.Length);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            int read = zlib.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            Span<byte> more = stackalloc byte[1];
            if (read != destination.Length || zlib.Read(more) != 0)
                throw new InvalidDataException($"a deflated chunk holds {(read < destination.Length ? $"{read}" : "more than " + read)} bytes, expected {destination.Length}");
        }
    }

    /// <summary>
    /// Undoes <see cref="Shuffle"/>: byte j of element i comes from source[j * n + i]; the bytes after the last whole
    /// element are copied as they are.
    /// </summary>
    internal static unsafe void Unshuffle(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        int n = source.Length / elementSize;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            if (elementSize == 8)
            {
                byte* s0 = src, s1 = s0 + n, s2 = s1 + n, s3 = s2 + n, s4 = s3 + n, s5 = s4 + n, s6 = s5 + n, s7 = s6 + n;
                for (int i = 0; i < n; i++)
                {
                    ulong v = s0[i] | (ulong)s1[i] << 8 | (ulong)s2[i] << 16 | (ulong)s3[i] << 24
                        | (ulong)s4[i] << 32 | (ulong)s5[i] << 40 | (ulong)s6[i] << 48 | (ulong)s7[i] << 56;
                    Unsafe.WriteUnaligned(dst + (long)i * 8, v);
                }
            }
            else if (elementSize == 4)
            {
                byte* s0 = src, s1 = s0 + n, s2 = s1 + n, s3 = s2 + n;
                for (int i = 0; i < n; i++)
                    Unsafe.WriteUnaligned(dst + (long)i * 4, s0[i] | (uint)s1[i] << 8 | (uint)s2[i] << 16 | (uint)s3[i] << 24);
            }
            else
            {
                for (int j = 0; j < elementSize; j++)
                {
                    byte* s = src + (long)j * n;
                    byte* d = dst + j;
                    for (int i = 0; i < n; i++, d += elementSize) *d = s[i];
                }
            }
        }
        int whole = n * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    /// <summary>A write-only stream that keeps only the count of bytes written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>A write-only stream into one array rented from the shared pool, which grows by renting a larger one.</summary>
    private sealed class PooledBufferStream(int capacity) : Stream
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_length + buffer.Length > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + buffer.Length));
                _buffer.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        /// <summary>Hands the array and its length to the caller; the stream no longer returns it to the pool.</summary>
        public (byte[] Buffer, int Length) Detach()
        {
            var result = (_buffer, _length);
            _buffer = [];
            _length = 0;
            return result;
        }

        protected override void Dispose(bool disposing)
        {
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
