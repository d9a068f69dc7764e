namespace MlffData.Format;

/// <summary>Every group, dataset and attribute name of FORMAT.md, written once.</summary>
public static class FormatNames
{
    /// <summary>The format_version this library writes.</summary>
    public const string Version = "1.0";

    /// <summary>FORMAT.md name <c>structures</c>.</summary>
    public const string Structures = "structures";
    /// <summary>FORMAT.md name <c>labels</c>.</summary>
    public const string Labels = "labels";
    /// <summary>FORMAT.md name <c>metadata</c>.</summary>
    public const string Metadata = "metadata";

    /// <summary>FORMAT.md name <c>atomic_numbers</c>.</summary>
    public const string AtomicNumbers = "atomic_numbers";
    /// <summary>FORMAT.md name <c>atomic_numbers_splits</c>.</summary>
    public const string AtomicNumbersSplits = "atomic_numbers_splits";
    /// <summary>FORMAT.md name <c>positions</c>.</summary>
    public const string Positions = "positions";
    /// <summary>FORMAT.md name <c>cells</c>.</summary>
    public const string Cells = "cells";
    /// <summary>FORMAT.md name <c>pbc</c>.</summary>
    public const string Pbc = "pbc";

    /// <summary>FORMAT.md name <c>energy</c>.</summary>
    public const string Energy = "energy";
    /// <summary>FORMAT.md name <c>forces</c>.</summary>
    public const string Forces = "forces";
    /// <summary>FORMAT.md name <c>forces_splits</c>.</summary>
    public const string ForcesSplits = "forces_splits";
    /// <summary>FORMAT.md name <c>stress</c>.</summary>
    public const string Stress = "stress";
    /// <summary>FORMAT.md name <c>stress_mask</c>.</summary>
    public const string StressMask = "stress_mask";
    /// <summary>FORMAT.md name <c>structure_indices</c>.</summary>
    public const string StructureIndices = "structure_indices";

    /// <summary>FORMAT.md's optional group of per-structure extras, <c>info</c>.</summary>
    public const string Info = "info";
    /// <summary>FORMAT.md's optional group of per-atom extras, <c>arrays</c>.</summary>
    public const string Arrays = "arrays";
    /// <summary>Suffix of the dataset that says which rows of an extra are real, <c>NAME_mask</c>.</summary>
    public const string MaskSuffix = "_mask";
    /// <summary>FORMAT.md extra <c>config_type</c> (string).</summary>
    public const string ConfigType = "config_type";
    /// <summary>FORMAT.md extra <c>total_charge</c> (float64).</summary>
    public const string TotalCharge = "total_charge";
    /// <summary>FORMAT.md extra <c>total_spin</c> (float64, multiplicity).</summary>
    public const string TotalSpin = "total_spin";
    /// <summary>FORMAT.md extra <c>config_weight</c> (float64).</summary>
    public const string ConfigWeight = "config_weight";
    /// <summary>FORMAT.md per-atom extra <c>fixed</c> (bool, from FixAtoms).</summary>
    public const string Fixed = "fixed";

    /// <summary>FORMAT.md name <c>units</c>.</summary>
    public const string Units = "units";
    /// <summary>FORMAT.md name <c>Ang</c>.</summary>
    public const string UnitsLength = "Ang";
    /// <summary>FORMAT.md name <c>eV</c>.</summary>
    public const string UnitsEnergy = "eV";
    /// <summary>FORMAT.md name <c>eV Ang-1</c>.</summary>
    public const string UnitsForce = "eV Ang-1";
    /// <summary>FORMAT.md name <c>eV Ang-3</c>.</summary>
    public const string UnitsStress = "eV Ang-3";

    /// <summary>FORMAT.md name <c>num_structures</c>.</summary>
    public const string NumStructures = "num_structures";
    /// <summary>FORMAT.md name <c>num_atoms</c>.</summary>
    public const string NumAtoms = "num_atoms";
    /// <summary>FORMAT.md name <c>format_version</c>.</summary>
    public const string FormatVersion = "format_version";
    /// <summary>FORMAT.md name <c>created</c>.</summary>
    public const string Created = "created";
    /// <summary>FORMAT.md name <c>modified</c>.</summary>
    public const string Modified = "modified";
    /// <summary>FORMAT.md name <c>writer</c>.</summary>
    public const string Writer = "writer";
    /// <summary>FORMAT.md name <c>compression</c>.</summary>
    public const string Compression = "compression";
    /// <summary>FORMAT.md name <c>energy_min</c>.</summary>
    public const string EnergyMin = "energy_min";
    /// <summary>FORMAT.md name <c>energy_max</c>.</summary>
    public const string EnergyMax = "energy_max";
    /// <summary>FORMAT.md name <c>energy_mean</c>.</summary>
    public const string EnergyMean = "energy_mean";
    /// <summary>FORMAT.md name <c>energy_std</c>.</summary>
    public const string EnergyStd = "energy_std";
    /// <summary>FORMAT.md name <c>max_abs_force</c>.</summary>
    public const string MaxAbsForce = "max_abs_force";
    /// <summary>FORMAT.md name <c>elements</c>.</summary>
    public const string Elements = "elements";

    /// <summary>The five datasets of /structures, exactly.</summary>
    public static IReadOnlyList<string> StructureDatasets { get; } = [AtomicNumbers, AtomicNumbersSplits, Positions, Cells, Pbc];

    /// <summary>The six datasets /labels must hold (it may hold more).</summary>
    public static IReadOnlyList<string> LabelDatasets { get; } = [Energy, Forces, ForcesSplits, Stress, StressMask, StructureIndices];

    /// <summary>Metadata attributes the writer owns; callers cannot set them as extra metadata.</summary>
    public static IReadOnlySet<string> ReservedMetadata { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        NumStructures, NumAtoms, FormatVersion, Created, Modified, Writer, Compression,
        EnergyMin, EnergyMax, EnergyMean, EnergyStd, MaxAbsForce, Elements,
    };
}
