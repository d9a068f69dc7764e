namespace MlffData.Converters.Pickle;

/// <summary>
/// A numpy dtype from a pickle: <c>numpy.dtype('f8', False, True)</c> then BUILD with (version, byte order, subarray,
/// names, fields, elsize, alignment, flags). Only plain kinds are modelled (bool, integers, floats, complex, object);
/// structured, sub-array and text dtypes make the reader hand the file to Python.
/// </summary>
internal sealed class NpDtype
{
    private NpDtype(char kind, int itemSize)
    {
        Kind = kind;
        ItemSize = itemSize;
    }

    /// <summary>numpy's kind: 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex, 'O' object.</summary>
    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; }

    /// <summary>True when the elements are stored big-endian ('&gt;'); '&lt;', '|' and '=' (native, x64) are little-endian.</summary>
    public bool BigEndian { get; private set; }

    /// <summary>The dtype <c>numpy.dtype(code)</c> gives.</summary>
    /// <exception cref="PickleNotSupportedException">A code other than b1, i1-i8, u1-u8, f2-f16, c8-c32, O8.</exception>
    public static NpDtype FromCode(string code, long offset)
    {
        if (code.Length >= 2 && int.TryParse(code.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
        {
            char kind = code[0];
            bool known = kind switch
            {
                'b' => size == 1,
                'i' or 'u' => size is 1 or 2 or 4 or 8,
                'f' => size is 2 or 4 or 8 or 16,
                'c' => size is 8 or 16 or 32,
                'O' => size == 8,
                _ => false,
            };
            if (known) return new NpDtype(kind, size);
        }
        throw new PickleNotSupportedException($"numpy dtype '{code}'", offset);
    }

    /// <summary>The dtype of a C# element type's numpy equivalent (int64, float64, bool), little-endian.</summary>
    public static NpDtype Of(char kind, int itemSize) => new(kind, itemSize);

    /// <summary>numpy's <c>dtype.__setstate__</c> for the plain dtypes: only the byte order matters.</summary>
    /// <exception cref="PickleNotSupportedException">A state with a sub-array, fields or an unknown byte order.</exception>
    public void SetState(object? state, long offset)
    {
        if (state is not PyTuple { Length: 8 or 9 } t || t.Items[0] is not long
            || t.Items[1] is not string order || order.Length != 1 || "<>|=".IndexOf(order[0]) < 0
            || t.Items[2] is not null || t.Items[3] is not null || t.Items[4] is not null)
            throw new PickleNotSupportedException("a numpy dtype state other than (version, byte order, None, None, None, ...)", offset);
        BigEndian = order[0] == '>' && ItemSize > 1 && Kind != 'O';
    }

    /// <summary>Python's <c>str(dtype)</c>: "float64", "int32", "bool", "object", or "&gt;f8" for a non-native order.</summary>
    public string Str
    {
        get
        {
            if (BigEndian) return $">{Kind}{ItemSize}";
            return Kind switch
            {
                'b' => "bool",
                'O' => "object",
                'i' => $"int{ItemSize * 8}",
                'u' => $"uint{ItemSize * 8}",
                'f' => $"float{ItemSize * 8}",
                _ => $"complex{ItemSize * 8}",
            };
        }
    }

    /// <summary>The name of numpy's scalar type of this dtype (<c>type(np.float64(1)).__name__</c>).</summary>
    public string ScalarTypeName => Kind == 'b' ? "bool_" : Kind == 'O' ? "object" : new NpDtype(Kind, ItemSize).Str;
}
