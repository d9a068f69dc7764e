namespace MlffData.Labeling;

/// <summary>
/// The teacher model failed on a structure and the run stopped there (without --skip-errors); the structures
/// labelled before it are in the output. The message names the input, the 0-based structure and the error.
/// </summary>
public sealed class LabelingStoppedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LabelingStoppedException(string input, long structureIndex, string error, long labelled)
        : base($"{input}: structure {structureIndex}: calculator: {error} (the {labelled:N0} structures labelled before it are kept; --skip-errors leaves failing structures out, --resume continues)")
    {
        Input = input;
        StructureIndex = structureIndex;
        Error = error;
    }

    /// <summary>The input file.</summary>
    public string Input { get; }

    /// <summary>0-based position of the structure in the input.</summary>
    public long StructureIndex { get; }

    /// <summary>The calculator's error, "Type: message".</summary>
    public string Error { get; }
}
