namespace MlffData.Converters;

/// <summary>
/// Where an input keeps its labels and which extras to keep, with MACE's option names (--energy-key, --forces-key,
/// --stress-key, --virials-key). A key given here is looked up in Atoms.info / Atoms.arrays and in the calculator's
/// results (extxyz: the comment line / the Properties columns); a null key means the default ("energy", "forces",
/// "stress", no virials) and a structure without it simply has no such label.
/// </summary>
public sealed record SourceKeys
{
    /// <summary>Key of the energy (eV); null for "energy". Asked for and missing from a structure: an error.</summary>
    public string? EnergyKey { get; init; }

    /// <summary>Key of the forces (eV/Å, n x 3); null for "forces". Asked for and missing from a structure: an error.</summary>
    public string? ForcesKey { get; init; }

    /// <summary>Key of the stress (eV/Å³, 6 Voigt or 9 numbers); null for "stress". May be missing from some
    /// structures, but asked for and found in none: an error.</summary>
    public string? StressKey { get; init; }

    /// <summary>Key of the virials (eV, 6 or 9 numbers), turned into stress = -virial / volume; null for none.
    /// Takes the place of <see cref="StressKey"/>. Asked for and found in no structure: an error.</summary>
    public string? VirialsKey { get; init; }

    /// <summary>Further Atoms.info keys to keep in /info (config_type, total_charge/charge, total_spin/spin and
    /// config_weight are always kept when present).</summary>
    public IReadOnlyList<string> KeepInfo { get; init; } = [];

    /// <summary>Further Atoms.arrays keys to keep in /arrays (FixAtoms always becomes /arrays/fixed).</summary>
    public IReadOnlyList<string> KeepArrays { get; init; } = [];

    /// <summary>The defaults: ASE's own names, no virials, no further extras.</summary>
    public static SourceKeys Default { get; } = new();
}
