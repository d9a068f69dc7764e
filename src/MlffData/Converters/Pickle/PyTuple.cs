namespace MlffData.Converters.Pickle;

/// <summary>A Python tuple from a pickle: kept apart from a list, since ASE's checks tell the two apart.</summary>
/// <param name="Items">The items, in order.</param>
internal sealed record PyTuple(object?[] Items)
{
    /// <summary>The empty tuple.</summary>
    public static PyTuple Empty { get; } = new([]);

    /// <summary>Number of items.</summary>
    public int Length => Items.Length;
}
