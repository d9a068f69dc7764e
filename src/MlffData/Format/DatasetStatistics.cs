using System.Text.Json;
using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// Running statistics of a dataset, kept as structures arrive and merged with a file's existing ones on append:
/// energy count/min/max/mean/std (population std, as numpy's default), the largest absolute force component,
/// and which elements occur.
/// </summary>
internal sealed class DatasetStatistics
{
    private readonly bool[] _elements = new bool[StructureValidator.MaxAtomicNumber + 1];
    private long _count;
    private double _mean, _m2;

    /// <summary>Number of energies seen.</summary>
    public long Count => _count;

    /// <summary>Smallest energy, eV.</summary>
    public double Min { get; private set; } = double.PositiveInfinity;

    /// <summary>Largest energy, eV.</summary>
    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>Mean energy, eV.</summary>
    public double Mean => _mean;

    /// <summary>Population standard deviation of the energies, eV.</summary>
    public double Std => _count > 0 ? Math.Sqrt(_m2 / _count) : 0;

    /// <summary>Largest absolute force component, eV/Å.</summary>
    public double MaxAbsForce { get; private set; }

    /// <summary>Adds one structure's energy (Welford's update keeps the variance accurate over millions).</summary>
    public void AddEnergy(double energy)
    {
        _count++;
        double delta = energy - _mean;
        _mean += delta / _count;
        _m2 += delta * (energy - _mean);
        if (energy < Min) Min = energy;
        if (energy > Max) Max = energy;
    }

    /// <summary>Adds forces (eV/Å), as stored (float32).</summary>
    public void AddForces(ReadOnlySpan<float> forces)
    {
        double max = MaxAbsForce;
        foreach (var f in forces)
        {
            double a = Math.Abs((double)f);
            if (a > max) max = a;
        }
        MaxAbsForce = max;
    }

    /// <summary>Adds the largest absolute force component of some forces (eV/Å), as stored (float32).</summary>
    public void AddMaxAbsForce(float maxAbs)
    {
        if (maxAbs > MaxAbsForce) MaxAbsForce = maxAbs;
    }

    /// <summary>Marks the elements present (atomic numbers as the caller gives them).</summary>
    public void AddElements(ReadOnlySpan<int> atomicNumbers)
    {
        var elements = _elements;
        foreach (var z in atomicNumbers)
            if ((uint)z < (uint)elements.Length) elements[z] = true;
    }

    /// <summary>Marks the elements present.</summary>
    public void AddElements(ReadOnlySpan<long> atomicNumbers)
    {
        foreach (var z in atomicNumbers)
            if (z >= 0 && z < _elements.Length) _elements[z] = true;
    }

    /// <summary>Combines another set into this one (Chan et al.'s pairwise update of mean and variance).</summary>
    public void Merge(DatasetStatistics other)
    {
        if (other._count > 0)
        {
            long n = _count + other._count;
            double delta = other._mean - _mean;
            _m2 += other._m2 + delta * delta * _count * other._count / n;
            _mean += delta * other._count / n;
            _count = n;
            Min = Math.Min(Min, other.Min);
            Max = Math.Max(Max, other.Max);
        }
        MaxAbsForce = Math.Max(MaxAbsForce, other.MaxAbsForce);
        for (int z = 0; z < _elements.Length; z++) _elements[z] |= other._elements[z];
    }

    /// <summary>Chemical symbols present, by atomic number.</summary>
    public IReadOnlyList<string> ElementSymbols =>
        Enumerable.Range(1, StructureValidator.MaxAtomicNumber).Where(z => _elements[z]).Select(ChemicalSymbols.Symbol).ToList();

    /// <summary>Writes FORMAT.md's statistics attributes; energy ones only when there is an energy.</summary>
    public void WriteTo(H5Attributes attributes)
    {
        foreach (var name in new[] { FormatNames.EnergyMin, FormatNames.EnergyMax, FormatNames.EnergyMean, FormatNames.EnergyStd })
            attributes.Delete(name);
        if (_count > 0)
        {
            attributes.Set(FormatNames.EnergyMin, Min);
            attributes.Set(FormatNames.EnergyMax, Max);
            attributes.Set(FormatNames.EnergyMean, Mean);
            attributes.Set(FormatNames.EnergyStd, Std);
        }
        attributes.Set(FormatNames.MaxAbsForce, MaxAbsForce);
        attributes.Set(FormatNames.Elements, JsonSerializer.Serialize(ElementSymbols));
    }

    /// <summary>
    /// The statistics of an existing file: from its attributes when all are there and consistent with its
    /// structure count, else computed from its datasets, block by block.
    /// </summary>
    public static DatasetStatistics ReadFrom(H5Attributes metadata, H5Dataset<double> energy, H5Dataset<float> forces, H5Dataset<long> atomicNumbers)
    {
        var stats = new DatasetStatistics();
        if (energy.Rows == 0) return stats;
        if (TryReadAttributes(metadata, energy.Rows, stats)) return stats;
        return Compute(energy, forces, atomicNumbers);
    }

    /// <summary>The statistics of a file's values, computed from its datasets block by block.</summary>
    public static DatasetStatistics Compute(H5Dataset<double> energy, H5Dataset<float> forces, H5Dataset<long> atomicNumbers)
    {
        var stats = new DatasetStatistics();
        const long block = 1 << 16;
        for (long start = 0; start < energy.Rows; start += block)
            foreach (var e in energy.Read(start, Math.Min(block, energy.Rows - start))) stats.AddEnergy(e);
        for (long start = 0; start < forces.Rows; start += block)
            stats.AddForces(forces.Read(start, Math.Min(block, forces.Rows - start)));
        for (long start = 0; start < atomicNumbers.Rows; start += block)
            stats.AddElements(atomicNumbers.Read(start, Math.Min(block, atomicNumbers.Rows - start)));
        return stats;
    }

    private static bool TryReadAttributes(H5Attributes metadata, long rows, DatasetStatistics stats)
    {
        string[] names = [FormatNames.NumStructures, FormatNames.EnergyMin, FormatNames.EnergyMax, FormatNames.EnergyMean, FormatNames.EnergyStd, FormatNames.MaxAbsForce, FormatNames.Elements];
        if (!names.All(metadata.Contains)) return false;
        if (metadata.Get(FormatNames.NumStructures) is not long count || count != rows) return false;
        if (metadata.Get(FormatNames.Elements) is not string elementsJson) return false;
        string[]? symbols;
        try
        {
            symbols = JsonSerializer.Deserialize<string[]>(elementsJson);
        }
        catch (JsonException)
        {
            return false;
        }
        if (symbols is null) return false;
        foreach (var symbol in symbols)
        {
            if (!ChemicalSymbols.TryGetAtomicNumber(symbol, out int z)) return false;
            stats._elements[z] = true;
        }
        stats._count = count;
        stats.Min = Convert.ToDouble(metadata.Get(FormatNames.EnergyMin), System.Globalization.CultureInfo.InvariantCulture);
        stats.Max = Convert.ToDouble(metadata.Get(FormatNames.EnergyMax), System.Globalization.CultureInfo.InvariantCulture);
        stats._mean = Convert.ToDouble(metadata.Get(FormatNames.EnergyMean), System.Globalization.CultureInfo.InvariantCulture);
        double std = Convert.ToDouble(metadata.Get(FormatNames.EnergyStd), System.Globalization.CultureInfo.InvariantCulture);
        stats._m2 = std * std * count;
        stats.MaxAbsForce = Convert.ToDouble(metadata.Get(FormatNames.MaxAbsForce), System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }
}
