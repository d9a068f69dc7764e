namespace MlffData.Format;

/// <summary>
/// The writer's warnings about values it keeps (atoms closer than <see cref="WriteOptions.MinDistanceWarning"/>, forces
/// above <see cref="WriteOptions.MaxForceWarning"/>), worked out on worker threads while the writer goes on.
/// </summary>
/// <remarks>
/// <para>The close-atom search is the costliest check the writer makes (about a quarter of an uncompressed write, all
/// of it on the writer's thread), and nothing waits on its answer: a warning never stops a structure. So structures
/// are copied (positions, cell, pbc; the caller may reuse its arrays once an add returns) into batches, each batch is
/// checked on the thread pool, and the warnings reach <see cref="WriteOptions.Warning"/> on the writer's thread, in
/// structure order, from a later add or at the latest from <see cref="Drain"/> (a checkpoint or Complete). The large-
/// force check is cheap and runs at once; its warning waits in the batch so that the order stays by structure.</para>
/// <para>Memory is bounded: at most <see cref="MaxPending"/> batches of <see cref="BatchAtoms"/> atoms wait; an add
/// that finds more waits for the oldest.</para>
/// </remarks>
internal sealed class DeferredWarnings
{
    // Batches big enough that a task's overhead disappears, small enough that warnings are not held back long.
    private const int BatchAtoms = 1 << 15;
    private const int BatchStructures = 1024;
    private const int MaxPending = 4;

    private readonly WriteOptions _options;
    private readonly Queue<Task<List<string>>> _pending = new();
    private List<Item> _batch = [];
    private int _batchAtoms;

    /// <summary>One structure to check: its index in the output, a copy of what the search reads, and the
    /// large-force warning already found (null for none).</summary>
    private readonly record struct Item(long Index, Structure Copy, string? ForceWarning);

    internal DeferredWarnings(WriteOptions options) => _options = options;

    /// <summary>Queues the checks of one structure that passed validation; delivers the warnings of batches done.</summary>
    internal void Add(long index, Structure structure, ReadOnlySpan<double> forces)
    {
        string? forceWarning = StructureValidator.LargeForceWarning(index, forces, _options);
        // Only the length of the atomic numbers is read; the arrays that are read are copied.
        var copy = new Structure(structure.AtomicNumbers, (double[])structure.Positions.Clone(), (double[])structure.Cell.Clone(), (bool[])structure.Pbc.Clone());
        _batch.Add(new Item(index, copy, forceWarning));
        _batchAtoms += structure.NumAtoms;
        if (_batchAtoms >= BatchAtoms || _batch.Count >= BatchStructures) Submit();
        Deliver(waitAbove: MaxPending);
    }

    /// <summary>Waits for every queued check and delivers its warnings (before a checkpoint or Complete returns).</summary>
    internal void Drain()
    {
        Submit();
        Deliver(waitAbove: 0);
    }

    /// <summary>Forgets queued checks without delivering them (the rows are being dropped); running ones finish alone.</summary>
    internal void Discard()
    {
        _batch = [];
        _batchAtoms = 0;
        _pending.Clear();
    }

    private void Submit()
    {
        if (_batch.Count == 0) return;
        var batch = _batch;
        double threshold = _options.MinDistanceWarning;
        _pending.Enqueue(Task.Run(() => Check(batch, threshold)));
        _batch = [];
        _batchAtoms = 0;
    }

    /// <summary>Delivers the warnings of finished batches in order, waiting for the oldest while more than
    /// waitAbove batches are queued.</summary>
    private void Deliver(int waitAbove)
    {
        while (_pending.TryPeek(out var oldest) && (oldest.IsCompleted || _pending.Count > waitAbove))
        {
            _pending.Dequeue();
            // GetResult: a failure inside the check surfaces as itself, not wrapped in an AggregateException.
            foreach (var warning in oldest.GetAwaiter().GetResult()) _options.Warning(warning);
        }
    }

    private static List<string> Check(List<Item> batch, double threshold)
    {
        var warnings = new List<string>();
        foreach (var (index, copy, forceWarning) in batch)
        {
            if (forceWarning is not null) warnings.Add(forceWarning);
            if (StructureValidator.CloseAtomsWarning(index, copy, threshold) is { } closeWarning) warnings.Add(closeWarning);
        }
        return warnings;
    }
}
