namespace MlffData.Format;

/// <summary>One rewrite of the reference and how it compared.</summary>
/// <param name="Name">The output's name (incremental, batch, append, compression-gzip-4, source ...).</param>
/// <param name="Mode">How it was written.</param>
/// <param name="Compression">Its compression, as FORMAT.md names it.</param>
/// <param name="Path">The output file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Comparison">The comparison with the reference.</param>
public sealed record ValidationCheck(string Name, string Mode, string Compression, string Path, long Bytes, DatasetComparison Comparison);
