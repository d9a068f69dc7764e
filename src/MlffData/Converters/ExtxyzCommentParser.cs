using System.Runtime.CompilerServices;

namespace MlffData.Converters;

/// <summary>
/// Splits an extxyz comment line into key=value pairs exactly as ASE 3.22.1's <c>key_val_str_to_dict</c> does,
/// and keeps the raw values of the keys the reader needs (Lattice, pbc, Properties, energy, stress).
/// Reused from frame to frame, so its buffers are allocated once.
/// </summary>
/// <remarks>
/// ASE walks the line character by character: a backslash takes the next character literally; ', ", { and [ open a
/// quoted run closed by ', ", } and ]; whitespace ends a pair; '=' starts a value, and a second '=' another part of it,
/// joined back with '='. A key without '=' has the value "T". Later keys replace earlier ones.
/// Keys are case-sensitive: ASE looks up exactly "Lattice", "pbc", "Properties", "energy" and "stress".
/// </remarks>
internal sealed class ExtxyzCommentParser
{
    // The characters of every key and value part, back to back; a part is a range in it.
    private char[] _text = new char[256];
    private int _length;
    private readonly List<int> _partStarts = [];  // start of each part in _text; a part ends where the next starts
    private readonly List<int> _pairStarts = [];  // index in _partStarts of each pair's key

    /// <summary>Raw value of "Lattice", or null when the line has none.</summary>
    public string? Lattice { get; private set; }

    /// <summary>Raw value of "pbc", or null.</summary>
    public string? Pbc { get; private set; }

    /// <summary>Raw value of "Properties", or null.</summary>
    public string? Properties { get; private set; }

    /// <summary>Raw value of "energy", or null.</summary>
    public string? Energy { get; private set; }

    /// <summary>Raw value of "stress", or null.</summary>
    public string? Stress { get; private set; }

    /// <summary>Parses one comment line, replacing what the previous call found.</summary>
    /// <returns>Null on success, otherwise what is wrong (ASE itself fails on such a line).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string? Parse(ReadOnlySpan<char> line)
    {
        Lattice = Pbc = Properties = Energy = Stress = null;
        _length = 0;
        _partStarts.Clear();
        _pairStarts.Clear();
        StartPair();

        var s = PythonText.Strip(line);
        if (_text.Length < s.Length)
            _text = new char[Math.Max(s.Length, _text.Length * 2)];
        char closing = '\0';
        bool escaped = false;
        foreach (var c in s)
        {
            if (escaped)
            {
                _text[_length++] = c;
                escaped = false;
            }
            else if (c == '\\')
            {
                escaped = true;
            }
            else if (closing != '\0')
            {
                if (c == closing)
                    closing = '\0';
                else
                    _text[_length++] = c;
            }
            else if (c is '"' or '\'' or '{' or '[')
            {
                closing = c switch { '{' => '}', '[' => ']', _ => c };
            }
            else if (PythonText.IsSpace(c))
            {
                // Only a non-empty last part ends the pair; runs of spaces, or spaces after "key=", are skipped.
                if (_length != _partStarts[^1])
                    StartPair();
            }
            else if (c == '=')
            {
                // "key = value": the space opened an empty pair, which '=' drops to give "key" its value.
                if (LastPairIsEmpty())
                {
                    _partStarts.RemoveAt(_partStarts.Count - 1);
                    _pairStarts.RemoveAt(_pairStarts.Count - 1);
                    // ASE fails here with an IndexError ("=x" at the start of the line).
                    if (_pairStarts.Count == 0)
                        return "'=' without a key before it";
                }
                _partStarts.Add(_length);
            }
            else
            {
                _text[_length++] = c;
            }
        }

        for (int pair = 0; pair < _pairStarts.Count; pair++)
            Keep(pair);
        return null;
    }

    /// <summary>Every pair of the last parsed line, in order, values joined as ASE joins them; for tests.</summary>
    internal IEnumerable<KeyValuePair<string, string>> Pairs()
    {
        for (int pair = 0; pair < _pairStarts.Count; pair++)
            yield return new(Key(pair).ToString(), Value(pair));
    }

    private void StartPair()
    {
        _pairStarts.Add(_partStarts.Count);
        _partStarts.Add(_length);
    }

    private bool LastPairIsEmpty() =>
        _partStarts.Count - _pairStarts[^1] == 1 && _partStarts[^1] == _length;

    private void Keep(int pair)
    {
        var key = Key(pair);
        // Strings are made only for the five keys used; other keys (config_type, step, ...) cost nothing.
        switch (key)
        {
            case "Lattice": Lattice = Value(pair); break;
            case "pbc": Pbc = Value(pair); break;
            case "Properties": Properties = Value(pair); break;
            case "energy": Energy = Value(pair); break;
            case "stress": Stress = Value(pair); break;
        }
    }

    private int PartEnd(int part) => part + 1 < _partStarts.Count ? _partStarts[part + 1] : _length;

    private int PairEnd(int pair) => pair + 1 < _pairStarts.Count ? _pairStarts[pair + 1] : _partStarts.Count;

    private ReadOnlySpan<char> Key(int pair)
    {
        int part = _pairStarts[pair];
        return _text.AsSpan(_partStarts[part], PartEnd(part) - _partStarts[part]);
    }

    private string Value(int pair)
    {
        int first = _pairStarts[pair] + 1, end = PairEnd(pair);
        if (first == end)
            return "T";
        if (first + 1 == end)
            return new string(_text, _partStarts[first], PartEnd(first) - _partStarts[first]);
        var parts = new string[end - first];
        for (int part = first; part < end; part++)
            parts[part - first] = new string(_text, _partStarts[part], PartEnd(part) - _partStarts[part]);
        return string.Join('=', parts);
    }
}
