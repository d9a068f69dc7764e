using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MlffData.Converters;

/// <summary>
/// Python's reading and writing of text, on spans and without allocating on the common paths: <c>str.isspace</c>,
/// <c>str.split()</c> tokens, <c>float()</c>, <c>int()</c> and <c>repr()</c> of a float. ASE parses extxyz with these,
/// so a token we accept gives exactly the value ASE gets.
/// </summary>
internal static class PythonText
{
    // Powers of ten that are exact doubles.
    private static readonly double[] ExactPowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Python's <c>str.isspace</c> for one character, which <c>str.split()</c> and <c>str.strip()</c> use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSpace(char c)
    {
        if (c <= ' ')
            return c == ' ' || (uint)(c - '\t') <= '\r' - '\t' || (uint)(c - '\x1c') <= '\x1f' - '\x1c';
        // .NET's whitespace set equals Python's outside the ASCII control range above (U+0085, U+00A0, U+2028 ...).
        return c >= '\x85' && char.IsWhiteSpace(c);
    }

    /// <summary>Whether a line is empty after Python's <c>str.strip()</c>.</summary>
    public static bool IsBlank(ReadOnlySpan<char> line) => SkipSpace(line, 0) == line.Length;

    /// <summary>The span without leading and trailing Python whitespace.</summary>
    public static ReadOnlySpan<char> Strip(ReadOnlySpan<char> s)
    {
        int start = SkipSpace(s, 0), end = s.Length;
        while (end > start && IsSpace(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>The first index at or after start that is not whitespace; text.Length if none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SkipSpace(ReadOnlySpan<char> text, int start)
    {
        // Plain spaces pad "%16.8f" columns; test for them before the full whitespace check.
        while (start < text.Length && (text[start] == ' ' || IsSpace(text[start])))
            start++;
        return start;
    }

    /// <summary>The end of the token starting at start: the next whitespace or text.Length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TokenEnd(ReadOnlySpan<char> text, int start)
    {
        while (start < text.Length && !IsSpace(text[start]))
            start++;
        return start;
    }

    /// <summary>
    /// Parses a token as Python's <c>float()</c> does, to the same double: decimal and exponent forms,
    /// underscores between digits, inf/infinity/nan in any case with an optional sign, and any Unicode decimal digit.
    /// </summary>
    /// <param name="token">The token, without surrounding whitespace.</param>
    /// <param name="value">The value; 0 when the token is rejected.</param>
    public static bool TryParseFloat(ReadOnlySpan<char> token, out double value)
    {
        if (token.Length > 0 && ScanDecimal(token, out value) == token.Length)
            return true;
        // .NET's parser is correctly rounded (IEEE 754-2008) like CPython's, and what it accepts is a subset of what
        // float() accepts, apart from trailing NULs, which it ignores; those are refused first.
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !token.Contains('\0'))
        {
            // .NET returns a NaN with the sign bit set for "nan"; CPython's float("nan") has it clear and float("-nan") set.
            if (double.IsNaN(value))
                value = BitConverter.Int64BitsToDouble(token[0] == '-' ? unchecked((long)0xFFF8000000000000) : 0x7FF8000000000000);
            return true;
        }
        return TryParseFloatSlow(token, out value);
    }

    /// <summary>
    /// Parses the token at the start of text when it is a plain decimal such as "-12.34567890" (what "%16.8f" writes),
    /// "0.12345678901234567" (repr) or "-1.5e-05", with at most 19 significant digits, giving exactly float()'s double.
    /// </summary>
    /// <param name="text">Text starting with the token; the token ends at whitespace or at the end.</param>
    /// <param name="value">The value, when parsed.</param>
    /// <returns>The token's length, or 0 when it is not such a decimal and needs <see cref="TryParseFloat"/>.</returns>
    /// <remarks>
    /// The digits form an exact integer m and the value is m * 10^q. Clinger's fast path: when m &lt;= 2^53 and
    /// |q| &lt;= 22 both are exact doubles, so one IEEE multiplication or division is correctly rounded, as the
    /// general parse is. Otherwise <see cref="EiselLemire"/>, which is as exact where it answers. Scanning the token
    /// once, without finding its end first or copying its digits, is what makes this faster than double.Parse.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ScanDecimal(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (text.Length > 0 && text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            i = 1;
        }
        ulong mantissa = 0;
        int digits = 0, significant = 0, decimals = 0;
        bool seenPoint = false;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            uint d = (uint)(c - '0');
            if (d <= 9)
            {
                digits++;
                // 19 significant digits stay below 2^64 whatever they are; leading zeros do not count.
                if ((mantissa != 0 || d != 0) && ++significant > 19)
                    return 0;
                mantissa = mantissa * 10 + d;
                if (seenPoint)
                    decimals++;
            }
            else if (c == '.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }
        // At least one digit before or after the point: ".", "-" and "-." are not numbers.
        if (digits == 0)
            return 0;
        int exponent = 0;
        if (i < text.Length && (text[i] | 0x20) == 'e')
        {
            i++;
            bool negativeExponent = false;
            if (i < text.Length && text[i] is '-' or '+')
            {
                negativeExponent = text[i] == '-';
                i++;
            }
            int firstExponentDigit = i;
            for (; i < text.Length && (uint)(text[i] - '0') <= 9; i++)
            {
                // Far past any double's range already; stop growing so a long run of digits cannot overflow.
                if (exponent < 100_000)
                    exponent = exponent * 10 + (text[i] - '0');
            }
            if (i == firstExponentDigit)
                return 0;
            if (negativeExponent)
                exponent = -exponent;
        }
        if (i < text.Length && !IsSpace(text[i]))
            return 0;
        int q = exponent - decimals;
        double result;
        if (mantissa == 0)
            result = 0;
        else if (mantissa <= 1UL << 53 && q is >= -22 and <= 22)
            result = q < 0 ? mantissa / ExactPowersOfTen[-q] : mantissa * ExactPowersOfTen[q];
        else if (!EiselLemire.TryCompute(mantissa, q, out result))
            return 0;
        value = negative ? -result : result;
        return i;
    }

    /// <summary>
    /// Parses a token as Python's <c>int()</c> does (sign, digits, underscores between digits, leading zeros, and any
    /// Unicode decimal digit). A value outside the range of long saturates to long.MinValue or long.MaxValue, so
    /// callers' range checks refuse it.
    /// </summary>
    /// <param name="token">The token; surrounding Python whitespace is allowed, as int() strips it.</param>
    /// <param name="value">The value; 0 when the token is rejected.</param>
    public static bool TryParseInt(ReadOnlySpan<char> token, out long value) => ParseInt(token, out value, out _);

    /// <summary>
    /// Parses a token as numpy's <c>np.array([token], dtype=int)</c> does: Python's <c>int()</c>, refusing a value
    /// outside the range of long (numpy's OverflowError) instead of saturating.
    /// </summary>
    /// <param name="token">The token; surrounding Python whitespace is allowed, as int() strips it.</param>
    /// <param name="value">The value; 0 when the token is rejected or out of range.</param>
    public static bool TryParseInt64(ReadOnlySpan<char> token, out long value)
    {
        if (ParseInt(token, out value, out bool saturated) && !saturated)
            return true;
        value = 0;
        return false;
    }

    /// <summary>
    /// Python's <c>repr()</c> of a float, which is also numpy's <c>str()</c> of a float64: the shortest digits that read
    /// back to the same double, positional for 1e-4 &lt;= |x| &lt; 1e16 ("0.0001", "1000000000000000.0"), otherwise
    /// exponential ("1e-05", "1.2345678901234568e+17"); "nan", "inf", "-inf".
    /// </summary>
    /// <param name="value">The number.</param>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";
        // .NET's "R" gives the shortest round-trip digits, as CPython's repr does; only the layout differs.
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int exponent = 0;
        int e = r.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        string digits = dot < 0 ? r : string.Concat(r.AsSpan(0, dot), r.AsSpan(dot + 1));
        int pointAt = (dot < 0 ? r.Length : dot) + exponent;   // value = 0.DIGITS x 10^pointAt, before trimming zeros
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
            lead++;
        digits = digits[lead..].TrimEnd('0');
        int decpt = pointAt - lead;   // CPython's decpt: digits before the decimal point
        string sign = value < 0 ? "-" : "";
        // CPython's float_repr_style 'short': exponential when decpt <= -4 or decpt > 16.
        if (decpt <= -4 || decpt > 16)
        {
            string mantissa = digits.Length == 1 ? digits : string.Concat(digits.AsSpan(0, 1), ".", digits.AsSpan(1));
            int x = decpt - 1;
            return $"{sign}{mantissa}e{(x < 0 ? '-' : '+')}{Math.Abs(x):00}";
        }
        if (decpt <= 0)
            return $"{sign}0.{new string('0', -decpt)}{digits}";
        if (decpt >= digits.Length)
            return $"{sign}{digits}{new string('0', decpt - digits.Length)}.0";
        return $"{sign}{digits[..decpt]}.{digits[decpt..]}";
    }

    private static bool ParseInt(ReadOnlySpan<char> token, out long value, out bool saturated)
    {
        value = 0;
        saturated = false;
        var s = Strip(token);
        if (s.IsEmpty)
            return false;
        if (!IsAscii(s))
            return ToAsciiDigits(s) is { } ascii && ParseInt(ascii, out value, out saturated);
        bool negative = false;
        int i = 0;
        if (s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            i = 1;
        }
        if (i == s.Length)
            return false;
        // Accumulate as a negative number so that long.MinValue fits; saturate instead of wrapping.
        long accumulated = 0;
        bool previousWasDigit = false;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '_')
            {
                if (!previousWasDigit || i + 1 == s.Length || !char.IsAsciiDigit(s[i + 1]))
                    return false;
                previousWasDigit = false;
                continue;
            }
            if (!char.IsAsciiDigit(c))
                return false;
            previousWasDigit = true;
            int digit = c - '0';
            if (accumulated < (long.MinValue + digit) / 10)
                saturated = true;
            else
                accumulated = accumulated * 10 - digit;
        }
        if (saturated)
            value = negative ? long.MinValue : long.MaxValue;
        else if (negative)
            value = accumulated;
        else if (accumulated == long.MinValue)
            (value, saturated) = (long.MaxValue, true);
        else
            value = -accumulated;
        return true;
    }

    private static bool IsAscii(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
            if (c > '\x7f')
                return false;
        return true;
    }

    // CPython's _PyUnicode_TransformDecimalAndSpaceToASCII, which int() and float() apply first: a Unicode decimal
    // digit ("٣", "１") becomes its ASCII digit and Unicode whitespace a space; any other non-ASCII character makes
    // the token invalid (CPython substitutes '?'), so null.
    private static string? ToAsciiDigits(ReadOnlySpan<char> s)
    {
        var ascii = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.IsAscii)
                ascii.Append((char)rune.Value);
            else if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.DecimalDigitNumber)
                ascii.Append((char)('0' + (int)Rune.GetNumericValue(rune)));
            else if (Rune.IsWhiteSpace(rune))
                ascii.Append(' ');
            else
                return null;
        }
        return ascii.ToString();
    }

    private static bool TryParseFloatSlow(ReadOnlySpan<char> token, out double value)
    {
        value = 0;
        if (token.IsEmpty || token.Contains('\0'))
            return false;
        if (!IsAscii(token))
            return ToAsciiDigits(token) is { } ascii && TryParseFloat(Strip(ascii), out value);
        var body = token[0] is '+' or '-' ? token[1..] : token;
        bool negative = token[0] == '-';
        // .NET knows "Infinity" and "NaN" but not Python's shorter "inf", and not every signed spelling.
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (body.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = BitConverter.Int64BitsToDouble(negative ? unchecked((long)0xFFF8000000000000) : 0x7FF8000000000000);
            return true;
        }
        if (!token.Contains('_'))
            return false;
        // PEP 515: an underscore is allowed only between two digits; drop them and parse what is left.
        Span<char> digits = token.Length <= 256 ? stackalloc char[token.Length] : new char[token.Length];
        int n = 0;
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            if (c == '_')
            {
                if (i == 0 || i + 1 == token.Length || !char.IsAsciiDigit(token[i - 1]) || !char.IsAsciiDigit(token[i + 1]))
                    return false;
                continue;
            }
            digits[n++] = c;
        }
        return double.TryParse(digits[..n], NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
