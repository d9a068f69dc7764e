namespace MlffData.Format;

/// <summary>What <see cref="DatasetVerifier.Verify"/> read of a file and every problem it found.</summary>
/// <param name="Path">The file.</param>
/// <param name="Structures">Structures per its layout; -1 when the layout is broken.</param>
/// <param name="Atoms">Atoms per its layout; -1 when the layout is broken.</param>
/// <param name="Datasets">Datasets read.</param>
/// <param name="Chunks">Chunks (or blocks of a contiguous dataset) read.</param>
/// <param name="WithoutChecksum">Datasets without a fletcher32 checksum: read, but their bytes cannot be verified.</param>
/// <param name="Problems">One line per problem: a chunk that fails its checksum or cannot be read, a layout that breaks
/// FORMAT.md, statistics that disagree with the values.</param>
public sealed record VerificationReport(string Path, long Structures, long Atoms, int Datasets, long Chunks,
    IReadOnlyList<string> WithoutChecksum, IReadOnlyList<string> Problems)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Ok => Problems.Count == 0;
}
