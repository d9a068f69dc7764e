namespace MlffData.Labeling;

/// <summary>What a labeling run did.</summary>
/// <param name="Labelled">Structures labelled and written in this run.</param>
/// <param name="Failed">Structures whose calculation raised in this run (left out with --skip-errors).</param>
/// <param name="AlreadyDone">Input structures skipped because the resumed output already held them (or their failure).</param>
/// <param name="Recovered">Structure rows past the last checkpoint that a killed run had left and resume dropped.</param>
/// <param name="TotalInOutput">Structures in the output at the end.</param>
/// <param name="Device">The device the calculator ran on.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="Interrupted">True when a cancellation stopped the run early (everything labelled is kept).</param>
public sealed record LabelingSummary(long Labelled, long Failed, long AlreadyDone, long Recovered, long TotalInOutput,
    string Device, TimeSpan Elapsed, bool Interrupted)
{
    /// <summary>Structures labelled per second of wall time.</summary>
    public double Throughput => Elapsed.TotalSeconds > 0 ? Labelled / Elapsed.TotalSeconds : 0;
}
