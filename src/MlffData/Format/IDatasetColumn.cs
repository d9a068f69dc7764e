namespace MlffData.Format;

/// <summary>What the writer does with every column alike, whatever its element type.</summary>
internal interface IDatasetColumn : IDisposable
{
    /// <summary>Writes buffered rows, creating the dataset if needed.</summary>
    void Flush(bool whole = false);

    /// <summary>The rows of the dataset's last chunk when it is partial (a later append rewrites that chunk), as they
    /// are in the file now; empty when the dataset ends on a chunk boundary or does not exist yet.</summary>
    IEnumerable<CheckpointJournal.Tail> Tails();
}
