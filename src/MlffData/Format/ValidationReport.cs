namespace MlffData.Format;

/// <summary>What <see cref="ReferenceValidator.Run"/> found.</summary>
/// <param name="Reference">The reference file.</param>
/// <param name="Structures">Its number of structures.</param>
/// <param name="Checks">Every output, in the order written.</param>
public sealed record ValidationReport(string Reference, long Structures, IReadOnlyList<ValidationCheck> Checks)
{
    /// <summary>Whether every output matched the reference.</summary>
    public bool Passed => Checks.All(c => c.Comparison.Equal);

    /// <summary>The first output that did not match, or null.</summary>
    public ValidationCheck? FirstFailure => Checks.FirstOrDefault(c => !c.Comparison.Equal);

    /// <summary>The outputs written in each compression (the seed's compression summary).</summary>
    public IEnumerable<ValidationCheck> CompressionChecks => Checks.Where(c => c.Name.StartsWith("compression-", StringComparison.Ordinal));
}
