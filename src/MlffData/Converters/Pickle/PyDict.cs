namespace MlffData.Converters.Pickle;

/// <summary>
/// A Python dict from a pickle. Keys are text only (every dict of an ASE pickle has text keys; another key makes the
/// reader hand the file to Python). Entries stay in insertion order and a key set again keeps its place, as in a
/// Python dict, so iteration order (and so which error comes first) is Python's. ASE's dicts are small, so entries
/// sit in a list searched linearly (keys from the memo are the same string object, compared by reference first);
/// an index is built only for a large dict.
/// </summary>
internal sealed class PyDict
{
    private const int IndexFrom = 16;

    private readonly List<KeyValuePair<string, object?>> _items = [];
    private Dictionary<string, int>? _index;

    /// <summary>The entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Items => _items;

    /// <summary>Number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>d[key] = value, as SETITEM does.</summary>
    /// <exception cref="PickleNotSupportedException">The key is not text.</exception>
    public void Set(object? key, object? value, long offset)
    {
        if (key is not string text)
            throw new PickleNotSupportedException($"a dict key of type {PyValues.TypeName(key) ?? "?"}", offset);
        Set(text, value);
    }

    /// <summary>d[key] = value.</summary>
    public void Set(string key, object? value)
    {
        int at = Find(key);
        if (at >= 0)
        {
            _items[at] = new(key, value);
            return;
        }
        _items.Add(new(key, value));
        if (_index is not null) _index[key] = _items.Count - 1;
        else if (_items.Count == IndexFrom)
        {
            _index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < _items.Count; i++) _index[_items[i].Key] = i;
        }
    }

    /// <summary>Room for more entries without growing step by step (SETITEMS knows how many it adds).</summary>
    public void EnsureCapacity(int count)
    {
        if (_index is null) _items.EnsureCapacity(count);
    }

    /// <summary>d.get(key).</summary>
    public object? Get(string key)
    {
        int at = Find(key);
        return at >= 0 ? _items[at].Value : null;
    }

    private int Find(string key)
    {
        if (_index is not null) return _index.TryGetValue(key, out int at) ? at : -1;
        for (int i = 0; i < _items.Count; i++)
        {
            string k = _items[i].Key;
            if (ReferenceEquals(k, key) || string.Equals(k, key, StringComparison.Ordinal)) return i;
        }
        return -1;
    }
}
