namespace MlffData.Format;

/// <summary>How often one element occurs in a dataset.</summary>
/// <param name="AtomicNumber">Z as stored in /structures/atomic_numbers.</param>
/// <param name="Symbol">ASE's chemical symbol ("X" for 0, as ASE's dummy atom; "Z=n" for a number outside 0..118).</param>
/// <param name="Atoms">Atoms of this element over all structures.</param>
/// <param name="Structures">Structures holding at least one atom of it.</param>
public sealed record ElementCount(long AtomicNumber, string Symbol, long Atoms, long Structures);
