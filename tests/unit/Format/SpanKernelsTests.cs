using MlffData.Format;

namespace MlffData.UnitTests.Format;

// The SIMD loops against the scalar ones they replace, at every length around the vector widths and with the odd
// value (NaN, infinities, out of range, float32 overflow, negative zero) at every position.
public sealed class SpanKernelsTests
{
    private static readonly double[] OddDoubles =
        [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, float.MaxValue, -(double)float.MaxValue * 1.0000001, -0.0, 3.4028235677973366e38, double.Epsilon];

    private static double[] Random(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (random.NextDouble() - 0.5) * 20).ToArray();

    [Fact]
    public void DoubleKernels_MatchScalarLoops()
    {
        var random = new Random(1);
        for (int length = 0; length <= 40; length++)
        {
            var clean = Random(random, length);
            Check(clean);
            for (int at = 0; at < length; at++)
                foreach (var odd in OddDoubles)
                {
                    var values = (double[])clean.Clone();
                    values[at] = odd;
                    Check(values);
                }
        }

        static void Check(double[] values)
        {
            string what = string.Join(",", values.Select(v => v.ToString("R")));
            SpanKernels.AllFinite(values).Should().Be(values.All(double.IsFinite), what);
            SpanKernels.NoneAbove(values, float.MaxValue).Should().Be(!values.Any(v => Math.Abs(v) > float.MaxValue), what);

            var narrow = new float[values.Length + 3];
            float max = SpanKernels.NarrowMaxAbs(values, narrow, 0.5f);
            float expectedMax = 0.5f;
            for (int i = 0; i < values.Length; i++)
            {
                float f = (float)values[i];
                BitConverter.SingleToInt32Bits(narrow[i]).Should().Be(BitConverter.SingleToInt32Bits(f), what);
                if (Math.Abs(f) > expectedMax) expectedMax = Math.Abs(f);
            }
            max.Should().Be(expectedMax, what);
        }
    }

    [Fact]
    public void IntKernels_MatchScalarLoops()
    {
        var random = new Random(2);
        int[] odd = [0, -1, 119, int.MinValue, int.MaxValue, 1, 118];
        for (int length = 0; length <= 40; length++)
        {
            var clean = Enumerable.Range(0, length).Select(_ => random.Next(1, 119)).ToArray();
            Check(clean);
            for (int at = 0; at < length; at++)
                foreach (var z in odd)
                {
                    var values = (int[])clean.Clone();
                    values[at] = z;
                    Check(values);
                }
        }

        static void Check(int[] values)
        {
            string what = string.Join(",", values);
            SpanKernels.AllWithin(values, 1, 118).Should().Be(values.All(z => z >= 1 && z <= 118), what);
            var wide = new long[values.Length + 5];
            SpanKernels.Widen(values, wide);
            wide.Take(values.Length).Should().Equal(values.Select(z => (long)z), what);
            wide.Skip(values.Length).Should().OnlyContain(z => z == 0);
        }
    }
}
