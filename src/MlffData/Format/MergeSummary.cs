namespace MlffData.Format;

/// <summary>What <see cref="DatasetMerger.Merge"/> wrote.</summary>
/// <param name="Output">The output file (absolute).</param>
/// <param name="Inputs">Number of input files.</param>
/// <param name="Structures">S of the output: the sum over the inputs.</param>
/// <param name="Atoms">A of the output.</param>
/// <param name="Compression">The output's compression.</param>
/// <param name="DuplicateIndices">Distinct structure_indices found in more than one input (0 with Reindex).</param>
/// <param name="InputBytes">Total size of the input files.</param>
/// <param name="OutputBytes">Size of the output file.</param>
/// <param name="Elapsed">Wall time of the merge.</param>
public sealed record MergeSummary(string Output, int Inputs, long Structures, long Atoms, Compression Compression,
    long DuplicateIndices, long InputBytes, long OutputBytes, TimeSpan Elapsed)
{
    /// <summary>Input bytes per second of wall time, comparable with the speed of copying the inputs.</summary>
    public double InputBytesPerSecond => Elapsed.TotalSeconds > 0 ? InputBytes / Elapsed.TotalSeconds : 0;
}
