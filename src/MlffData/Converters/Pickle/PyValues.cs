using System.Globalization;
using System.Text;

namespace MlffData.Converters.Pickle;

/// <summary>
/// Python's view of the values a pickle machine holds (None is null, bool, int is long, float is double, str is
/// string, list is List&lt;object?&gt;, the rest are the Py* and Np* types): <c>type(x).__name__</c>, <c>repr</c> and
/// <c>str</c> where safe_pickle.py and ase_frames.py put them into messages. A value whose Python text is not
/// modelled gives null, and the caller hands the file to Python.
/// </summary>
internal static class PyValues
{
    /// <summary><c>type(value).__name__</c>, or null when not modelled.</summary>
    public static string? TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyBytes b => b.IsByteArray ? "bytearray" : "bytes",
        PyTuple => "tuple",
        List<object?> => "list",
        PyDict => "dict",
        PySet s => s.IsFrozen ? "frozenset" : "set",
        PyGlobal g => g.TypeName,
        PyInstance i => i.Class == PyGlobalKind.Object ? "object" : i.Class.ToString(),
        NdArray => "ndarray",
        NpScalar s => s.Dtype.Kind == 'O' ? null : s.Dtype.ScalarTypeName,
        PyBoundMethod => "method",
        _ => null,
    };

    /// <summary><c>repr(value)</c> for text, integers, floats, bools and None; null otherwise.</summary>
    public static string? Repr(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PythonText.FloatRepr(d),
        string s => StrRepr(s),
        _ => null,
    };

    /// <summary>Python's repr of a str; null for text with characters outside printable ASCII other than tab, CR, LF.</summary>
    public static string? StrRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                case var q when q == quote: sb.Append('\\').Append(q); break;
                case < ' ' or '\x7f': sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"); break;
                case > '\x7f': return null;
                default: sb.Append(c); break;
            }
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Python's repr of a bytes object.</summary>
    public static string BytesRepr(ReadOnlySpan<byte> bytes)
    {
        bool hasSingle = bytes.Contains((byte)'\''), hasDouble = bytes.Contains((byte)'"');
        char quote = hasSingle && !hasDouble ? '"' : '\'';
        var sb = new StringBuilder(bytes.Length + 3).Append('b').Append(quote);
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append(@"\\"); break;
                case (byte)'\n': sb.Append(@"\n"); break;
                case (byte)'\r': sb.Append(@"\r"); break;
                case (byte)'\t': sb.Append(@"\t"); break;
                case var q when q == quote: sb.Append('\\').Append((char)q); break;
                case < 0x20 or >= 0x7f: sb.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}"); break;
                default: sb.Append((char)b); break;
            }
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Python's repr of a tuple of integers: "()", "(3,)", "(2, 3)".</summary>
    public static string TupleRepr(IReadOnlyList<long> items) =>
        items.Count == 1 ? $"({items[0].ToString(CultureInfo.InvariantCulture)},)"
        : $"({string.Join(", ", items.Select(i => i.ToString(CultureInfo.InvariantCulture)))})";

    /// <summary><c>str(value)</c> of a plain scalar (text, bool, int, float); null otherwise.</summary>
    public static string? Str(object? value) => value switch
    {
        string s => s,
        bool or long or double => Repr(value),
        _ => null,
    };
}
