namespace MlffData.Format;

/// <summary>
/// What the structures and labels of a dataset hold, from one streamed pass over a file whose layout checked out.
/// Statistics over nothing (no structures, or no atoms) are null; standard deviations are population ones, as
/// numpy's default.
/// </summary>
public sealed record DatasetContents
{
    /// <summary>S, the number of structures.</summary>
    public required long NumStructures { get; init; }

    /// <summary>A, the number of atoms over all structures.</summary>
    public required long NumAtoms { get; init; }

    /// <summary>Fewest atoms in a structure.</summary>
    public required long? AtomsPerStructureMin { get; init; }

    /// <summary>A / S.</summary>
    public required double? AtomsPerStructureMean { get; init; }

    /// <summary>Most atoms in a structure.</summary>
    public required long? AtomsPerStructureMax { get; init; }

    /// <summary>Every element present, by atomic number.</summary>
    public required IReadOnlyList<ElementCount> Elements { get; init; }

    /// <summary>Structures per periodicity, keyed by the three axes as T/F (ASE's <c>pbc</c> order): "TTT", "TTF", "FFF".</summary>
    public required IReadOnlyDictionary<string, long> PbcKinds { get; init; }

    /// <summary>Structures whose stress_mask is true (those with a stress label).</summary>
    public required long StressCount { get; init; }

    /// <summary>Smallest energy, eV.</summary>
    public required double? EnergyMin { get; init; }

    /// <summary>Largest energy, eV.</summary>
    public required double? EnergyMax { get; init; }

    /// <summary>Mean energy, eV.</summary>
    public required double? EnergyMean { get; init; }

    /// <summary>Standard deviation of the energies, eV.</summary>
    public required double? EnergyStd { get; init; }

    /// <summary>Mean of energy / atoms over the structures with atoms, eV.</summary>
    public required double? EnergyPerAtomMean { get; init; }

    /// <summary>Standard deviation of energy / atoms over the structures with atoms, eV.</summary>
    public required double? EnergyPerAtomStd { get; init; }

    /// <summary>Largest absolute force component, eV/Å.</summary>
    public required double? MaxAbsForce { get; init; }

    /// <summary>Largest force norm |F| of one atom, eV/Å.</summary>
    public required double? MaxForceNorm { get; init; }

    /// <summary>Root mean square of all force components, eV/Å.</summary>
    public required double? RmsForce { get; init; }
}
