using MathNet.Numerics.LinearAlgebra;

namespace MlffData.Format;

/// <summary>
/// The seed's checks on one structure and its labels, worded as the seed worded them. Shapes are always checked;
/// values (NaN/Inf, atomic numbers, cells) only when validation is on; warnings never stop a write.
/// </summary>
internal static class StructureValidator
{
    /// <summary>Largest atomic number (oganesson).</summary>
    internal const int MaxAtomicNumber = ChemicalSymbols.MaxAtomicNumber;

    /// <summary>Checks the shapes that the layout depends on.</summary>
    internal static void CheckShapes(long index, Structure structure, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress)
    {
        ArgumentNullException.ThrowIfNull(structure);
        if (structure.AtomicNumbers is null) throw new ValidationException(index, "atomic_numbers", "Atomic numbers are missing");
        int n = structure.AtomicNumbers.Length;
        if (structure.Positions is null || structure.Positions.Length != 3 * n)
            throw new ValidationException(index, "positions", $"Positions shape {Shape(structure.Positions?.Length ?? 0)} doesn't match atoms ({n}, 3)");
        if (structure.Cell is null || structure.Cell.Length != 9)
            throw new ValidationException(index, "cell", $"Cell must have 9 components (3 x 3), got {structure.Cell?.Length ?? 0}");
        if (structure.Pbc is null || structure.Pbc.Length != 3)
            throw new ValidationException(index, "pbc", $"pbc must have 3 components, got {structure.Pbc?.Length ?? 0}");
        if (forces.Length != 3 * n)
            throw new ValidationException(index, "forces", $"Forces shape {Shape(forces.Length)} doesn't match atoms ({n}, 3)");
        if (!stress.IsEmpty && stress.Length != 6 && stress.Length != 9)
            throw new ValidationException(index, "stress", $"Stress must have 6 (Voigt) or 9 (3 x 3) components, got {stress.Length}");
    }

    /// <summary>Checks values: finite numbers, atomic numbers 1..118, a non-zero cell vector on each periodic axis.</summary>
    internal static void CheckValues(long index, Structure structure, double energy, ReadOnlySpan<double> forces, ReadOnlySpan<double> stress)
    {
        if (structure.AtomicNumbers.Length == 0)
            throw new ValidationException(index, "atomic_numbers", "Structure has no atoms");
        if (!double.IsFinite(energy))
            throw new ValidationException(index, "energy", $"Invalid energy: {NonFinite(energy)}");
        // Each check runs SIMD-wide first; only a failing one goes element by element to word the error.
        if (!SpanKernels.AllWithin(structure.AtomicNumbers, 1, MaxAtomicNumber))
        {
            for (int i = 0; i < structure.AtomicNumbers.Length; i++)
            {
                int z = structure.AtomicNumbers[i];
                if (z < 1 || z > MaxAtomicNumber)
                    throw new ValidationException(index, "atomic_numbers", $"Invalid atomic number {z} at atom {i} (must be 1..{MaxAtomicNumber})");
            }
        }
        CheckFinite(index, "positions", "Positions contain", structure.Positions);
        CheckFinite(index, "cell", "Cell contains", structure.Cell);
        CheckFinite(index, "forces", "Forces contain", forces);
        CheckFinite(index, "stress", "Stress contains", stress);
        if (!SpanKernels.NoneAbove(forces, float.MaxValue))
        {
            foreach (var f in forces)
                if (Math.Abs(f) > float.MaxValue)
                    throw new ValidationException(index, "forces", $"Forces contain {f:R}, beyond float32 range");
        }
        for (int axis = 0; axis < 3; axis++)
        {
            var v = structure.Cell.AsSpan(3 * axis, 3);
            if (structure.Pbc[axis] && v[0] == 0 && v[1] == 0 && v[2] == 0)
                throw new ValidationException(index, "cell", $"Axis {axis} is periodic but cell vector {axis} is zero");
        }
    }

    /// <summary>The warning about the first atom whose force is above the threshold, or null.</summary>
    internal static string? LargeForceWarning(long index, ReadOnlySpan<double> forces, WriteOptions options)
    {
        double maxForce2 = options.MaxForceWarning * options.MaxForceWarning;
        for (int i = 0; i < forces.Length / 3; i++)
        {
            double f2 = forces[3 * i] * forces[3 * i] + forces[3 * i + 1] * forces[3 * i + 1] + forces[3 * i + 2] * forces[3 * i + 2];
            if (f2 > maxForce2)
                return $"Structure {index}: large force on atom {i}: |F| = {Math.Sqrt(f2):F2} eV/Å (above {options.MaxForceWarning} eV/Å)";
        }
        return null;
    }

    /// <summary>The warning about atoms closer than the threshold (minimum image under pbc), or null.</summary>
    internal static string? CloseAtomsWarning(long index, Structure structure, double threshold) =>
        ClosestPair(structure, threshold) is var (a, b, d)
            ? $"Structure {index}: atoms {a} and {b} are {d:F3} Å apart (closer than {threshold} Å)"
            : null;

    /// <summary>The first pair of atoms closer than the threshold, by minimum image on periodic axes.</summary>
    /// <remarks>
    /// Nearly every structure has no such pair, so an allocation-free sweep (<see cref="AnyCloserThan"/>) answers
    /// first; only when it finds one does <see cref="FirstCloserPair"/> run, so the pair reported (and the warning)
    /// is the one it has always been.
    /// </remarks>
    internal static (int A, int B, double Distance)? ClosestPair(Structure structure, double threshold) =>
        AnyCloserThan(structure, threshold) ? FirstCloserPair(structure, threshold) : null;

    /// <summary>
    /// Whether some pair of atoms may be closer than the threshold: true whenever <see cref="FirstCloserPair"/> finds
    /// one, and rarely otherwise. Fractional coordinates, sweep axis and window come from the same formulas; a pair
    /// closer than the threshold lies within the window along the sweep axis, and every pair within it (plus a margin)
    /// is measured here, the squared distance compared with a slack of 1e-9 for rounding. Atoms are binned along the
    /// axis (a counting sort) instead of sorted.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    internal static bool AnyCloserThan(Structure structure, double threshold)
    {
        int n = structure.NumAtoms;
        if (n < 2) return false;
        var pos = structure.Positions;
        bool[] pbc = structure.Pbc;
        bool p0 = pbc[0], p1 = pbc[1], p2 = pbc[2];
        bool periodic = p0 || p1 || p2;
        double limit = threshold * threshold * (1 + 1e-9);

        Span<double> c = stackalloc double[9];
        double[]? rented = null;
        int[]? rentedOrder = null;
        // frac (3n), then the keys along the sweep axis (n).
        Span<double> scratch = n <= 256 ? stackalloc double[4 * 256] : (rented = System.Buffers.ArrayPool<double>.Shared.Rent(4 * n));
        try
        {
            var frac = scratch[..(3 * n)];
            var keys = scratch.Slice(3 * n, n);
            var (axis, window) = SweepFrame(structure, threshold, periodic, c, frac);

            // A window that is not a number (a degenerate cell) or covers half the cell: every pair is a candidate.
            if (n <= 12 || !(window < 0.5) && pbc[axis] || double.IsNaN(window)) return AnyPairCloser(frac, c, p0, p1, p2, n, limit);

            // Atoms go into bins along the sweep axis at least a window wide (a counting sort, no comparisons), so a pair
            // within the window lies in one bin or two neighbouring ones (across the boundary too when the axis is
            // periodic). The margin keeps rounding in the bin index from separating such a pair.
            bool wrap = pbc[axis];
            double reach = window * (1 + 1e-6);
            double low = 0, span = 1;
            if (!wrap)
            {
                low = double.PositiveInfinity;
                double high = double.NegativeInfinity;
                for (int i = 0; i < n; i++)
                {
                    double key = frac[3 * i + axis];
                    low = Math.Min(low, key);
                    high = Math.Max(high, key);
                }
                span = high - low;
            }
            int bins = (int)Math.Clamp(Math.Floor(span / reach), 1, n);
            // One bin holds every pair (and span may be 0).
            if (bins == 1) return AnyPairCloser(frac, c, p0, p1, p2, n, limit);
            double scale = bins / span;
            Span<int> bin = n <= 256 ? stackalloc int[256] : (rentedOrder = System.Buffers.ArrayPool<int>.Shared.Rent(3 * n + 2));
            Span<int> order = n <= 256 ? stackalloc int[256] : rentedOrder.AsSpan(n);
            Span<int> start = n <= 256 ? stackalloc int[258] : rentedOrder.AsSpan(2 * n);
            bin = bin[..n];
            order = order[..n];
            start = start[..(bins + 2)];
            start.Clear();
            for (int i = 0; i < n; i++)
            {
                double key = frac[3 * i + axis];
                keys[i] = key;
                int b = (int)Math.Clamp((key - low) * scale, 0, bins - 1);
                bin[i] = b;
                start[b + 2]++;
            }
            for (int b = 2; b < bins + 2; b++) start[b] += start[b - 1];
            // start[b + 1] is now where bin b begins; filling moves it to where bin b ends, which is where b + 1 begins.
            for (int i = 0; i < n; i++) order[start[bin[i] + 1]++] = i;
            for (int b = 0; b < bins; b++)
            {
                int first = start[b], last = start[b + 1];
                // The next bin, the first one again at the end of a periodic axis (unless that is this bin or its
                // predecessor, whose pairs are checked already).
                int next = b + 1 < bins ? b + 1 : wrap && bins > 2 ? 0 : -1;
                int nextLast = next < 0 ? 0 : start[next + 1];
                for (int x = first; x < last; x++)
                {
                    int i = order[x];
                    double ki = keys[i];
                    for (int y = x + 1; y < last; y++)
                        if (Candidate(ki, keys[order[y]], reach, wrap) && !(Distance2(frac, c, p0, p1, p2, i, order[y]) >= limit)) return true;
                    for (int y = next < 0 ? 0 : start[next]; y < nextLast; y++)
                        if (Candidate(ki, keys[order[y]], reach, wrap) && !(Distance2(frac, c, p0, p1, p2, i, order[y]) >= limit)) return true;
                }
            }
            return false;
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<double>.Shared.Return(rented);
            if (rentedOrder is not null) System.Buffers.ArrayPool<int>.Shared.Return(rentedOrder);
        }
    }

    /// <summary>Whether any pair of the n atoms is closer than the root of limit (squared distances).</summary>
    private static bool AnyPairCloser(ReadOnlySpan<double> frac, ReadOnlySpan<double> c, bool p0, bool p1, bool p2, int n, double limit)
    {
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (!(Distance2(frac, c, p0, p1, p2, i, j) >= limit)) return true;
        return false;
    }

    /// <summary>Whether two keys along the sweep axis are within reach of each other (across the boundary too when it
    /// is periodic).</summary>
    private static bool Candidate(double a, double b, double reach, bool wrap)
    {
        double d = Math.Abs(a - b);
        return d <= reach || wrap && 1 - d <= reach;
    }

    /// <summary>Squared minimum-image distance, as <see cref="Distance"/> computes it before the root.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static double Distance2(ReadOnlySpan<double> frac, ReadOnlySpan<double> c, bool p0, bool p1, bool p2, int i, int j)
    {
        double f0 = frac[3 * j] - frac[3 * i], f1 = frac[3 * j + 1] - frac[3 * i + 1], f2 = frac[3 * j + 2] - frac[3 * i + 2];
        if (p0) f0 -= Math.Round(f0);
        if (p1) f1 -= Math.Round(f1);
        if (p2) f2 -= Math.Round(f2);
        double dx = f0 * c[0] + f1 * c[3] + f2 * c[6];
        double dy = f0 * c[1] + f1 * c[4] + f2 * c[7];
        double dz = f0 * c[2] + f1 * c[5] + f2 * c[8];
        return dx * dx + dy * dy + dz * dz;
    }

    /// <summary>
    /// The frame both close-atom checks sweep in: the cell (completed when singular; the identity for a molecule) into
    /// <paramref name="c"/>, fractional coordinates (wrapped on periodic axes; Cartesian for a molecule) into
    /// <paramref name="frac"/>, the sweep axis and the window along it in fractional units.
    /// </summary>
    private static (int Axis, double Window) SweepFrame(Structure structure, double threshold, bool periodic, Span<double> c, Span<double> frac)
    {
        int n = structure.NumAtoms;
        var pos = structure.Positions;
        bool[] pbc = structure.Pbc;
        if (!periodic)
        {
            c.Clear();
            c[0] = c[4] = c[8] = 1;
            pos.AsSpan(0, 3 * n).CopyTo(frac);
            return (0, threshold);
        }
        // 3 x 3 algebra on the stack: this runs for every structure, and allocation-free it costs ~1 µs.
        structure.Cell.CopyTo(c);
        if (!Invertible(c)) CompletedCell(structure).ToRowMajorArray().CopyTo(c);
        Span<double> inverse = stackalloc double[9];
        double volume = Invert(c, inverse);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
            {
                double f = pos[3 * i] * inverse[k] + pos[3 * i + 1] * inverse[3 + k] + pos[3 * i + 2] * inverse[6 + k];
                frac[3 * i + k] = pbc[k] ? f - Math.Floor(f) : f;
            }
        // Sweep along the axis whose lattice planes lie furthest apart: the narrowest window in fractional units.
        // The spacing of the planes normal to axis k is volume / |a_(k+1) x a_(k+2)|.
        int axis = 0;
        double best = 0;
        for (int k = 0; k < 3; k++)
        {
            int a = 3 * ((k + 1) % 3), b = 3 * ((k + 2) % 3);
            double cross = Math.Sqrt(Square(c[a + 1] * c[b + 2] - c[a + 2] * c[b + 1]) + Square(c[a + 2] * c[b] - c[a] * c[b + 2]) + Square(c[a] * c[b + 1] - c[a + 1] * c[b]));
            double spacing = Math.Abs(volume) / cross;
            if (spacing > best) (best, axis) = (spacing, k);
        }
        return (axis, threshold / best);
    }

    /// <summary>The first pair of atoms closer than the threshold, by minimum image on periodic axes, in the order
    /// the writer has always reported it.</summary>
    /// <remarks>
    /// Sort and sweep: atoms are sorted by their fractional coordinate along one axis k, and only pairs whose
    /// coordinates differ by at most threshold / h_k (h_k is the spacing of the lattice planes normal to k) can be
    /// closer than the threshold, so only those get the full minimum-image distance. O(n log n) for real structures
    /// instead of O(n^2); for a molecule the "cell" is the identity and k is x.
    /// </remarks>
    internal static (int A, int B, double Distance)? FirstCloserPair(Structure structure, double threshold)
    {
        int n = structure.NumAtoms;
        if (n < 2) return null;
        var pos = structure.Positions;
        bool[] pbc = structure.Pbc;
        bool periodic = pbc[0] || pbc[1] || pbc[2];

        // Fractional coordinates f = r C^-1 (rows of C are the lattice vectors); Cartesian ones when nothing is periodic.
        Span<double> c = stackalloc double[9];
        double[] frac = new double[3 * n];
        var (axis, window) = SweepFrame(structure, threshold, periodic, c, frac);

        // Small structures or windows covering half the cell: every pair is a candidate anyway.
        if (n <= 32 || (pbc[axis] && window >= 0.5))
        {
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                    if (Distance(frac, c, pbc, i, j) is var d && d < threshold) return Ordered(i, j, d);
            return null;
        }

        var order = new int[n];
        var keys = new double[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            keys[i] = frac[3 * i + axis];
        }
        Array.Sort(keys, order);
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n && keys[b] - keys[a] <= window; b++)
                if (Distance(frac, c, pbc, order[a], order[b]) is var d && d < threshold) return Ordered(order[a], order[b], d);
        if (pbc[axis])
        {
            // Pairs that meet across the periodic boundary of the sweep axis: the start of the order and its end.
            for (int a = 0; a < n && keys[a] <= window; a++)
                for (int b = n - 1; b > a && keys[a] + 1 - keys[b] <= window; b--)
                    if (Distance(frac, c, pbc, order[a], order[b]) is var d && d < threshold) return Ordered(order[a], order[b], d);
        }
        return null;
    }

    /// <summary>Inverts a row-major 3 x 3 matrix by cofactors; returns its determinant.</summary>
    private static double Invert(ReadOnlySpan<double> m, Span<double> inverse)
    {
        double c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6];
        double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        double r = 1 / det;
        inverse[0] = c00 * r;
        inverse[1] = (m[2] * m[7] - m[1] * m[8]) * r;
        inverse[2] = (m[1] * m[5] - m[2] * m[4]) * r;
        inverse[3] = c01 * r;
        inverse[4] = (m[0] * m[8] - m[2] * m[6]) * r;
        inverse[5] = (m[2] * m[3] - m[0] * m[5]) * r;
        inverse[6] = c02 * r;
        inverse[7] = (m[1] * m[6] - m[0] * m[7]) * r;
        inverse[8] = (m[0] * m[4] - m[1] * m[3]) * r;
        return det;
    }

    /// <summary>True when the cell's volume is not negligible against its size (a well-conditioned inverse).</summary>
    private static bool Invertible(ReadOnlySpan<double> m)
    {
        double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
        double scale = 0;
        foreach (var x in m) scale = Math.Max(scale, Math.Abs(x));
        return scale > 0 && Math.Abs(det) > 1e-9 * scale * scale * scale;
    }

    /// <summary>Minimum-image distance of atoms i and j from fractional coordinates and the cell c (row-major).</summary>
    private static double Distance(double[] frac, ReadOnlySpan<double> c, bool[] pbc, int i, int j)
    {
        double f0 = frac[3 * j] - frac[3 * i], f1 = frac[3 * j + 1] - frac[3 * i + 1], f2 = frac[3 * j + 2] - frac[3 * i + 2];
        if (pbc[0]) f0 -= Math.Round(f0);
        if (pbc[1]) f1 -= Math.Round(f1);
        if (pbc[2]) f2 -= Math.Round(f2);
        double dx = f0 * c[0] + f1 * c[3] + f2 * c[6];
        double dy = f0 * c[1] + f1 * c[4] + f2 * c[7];
        double dz = f0 * c[2] + f1 * c[5] + f2 * c[8];
        return Math.Sqrt(dx * dx + dy * dy + dz * dz);
    }

    private static (int, int, double) Ordered(int i, int j, double d) => i < j ? (i, j, d) : (j, i, d);

    private static double Square(double x) => x * x;

    /// <summary>Converts a 9-component stress (row-major 3 x 3) to Voigt xx yy zz yz xz xy as ASE does
    /// (off-diagonal pairs averaged); a 6-component stress is copied.</summary>
    internal static void ToVoigt(ReadOnlySpan<double> stress, Span<double> voigt)
    {
        if (stress.Length == 6)
        {
            stress.CopyTo(voigt);
            return;
        }
        voigt[0] = stress[0];
        voigt[1] = stress[4];
        voigt[2] = stress[8];
        voigt[3] = (stress[5] + stress[7]) / 2;
        voigt[4] = (stress[2] + stress[6]) / 2;
        voigt[5] = (stress[1] + stress[3]) / 2;
    }

    // A slab or wire has zero vectors on its non-periodic axes; fill them with unit vectors orthogonal to the others
    // so the cell can be inverted. Nothing is wrapped along those axes, so the choice does not change distances.
    // Rare, so MathNet's general linear algebra is worth its allocations here.
    private static Matrix<double> CompletedCell(Structure structure)
    {
        var cell = Matrix<double>.Build.DenseOfRowMajor(3, 3, structure.Cell);
        for (int axis = 0; axis < 3; axis++)
        {
            if (cell.Row(axis).L2Norm() > 0) continue;
            var a = cell.Row((axis + 1) % 3);
            var b = cell.Row((axis + 2) % 3);
            var normal = Vector<double>.Build.DenseOfArray([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]);
            if (normal.L2Norm() == 0)
            {
                normal = Vector<double>.Build.Dense(3);
                normal[axis] = 1;
            }
            cell.SetRow(axis, normal / normal.L2Norm());
        }
        if (Math.Abs(cell.Determinant()) < 1e-12)
            cell = Matrix<double>.Build.DenseIdentity(3) * Math.Max(1, cell.FrobeniusNorm());
        return cell;
    }

    private static void CheckFinite(long index, string field, string prefix, ReadOnlySpan<double> values)
    {
        if (SpanKernels.AllFinite(values)) return;
        foreach (var v in values)
            if (!double.IsFinite(v))
                throw new ValidationException(index, field, $"{prefix} {NonFinite(v)}");
    }

    private static string NonFinite(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "Inf" : "-Inf";

    private static string Shape(int length) => length % 3 == 0 ? $"({length / 3}, 3)" : $"({length},)";
}
