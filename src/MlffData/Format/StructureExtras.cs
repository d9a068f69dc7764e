namespace MlffData.Format;

/// <summary>
/// The extras of one structure that go into FORMAT.md's optional groups: per-structure values (Atoms.info:
/// config_type, total_charge, total_spin, config_weight, keys the user keeps) and per-atom arrays (Atoms.arrays:
/// fixed from FixAtoms, keys the user keeps). A structure that lacks a name others have gets the missing value and a
/// false in NAME_mask.
/// </summary>
/// <param name="Info">Name to a one-row value, written to /info/NAME.</param>
/// <param name="Arrays">Name to a value with one row per atom, written to /arrays/NAME.</param>
public sealed record StructureExtras(IReadOnlyDictionary<string, ExtraValue> Info, IReadOnlyDictionary<string, ExtraValue> Arrays)
{
    /// <summary>No extras.</summary>
    public static StructureExtras Empty { get; } = new(new Dictionary<string, ExtraValue>(), new Dictionary<string, ExtraValue>());

    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => Info.Count == 0 && Arrays.Count == 0;
}
