using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// One structure as a reader found it in an input file, with whatever labels the file carried.
/// Readers never reject a frame for missing labels; <see cref="ToLabels"/> does, naming the field.
/// </summary>
/// <param name="Index">0-based position of the structure in the input file.</param>
/// <param name="Line">1-based line where the structure starts in a text input, for error messages; 0 when unknown.</param>
/// <param name="Structure">The atoms.</param>
/// <param name="Energy">Energy in eV, or null when the input has none.</param>
/// <param name="Forces">Forces in eV/Å (row-major n x 3), or null.</param>
/// <param name="Stress">Stress in eV/Å³, Voigt xx yy zz yz xz xy, or null.</param>
/// <param name="Extras">Atoms.info / Atoms.arrays values kept for FORMAT.md's /info and /arrays, or null for none.</param>
public sealed record SourceFrame(int Index, long Line, Structure Structure, double? Energy, double[]? Forces, double[]? Stress,
    StructureExtras? Extras = null)
{
    /// <summary>The frame's labels, for the writer.</summary>
    /// <param name="file">Input file name, used in the error message.</param>
    /// <exception cref="ConversionException">The frame has no energy or no forces.</exception>
    public Labels ToLabels(string file)
    {
        if (Energy is null)
            throw new ConversionException(file, Index, "energy", "structure has no energy label");
        if (Forces is null)
            throw new ConversionException(file, Index, "forces", "structure has no forces label");
        return new Labels(Energy.Value, Forces, Stress);
    }

    /// <summary>The frame as the writer takes it, its input position as the source index.</summary>
    /// <param name="file">Input file name, used in the error message.</param>
    /// <exception cref="ConversionException">The frame has no energy or no forces.</exception>
    public LabelledStructure ToLabelled(string file) => new(Structure, ToLabels(file), Index, Extras);
}
