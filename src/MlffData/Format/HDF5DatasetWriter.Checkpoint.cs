using MlffData.Hdf5;
using MlffData.Native;

namespace MlffData.Format;

// Checkpoints for long runs (label generation): everything added so far made durable in the file at the target path,
// and recovery that cuts a file written by a killed process back to its last checkpoint. Measured with this
// libhdf5 (shared/research/RELIABILITY.md 1.2): a default-format file that was H5Fflush-ed survives kill -9 with every
// flushed row intact, but rows written after the flush may or may not be there; num_structures, written only at a
// checkpoint, says which rows are committed.
public sealed partial class HDF5DatasetWriter
{
    /// <summary>
    /// Makes every structure added so far durable: buffered rows and the metadata (num_structures and the caller's
    /// keys) are written, the file is flushed and fsynced. The first checkpoint of a new file renames the partial file
    /// to the target path, so from then on the target holds the committed structures even if the process is killed;
    /// the writer goes on in place. A later <see cref="Abort"/> or failure cuts the file back to the last checkpoint.
    /// </summary>
    /// <param name="extraMetadata">Caller's metadata to record now (the same keys as for <see cref="Complete"/>).</param>
    /// <exception cref="ArgumentException">A key is one the writer owns.</exception>
    /// <exception cref="InvalidOperationException">The writer was completed, aborted, or failed earlier.</exception>
    public void Checkpoint(IReadOnlyDictionary<string, object?>? extraMetadata = null)
    {
        EnsureOpen();
        foreach (var key in extraMetadata?.Keys ?? [])
            if (FormatNames.ReservedMetadata.Contains(key))
                throw new ArgumentException($"Metadata key '{key}' is written by the writer itself", nameof(extraMetadata));
        try
        {
            CatchUpExtras();
            // whole: a dataset created now gets full-size chunks; the run goes on filling it.
            foreach (var column in Columns()) column.Flush(whole: true);
            _compressor.Drain();
            _warnings.Drain();
            WriteMetadata(extraMetadata);
            _file!.FlushToDisk();
            if (!_inPlace)
            {
                // The open HDF5 handle follows the inode, so writing goes on in the renamed file. A journal left beside
                // the old file by its killed writer must not outlive it and describe this one.
                CheckpointJournal.Delete(Path);
                RollbackJournal.Discard(Path);
                File.Move(_writePath, Path, overwrite: true);
                Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
                _writePath = Path;
                _inPlace = true;
                // From now on the file is written in place: what it holds now is saved before it is overwritten.
                _rollback.Begin(Path);
            }
            else
            {
                // Before the journal below: killed in between, the file is this checkpoint, which is consistent and
                // durable, and the journal one behind it (recovery takes the file as it is).
                _rollback.Commit();
            }
            // Only now, with every row on disk, may the journal say they are committed.
            CheckpointJournal.Write(Path, new CheckpointJournal.Entry(_structures, _atoms), [.. Columns().SelectMany(c => c.Tails())]);
        }
        catch
        {
            Fault();
            throw;
        }
    }

    /// <summary>
    /// Cuts a file that a killed writer left behind back to its last checkpoint (or completion): every dataset to the
    /// structures committed, and the per-atom ones to the atoms of those structures. Committed is what the file's
    /// journal (<see cref="CheckpointJournal"/>) records, or without one the /metadata num_structures. The last committed
    /// rows of every dataset are then read (so a checksum failure in them is found now), num_structures, num_atoms and
    /// the statistics are made to match what is kept, the file is fsynced and the journal removed. A file that was
    /// completed or checkpointed and then left alone is not changed (beyond removing a journal that agrees with it).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The committed structures and atoms, and how many structure rows past them were dropped.</returns>
    /// <exception cref="DatasetFormatException">The file has no num_structures and no journal, fewer rows than they
    /// count, or committed rows that cannot be read back.</exception>
    /// <exception cref="H5Exception">The file cannot be opened for writing.</exception>
    public static (long Structures, long Atoms, long Dropped) RecoverToCheckpoint(string path)
    {
        // A writer killed after libhdf5 wrote a chunk's index entry but before the chunk or the superblock's end of
        // allocation reached the disk leaves an entry past that end; libhdf5 refuses to free or prune it ("addr
        // overflow, addr = A, size = S, eoa = E"). Such a block holds nothing committed: the end of allocation is moved
        // past it and the recovery runs again (measured in 1 of 100 label kills in scripts/stress).
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return Recover(path);
            }
            catch (H5Exception e) when (attempt < 16 && CheckpointJournal.Exists(path) && PastAllocation(e.Message) is ulong end)
            {
                using var file = H5File.Open(path, readOnly: false);
                file.IncrementFileSize(end > (ulong)file.Size ? end - (ulong)file.Size : 0);
            }
        }
    }

    /// <summary>The end (A + S) of a block an "addr overflow" error names, or null for any other error.</summary>
    private static ulong? PastAllocation(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"addr overflow, addr = (\d+), size = (\d+)");
        return match.Success ? ulong.Parse(match.Groups[1].Value) + ulong.Parse(match.Groups[2].Value) : null;
    }

    private static (long Structures, long Atoms, long Dropped) Recover(string path)
    {
        long? rowsBefore = null;
        if (RollbackJournal.Exists(path))
        {
            // The file goes back to its last checkpoint byte for byte, which its own num_structures describes; the
            // count journal is at that checkpoint or one behind it (killed between the two), so it has nothing to add.
            rowsBefore = StructureRows(path);
            RollbackJournal.Apply(path);
            CheckpointJournal.Delete(path);
        }
        // Recovery writes in place too: killed or failed half way, the file goes back to how it was before it.
        var rollback = new RollbackJournal();
        try
        {
            rollback.Begin(path);
            var result = Recover(path, rollback);
            rollback.Delete();
            return rowsBefore is long rows ? (result.Structures, result.Atoms, Math.Max(result.Dropped, rows - result.Structures)) : result;
        }
        catch
        {
            rollback.Dispose();
            if (rollback.Begun) RollbackJournal.Apply(path);
            throw;
        }
    }

    /// <summary>Structure rows of a file as it is (before a rollback), or null when it cannot be read.</summary>
    private static long? StructureRows(string path)
    {
        try
        {
            using var file = H5File.Open(path, readOnly: true);
            using var structures = file.OpenGroup(FormatNames.Structures);
            using var splits = structures.OpenDataset<long>(FormatNames.AtomicNumbersSplits);
            return splits.Rows - 1;
        }
        catch (Exception e) when (e is H5Exception or IOException)
        {
            return null;
        }
    }

    private static (long Structures, long Atoms, long Dropped) Recover(string path, RollbackJournal rollback)
    {
        var loaded = CheckpointJournal.Load(path);
        var journal = loaded?.Entry;
        var tails = loaded?.Tails ?? [];
        long structures, atoms, dropped;
        using (var file = OpenForRecovery(path, journal is not null, rollback))
        {
            using var metadata = file.OpenGroup(FormatNames.Metadata);
            long? recorded = metadata.Attributes.Contains(FormatNames.NumStructures) && metadata.Attributes.Get(FormatNames.NumStructures) is long n && n >= 0 ? n : null;
            structures = journal?.Structures ?? recorded
                ?? throw new DatasetFormatException(path, $"/{FormatNames.Metadata}", $"has no {FormatNames.NumStructures} and the file has no journal, so its committed structures are unknown");
            using var structuresGroup = file.OpenGroup(FormatNames.Structures);
            using var labels = file.OpenGroup(FormatNames.Labels);
            // The partial last chunks as they were committed, first: appending rewrote them, and libhdf5 may have given
            // the space of the committed copy to something else (see CheckpointJournal), so even the committed splits
            // may not read back until they are written again.
            foreach (var tail in tails) RestoreTail(file, tail);
            long splitRows;
            using (var splits = structuresGroup.OpenDataset<long>(FormatNames.AtomicNumbersSplits))
            {
                splitRows = splits.Rows;
                if (splitRows < structures + 1)
                    throw new DatasetFormatException(path, splits.Path, $"has {splitRows} rows; {structures} committed structures need {structures + 1}");
                atoms = splits.Read(structures, 1)[0];
            }
            if (journal is not null && journal.Atoms != atoms)
                throw new DatasetFormatException(path, $"/{FormatNames.Structures}/{FormatNames.AtomicNumbersSplits}",
                    $"gives {atoms} atoms for the {structures} committed structures, but the journal records {journal.Atoms}");
            dropped = splitRows - 1 - structures;
            var cut = new List<(H5Group Group, string Name, long Rows)>();
            foreach (var name in new[] { FormatNames.AtomicNumbers, FormatNames.Positions })
                cut.Add((structuresGroup, name, atoms));
            cut.Add((structuresGroup, FormatNames.AtomicNumbersSplits, structures + 1));
            foreach (var name in new[] { FormatNames.Cells, FormatNames.Pbc })
                cut.Add((structuresGroup, name, structures));
            cut.Add((labels, FormatNames.Forces, atoms));
            cut.Add((labels, FormatNames.ForcesSplits, structures + 1));
            foreach (var name in new[] { FormatNames.Energy, FormatNames.Stress, FormatNames.StressMask, FormatNames.StructureIndices })
                cut.Add((labels, name, structures));
            var extraGroups = new List<H5Group>();
            try
            {
                foreach (var (group, perAtom) in new[] { (FormatNames.Info, false), (FormatNames.Arrays, true) })
                {
                    if (!file.Contains(group)) continue;
                    var extras = file.OpenGroup(group);
                    extraGroups.Add(extras);
                    foreach (var name in extras.MemberNames())
                    {
                        bool mask = name.EndsWith(FormatNames.MaskSuffix, StringComparison.Ordinal);
                        cut.Add((extras, name, perAtom && !mask ? atoms : structures));
                    }
                }
                bool changed = dropped != 0 || recorded != structures;
                foreach (var (group, name, rows) in cut) changed |= group.SetRows(name, rows);
                changed |= tails.Count > 0;
                // The tail of what is kept is what a kill may have hit: read it back, so a torn chunk is found now.
                foreach (var (group, name, rows) in cut) CheckTail(path, group, name, rows);
                if (changed)
                {
                    // num_structures and the statistics may belong to a checkpoint the data never reached.
                    metadata.Attributes.Set(FormatNames.NumStructures, structures);
                    metadata.Attributes.Set(FormatNames.NumAtoms, atoms);
                    using var energy = labels.OpenDataset<double>(FormatNames.Energy);
                    using var forces = labels.OpenDataset<float>(FormatNames.Forces);
                    using var numbers = structuresGroup.OpenDataset<long>(FormatNames.AtomicNumbers);
                    DatasetStatistics.Compute(energy, forces, numbers).WriteTo(metadata.Attributes);
                }
            }
            finally
            {
                foreach (var group in extraGroups) group.Dispose();
            }
            file.FlushToDisk();
        }
        CheckpointJournal.Delete(path);
        return (structures, atoms, dropped);
    }

    /// <summary>
    /// Opens a file to recover it. A writer killed while its file was growing can leave the file shorter than the size
    /// its superblock records (libhdf5: "truncated file: eof = N, ..., stored_eof = M"), which libhdf5 refuses to open;
    /// the missing bytes lie past everything the last checkpoint made durable, so, for a file with a journal, the file
    /// is extended with zeros to the recorded size and opened again. What those bytes should have held is cut anyway.
    /// </summary>
    private static H5File OpenForRecovery(string path, bool journaled, RollbackJournal rollback)
    {
        try
        {
            return OpenInPlace(path, rollback);
        }
        catch (H5Exception e) when (journaled && TruncatedTo(e.Message) is long recorded && recorded > new FileInfo(path).Length)
        {
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(recorded);
                stream.Flush(flushToDisk: true);
            }
            return OpenInPlace(path, rollback);
        }
    }

    /// <summary>Opens a file for writing through the rollback driver, its overwrites saved to the journal.</summary>
    private static H5File OpenInPlace(string path, RollbackJournal rollback)
    {
        using var fileAccess = FileAccessList(null);
        using (RollbackFileDriver.Bind(path, rollback))
            return H5File.Open(path, readOnly: false, fileAccess);
    }

    /// <summary>The size a "truncated file" error says the superblock records, or null for any other error.</summary>
    private static long? TruncatedTo(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"truncated file: eof = \d+.*?stored_eof = (\d+)");
        return match.Success && long.TryParse(match.Groups[1].Value, out long size) ? size : null;
    }

    private static void RestoreTail(H5File file, CheckpointJournal.Tail tail)
    {
        string relative = tail.Dataset.TrimStart('/');
        if (tail.Strings is { } strings)
        {
            using var text = file.OpenStringDataset(relative);
            long extent = text.Rows;
            long end = tail.Start + Math.Max(strings.Length, text.ChunkRows);
            // Whole chunk, so libhdf5 does not read the copy on disk to merge into; then back to the committed rows.
            text.Resize(Math.Max(extent, end));
            text.Write(tail.Start, [.. strings, .. Enumerable.Repeat("", (int)(end - tail.Start - strings.Length))]);
            text.Resize(extent);
            return;
        }
        int slash = relative.LastIndexOf('/');
        using var group = file.OpenGroup(relative[..slash]);
        string name = relative[(slash + 1)..];
        group.RewriteChunk(name, tail.Start, tail.Bytes, (long)group.Describe(name).Shape[0]);
    }

    /// <summary>Reads the last row of a dataset cut to rows (libhdf5 reads, and checks, the whole chunk holding it).</summary>
    private static void CheckTail(string path, H5Group group, string name, long rows)
    {
        if (rows == 0) return;
        try
        {
            group.ReadLastRow(name, rows);
        }
        catch (H5Exception e)
        {
            throw new DatasetFormatException(path, group.Child(name), $"its last committed rows cannot be read back ({e.Message}); the damage is in data that was checkpointed", e);
        }
    }
}
