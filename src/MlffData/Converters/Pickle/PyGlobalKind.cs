namespace MlffData.Converters.Pickle;

/// <summary>
/// The globals safe_pickle.py's ALLOWED maps a pickle's (module, name) to; several spellings (Python 2, numpy 2) map
/// to one kind, as they map to one Python object there.
/// </summary>
internal enum PyGlobalKind
{
    /// <summary>ase.atoms.Atoms.</summary>
    Atoms,
    /// <summary>ase.cell.Cell.</summary>
    Cell,
    /// <summary>ase.constraints.FixAtoms.</summary>
    FixAtoms,
    /// <summary>ase.calculators.singlepoint.SinglePointCalculator.</summary>
    SinglePointCalculator,
    /// <summary>ase.calculators.calculator.Parameters (a dict subclass).</summary>
    Parameters,
    /// <summary>builtins.object.</summary>
    Object,
    /// <summary>builtins.dict.</summary>
    Dict,
    /// <summary>numpy.ndarray.</summary>
    NdArray,
    /// <summary>numpy.dtype.</summary>
    Dtype,
    /// <summary>safe_pickle._safe_getattr (builtins.getattr narrowed).</summary>
    Getattr,
    /// <summary>safe_pickle._safe_encode (_codecs.encode narrowed to latin1).</summary>
    Encode,
    /// <summary>safe_pickle._safe_reconstructor (copyreg._reconstructor narrowed).</summary>
    Reconstructor,
    /// <summary>numpy.core.multiarray._reconstruct.</summary>
    Reconstruct,
    /// <summary>numpy.core.multiarray.scalar.</summary>
    Scalar,
    /// <summary>numpy.core.numeric._frombuffer.</summary>
    FromBuffer,
}
