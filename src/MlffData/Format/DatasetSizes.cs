namespace MlffData.Format;

/// <summary>Sizes that follow from FORMAT.md's dtypes, used to report compression ratios.</summary>
public static class DatasetSizes
{
    /// <summary>Bytes the eleven datasets would take uncompressed for S structures and A atoms.</summary>
    public static long Uncompressed(long structures, long atoms) =>
        // per atom: atomic_numbers int64, positions 3 float64, forces 3 float32;
        // per structure: cells 9 float64, pbc 3 bool, energy, stress 6 float64, stress_mask, structure_indices;
        // the two splits datasets hold S + 1 int64 each.
        atoms * (8 + 24 + 12) + structures * (72 + 3 + 8 + 48 + 1 + 8) + 2 * (structures + 1) * 8;
}
