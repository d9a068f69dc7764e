using System.Buffers;
using System.Buffers.Binary;

namespace MlffData.Hdf5.Filters;

/// <summary>
/// Undoes a dataset's filters on one chunk read as stored (<see cref="H5Dataset{T}.ReadChunk"/>), as libhdf5's
/// pipeline does on read: the fletcher32 checksum is verified, then the chunk is inflated (or lzf-decompressed) and
/// unshuffled. Done in .NET so that chunks can be decoded on worker threads, and the checksum checked in wide blocks
/// (<see cref="Fletcher32"/>) instead of libhdf5's one word at a time.
/// </summary>
/// <remarks>Thread-safe: every call works on its own buffers.</remarks>
internal static class ChunkDecoder
{
    /// <summary>Whether chunks with these filters can be decoded here: shuffle, deflate or lzf, and fletcher32, in
    /// that order, and nothing else.</summary>
    internal static bool Supports(H5FilterPipeline filters) =>
        filters.InStandardOrder && filters.OtherFilters is not { Count: > 0 } && !(filters.DeflateLevel > 0 && filters.Lzf);

    /// <summary>
    /// Decodes one stored chunk into its raw bytes (elements in row-major order).
    /// </summary>
    /// <param name="stored">The chunk as stored.</param>
    /// <param name="filterMask">The filters skipped for this chunk (bit i: the i-th filter of the pipeline).</param>
    /// <param name="filters">The dataset's filters (see <see cref="Supports"/>).</param>
    /// <param name="elementSize">Bytes per element (the shuffle's plane count).</param>
    /// <param name="raw">Exactly the chunk's size in bytes.</param>
    /// <exception cref="InvalidDataException">The checksum does not match (libhdf5's words), or the chunk does not
    /// decode to raw.Length bytes.</exception>
    internal static void Decode(ReadOnlySpan<byte> stored, uint filterMask, H5FilterPipeline filters, int elementSize, Span<byte> raw)
    {
        if (!Supports(filters)) throw new NotSupportedException($"chunks with filters {filters} are decoded by libhdf5 only");
        // Bit positions follow the pipeline's order, which counts only the filters present.
        int position = 0;
        bool shuffle = filters.Shuffle && Applied(ref position);
        bool deflate = filters.DeflateLevel > 0 && Applied(ref position);
        bool lzf = filters.Lzf && Applied(ref position);
        bool checksum = filters.Fletcher32 && Applied(ref position);
        var data = stored;
        if (checksum)
        {
            if (data.Length < Fletcher32.Length) throw new InvalidDataException("a chunk is shorter than its fletcher32 checksum");
            data = data[..^Fletcher32.Length];
            uint expected = BinaryPrimitives.ReadUInt32LittleEndian(stored[^Fletcher32.Length..]);
            uint actual = Fletcher32.Compute(data);
            // libhdf5 also accepts the checksum with the bytes of each half swapped, as versions before 1.6.3 wrote it.
            uint swapped = (actual & 0xFF00FF00u) >> 8 | (actual & 0x00FF00FFu) << 8;
            if (expected != actual && expected != swapped) throw new InvalidDataException("data error detected by Fletcher32 checksum");
        }
        bool unshuffle = shuffle && elementSize > 1 && raw.Length >= elementSize;
        byte[]? shuffled = unshuffle ? ArrayPool<byte>.Shared.Rent(raw.Length) : null;
        try
        {
            var target = shuffled is null ? raw : shuffled.AsSpan(0, raw.Length);
            if (deflate)
            {
                DeflateCodec.Inflate(data, target);
            }
            else if (lzf)
            {
                int n = LzfCodec.Decompress(data, target);
                if (n != raw.Length) throw new InvalidDataException($"an lzf chunk holds {(n < 0 ? "more than " + raw.Length : n)} bytes, expected {raw.Length}");
            }
            else
            {
                if (data.Length != raw.Length) throw new InvalidDataException($"a chunk holds {data.Length} bytes, expected {raw.Length}");
                data.CopyTo(target);
            }
            if (shuffled is not null) DeflateCodec.Unshuffle(target, raw, elementSize);
        }
        finally
        {
            if (shuffled is not null) ArrayPool<byte>.Shared.Return(shuffled);
        }

        bool Applied(ref int at) => (filterMask & (1u << at++)) == 0;
    }
}
