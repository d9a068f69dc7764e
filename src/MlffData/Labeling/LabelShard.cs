using System.Globalization;

namespace MlffData.Labeling;

/// <summary>
/// One of <see cref="Count"/> disjoint shares of a label run's input: the input positions i with
/// i % Count == Index. n jobs with Index 0 .. n-1 (a Slurm job array's task ids) label every position exactly once.
/// </summary>
/// <param name="Index">0-based shard, 0 &lt;= Index &lt; Count.</param>
/// <param name="Count">Number of shards, at least 1.</param>
public sealed record LabelShard(int Index, int Count)
{
    /// <summary>Whether the input position belongs to this shard.</summary>
    public bool Contains(long position) => position % Count == Index;

    /// <summary>Parses "k/n", e.g. "0/4".</summary>
    /// <exception cref="ArgumentException">The text is not k/n with 0 &lt;= k &lt; n.</exception>
    public static LabelShard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index < count)
            return new LabelShard(index, count);
        throw new ArgumentException($"--shard must be k/n with 0 <= k < n (0-based, e.g. 0/4 .. 3/4), not '{text}'");
    }

    /// <summary>"k/n", as recorded in the output's label_shard metadata.</summary>
    public override string ToString() => $"{Index}/{Count}";
}
