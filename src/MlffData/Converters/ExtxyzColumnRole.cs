namespace MlffData.Converters;

/// <summary>What one column of an extxyz atom line holds, for the reader.</summary>
internal enum ExtxyzColumnRole : byte
{
    /// <summary>A column the reader passes over (charges, momenta, tags, ... unless kept).</summary>
    Skip,

    /// <summary>The chemical symbol.</summary>
    Species,

    /// <summary>The atomic number.</summary>
    AtomicNumber,

    /// <summary>Position x in Å; y and z follow.</summary>
    PositionX,

    /// <summary>Position y in Å.</summary>
    PositionY,

    /// <summary>Position z in Å.</summary>
    PositionZ,

    /// <summary>Force x in eV/Å; y and z follow.</summary>
    ForceX,

    /// <summary>Force y in eV/Å.</summary>
    ForceY,

    /// <summary>Force z in eV/Å.</summary>
    ForceZ,

    /// <summary>A kept R column (Python's float()), read into a per-atom extra.</summary>
    KeptReal,

    /// <summary>A kept I column (Python's int(), within ASE's int32), read into a per-atom extra.</summary>
    KeptInteger,

    /// <summary>A kept L column (T, F, True or False), read into a per-atom extra or the move_mask.</summary>
    KeptBool,
}
