using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MlffData.Hdf5.Filters;

/// <summary>
/// LZF compression in the stream format of Marc Lehmann's liblzf (API version 0x0105), the codec behind
/// h5py's HDF5 filter 32000: a chunk stored by that filter is a bare LZF stream, with no header.
/// </summary>
/// <remarks>
/// <para>
/// A stream is a sequence of tokens, each starting with a control byte <c>c</c>. When <c>c &lt; 32</c>,
/// <c>c + 1</c> literal bytes follow. Otherwise it is a back-reference: <c>L = c &gt;&gt; 5</c>, and when
/// <c>L == 7</c> the next byte is added to it; the byte after that is the low half of the offset, whose high
/// five bits are <c>c &amp; 0x1f</c>; then <c>L + 2</c> bytes (3 to 264) are copied, one at a time, from
/// <c>offset + 1</c> bytes (1 to 8192) behind the end of the output so far, so a copy may overlap itself.
/// </para>
/// <para>
/// Any stream in that format decodes with liblzf; this encoder's choice of matches (its hash and table size)
/// differs from liblzf's, so compressed bytes differ from h5py's while decompressing to the same data. For a
/// given input the output is always the same bytes, whatever the thread compressed before.
/// </para>
/// <para>Both methods are thread-safe; each thread that compresses keeps its own 256 KiB match table.</para>
/// </remarks>
internal static class LzfCodec
{
    /// <summary>What <see cref="Decompress"/> returns when the output does not fit: liblzf's <c>E2BIG</c>.</summary>
    public const int OutputTooSmall = -1;

    // Control byte 0..31 carries 1..32 literals.
    private const int MaxLiteralRun = 32;

    // 13 offset bits: a back-reference reaches 1..8192 bytes behind.
    private const int MaxDistance = 1 << 13;

    // A back-reference costs 2 or 3 bytes, so shorter matches are not worth one.
    private const int MinMatch = 3;

    // 7 in the control byte + 255 in the extra byte + the implicit 2.
    private const int MaxMatch = 7 + 255 + 2;

    // 2^16 int slots = 256 KiB per thread. On position-like doubles 2^14 slots left a third of all probes
    // landing on a recent but different sequence, a branch the CPU cannot predict: 2^16 compressed them
    // 1.5 to 1.7 times faster and slightly smaller, on 4 KiB chunks as on 256 KiB ones.
    private const int HashLog = 16;

    // After 2^SkipLog probes without a match the compressor steps 2 bytes, after twice as many 3, and so on.
    private const int SkipLog = 5;

    // Slots hold position + t_base. Each call takes a new base far enough above the previous call's positions
    // that every old slot reads as more than MaxDistance behind, so the table is never cleared between calls
    // (clearing 256 KiB would dominate small chunks) and the output does not depend on earlier calls.
    [ThreadStatic]
    private static int[]? t_table;

    [ThreadStatic]
    private static int t_base;

    /// <summary>
    /// Returns an output size with which <see cref="Compress"/> never fails: every 32 input bytes cost at most one
    /// control byte on top.
    /// </summary>
    /// <param name="inputLength">The number of bytes to compress.</param>
    /// <returns>The worst-case compressed size in bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputLength"/> is negative or so large that the result overflows.</exception>
    public static int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(inputLength, int.MaxValue - (int.MaxValue / MaxLiteralRun) - 1);
        return inputLength + (inputLength + MaxLiteralRun - 1) / MaxLiteralRun;
    }

    /// <summary>
    /// Compresses <paramref name="input"/> into <paramref name="output"/>, failing (returning 0) when the result
    /// would not fit: liblzf's <c>lzf_compress</c> contract.
    /// </summary>
    /// <remarks>
    /// h5py's filter passes an output buffer as long as the chunk and, on 0, lets HDF5 store the chunk
    /// uncompressed (the filter is optional). An empty input also returns 0, as in liblzf.
    /// </remarks>
    /// <param name="input">The bytes to compress.</param>
    /// <param name="output">Where the stream is written; its length is the most the caller accepts.</param>
    /// <returns>
    /// The compressed length in bytes, or 0 when it would exceed <paramref name="output"/>'s length or the input is
    /// empty. Bytes of <paramref name="output"/> past the returned length may have been overwritten (literals are
    /// copied in blocks), and after a 0 its contents are unspecified.
    /// </returns>
    public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int length = input.Length;
        if (length == 0 || output.Length == 0)
        {
            return 0;
        }

        int[]? table = t_table;
        int bias = t_base;
        if (table is null)
        {
            table = t_table = new int[1 << HashLog];
            bias = MaxDistance + 1;
        }
        else if (bias > int.MaxValue - MaxDistance - 1 - length)
        {
            // The bases ran out (after about 2 GiB compressed on this thread): only now is the table cleared.
            Array.Clear(table);
            bias = MaxDistance + 1;
        }

        t_base = bias + length + MaxDistance + 1;

        int ip = 0;
        int op = 0;
        int anchor = 0; // First input byte not yet written, as a literal or inside a match.
        int misses = 1 << SkipLog;

        while (ip <= length - 4)
        {
            uint word = BinaryPrimitives.ReadUInt32LittleEndian(input[ip..]);
            int slot = Hash(word);
            uint distance = (uint)(ip + bias - table[slot]);
            table[slot] = ip + bias;

            // Unsigned wrap makes distance 0 and stale slots (huge distances) fail the same single test.
            if (distance - 1 >= MaxDistance
                || ((BinaryPrimitives.ReadUInt32LittleEndian(input[(ip - (int)distance)..]) ^ word) & 0xFFFFFF) != 0)
            {
                // Step further the longer nothing matched, as LZ4 does: incompressible stretches (the low
                // mantissa bytes of positions) then cost a fraction of a probe per byte.
                ip += misses++ >> SkipLog;
                continue;
            }

            // Extend backwards over bytes that the steps skipped.
            int reference = ip - (int)distance;
            while (ip > anchor && reference > 0 && input[ip - 1] == input[reference - 1])
            {
                ip--;
                reference--;
            }

            int matchLength = MatchLength(input, reference, ip, Math.Min(length - ip, MaxMatch));
            op = WriteLiterals(input, anchor, ip - anchor, output, op);
            op = op < 0 ? op : WriteReference((int)distance, matchLength, output, op);
            if (op < 0)
            {
                return 0;
            }

            ip += matchLength;
            anchor = ip;
            misses = 1 << SkipLog;

            // Index the match's last position too, so data that repeats right after a match is found (two
            // positions, as liblzf's default does, measured slower and no smaller on doubles).
            if (ip <= length - 4)
            {
                table[Hash(BinaryPrimitives.ReadUInt32LittleEndian(input[(ip - 1)..]))] = ip - 1 + bias;
            }
        }

        return Math.Max(WriteLiterals(input, anchor, length - anchor, output, op), 0);
    }

    /// <summary>
    /// Decompresses the LZF stream <paramref name="input"/> into <paramref name="output"/>: liblzf's
    /// <c>lzf_decompress</c>, without its out-of-bounds read on an empty input.
    /// </summary>
    /// <remarks>
    /// Errors are reported in liblzf's order, so for any input this gives the result liblzf gives: when a token
    /// would both overrun the output and be corrupt, the overrun wins. h5py's filter answers
    /// <see cref="OutputTooSmall"/> by retrying with a larger buffer; a caller that knows the chunk's size can
    /// treat it as corruption instead. Nothing outside the two spans is read or written, whatever the input, but
    /// bytes of <paramref name="output"/> past the returned length may be overwritten (runs are copied in blocks).
    /// </remarks>
    /// <param name="input">The compressed stream; empty decompresses to nothing.</param>
    /// <param name="output">Where the bytes go; on failure its contents are unspecified.</param>
    /// <returns>The decompressed length in bytes, or <see cref="OutputTooSmall"/> when <paramref name="output"/> is too short.</returns>
    /// <exception cref="InvalidDataException">The stream is corrupt (liblzf's <c>EINVAL</c>): a token runs past the end of <paramref name="input"/>, or a back-reference reaches before the start of the output.</exception>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int inLength = input.Length;
        int outLength = output.Length;
        int ip = 0;
        int op = 0;

        while (ip < inLength)
        {
            int token = ip;
            int control = input[ip++];
            if (control < MaxLiteralRun)
            {
                int count = control + 1;
                if (count > outLength - op)
                {
                    return OutputTooSmall;
                }

                if (count > inLength - ip)
                {
                    ThrowCorrupt("a literal run goes past the end of the input", token);
                }

                if (inLength - ip >= MaxLiteralRun && outLength - op >= MaxLiteralRun)
                {
                    // One 32-byte block instead of a memmove call; the bytes past the run are rewritten next.
                    MemoryMarshal.Write(output[op..], MemoryMarshal.Read<Vector256<byte>>(input[ip..]));
                }
                else
                {
                    input.Slice(ip, count).CopyTo(output[op..]);
                }

                ip += count;
                op += count;
            }
            else
            {
                int count = control >> 5;
                if (ip >= inLength)
                {
                    ThrowCorrupt("a back-reference is cut off by the end of the input", token);
                }

                if (count == 7)
                {
                    count += input[ip++];
                    if (ip >= inLength)
                    {
                        ThrowCorrupt("a back-reference is cut off by the end of the input", token);
                    }
                }

                int distance = ((control & 0x1f) << 8) + input[ip++] + 1;
                count += 2;
                if (count > outLength - op)
                {
                    return OutputTooSmall;
                }

                if (distance > op)
                {
                    ThrowCorrupt("a back-reference points before the start of the output", token);
                }

                CopyMatch(output, op, distance, count);
                op += count;
            }
        }

        return op;
    }

    // Writes input[anchor..anchor + count] as runs of up to 32 literals, each after its control byte, and returns
    // the new output position, or -1 when they do not all fit.
    private static int WriteLiterals(ReadOnlySpan<byte> input, int anchor, int count, Span<byte> output, int op)
    {
        if (count + ((count + MaxLiteralRun - 1) / MaxLiteralRun) > output.Length - op)
        {
            return -1;
        }

        while (count > 0)
        {
            int run = Math.Min(count, MaxLiteralRun);
            output[op++] = (byte)(run - 1);
            if (input.Length - anchor >= MaxLiteralRun && output.Length - op >= MaxLiteralRun)
            {
                // Runs between matches are mostly a byte or two: one 32-byte block beats a memmove call, and
                // the bytes past the run are rewritten next or lie past the returned length.
                MemoryMarshal.Write(output[op..], MemoryMarshal.Read<Vector256<byte>>(input[anchor..]));
            }
            else
            {
                input.Slice(anchor, run).CopyTo(output[op..]);
            }

            anchor += run;
            count -= run;
            op += run;
        }

        return op;
    }

    // Writes a back-reference token (2 bytes, or 3 from 9 matched bytes on) and returns the new output position,
    // or -1 when it does not fit.
    private static int WriteReference(int distance, int matchLength, Span<byte> output, int op)
    {
        int encodedLength = matchLength - 2;
        int offset = distance - 1;
        if ((encodedLength < 7 ? 2 : 3) > output.Length - op)
        {
            return -1;
        }

        if (encodedLength < 7)
        {
            output[op++] = (byte)((encodedLength << 5) | (offset >> 8));
        }
        else
        {
            output[op++] = (byte)((7 << 5) | (offset >> 8));
            output[op++] = (byte)(encodedLength - 7);
        }

        output[op++] = (byte)offset;
        return op;
    }

    // Multiplicative hash of the word's low three bytes (the << 8 drops the fourth), keeping the top HashLog bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(uint word) => (int)(((word << 8) * 2654435761u) >> (32 - HashLog));

    // Length of the common prefix of data[reference..] and data[position..], at least MinMatch (already checked)
    // and at most maxLength; eight bytes at a time while they fit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MatchLength(ReadOnlySpan<byte> data, int reference, int position, int maxLength)
    {
        int length = MinMatch;
        while (length + 8 <= maxLength)
        {
            ulong difference = BinaryPrimitives.ReadUInt64LittleEndian(data[(reference + length)..])
                ^ BinaryPrimitives.ReadUInt64LittleEndian(data[(position + length)..]);
            if (difference != 0)
            {
                return length + (BitOperations.TrailingZeroCount(difference) >> 3);
            }

            length += 8;
        }

        while (length < maxLength && data[reference + length] == data[position + length])
        {
            length++;
        }

        return length;
    }

    // LZF copies byte by byte, so a source that overlaps the destination repeats its first `distance` bytes;
    // memmove (Span.CopyTo) would not, hence block copies only where blocks cannot overlap.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyMatch(Span<byte> output, int op, int distance, int count)
    {
        int source = op - distance;
        if (distance >= 8 && output.Length - op >= count + 7)
        {
            // Each 8-byte block reads only bytes already final, since it starts at least 8 behind where it writes;
            // the last block may write up to 7 bytes past the match, which later tokens rewrite.
            for (int i = 0; i < count; i += 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(
                    output[(op + i)..], BinaryPrimitives.ReadUInt64LittleEndian(output[(source + i)..]));
            }
        }
        else if (distance >= count)
        {
            output.Slice(source, count).CopyTo(output[op..]);
        }
        else if (distance == 1)
        {
            output.Slice(op, count).Fill(output[source]);
        }
        else
        {
            Span<byte> window = output.Slice(source, distance + count);
            for (int i = distance; i < window.Length; i++)
            {
                window[i] = window[i - distance];
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowCorrupt(string problem, int position) =>
        throw new InvalidDataException($"Invalid LZF data: {problem} (token at input byte {position}).");
}
