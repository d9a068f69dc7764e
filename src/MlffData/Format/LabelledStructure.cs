namespace MlffData.Format;

/// <summary>A structure with its labels and its position in the source it came from.</summary>
/// <param name="Structure">The atoms.</param>
/// <param name="Labels">Energy, forces and optional stress.</param>
/// <param name="SourceIndex">Index of the structure in its source; null lets the writer use its running count.</param>
/// <param name="Extras">Values for /info and /arrays (FORMAT.md's optional groups), or null for none.</param>
public sealed record LabelledStructure(Structure Structure, Labels Labels, long? SourceIndex = null, StructureExtras? Extras = null);
