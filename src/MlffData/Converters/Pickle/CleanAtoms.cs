namespace MlffData.Converters.Pickle;

/// <summary>
/// One structure of an ASE pickle after safe_pickle.clean(): only checked plain values (numbers as int64, positions
/// and cell as float64, pbc, plain info and per-atom arrays entries, the SinglePointCalculator's checked results,
/// FixAtoms as a mask), which is all ase_frames.frame() reads; no loaded object is used past this point.
/// </summary>
internal sealed class CleanAtoms
{
    /// <summary>Atomic numbers (Atoms.numbers, int64).</summary>
    public required long[] Numbers { get; init; }

    /// <summary>Positions (Å), row-major n x 3.</summary>
    public required double[] Positions { get; init; }

    /// <summary>Cell (Å), row-major 3 x 3, rows the lattice vectors.</summary>
    public required double[] Cell { get; init; }

    /// <summary>Periodicity of the three axes.</summary>
    public required bool[] Pbc { get; init; }

    /// <summary>Atoms.arrays entries other than numbers and positions, in Atoms.arrays order.</summary>
    public Dictionary<string, object?> Arrays { get; } = new(StringComparer.Ordinal);

    /// <summary>Atoms.info entries (text, bool, long, double or <see cref="NdArray"/>), in order.</summary>
    public Dictionary<string, object?> Info { get; } = new(StringComparer.Ordinal);

    /// <summary>The calculator's checked results, or null without a calculator.</summary>
    public Dictionary<string, object?>? Results { get; set; }

    /// <summary>The FixAtoms mask, or null when the structure has no constraints.</summary>
    public bool[]? Fixed { get; set; }

    /// <summary>Number of atoms.</summary>
    public int Count => Numbers.Length;

    /// <summary>Whether all three axes are periodic (<c>atoms.pbc.all()</c>).</summary>
    public bool Periodic => Pbc[0] && Pbc[1] && Pbc[2];

    /// <summary><c>key in atoms.arrays</c> and its value, numbers and positions included.</summary>
    public bool TryGetArray(string key, out object? value)
    {
        value = key switch
        {
            "numbers" => NdArray.FromInt64s(Numbers, Count),
            "positions" => NdArray.FromDoubles(Positions, Count, 3),
            _ => Arrays.GetValueOrDefault(key),
        };
        return value is not null || Arrays.ContainsKey(key);
    }
}
