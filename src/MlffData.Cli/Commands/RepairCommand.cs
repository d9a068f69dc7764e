using System.CommandLine;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data repair FILE</c>: brings a file left by a killed writer (append, label) back to its last checkpoint, as
/// recorded by its journal or its num_structures (<see cref="HDF5DatasetWriter.RecoverToCheckpoint"/>), and says what it
/// cut. A file that needs nothing is left as it is. Exits 1 when the file cannot be repaired.
/// </summary>
internal static class RepairCommand
{
    internal static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "HDF5 dataset file left by a writer that did not finish" };
        var verbose = CliOptions.Verbose();
        var command = new Command("repair", "Cut a file left by a killed writer back to its last checkpoint, and say what was cut")
        {
            file, verbose,
        };
        command.SetAction(result =>
        {
            string path = result.GetValue(file)!.FullName;
            try
            {
                // Recovery rewrites the statistics, reading every row once, as a merge does.
                var plan = new WorkerPlan([path]) { BytesPerSecond = WorkerPlan.WritingRate, LockedOutput = path };
                if (WorkerProcess.RunInWorker(plan) is { } exit) return exit;
                if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
                // A writer still at work on the file holds its lock: refused, naming it. A lock left by a killed one
                // is taken over, and released below, so nothing of that writer is left.
                using var writerLock = OutputLock.Acquire(path);
                if (!HDF5DatasetWriter.NeedsRecovery(path))
                {
                    // A journal the killed writer had not finished renaming into place.
                    CheckpointJournal.Delete(path);
                    using var reader = new HDF5DatasetReader(path);
                    Console.Out.WriteLine($"{result.GetValue(file)}: nothing to repair ({reader.Count:N0} structures, {reader.NumAtoms:N0} atoms)");
                    return 0;
                }
                var (structures, atoms, dropped) = HDF5DatasetWriter.RecoverToCheckpoint(path);
                // The layout check a reader makes: the file must now open anywhere.
                using (new HDF5DatasetReader(path)) { }
                Console.Out.WriteLine($"{result.GetValue(file)}: repaired: kept {structures:N0} structures ({atoms:N0} atoms) of the last checkpoint; " +
                                      (dropped > 0 ? $"cut {dropped:N0} structures written after it" : "nothing written after it had to be cut"));
                return 0;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, result.GetValue(verbose));
            }
        });
        return command;
    }
}
