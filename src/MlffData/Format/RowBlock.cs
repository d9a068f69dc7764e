namespace MlffData.Format;

/// <summary>
/// Consecutive structures as the rows of FORMAT.md's datasets (what a file of this format stores), for copying files
/// into a writer without making one object per structure: <see cref="DatasetMerger"/> reads blocks of rows from its
/// inputs into one of these and hands it to <see cref="HDF5DatasetWriter.AddRows"/>. The arrays are reused from block
/// to block, so <see cref="Structures"/> and <see cref="Atoms"/> say how much of each is filled.
/// </summary>
internal sealed class RowBlock
{
    /// <summary>Structures in the block.</summary>
    internal int Structures { get; private set; }

    /// <summary>Atoms in the block.</summary>
    internal int Atoms { get; private set; }

    /// <summary>Where each structure's atoms end, counted from the block's first atom (atomic_numbers_splits less the
    /// block's first split): Structures values, rising, the last one Atoms.</summary>
    internal long[] Ends { get; private set; } = [];

    internal long[] AtomicNumbers { get; private set; } = [];
    internal double[] Positions { get; private set; } = [];
    internal float[] Forces { get; private set; } = [];
    internal double[] Cells { get; private set; } = [];
    internal bool[] Pbc { get; private set; } = [];
    internal double[] Energy { get; private set; } = [];
    internal double[] Stress { get; private set; } = [];
    internal bool[] StressMask { get; private set; } = [];
    internal long[] StructureIndices { get; private set; } = [];

    /// <summary>Makes room for a block of this many structures and atoms (growing the arrays only when needed) and
    /// sets the counts; the caller then fills every array up to them.</summary>
    internal void Reset(int structures, int atoms)
    {
        Structures = structures;
        Atoms = atoms;
        if (Ends.Length < structures)
        {
            Ends = new long[structures];
            Cells = new double[9 * structures];
            Pbc = new bool[3 * structures];
            Energy = new double[structures];
            Stress = new double[6 * structures];
            StressMask = new bool[structures];
            StructureIndices = new long[structures];
        }
        if (AtomicNumbers.Length < atoms)
        {
            AtomicNumbers = new long[atoms];
            Positions = new double[3 * atoms];
            Forces = new float[3 * atoms];
        }
    }
}
