using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MlffData.Hdf5.Filters;

/// <summary>
/// HDF5's fletcher32 filter (id 3) on the write side, for chunks this library stores itself (H5Dwrite_chunk): the
/// checksum of a chunk's filtered bytes, appended as 4 little-endian bytes. libhdf5 (and so h5py) verifies it on every
/// read and fails with "data error detected by Fletcher32 checksum" on a mismatch, which is how a flipped bit in
/// stored data is caught instead of read back as a wrong number (RELIABILITY.md 1.6).
/// </summary>
/// <remarks>
/// libhdf5's H5_checksum_fletcher32 sums the bytes as big-endian 16-bit words (an odd last byte as its high byte) into
/// sum1 and sum2, folding each into 16 bits with end-around carry, and returns (sum2 &lt;&lt; 16) | sum1. Folding keeps a
/// sum's value modulo 65535 and never turns a positive sum into 0, so each half of the result is 0 when every byte is 0
/// and otherwise the residue modulo 65535 written in 1..65535. That closed form lets the sums run in wide SIMD blocks
/// here: chunks are checksummed on the writer thread, at several GB/s rather than libhdf5's one word at a time.
/// </remarks>
public static class Fletcher32
{
    /// <summary>Bytes the checksum adds to a chunk.</summary>
    public const int Length = 4;

    private const ulong Modulus = 65535;

    /// <summary>The checksum libhdf5 computes for these bytes.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        int words = data.Length / 2;
        // sum1 exactly (it is 0 only when every word is 0); sum2 modulo 65535 with a flag for "some word non-zero".
        ulong sum1 = 0, sum2 = 0;
        int done = 0;
        if (Vector.IsHardwareAccelerated && words >= 2 * Vector<ushort>.Count)
            done = Blocks(MemoryMarshal.Cast<byte, ushort>(data[..(2 * words)]), ref sum1, ref sum2);
        ulong s2 = sum2;
        for (int i = done; i < words; i++)
        {
            sum1 += (uint)(data[2 * i] << 8 | data[2 * i + 1]);
            s2 = (s2 + sum1 % Modulus) % Modulus;
        }
        if ((data.Length & 1) != 0)
        {
            sum1 += (uint)(data[^1] << 8);
            s2 = (s2 + sum1 % Modulus) % Modulus;
        }
        if (sum1 == 0) return 0;
        // Every word counts at least once in sum2, so it is non-zero exactly when sum1 is.
        uint low = Fold(sum1 % Modulus), high = Fold(s2);
        return high << 16 | low;
    }

    /// <summary>Writes <paramref name="data"/> followed by its checksum into <paramref name="destination"/>, which must
    /// hold data.Length + <see cref="Length"/> bytes; returns that length.</summary>
    public static int CopyWithChecksum(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        data.CopyTo(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[data.Length..], Compute(data));
        return data.Length + Length;
    }

    /// <summary>A residue modulo 65535 as libhdf5's folding leaves a non-zero sum: 1..65535.</summary>
    private static uint Fold(ulong residue) => residue == 0 ? (uint)Modulus : (uint)residue;

    /// <summary>
    /// Sums whole vectors of words, a block at a time: per lane, a += word and b += a after each vector, which gives
    /// b = the sum of (vectors left + 1) * word; the block's words then add lanes * sum(b) - sum(lane * a) to sum2
    /// (each word counted once for itself and once per word after it in the block) besides words * sum1 from before.
    /// Returns the words consumed (whole vectors only); sum1 exact, sum2 modulo 65535.
    /// </summary>
    private static int Blocks(ReadOnlySpan<ushort> words, ref ulong sum1, ref ulong sum2)
    {
        int lanes = Vector<ushort>.Count;
        int half = Vector<uint>.Count;
        // 255 vectors keep b's lanes below 2^32: 255 * 256 / 2 * 65535 < 2^32.
        const int BlockVectors = 255;
        var weights = new uint[lanes];
        for (int l = 0; l < lanes; l++) weights[l] = (uint)l;
        var lowWeights = new Vector<uint>(weights, 0);
        var highWeights = new Vector<uint>(weights, half);
        var vectors = MemoryMarshal.Cast<ushort, Vector<ushort>>(words);
        int v = 0;
        while (v < vectors.Length)
        {
            int count = Math.Min(BlockVectors, vectors.Length - v);
            Vector<uint> aLow = default, aHigh = default, bLow = default, bHigh = default;
            for (int end = v + count; v < end; v++)
            {
                var word = vectors[v];
                // The words are big-endian: swap each one's bytes.
                word = Vector.ShiftLeft(word, 8) | Vector.ShiftRightLogical(word, 8);
                Vector.Widen(word, out var low, out var high);
                aLow += low;
                aHigh += high;
                bLow += aLow;
                bHigh += aHigh;
            }
            ulong a = 0, b = 0, weighted = 0;
            for (int l = 0; l < half; l++)
            {
                a += aLow[l] + (ulong)aHigh[l];
                b += bLow[l] + (ulong)bHigh[l];
                weighted += (ulong)aLow[l] * lowWeights[l] + (ulong)aHigh[l] * highWeights[l];
            }
            ulong blockWords = (ulong)(count * lanes);
            // sum2 += words * sum1 + lanes * b - weighted, kept in 0..65534 (weighted is at most lanes * b).
            sum2 = (sum2 + blockWords % Modulus * (sum1 % Modulus) + ((ulong)lanes * b - weighted) % Modulus) % Modulus;
            sum1 += a;
        }
        return vectors.Length * lanes;
    }
}
