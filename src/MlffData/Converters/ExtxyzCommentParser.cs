using System.Runtime.CompilerServices;

namespace MlffData.Converters;

/// <summary>
/// Splits an extxyz comment line into key=value pairs exactly as ASE 3.22.1's <c>key_val_str_to_dict</c> does,
/// and keeps the raw values of the keys the reader needs: Lattice, pbc, Properties and the keys it was made with
/// (energy, stress, the extras). Reused from frame to frame, so its buffers are allocated once.
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
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _slots;
    private readonly string?[] _values;

    /// <summary>Creates a parser that keeps the raw values of the given keys besides Lattice, pbc and Properties.</summary>
    /// <param name="keys">The keys, each looked up with <see cref="Slot"/>; repeats and the three fixed keys are ignored.</param>
    public ExtxyzCommentParser(IEnumerable<string>? keys = null)
    {
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in keys ?? [])
            if (key is not ("Lattice" or "pbc" or "Properties"))
                slots.TryAdd(key, slots.Count);
        _slots = slots.GetAlternateLookup<ReadOnlySpan<char>>();
        _values = new string?[slots.Count];
    }

    /// <summary>Raw value of "Lattice", or null when the line has none.</summary>
    public string? Lattice { get; private set; }

    /// <summary>Raw value of "pbc", or null.</summary>
    public string? Pbc { get; private set; }

    /// <summary>Raw value of "Properties", or null.</summary>
    public string? Properties { get; private set; }

    /// <summary>The slot of a key given to the constructor, for <see cref="Value"/>; -1 for any other key.</summary>
    /// <param name="key">The key.</param>
    public int Slot(string key) => _slots.Dictionary.TryGetValue(key, out int slot) ? slot : -1;

    /// <summary>Raw value of the key in a slot on the last parsed line, or null when the line lacks it.</summary>
    /// <param name="slot">From <see cref="Slot"/>; -1 gives null.</param>
    public string? Value(int slot) => slot < 0 ? null : _values[slot];

    /// <summary>Parses one comment line, replacing what the previous call found.</summary>
    /// <returns>Null on success, otherwise what is wrong (ASE itself fails on such a line).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string? Parse(ReadOnlySpan<char> line)
    {
        Lattice = Pbc = Properties = null;
        Array.Clear(_values);
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
            yield return new(Key(pair).ToString(), PairValue(pair));
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
        // Strings are made only for the keys asked for; other keys (step, comment, ...) cost a lookup and nothing more.
        switch (key)
        {
            case "Lattice": Lattice = PairValue(pair); break;
            case "pbc": Pbc = PairValue(pair); break;
            case "Properties": Properties = PairValue(pair); break;
            default:
                if (_slots.TryGetValue(key, out int slot))
                    _values[slot] = PairValue(pair);
                break;
        }
    }

    private int PartEnd(int part) => part + 1 < _partStarts.Count ? _partStarts[part + 1] : _length;

    private int PairEnd(int pair) => pair + 1 < _pairStarts.Count ? _pairStarts[pair + 1] : _partStarts.Count;

    private ReadOnlySpan<char> Key(int pair)
    {
        int part = _pairStarts[pair];
        return _text.AsSpan(_partStarts[part], PartEnd(part) - _partStarts[part]);
    }

    private string PairValue(int pair)
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
