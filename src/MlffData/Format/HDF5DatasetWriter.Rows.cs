namespace MlffData.Format;

// Rows copied from files of this format (merge): a block of structures goes into the columns array by array, with no
// object per structure (but for its /info and /arrays values) and no conversion, since the source already holds
// exactly what the writer stores.
public sealed partial class HDF5DatasetWriter
{
    /// <summary>
    /// Adds a block of structures given as dataset rows (see <see cref="RowBlock"/>): the rows are stored as they are,
    /// splits renumbered after the output's atoms, and the statistics updated. Values are not checked again (the rows
    /// come from a file this format's reader has checked), only the block's own shape.
    /// </summary>
    /// <param name="block">The block; with atoms, its atomic numbers and forces are filled here from those readers (its
    /// positions are not).</param>
    /// <param name="atoms">Readers of the source's per-atom datasets; the block's rows of a dataset with a reader are read
    /// from it, at firstAtom, and whole chunks that line up with the output's are stored without a second compression
    /// (<see cref="DatasetColumn{T}.AddFrom"/>).</param>
    /// <param name="firstAtom">The source row of the block's first atom.</param>
    /// <param name="extras">Each structure's /info and /arrays values (null for none), or null when no structure of
    /// the block has any. Names the block lacks get missing values and masks, as for structures added one by one.</param>
    /// <exception cref="InvalidOperationException">The writer was completed, aborted or failed earlier.</exception>
    /// <exception cref="ArgumentException">The block's ends do not rise to its atom count, or extras is not one per structure.</exception>
    /// <exception cref="ValidationException">A structure's extras do not fit (a name of another kind or row shape than
    /// before, or rows that do not match its atoms); nothing of the block is written.</exception>
    /// <exception cref="InvalidDataException">A chunk read from atoms is corrupt.</exception>
    internal void AddRows(RowBlock block, AtomChunkSources? atoms = null, long firstAtom = 0, IReadOnlyList<StructureExtras?>? extras = null)
    {
        EnsureOpen();
        int s = block.Structures, a = block.Atoms;
        var ends = block.Ends.AsSpan(0, s);
        long previous = 0;
        foreach (long end in ends)
        {
            if (end < previous) throw new ArgumentException($"The block's structure ends decrease ({previous} then {end})", nameof(block));
            previous = end;
        }
        if (previous != a) throw new ArgumentException($"The block's structure ends stop at {previous}, but it holds {a} atoms", nameof(block));
        if (extras is not null) CheckExtras(extras, ends);
        try
        {
            if (extras is not null) AppendExtras(extras, ends);
            // Numbers and forces land in the block too, for the statistics below; positions are not needed there.
            if (atoms?.Numbers is { } numbers) _numbers.AddFrom(numbers, firstAtom, a, block.AtomicNumbers.AsSpan(0, a));
            else _numbers.Add(block.AtomicNumbers.AsSpan(0, a));
            if (atoms?.Positions is { } positions) _positions.AddFrom(positions, firstAtom, 3 * a, default);
            else _positions.Add(block.Positions.AsSpan(0, 3 * a));
            if (atoms?.Forces is { } forces) _forces.AddFrom(forces, firstAtom, 3 * a, block.Forces.AsSpan(0, 3 * a));
            else _forces.Add(block.Forces.AsSpan(0, 3 * a));
            _cells.Add(block.Cells.AsSpan(0, 9 * s));
            _pbc.Add(block.Pbc.AsSpan(0, 3 * s));
            _energy.Add(block.Energy.AsSpan(0, s));
            _stress.Add(block.Stress.AsSpan(0, 6 * s));
            _stressMask.Add(block.StressMask.AsSpan(0, s));
            _indices.Add(block.StructureIndices.AsSpan(0, s));
            foreach (long end in ends)
            {
                _numbersSplits.Add(_atoms + end);
                _forcesSplits.Add(_atoms + end);
            }
        }
        catch
        {
            // The columns may now disagree with each other: nothing written by this writer can be trusted.
            Fault();
            throw;
        }
        _stats.AddElements(block.AtomicNumbers.AsSpan(0, a));
        _stats.AddForces(block.Forces.AsSpan(0, 3 * a));
        foreach (double energy in block.Energy.AsSpan(0, s)) _stats.AddEnergy(energy);
        _atoms += a;
        _structures += s;
        _added += s;
        StartWritebackEvery();
    }

    /// <summary>Checks every structure's extras before anything of the block is written.</summary>
    private void CheckExtras(IReadOnlyList<StructureExtras?> extras, ReadOnlySpan<long> ends)
    {
        if (extras.Count != ends.Length)
            throw new ArgumentException($"{extras.Count} extras given for a block of {ends.Length} structures", nameof(extras));
        BatchExtras? introduced = null;
        long start = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            if (extras[i] is { IsEmpty: false } values)
            {
                introduced ??= new BatchExtras();
                CheckExtras(_added + i, values.Info, perAtom: false, rows: 1, _infoColumns, introduced.Info);
                CheckExtras(_added + i, values.Arrays, perAtom: true, rows: checked((int)(ends[i] - start)), _arrayColumns, introduced.Arrays);
            }
            start = ends[i];
        }
    }

    /// <summary>Writes the block's extras, structure by structure (the block starts at the writer's current counts).</summary>
    private void AppendExtras(IReadOnlyList<StructureExtras?> extras, ReadOnlySpan<long> ends)
    {
        long start = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            if (extras[i] is { IsEmpty: false } values) AppendExtras(values, _structures + i, _atoms + start);
            start = ends[i];
        }
    }
}
