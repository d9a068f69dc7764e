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
                // The open HDF5 handle follows the inode, so writing goes on in the renamed file.
                File.Move(_writePath, Path, overwrite: true);
                Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
                _writePath = Path;
                _inPlace = true;
            }
            foreach (var column in Columns()) column.MarkDurable();
            _infoGroupIsNew = _arraysGroupIsNew = false;
        }
        catch
        {
            Fault();
            throw;
        }
    }

    /// <summary>
    /// Cuts a file that a killed writer left behind back to its last checkpoint (or completion): every dataset to the
    /// structures that /metadata's num_structures counts, and the per-atom ones to the atoms of those structures.
    /// A file that was completed or checkpointed and then left alone is not changed.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The committed structures and atoms, and how many structure rows past them were dropped.</returns>
    /// <exception cref="DatasetFormatException">The file has no num_structures, or fewer rows than it counts.</exception>
    /// <exception cref="H5Exception">The file cannot be opened for writing.</exception>
    public static (long Structures, long Atoms, long Dropped) RecoverToCheckpoint(string path)
    {
        using var file = H5File.Open(path, readOnly: false);
        using var metadata = file.OpenGroup(FormatNames.Metadata);
        if (!metadata.Attributes.Contains(FormatNames.NumStructures) || metadata.Attributes.Get(FormatNames.NumStructures) is not long structures || structures < 0)
            throw new DatasetFormatException(path, $"/{FormatNames.Metadata}", $"has no {FormatNames.NumStructures}, so its committed structures are unknown");
        using var structuresGroup = file.OpenGroup(FormatNames.Structures);
        using var labels = file.OpenGroup(FormatNames.Labels);
        long splitRows;
        long atoms;
        using (var splits = structuresGroup.OpenDataset<long>(FormatNames.AtomicNumbersSplits))
        {
            splitRows = splits.Rows;
            if (splitRows < structures + 1)
                throw new DatasetFormatException(path, splits.Path, $"has {splitRows} rows; num_structures {structures} needs {structures + 1}");
            atoms = splits.Read(structures, 1)[0];
        }
        long dropped = splitRows - 1 - structures;
        foreach (var name in new[] { FormatNames.AtomicNumbers, FormatNames.Positions })
            structuresGroup.SetRows(name, atoms);
        structuresGroup.SetRows(FormatNames.AtomicNumbersSplits, structures + 1);
        foreach (var name in new[] { FormatNames.Cells, FormatNames.Pbc })
            structuresGroup.SetRows(name, structures);
        labels.SetRows(FormatNames.Forces, atoms);
        labels.SetRows(FormatNames.ForcesSplits, structures + 1);
        foreach (var name in new[] { FormatNames.Energy, FormatNames.Stress, FormatNames.StressMask, FormatNames.StructureIndices })
            labels.SetRows(name, structures);
        foreach (var (group, perAtom) in new[] { (FormatNames.Info, false), (FormatNames.Arrays, true) })
        {
            if (!file.Contains(group)) continue;
            using var extras = file.OpenGroup(group);
            foreach (var name in extras.MemberNames())
            {
                bool mask = name.EndsWith(FormatNames.MaskSuffix, StringComparison.Ordinal);
                extras.SetRows(name, perAtom && !mask ? atoms : structures);
            }
        }
        file.Flush();
        return (structures, atoms, dropped);
    }
}
