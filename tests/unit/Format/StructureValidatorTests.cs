using MlffData.Format;

namespace MlffData.UnitTests.Format;

public sealed class StructureValidatorTests
{
    // The obvious O(n^2) minimum-image search over all 27 neighbouring images: slow, and right by construction.
    private static double BruteForceMinDistance(Structure s)
    {
        double best = double.PositiveInfinity;
        int n = s.NumAtoms;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                for (int a = -1; a <= 1; a++)
                    for (int b = -1; b <= 1; b++)
                        for (int c = -1; c <= 1; c++)
                        {
                            if ((a != 0 && !s.Pbc[0]) || (b != 0 && !s.Pbc[1]) || (c != 0 && !s.Pbc[2])) continue;
                            double d2 = 0;
                            for (int k = 0; k < 3; k++)
                            {
                                double d = s.Positions[3 * j + k] + a * s.Cell[k] + b * s.Cell[3 + k] + c * s.Cell[6 + k] - s.Positions[3 * i + k];
                                d2 += d * d;
                            }
                            best = Math.Min(best, Math.Sqrt(d2));
                        }
        return best;
    }

    public static TheoryData<string, int> Cases => new()
    {
        { "bulk", 8 }, { "bulk", 40 }, { "bulk", 200 }, { "slab", 60 }, { "molecule", 20 }, { "molecule", 150 }, { "skewed", 90 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClosestPair_RandomStructures_AgreesWithBruteForce(string kind, int atoms)
    {
        for (int seed = 0; seed < 30; seed++)
        {
            var random = new Random(seed * 1000 + atoms);
            double[] cell = kind switch
            {
                "bulk" => [8, 0, 0, 0, 9, 0, 0, 0, 10],
                "slab" => [8, 0, 0, 4, 8, 0, 0, 0, 0],
                "skewed" => [9, 0, 0, 4.5, 7.8, 0, 2, 3, 8],
                _ => new double[9],
            };
            bool[] pbc = kind switch { "bulk" or "skewed" => [true, true, true], "slab" => [true, true, false], _ => [false, false, false] };
            var positions = new double[3 * atoms];
            for (int i = 0; i < atoms; i++)
            {
                // Random fractional positions, some pushed to the faces so that pairs meet across the boundary.
                double u = random.NextDouble(), v = random.NextDouble(), w = random.NextDouble() * (kind == "slab" ? 6 : 1);
                if (i % 7 == 0) u = random.NextDouble() < 0.5 ? 0.01 : 0.99;
                double[] scale = kind == "molecule" ? [12, 12, 12] : [1, 1, 1];
                for (int k = 0; k < 3; k++)
                    positions[3 * i + k] = kind == "molecule"
                        ? new[] { u, v, w }[k] * scale[k]
                        : u * cell[k] + v * cell[3 + k] + (kind == "slab" ? (k == 2 ? w : 0) : w * cell[6 + k]);
            }
            var s = new Structure(Enumerable.Repeat(29, atoms).ToArray(), positions, cell, pbc);
            double truth = BruteForceMinDistance(s);
            foreach (var threshold in new[] { 0.3, 0.8, 1.5 })
            {
                var found = StructureValidator.ClosestPair(s, threshold);
                if (truth < threshold)
                {
                    found.Should().NotBeNull($"{kind} seed {seed}: the closest pair is {truth:F3} Å, under {threshold}");
                    found!.Value.Distance.Should().BeLessThan(threshold);
                }
                else
                {
                    found.Should().BeNull($"{kind} seed {seed}: no pair is under {threshold} (closest {truth:F3} Å)");
                }
            }
        }
    }

    public static TheoryData<string, int> FastCases => new()
    {
        { "bulk", 2 }, { "bulk", 5 }, { "bulk", 12 }, { "bulk", 13 }, { "bulk", 33 }, { "bulk", 300 }, { "slab", 10 }, { "slab", 60 },
        { "wire", 40 }, { "molecule", 3 }, { "molecule", 13 }, { "molecule", 150 }, { "skewed", 25 }, { "skewed", 90 }, { "tiny", 20 },
    };

    // The fast check answers the question of the ordered search exactly, so ClosestPair reports the same pair it always
    // did: on random periodic, partly periodic and non-periodic structures, at thresholds around the closest distance.
    [Theory]
    [MemberData(nameof(FastCases))]
    public void ClosestPair_FastCheck_ReportsTheSamePairAsTheOrderedSearch(string kind, int atoms)
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var random = new Random(seed * 7919 + atoms);
            double[] cell = kind switch
            {
                "bulk" => [8, 0, 0, 0, 9, 0, 0, 0, 10],
                "slab" => [8, 0, 0, 4, 8, 0, 0, 0, 0],
                "wire" => [0, 0, 0, 0, 0, 0, 0, 0, 5],
                "skewed" => [9, 0, 0, 4.5, 7.8, 0, 2, 3, 8],
                "tiny" => [1.2, 0, 0, 0.3, 1.1, 0, 0, 0.2, 1.3],
                _ => new double[9],
            };
            bool[] pbc = kind switch
            {
                "bulk" or "skewed" or "tiny" => [true, true, true],
                "slab" => [true, true, false],
                "wire" => [false, false, true],
                _ => [false, false, false],
            };
            var positions = new double[3 * atoms];
            // Inside the cell on periodic axes (so the brute force's neighbouring images are enough), free on the others.
            for (int i = 0; i < atoms; i++)
                for (int axis = 0; axis < 3; axis++)
                {
                    double u = random.NextDouble();
                    for (int k = 0; k < 3; k++)
                        positions[3 * i + k] += pbc[axis] ? u * cell[3 * axis + k] : k == axis ? u * 11 : 0;
                }
            var s = new Structure(Enumerable.Repeat(14, atoms).ToArray(), positions, cell, pbc);
            double truth = BruteForceMinDistance(s);
            foreach (var threshold in new[] { 0.2, 0.9, 2.5, truth, Math.BitIncrement(truth), Math.BitDecrement(truth), truth * 1.0000001 })
            {
                var ordered = StructureValidator.FirstCloserPair(s, threshold);
                StructureValidator.ClosestPair(s, threshold).Should().Be(ordered, $"{kind} seed {seed} threshold {threshold:R}");
                if (ordered is not null)
                    StructureValidator.AnyCloserThan(s, threshold).Should().BeTrue($"{kind} seed {seed} threshold {threshold:R}");
                if (kind != "tiny" && threshold <= truth)
                    StructureValidator.AnyCloserThan(s, threshold * 0.999).Should().BeFalse($"{kind} seed {seed}: nothing under {threshold * 0.999:R}");
            }
        }
    }
}
