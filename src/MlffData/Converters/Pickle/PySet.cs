namespace MlffData.Converters.Pickle;

/// <summary>A Python set or frozenset of text or integers (other members make the reader hand the file to Python).</summary>
internal sealed class PySet
{
    private readonly HashSet<object> _items = [];

    /// <summary>Creates an empty set.</summary>
    /// <param name="frozen">True for a frozenset.</param>
    public PySet(bool frozen) => IsFrozen = frozen;

    /// <summary>True for a frozenset.</summary>
    public bool IsFrozen { get; }

    /// <summary>Number of members.</summary>
    public int Count => _items.Count;

    /// <summary>Adds a member.</summary>
    /// <exception cref="PickleNotSupportedException">The member is neither text nor an integer (Python's equality across
    /// int, float and bool is not modelled).</exception>
    public void Add(object? item, long offset)
    {
        if (item is not (string or long))
            throw new PickleNotSupportedException($"a set member of type {PyValues.TypeName(item) ?? "?"}", offset);
        _items.Add(item);
    }
}
