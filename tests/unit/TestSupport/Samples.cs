using MlffData.Format;

namespace MlffData.UnitTests.TestSupport;

/// <summary>Small, deterministic structures and labels for writer tests.</summary>
public static class Samples
{
    /// <summary>A water-like molecule (no cell, no pbc).</summary>
    public static Structure Molecule(int atoms = 3, int seed = 1)
    {
        var random = new Random(seed);
        var numbers = Enumerable.Range(0, atoms).Select(i => i % 3 == 0 ? 8 : 1).ToArray();
        // Atoms on a line 1 Å apart, jittered: never closer than the 0.5 Å warning threshold.
        var positions = new double[3 * atoms];
        for (int i = 0; i < atoms; i++)
        {
            positions[3 * i] = i * 1.0 + random.NextDouble() * 0.1;
            positions[3 * i + 1] = random.NextDouble() * 0.1;
            positions[3 * i + 2] = random.NextDouble() * 0.1;
        }
        return new Structure(numbers, positions, new double[9], [false, false, false]);
    }

    /// <summary>A periodic copper box with atoms on a simple cubic grid 2.5 Å apart.</summary>
    public static Structure Bulk(int perSide = 2, int seed = 1)
    {
        var random = new Random(seed);
        int n = perSide * perSide * perSide;
        var positions = new double[3 * n];
        int k = 0;
        for (int x = 0; x < perSide; x++)
            for (int y = 0; y < perSide; y++)
                for (int z = 0; z < perSide; z++)
                {
                    positions[k++] = x * 2.5 + random.NextDouble() * 0.05;
                    positions[k++] = y * 2.5 + random.NextDouble() * 0.05;
                    positions[k++] = z * 2.5 + random.NextDouble() * 0.05;
                }
        double a = perSide * 2.5;
        return new Structure(Enumerable.Repeat(29, n).ToArray(), positions, [a, 0, 0, 0, a, 0, 0, 0, a], [true, true, true]);
    }

    /// <summary>Forces of a structure: small deterministic values, eV/Å.</summary>
    public static double[] Forces(Structure structure, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, structure.NumAtoms * 3).Select(_ => random.NextDouble() - 0.5).ToArray();
    }

    /// <summary>A Voigt stress, eV/Å³.</summary>
    public static double[] Stress(int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 6).Select(_ => (random.NextDouble() - 0.5) * 0.01).ToArray();
    }

    /// <summary>A labelled structure: a molecule for even seeds, a bulk box with stress for odd ones.</summary>
    public static LabelledStructure Labelled(int seed, long? sourceIndex = null)
    {
        var structure = seed % 2 == 0 ? Molecule(3 + seed % 5, seed) : Bulk(2, seed);
        return new LabelledStructure(structure,
            new Labels(-10.0 - seed * 0.25, Forces(structure, seed), structure.Pbc[0] ? Stress(seed) : null), sourceIndex);
    }

    /// <summary>Options that collect warnings in a list instead of printing them.</summary>
    public static WriteOptions Collecting(List<string> warnings, WriteOptions? options = null) =>
        (options ?? WriteOptions.Default) with { Warning = warnings.Add };
}
