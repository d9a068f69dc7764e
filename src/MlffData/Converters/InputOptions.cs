namespace MlffData.Converters;

/// <summary>How <see cref="InputReader"/> reads an input file; every default is the one written here.</summary>
public sealed record InputOptions
{
    /// <summary>"auto" (default: .pkl/.pickle is an ASE pickle, .xyz/.extxyz extended XYZ, anything else goes to
    /// ASE to recognise), "pickle", "extxyz" (or "xyz"), or any ASE format name ("traj", "vasp", "cif", "db", ...).</summary>
    public string Format { get; init; } = "auto";

    /// <summary>Read xyz/extxyz with ASE's reader instead of the native one; default false.</summary>
    public bool UseAseReader { get; init; }

    /// <summary>Label keys and extras to keep; default ASE's names.</summary>
    public SourceKeys Keys { get; init; } = SourceKeys.Default;

    /// <summary>A labels pickle whose labels replace the input's, or null (default).</summary>
    public string? LabelsPath { get; init; }

    /// <summary>The Python interpreter to embed (<c>--python</c>), or null (default) to discover one.</summary>
    public string? Python { get; init; }

    /// <summary>Load pickles with plain <c>pickle.loads</c>, which runs any code they carry; default false.</summary>
    public bool AllowUnsafePickle { get; init; }
}
