namespace MlffData.Format;

/// <summary>
/// The labels of one structure as a teacher model gives them.
/// </summary>
/// <param name="Energy">Total energy in eV.</param>
/// <param name="Forces">Forces in eV/Å, flattened row-major n x 3.</param>
/// <param name="Stress">Stress in eV/Å³: 6 numbers in Voigt order xx yy zz yz xz xy (ASE's <c>get_stress()</c>),
/// or 9 numbers of the full 3 x 3 tensor, row-major; null when the structure has no stress label.</param>
public sealed record Labels(double Energy, double[] Forces, double[]? Stress = null);
