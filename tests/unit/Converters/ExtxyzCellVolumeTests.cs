using System.Text;
using System.Text.Json;
using MlffData.Converters;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// ExtxyzCellVolume against numpy's own np.linalg.det (what ASE's get_volume() takes the abs of), bit for bit, on
/// random matrices, the periodic cells of the reference dataset and special cases. numpy runs once for the class.
/// </summary>
public sealed class ExtxyzCellVolumeTests
{
    private static readonly Lazy<(double[][] Matrices, long[] Dets)> Numpy = new(RunNumpy);

    [Fact]
    public void Determinant_ManyMatrices_SameBitsAsNumpyDet()
    {
        // Arrange
        var (matrices, dets) = Numpy.Value;

        // Act
        var ours = matrices.Select(m => BitConverter.DoubleToInt64Bits(ExtxyzCellVolume.Determinant(m))).ToArray();

        // Assert: numpy's det goes through LU and exp(sum of logs), so a cofactor formula would differ in the last bits.
        matrices.Length.Should().BeGreaterThan(4400);
        int cofactorDiffers = matrices.Where((m, i) => BitConverter.DoubleToInt64Bits(Cofactor(m)) != dets[i]).Count();
        cofactorDiffers.Should().BeGreaterThan(100, "the test must be able to tell numpy's arithmetic from the textbook's");
        for (int i = 0; i < matrices.Length; i++)
            ours[i].Should().Be(dets[i], "det of [{0}]", string.Join(", ", matrices[i].Select(x => x.ToString("R"))));
    }

    [Fact]
    public void Determinant_TwiceIdentity_IsNumpys7Point999999999999998()
    {
        // Act
        double det = ExtxyzCellVolume.Determinant([2, 0, 0, 0, 2, 0, 0, 0, 2]);

        // Assert
        det.Should().Be(7.999999999999998);
    }

    [Fact]
    public void Rank_ZeroAndNaNRows_CountsNonzeroLatticeVectorsAsAse()
    {
        // Act and assert
        ExtxyzCellVolume.Rank([1, 0, 0, 0, 1, 0, 0, 0, 1]).Should().Be(3);
        ExtxyzCellVolume.Rank([1, 0, 0, 0, 0, 0, 0, 0, 1]).Should().Be(2);
        ExtxyzCellVolume.Rank([0, 0, 0, 0, 0, 0, 0, 0, 0]).Should().Be(0);
        ExtxyzCellVolume.Rank([double.NaN, 0, 0, 0, 0, 0, 0, 0, 0]).Should().Be(1);
    }

    // The textbook formula, to show the test tells it apart from numpy's.
    private static double Cofactor(double[] m) =>
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);

    private static (double[][] Matrices, long[] Dets) RunNumpy()
    {
        var matrices = new List<double[]>();
        var rng = new Random(20240611);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        for (int k = 0; k < 4000; k++)
        {
            double scale = 1 + 30 * rng.NextDouble();
            var m = new double[9];
            switch (k % 4)
            {
                case 0:   // anything
                    for (int i = 0; i < 9; i++) m[i] = Normal() * scale;
                    break;
                case 1:   // a cell near orthorhombic, rattled
                    for (int i = 0; i < 9; i++) m[i] = (i % 4 == 0 ? scale : 0) + 0.1 * Normal();
                    break;
                case 2:   // a hexagonal cell written to few decimals
                    double a = Math.Round(2 + 18 * rng.NextDouble(), 4), c = Math.Round(2 + 38 * rng.NextDouble(), 4);
                    m = [a, 0, 0, a / 2, a * Math.Sqrt(3) / 2, 0, 0, 0, c];
                    break;
                default:  // a lower-triangular (ASE cellpar) cell, rows permuted so pivoting matters
                    var t = new[] { scale, 0, 0, Normal(), scale * (1 + rng.NextDouble()), 0, Normal(), Normal(), scale * 2 };
                    int shift = rng.Next(3);
                    for (int r = 0; r < 3; r++)
                        for (int j = 0; j < 3; j++)
                            m[3 * r + j] = t[3 * ((r + shift) % 3) + j];
                    break;
            }
            matrices.Add(m);
        }
        // The periodic cells of the reference dataset, as Lattice holds them.
        using (var reader = new ExtxyzReader(RepoPaths.Of("data", "samples", "reference_930.extxyz")))
            matrices.AddRange(reader.ReadFrames().Where(f => f.Structure.Pbc.All(p => p)).Select(f => f.Structure.Cell));
        matrices.Add([2, 0, 0, 0, 2, 0, 0, 0, 2]);
        matrices.Add([0, 1, 0, 1, 0, 0, 0, 0, 1]);                 // a swap: negative
        matrices.Add([0, 0, 0, 0, 0, 0, 0, 0, 0]);                 // singular: numpy gives 0
        matrices.Add([1, 2, 3, 2, 4, 6, 1, 1, 1]);
        matrices.Add([1, 0, 0, 0, 0, 0, 0, 0, 1]);                 // a zero pivot in the second column
        matrices.Add([1e-310, 0, 0, 0, 1, 0, 0, 0, 1]);            // a subnormal pivot, divided rather than scaled
        matrices.Add([-3, 0.5, 0, 1, -4, 0, 0.25, 0, -5]);         // negative diagonal
        matrices.Add([1e150, 0, 0, 0, 1e150, 0, 0, 0, 1e150]);     // overflows to inf, as exp of a large sum does

        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        using var dir = new TempDirectory();
        var request = dir.File("request.json");
        File.WriteAllText(request, JsonSerializer.Serialize(new
        {
            dets = matrices.Select(m => m.Select(BitConverter.DoubleToInt64Bits).ToArray()).ToArray(),
        }), utf8);
        var answer = JsonDocument.Parse(PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "extxyz_keys_oracle.py"), request)).RootElement;
        return ([.. matrices], answer.GetProperty("dets").EnumerateArray().Select(x => x.GetInt64()).ToArray());
    }
}
