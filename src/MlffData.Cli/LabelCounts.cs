using MlffData.Converters;

namespace MlffData.Cli;

/// <summary>
/// What a conversion read, counted the way MACE reports a dataset: structures, and how many had energy, forces and
/// stress; plus the structures left out for lack of labels.
/// </summary>
internal sealed class LabelCounts
{
    private readonly List<int> _skipped = [];

    /// <summary>Structures read.</summary>
    internal long Structures { get; private set; }

    /// <summary>Structures with an energy.</summary>
    internal long Energy { get; private set; }

    /// <summary>Structures with forces.</summary>
    internal long Forces { get; private set; }

    /// <summary>Structures with a stress.</summary>
    internal long Stress { get; private set; }

    /// <summary>0-based indices of the structures left out.</summary>
    internal IReadOnlyList<int> Skipped => _skipped;

    internal void Add(SourceFrame frame)
    {
        Structures++;
        if (frame.Energy is not null) Energy++;
        if (frame.Forces is not null) Forces++;
        if (frame.Stress is not null) Stress++;
    }

    internal void Skip(int index) => _skipped.Add(index);

    /// <summary>"930 with energy, 930 with forces, 452 with stress".</summary>
    internal string Describe() => $"{Energy:N0} with energy, {Forces:N0} with forces, {Stress:N0} with stress";

    /// <summary>The first skipped indices, e.g. "4, 17, 99" or "4, 17, ... (1,203 in all)".</summary>
    internal string DescribeSkipped(int shown = 10) =>
        string.Join(", ", _skipped.Take(shown)) + (_skipped.Count > shown ? $", ... ({_skipped.Count:N0} in all)" : "");
}
