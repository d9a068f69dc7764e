using System.Globalization;
using System.Text.Json;
using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// Types a raw comment-line value the way ASE 3.22.1's <c>key_val_str_to_dict</c> types it for <c>Atoms.info</c>, and
/// turns it into what ase_frames.py stores: an <see cref="ExtraValue"/>, config_type's <c>str(value)</c>, or the
/// <c>float(value)</c> of total_charge, total_spin and config_weight.
/// </summary>
/// <remarks>
/// ASE splits the value on whitespace and commas (<c>re.findall(r'[^\s,]+', value)</c>) and tries, in order: all
/// pieces as integers (numpy's int64: Python's <c>int()</c>, OverflowError beyond int64), all as floats (Python's
/// <c>float()</c>); one number is a scalar, several a vector, and nine for "stress" or "virial" (its
/// SPECIAL_3_3_KEYS besides Lattice) a 3 x 3 matrix filled in Fortran order. Anything else stays text, unless every
/// piece is T or F (a bool or a list of bools) or it starts with "_JSON " (parsed as JSON, then np.array'd). The key
/// "uid" (any case) is never typed.
/// </remarks>
internal static class ExtxyzInfoValue
{
    /// <summary>Python's <c>str()</c> of an info value that is JSON null.</summary>
    private const string PythonNone = "None";

    /// <summary>
    /// Types a value as ASE does; null when it is JSON null (ASE's info then holds None, which ase_frames.py treats as
    /// absent).
    /// </summary>
    /// <param name="key">The key; "stress" and "virial" need 9 numbers, "uid" keeps the text.</param>
    /// <param name="raw">The value as the comment parser joined it.</param>
    /// <param name="value">The typed value, or null for JSON null.</param>
    /// <param name="error">What is wrong when the value cannot be stored (ASE itself fails on some of these).</param>
    public static bool TryParse(string key, string raw, out ExtraValue? value, out string error)
    {
        value = null;
        error = "";
        if (key is ['u' or 'U', 'i' or 'I', 'd' or 'D'])
        {
            value = ExtraValue.String(raw);
            return true;
        }
        bool special = key is "stress" or "virial";
        var tokens = Tokens(raw).ToArray();
        if (tokens.Length == 0)
        {
            // ASE makes an empty int64 array of an empty value, which has no row to store.
            error = "has an empty value";
            return false;
        }

        var integers = new long[tokens.Length];
        bool allIntegers = true;
        for (int i = 0; i < tokens.Length && allIntegers; i++)
            allIntegers = PythonText.TryParseInt64(raw.AsSpan(tokens[i]), out integers[i]);
        if (allIntegers)
            return Shape(integers, special, raw, out value, out error, ExtraValue.Integer, ExtraValue.IntegerRows);

        var floats = new double[tokens.Length];
        bool allFloats = true;
        for (int i = 0; i < tokens.Length && allFloats; i++)
            allFloats = PythonText.TryParseFloat(raw.AsSpan(tokens[i]), out floats[i]);
        if (allFloats)
            return Shape(floats, special, raw, out value, out error, ExtraValue.Float, ExtraValue.FloatRows);

        if (special)
        {
            error = NotNineNumbers(raw);
            return false;
        }
        var bools = new bool[tokens.Length];
        bool allBools = true;
        for (int i = 0; i < tokens.Length && allBools; i++)
        {
            var token = raw.AsSpan(tokens[i]);
            bools[i] = token is "T";
            allBools = token is "T" or "F";
        }
        if (allBools)
        {
            value = bools.Length == 1 ? ExtraValue.Bool(bools[0]) : ExtraValue.BoolRows(bools, bools.Length);
            return true;
        }
        if (raw.StartsWith("_JSON ", StringComparison.Ordinal))
            return TryParseJson(raw["_JSON ".Length..], out value, out error);
        value = ExtraValue.String(raw);
        return true;
    }

    /// <summary>ase_frames.py's <c>str(value)</c> of a config_type; only a single value is accepted.</summary>
    /// <param name="value">The typed value; null for JSON null, whose str() is "None".</param>
    /// <param name="text">The text.</param>
    /// <param name="error">What is wrong otherwise.</param>
    public static bool TryConfigType(ExtraValue? value, out string text, out string error)
    {
        text = "";
        error = "";
        if (value is null)
        {
            text = PythonNone;
            return true;
        }
        if (value.RowShape.Count != 0)
        {
            error = $"is {value.Describe()}; expected a single value (text or one number)";
            return false;
        }
        text = value.Kind switch
        {
            ExtraKind.String => value.Strings![0],
            ExtraKind.Integer => value.Integers![0].ToString(CultureInfo.InvariantCulture),
            ExtraKind.Float => PythonText.FloatRepr(value.Floats![0]),
            _ => value.Bools![0] ? "True" : "False",
        };
        return true;
    }

    /// <summary>ase_frames.py's <c>float(value)</c>: one number, a bool (1.0 or 0.0) or text float() reads.</summary>
    /// <param name="value">The typed value; null for JSON null (float(None) fails).</param>
    /// <param name="number">The number.</param>
    /// <param name="error">What is wrong otherwise.</param>
    public static bool TryFloat(ExtraValue? value, out double number, out string error)
    {
        number = 0;
        error = "";
        if (value is not null && value.RowShape.Count == 0)
        {
            switch (value.Kind)
            {
                case ExtraKind.Float:
                    number = value.Floats![0];
                    return true;
                case ExtraKind.Integer:
                    number = value.Integers![0];
                    return true;
                case ExtraKind.Bool:
                    number = value.Bools![0] ? 1 : 0;
                    return true;
                case ExtraKind.String when PythonText.TryParseFloat(PythonText.Strip(value.Strings![0]), out number):
                    return true;
            }
        }
        error = value is null
            ? "is JSON null; expected one number"
            : value.Kind == ExtraKind.String
                ? $"\"{Excerpt(value.Strings![0])}\" is not a number"
                : $"is {value.Describe()}; expected one number";
        return false;
    }

    /// <summary>The pieces of a comment value as ASE's <c>re.findall(r'[^\s,]+', value)</c> finds them.</summary>
    /// <param name="text">The value.</param>
    public static IEnumerable<Range> Tokens(string text)
    {
        int i = 0;
        while (true)
        {
            while (i < text.Length && (text[i] == ',' || PythonText.IsSpace(text[i]))) i++;
            if (i == text.Length)
                yield break;
            int start = i;
            while (i < text.Length && text[i] != ',' && !PythonText.IsSpace(text[i])) i++;
            yield return start..i;
        }
    }

    private static bool Shape<T>(T[] numbers, bool special, string raw, out ExtraValue? value, out string error,
        Func<T, ExtraValue> scalar, Func<T[], int[], ExtraValue> rows)
    {
        value = null;
        error = "";
        if (special)
        {
            if (numbers.Length != 9)
            {
                error = NotNineNumbers(raw);
                return false;
            }
            // ASE reshapes in Fortran order, m[i, j] = v[i + 3 j]; the row-major rows of m are the file's columns.
            var m = new T[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    m[3 * i + j] = numbers[i + 3 * j];
            value = rows(m, [3, 3]);
            return true;
        }
        value = numbers.Length == 1 ? scalar(numbers[0]) : rows(numbers, [numbers.Length]);
        return true;
    }

    private static string NotNineNumbers(string raw) =>
        $"\"{Excerpt(raw)}\" is not 9 numbers, which ASE requires for this key (a 3 x 3 matrix)";

    // json.loads, then ASE's np.array(d): kept when numpy gives bools, integers or floats, else the parsed object.
    private static bool TryParseJson(string json, out ExtraValue? value, out string error)
    {
        value = null;
        error = "";
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            // Python's json also takes NaN and Infinity, which System.Text.Json refuses; both are refused here.
            error = $"_JSON value is not JSON this reader takes: {e.Message}";
            return false;
        }
        switch (root.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                value = ExtraValue.String(root.GetString()!);
                return true;
            case JsonValueKind.Object:
                error = "_JSON value is an object, which cannot be stored (numbers, bools or text only)";
                return false;
        }

        // numpy's np.array of numbers and bools: a rectangular nest, promoted bool < int64 < float64.
        var shape = new List<int>();
        for (var e = root; e.ValueKind == JsonValueKind.Array; e = e.GetArrayLength() > 0 ? e[0] : default)
        {
            shape.Add(e.GetArrayLength());
            if (e.GetArrayLength() == 0)
                break;
        }
        if (shape.Contains(0))
        {
            error = "_JSON value is an empty list, which has no row to store";
            return false;
        }
        var leaves = new List<JsonElement>();
        if (!Flatten(root, shape, 0, leaves))
        {
            error = "_JSON value is not a rectangular list of numbers or bools, which cannot be stored";
            return false;
        }
        bool anyFloat = false, anyInteger = false;
        foreach (var leaf in leaves)
        {
            if (leaf.ValueKind == JsonValueKind.Number)
            {
                if (IsJsonInteger(leaf.GetRawText()))
                    anyInteger = true;
                else
                    anyFloat = true;
            }
        }
        int[] rowShape = [.. shape];
        if (anyFloat)
        {
            var floats = new double[leaves.Count];
            for (int i = 0; i < floats.Length; i++)
                if (!TryJsonNumber(leaves[i], out floats[i], out error))
                    return false;
            value = rowShape.Length == 0 ? ExtraValue.Float(floats[0]) : ExtraValue.FloatRows(floats, rowShape);
        }
        else if (anyInteger)
        {
            var integers = new long[leaves.Count];
            for (int i = 0; i < integers.Length; i++)
            {
                var leaf = leaves[i];
                if (leaf.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    integers[i] = leaf.ValueKind == JsonValueKind.True ? 1 : 0;
                else if (!PythonText.TryParseInt64(leaf.GetRawText(), out integers[i]))
                {
                    // numpy would make uint64 or Python objects of these.
                    error = $"_JSON integer {Excerpt(leaf.GetRawText())} is outside int64";
                    return false;
                }
            }
            value = rowShape.Length == 0 ? ExtraValue.Integer(integers[0]) : ExtraValue.IntegerRows(integers, rowShape);
        }
        else
        {
            var bools = leaves.Select(l => l.ValueKind == JsonValueKind.True).ToArray();
            value = rowShape.Length == 0 ? ExtraValue.Bool(bools[0]) : ExtraValue.BoolRows(bools, rowShape);
        }
        return true;
    }

    // The leaves of a nest of lists in row-major order; false when it is ragged or holds anything but numbers and bools.
    private static bool Flatten(JsonElement e, List<int> shape, int depth, List<JsonElement> leaves)
    {
        if (depth == shape.Count)
        {
            if (e.ValueKind is not (JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                return false;
            leaves.Add(e);
            return true;
        }
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != shape[depth])
            return false;
        foreach (var child in e.EnumerateArray())
            if (!Flatten(child, shape, depth + 1, leaves))
                return false;
        return true;
    }

    // Python's json reads a number without '.', 'e' or 'E' as an int, any other as a float.
    private static bool IsJsonInteger(string text) => text.AsSpan().IndexOfAny('.', 'e', 'E') < 0;

    private static bool TryJsonNumber(JsonElement leaf, out double number, out string error)
    {
        error = "";
        if (leaf.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            number = leaf.ValueKind == JsonValueKind.True ? 1 : 0;
            return true;
        }
        // An int beyond int64 still converts exactly as float() of its digits would round it.
        if (PythonText.TryParseFloat(leaf.GetRawText(), out number))
            return true;
        error = $"_JSON number {Excerpt(leaf.GetRawText())} cannot be read";
        return false;
    }

    private static string Excerpt(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");
}
