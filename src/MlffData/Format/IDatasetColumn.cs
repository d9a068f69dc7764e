namespace MlffData.Format;

/// <summary>What the writer does with every column alike, whatever its element type.</summary>
internal interface IDatasetColumn : IDisposable
{
    /// <summary>Writes buffered rows, creating the dataset if needed.</summary>
    void Flush(bool whole = false);

    /// <summary>Drops buffered rows and shrinks the dataset to the rows it had when opened (or at the last
    /// <see cref="MarkDurable"/>).</summary>
    void Rollback();

    /// <summary>After a checkpoint made the flushed rows durable: a later rollback keeps them.</summary>
    void MarkDurable();

    /// <summary>The rows of the dataset's last chunk when it is partial (a later append rewrites that chunk), as they
    /// are in the file now; empty when the dataset ends on a chunk boundary or does not exist yet.</summary>
    IEnumerable<CheckpointJournal.Tail> Tails();
}
