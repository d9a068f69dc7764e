using MathNet.Numerics.LinearAlgebra;

namespace MlffData.Format;

/// <summary>
/// The seed's checks on one structure and its labels, worded as the seed worded them. Shapes are always checked;
/// values (NaN/Inf, atomic numbers, cells) only when validation is on; warnings never stop a write.
/// </summary>
internal static class StructureValidator
{
    /// <summary>Largest atomic number (oganesson).</summary>
    internal const int MaxAtomicNumber = 118;

    // The pairwise distance check is O(n^2); past this many atoms it would cost more than the write itself.
    private const int MaxAtomsForDistanceCheck = 5000;

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
        for (int i = 0; i < structure.AtomicNumbers.Length; i++)
        {
            int z = structure.AtomicNumbers[i];
            if (z < 1 || z > MaxAtomicNumber)
                throw new ValidationException(index, "atomic_numbers", $"Invalid atomic number {z} at atom {i} (must be 1..{MaxAtomicNumber})");
        }
        CheckFinite(index, "positions", "Positions contain", structure.Positions);
        CheckFinite(index, "cell", "Cell contains", structure.Cell);
        CheckFinite(index, "forces", "Forces contain", forces);
        CheckFinite(index, "stress", "Stress contains", stress);
        foreach (var f in forces)
            if (Math.Abs(f) > float.MaxValue)
                throw new ValidationException(index, "forces", $"Forces contain {f:R}, beyond float32 range");
        for (int axis = 0; axis < 3; axis++)
        {
            var v = structure.Cell.AsSpan(3 * axis, 3);
            if (structure.Pbc[axis] && v[0] == 0 && v[1] == 0 && v[2] == 0)
                throw new ValidationException(index, "cell", $"Axis {axis} is periodic but cell vector {axis} is zero");
        }
    }

    /// <summary>Warns about atoms closer than the threshold (minimum image under pbc) and forces above the threshold.</summary>
    internal static void Warn(long index, Structure structure, ReadOnlySpan<double> forces, WriteOptions options)
    {
        double maxForce2 = options.MaxForceWarning * options.MaxForceWarning;
        for (int i = 0; i < forces.Length / 3; i++)
        {
            double f2 = forces[3 * i] * forces[3 * i] + forces[3 * i + 1] * forces[3 * i + 1] + forces[3 * i + 2] * forces[3 * i + 2];
            if (f2 > maxForce2)
            {
                options.Warning($"Structure {index}: large force on atom {i}: |F| = {Math.Sqrt(f2):F2} eV/Å (above {options.MaxForceWarning} eV/Å)");
                break;
            }
        }
        if (structure.NumAtoms <= MaxAtomsForDistanceCheck && ClosestPair(structure, options.MinDistanceWarning) is var (a, b, d))
            options.Warning($"Structure {index}: atoms {a} and {b} are {d:F3} Å apart (closer than {options.MinDistanceWarning} Å)");
    }

    /// <summary>The first pair of atoms closer than the threshold, by minimum image on periodic axes.</summary>
    internal static (int A, int B, double Distance)? ClosestPair(Structure structure, double threshold)
    {
        int n = structure.NumAtoms;
        var pos = structure.Positions;
        double limit2 = threshold * threshold;
        bool periodic = structure.Pbc[0] || structure.Pbc[1] || structure.Pbc[2];
        if (!periodic)
        {
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double dx = pos[3 * j] - pos[3 * i], dy = pos[3 * j + 1] - pos[3 * i + 1], dz = pos[3 * j + 2] - pos[3 * i + 2];
                    double d2 = dx * dx + dy * dy + dz * dz;
                    if (d2 < limit2) return (i, j, Math.Sqrt(d2));
                }
            return null;
        }

        // Fractional coordinates f = r C^-1 (rows of C are the lattice vectors); a difference is wrapped into
        // [-0.5, 0.5) on periodic axes, then taken back to Cartesian. Exact for the usual, not too skewed, cells.
        var cell = CompletedCell(structure);
        var inverse = cell.Inverse();
        var frac = new double[3 * n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
                frac[3 * i + k] = pos[3 * i] * inverse[0, k] + pos[3 * i + 1] * inverse[1, k] + pos[3 * i + 2] * inverse[2, k];
        Span<double> c = stackalloc double[9];
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++)
                c[3 * r + k] = cell[r, k];
        bool p0 = structure.Pbc[0], p1 = structure.Pbc[1], p2 = structure.Pbc[2];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double f0 = frac[3 * j] - frac[3 * i], f1 = frac[3 * j + 1] - frac[3 * i + 1], f2 = frac[3 * j + 2] - frac[3 * i + 2];
                if (p0) f0 -= Math.Round(f0);
                if (p1) f1 -= Math.Round(f1);
                if (p2) f2 -= Math.Round(f2);
                double dx = f0 * c[0] + f1 * c[3] + f2 * c[6];
                double dy = f0 * c[1] + f1 * c[4] + f2 * c[7];
                double dz = f0 * c[2] + f1 * c[5] + f2 * c[8];
                double d2 = dx * dx + dy * dy + dz * dz;
                if (d2 < limit2) return (i, j, Math.Sqrt(d2));
            }
        return null;
    }

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
        foreach (var v in values)
            if (!double.IsFinite(v))
                throw new ValidationException(index, field, $"{prefix} {NonFinite(v)}");
    }

    private static string NonFinite(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "Inf" : "-Inf";

    private static string Shape(int length) => length % 3 == 0 ? $"({length / 3}, 3)" : $"({length},)";
}
