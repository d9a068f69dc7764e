using System.Globalization;
using FluentAssertions;
using MlffData.Converters;
using Xunit;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// PythonText.ScanDecimal, the extxyz reader's number scanner, against .NET's double.Parse: both must be correctly
/// rounded, so every double must match bit for bit (ExtxyzReaderTests compares the same scanner with Python's float()).
/// </summary>
public class PythonTextTests
{
    private static double Parse(string token) => double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);

    // Scans token, checks it against double.Parse when scanned, and says whether the fast scanner answered.
    private static bool ScanAndCompare(string token)
    {
        int length = PythonText.ScanDecimal(token, out double value);
        if (length == 0)
            return false;
        length.Should().Be(token.Length, "the whole of {0} is one number", token);
        BitConverter.DoubleToInt64Bits(value).Should().Be(BitConverter.DoubleToInt64Bits(Parse(token)), "the double of {0}", token);
        return true;
    }

    [Fact]
    public void ScanDecimal_RandomDecimalsOfUpTo19Digits_SameDoubleAsDoubleParse()
    {
        // Arrange: 1 to 19 digits, the point anywhere or nowhere, exponents across and past the double range.
        var random = new Random(7);
        int scanned = 0, normal = 0;

        // Act and assert
        for (int n = 0; n < 400_000; n++)
        {
            int digitCount = random.Next(1, 20);
            var digits = new char[digitCount];
            for (int k = 0; k < digitCount; k++)
                digits[k] = (char)('0' + random.Next(10));
            string body = new(digits);
            int point = random.Next(-1, digitCount + 1);
            if (point >= 0)
                body = body.Insert(point, ".");
            if (body == ".")
                body = "0.";
            string sign = random.Next(3) switch { 0 => "-", 1 => "+", _ => "" };
            string exponent = random.Next(3) == 0 ? "" : $"{"eE"[random.Next(2)]}{random.Next(-360, 330)}";
            string token = sign + body + exponent;
            double expected = Parse(token);
            bool answered = ScanAndCompare(token);
            if (answered)
                scanned++;
            if (double.IsNormal(expected))
                normal++;
        }
        // Only subnormals, overflow and the rare unsure roundings go to the general parser.
        scanned.Should().BeGreaterThan(normal * 99 / 100);
    }

    [Fact]
    public void ScanDecimal_ShortestAndFullFormsOfRandomDoubles_ScannedExactly()
    {
        // Arrange: what Python's repr, numpy's savetxt ("%.18e") and C's "%.17g" write for doubles of every magnitude.
        var random = new Random(11);

        // Act and assert
        for (int n = 0; n < 200_000; n++)
        {
            double x = BitConverter.Int64BitsToDouble(random.NextInt64() & long.MaxValue);
            if (!double.IsNormal(x))
                continue;
            foreach (string token in new[] { x.ToString("R", CultureInfo.InvariantCulture), x.ToString("E16", CultureInfo.InvariantCulture), (-x).ToString("G17", CultureInfo.InvariantCulture) })
            {
                ScanAndCompare(token).Should().BeTrue("{0} has at most 19 significant digits and is a normal double", token);
            }
        }
    }

    [Fact]
    public void ScanDecimal_ExactlyHalfwayBetweenDoubles_RoundsToEven()
    {
        // Arrange: odd multiples of half a unit in the last place, in integers and with exponents.
        var tokens = new List<string>();
        for (ulong k = 0; k < 2000; k++)
        {
            tokens.Add(((1UL << 53) + 2 * k + 1).ToString(CultureInfo.InvariantCulture));
            tokens.Add(((1UL << 54) + 4 * k + 2).ToString(CultureInfo.InvariantCulture));
            tokens.Add(((1UL << 60) + (1UL << 7) * (2 * k + 1)).ToString(CultureInfo.InvariantCulture));
            tokens.Add($"{(1UL << 53) + 2 * k + 1}e3");
            tokens.Add($"{(1UL << 53) + 2 * k + 1}0e-1");
        }

        // Act and assert
        foreach (string token in tokens)
            ScanAndCompare(token).Should().BeTrue("{0} has at most 19 digits", token);
    }

    [Theory]
    [InlineData("1.5 2", 3, 1.5)]
    [InlineData("-2e3\t", 4, -2000.0)]
    [InlineData("0.12345678901234567 x", 19, 0.12345678901234567)]
    public void ScanDecimal_TokenFollowedBySpace_StopsAtTheSpace(string text, int length, double value)
    {
        // Act
        int scanned = PythonText.ScanDecimal(text, out double result);

        // Assert
        scanned.Should().Be(length);
        result.Should().Be(value);
    }

    [Theory]
    [InlineData("12345678901234567890")]
    [InlineData("1e")]
    [InlineData("1.5x")]
    [InlineData("4.9406564584124654e-324")]
    [InlineData("1e400")]
    [InlineData("nan")]
    [InlineData("1_0")]
    public void ScanDecimal_OutsideItsForms_LeavesTheTokenToTryParseFloat(string token)
    {
        // Act and assert: more than 19 digits, malformed, subnormal, overflowing or Python-only forms.
        PythonText.ScanDecimal(token, out _).Should().Be(0);
    }
}
