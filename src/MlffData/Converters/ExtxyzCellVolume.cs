namespace MlffData.Converters;

/// <summary>
/// The cell volume (Å³) exactly as ASE 3.22.1's <c>atoms.get_volume()</c> computes it, to the last bit, so that
/// stress = -virial / volume agrees with the ASE path of the converter.
/// </summary>
/// <remarks>
/// ASE returns <c>abs(np.linalg.det(cell))</c>. numpy's det does not expand cofactors: it factorises the matrix with
/// LAPACK's dgetrf (for 3 x 3, reference LAPACK's recursive dgetrf2: partial pivoting on the first largest |a|, the
/// column below the pivot scaled by the pivot's reciprocal, the trailing block updated as c + (-u) * l), and then
/// takes det = sign * exp(sum of log |u_ii|), which is why det(2 I) is 7.999999999999998. This class repeats those
/// operations in the same order; C# does not contract a * b + c into a fused multiply-add, and neither does the
/// netlib BLAS numpy uses here, so the bits agree (checked against numpy on real and random cells in the tests).
/// </remarks>
internal static class ExtxyzCellVolume
{
    // LAPACK's dlamch('S'): below it dgetrf2 divides by the pivot instead of multiplying by its reciprocal.
    private const double SafeMinimum = 2.2250738585072014e-308;

    /// <summary>ASE's <c>cell.rank</c>: how many cell rows (lattice vectors) have a nonzero (or NaN) entry.</summary>
    /// <param name="cell">Row-major 3 x 3 cell, rows the lattice vectors (Å).</param>
    public static int Rank(ReadOnlySpan<double> cell)
    {
        int rank = 0;
        for (int i = 0; i < 3; i++)
            // numpy's any() is "not equal to zero", which NaN is.
            if (cell[3 * i] != 0 || cell[3 * i + 1] != 0 || cell[3 * i + 2] != 0)
                rank++;
        return rank;
    }

    /// <summary><c>abs(np.linalg.det(cell))</c>, bit for bit; 0 for a singular cell, as numpy gives.</summary>
    /// <param name="cell">Row-major 3 x 3 cell, rows the lattice vectors (Å).</param>
    public static double Volume(ReadOnlySpan<double> cell) => Math.Abs(Determinant(cell));

    /// <summary><c>np.linalg.det(cell)</c>, bit for bit.</summary>
    /// <param name="cell">Row-major 3 x 3 matrix.</param>
    public static double Determinant(ReadOnlySpan<double> cell)
    {
        // numpy hands LAPACK the matrix itself (a[i, j] = cell[i, j]), not its transpose; the two factorise differently.
        Span<double> a = stackalloc double[9];
        cell[..9].CopyTo(a);
        double sign = 1;

        // Column 0: idamax takes the first largest |a|, so only a strictly larger one moves the pivot.
        int p = 0;
        for (int r = 1; r < 3; r++)
            if (Math.Abs(a[3 * r]) > Math.Abs(a[3 * p]))
                p = r;
        // A zero pivot makes dgetrf report a singular matrix, for which numpy's det is sign 0 times exp(-inf) = 0.
        if (a[3 * p] == 0)
            return 0;
        if (p != 0)
        {
            SwapRows(a, 0, p);
            sign = -sign;
        }
        Scale(a, 0, 1, 2);
        for (int i = 1; i < 3; i++)
            for (int j = 1; j < 3; j++)
                // dgemm with alpha = -1: temp = alpha * b(l, j), then c(i, j) + temp * a(i, l).
                a[3 * i + j] += -a[j] * a[3 * i];

        // Column 1 of the trailing 2 x 2 block.
        if (Math.Abs(a[7]) > Math.Abs(a[4]))
        {
            SwapRows(a, 1, 2);
            sign = -sign;
        }
        if (a[4] == 0)
            return 0;
        Scale(a, 1, 2, 2);
        a[8] += -a[5] * a[7];
        if (a[8] == 0)
            return 0;

        // numpy's slogdet: the sign of each diagonal entry, the logs of their magnitudes summed in order.
        double logDet = 0;
        for (int i = 0; i < 3; i++)
        {
            double d = a[4 * i];
            if (d < 0)
            {
                sign = -sign;
                d = -d;
            }
            logDet += Math.Log(d);
        }
        return sign * Math.Exp(logDet);
    }

    private static void SwapRows(Span<double> a, int r, int s)
    {
        for (int j = 0; j < 3; j++)
            (a[3 * r + j], a[3 * s + j]) = (a[3 * s + j], a[3 * r + j]);
    }

    // dgetrf2 on a one-column panel: rows first..last of column k divided by the pivot a[k, k], as a multiplication
    // by its reciprocal unless the pivot is tiny.
    private static void Scale(Span<double> a, int k, int first, int last)
    {
        double pivot = a[4 * k];
        if (Math.Abs(pivot) >= SafeMinimum)
        {
            double reciprocal = 1 / pivot;
            for (int i = first; i <= last; i++)
                a[3 * i + k] *= reciprocal;
        }
        else
        {
            for (int i = first; i <= last; i++)
                a[3 * i + k] /= pivot;
        }
    }
}
