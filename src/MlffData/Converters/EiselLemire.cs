using System.Numerics;

namespace MlffData.Converters;

/// <summary>
/// The Eisel-Lemire algorithm (Lemire, "Number Parsing at a Gigabyte per Second", 2021): the double nearest to
/// w * 10^q for a decimal significand w of at most 19 digits, from one or two 64x64-bit products with a 128-bit
/// power of five. It gives up (false) where it cannot be sure of the rounding, and on subnormals and overflow,
/// so the caller's general parser decides those; where it answers, the answer is the correctly rounded double.
/// </summary>
/// <remarks>
/// .NET's double.Parse runs the same algorithm, but only after copying the digits into a buffer, and that copy is
/// most of the time an extxyz file of full-precision floats takes to read.
/// </remarks>
internal static class EiselLemire
{
    private const int SmallestPowerOfTen = -342, LargestPowerOfTen = 308;
    private const int MantissaBits = 52, MinimumExponent = -1023, InfinitePower = 0x7FF;

    // 5^q for q in [-342, 308], normalised to 128 bits with the top bit set: [2i] the high word, [2i + 1] the low.
    private static readonly ulong[] PowersOfFive = BuildPowersOfFive();

    /// <summary>The double nearest to <paramref name="w"/> * 10^<paramref name="q"/>, when this algorithm is sure of it.</summary>
    /// <param name="w">The decimal significand, not 0 (at most 19 digits, so it is exact).</param>
    /// <param name="q">The decimal exponent.</param>
    /// <param name="value">The positive double, when found.</param>
    public static bool TryCompute(ulong w, int q, out double value)
    {
        value = 0;
        if (w == 0 || q < SmallestPowerOfTen || q > LargestPowerOfTen)
            return false;
        int leadingZeros = BitOperations.LeadingZeroCount(w);
        w <<= leadingZeros;
        int index = 2 * (q - SmallestPowerOfTen);
        ulong high = Math.BigMul(w, PowersOfFive[index], out ulong low);
        // Bits below the 55 that decide the rounding are all ones: the second word can carry into them.
        if ((high & 0x1FF) == 0x1FF)
        {
            ulong secondHigh = Math.BigMul(w, PowersOfFive[index + 1], out _);
            low += secondHigh;
            if (secondHigh > low)
                high++;
        }
        // The 128-bit product may still be one short of the truth; that only matters outside [-27, 55].
        if (low == ulong.MaxValue && (q < -27 || q > 55))
            return false;
        int upperBit = (int)(high >> 63);
        int shift = upperBit + 64 - MantissaBits - 3;
        ulong mantissa = high >> shift;
        // floor(log2(10^q)) + 63, from 217706 / 2^16 ~ log2(10), exact over this range of q.
        int power2 = ((q * (152170 + 65536)) >> 16) + 63 + upperBit - leadingZeros - MinimumExponent;
        if (power2 <= 0)
            return false;
        // Exactly halfway between two doubles (possible only where 5^|q| fits in 64 bits): round to even, down.
        if (low <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1 && mantissa << shift == high)
            mantissa &= ~1UL;
        mantissa += mantissa & 1;
        mantissa >>= 1;
        if (mantissa >= 2UL << MantissaBits)
        {
            mantissa = 1UL << MantissaBits;
            power2++;
        }
        mantissa &= ~(1UL << MantissaBits);
        if (power2 >= InfinitePower)
            return false;
        value = BitConverter.UInt64BitsToDouble(mantissa | (ulong)power2 << MantissaBits);
        return true;
    }

    // The table as the algorithm's authors generate it: positive powers truncated, negative ones as 2^b / 5^-q
    // rounded up (the reciprocal must not be underestimated). BigInteger computes it in about 10 ms, once per process
    // and only when a number first needs this algorithm; 1,302 literals would save that at the cost of checking them.
    private static ulong[] BuildPowersOfFive()
    {
        var table = new ulong[2 * (LargestPowerOfTen - SmallestPowerOfTen + 1)];
        for (int q = SmallestPowerOfTen; q <= LargestPowerOfTen; q++)
        {
            BigInteger c;
            if (q < 0)
            {
                var power5 = BigInteger.Pow(5, -q);
                int z = (int)power5.GetBitLength();
                if (q >= -27)
                {
                    c = (BigInteger.One << (z + 127)) / power5 + 1;
                }
                else
                {
                    c = (BigInteger.One << (2 * z + 128)) / power5 + 1;
                    c >>= Math.Max(0, (int)c.GetBitLength() - 128);
                }
            }
            else
            {
                c = BigInteger.Pow(5, q);
                int bits = (int)c.GetBitLength();
                c = bits <= 128 ? c << (128 - bits) : c >> (bits - 128);
            }
            int i = 2 * (q - SmallestPowerOfTen);
            table[i] = (ulong)(c >> 64);
            table[i + 1] = (ulong)(c & ulong.MaxValue);
        }
        return table;
    }
}
