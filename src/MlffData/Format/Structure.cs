namespace MlffData.Format;

/// <summary>
/// One atomic structure, named as ASE names it: atomic numbers, Cartesian positions (Å, row-major n x 3),
/// the cell (Å, row i is lattice vector i, row-major 3 x 3) and per-axis periodicity.
/// </summary>
/// <param name="AtomicNumbers">Atomic number of each atom (ASE's <c>Atoms.numbers</c>).</param>
/// <param name="Positions">Positions in Å, flattened row-major: atom i is elements [3i, 3i+3).</param>
/// <param name="Cell">Cell in Å, flattened row-major (ASE's <c>Atoms.cell.array</c>); zeros for no cell.</param>
/// <param name="Pbc">Periodicity of the three cell axes.</param>
public sealed record Structure(int[] AtomicNumbers, double[] Positions, double[] Cell, bool[] Pbc)
{
    /// <summary>Number of atoms.</summary>
    public int NumAtoms => AtomicNumbers.Length;

    /// <summary>A structure without a cell and without periodicity (a molecule).</summary>
    /// <exception cref="ArgumentException">positions is not n x 3.</exception>
    public static Structure Molecule(int[] atomicNumbers, double[,] positions) =>
        FromArrays(atomicNumbers, positions, new double[3, 3], [false, false, false]);

    /// <summary>Builds a structure from two-dimensional arrays, as ASE holds them.</summary>
    /// <exception cref="ArgumentException">positions is not n x 3 or cell is not 3 x 3.</exception>
    public static Structure FromArrays(int[] atomicNumbers, double[,] positions, double[,] cell, bool[] pbc)
    {
        if (positions.GetLength(1) != 3)
            throw new ArgumentException($"Positions shape ({positions.GetLength(0)}, {positions.GetLength(1)}) is not (n, 3)", nameof(positions));
        if (cell.GetLength(0) != 3 || cell.GetLength(1) != 3)
            throw new ArgumentException($"Cell shape ({cell.GetLength(0)}, {cell.GetLength(1)}) is not (3, 3)", nameof(cell));
        return new Structure(atomicNumbers, Flatten(positions), Flatten(cell), pbc);
    }

    /// <summary>Copies a two-dimensional array into a flat row-major array.</summary>
    internal static double[] Flatten(double[,] values)
    {
        var flat = new double[values.Length];
        Buffer.BlockCopy(values, 0, flat, 0, values.Length * sizeof(double));
        return flat;
    }
}
