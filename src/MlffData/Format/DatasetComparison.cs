namespace MlffData.Format;

/// <summary>The outcome of <see cref="DatasetComparer.Compare"/>.</summary>
/// <param name="Equal">Every dataset matched (floats within the tolerance) and num_structures agrees.</param>
/// <param name="BitExact">Every float compared so far was identical bit for bit.</param>
/// <param name="MaxAbsDifference">The largest float difference accepted within the tolerance.</param>
/// <param name="Dataset">The first dataset that differs, or null.</param>
/// <param name="Row">Its first differing row, when the difference is in a row.</param>
/// <param name="Structure">The structure that row belongs to (the row itself for per-structure datasets).</param>
/// <param name="Detail">What differs, naming dataset, row and values; null when equal.</param>
public sealed record DatasetComparison(bool Equal, bool BitExact, double MaxAbsDifference, string? Dataset, long? Row, long? Structure, string? Detail);
