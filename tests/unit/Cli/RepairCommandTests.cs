using System.Diagnostics;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// The in-place write contract: the journal beside a file written in place, <c>mlff-data repair</c>, and appends killed
/// with SIGKILL at many points, each of which leaves a file that repairs (or opens for the next append) to exactly
/// its last committed state: the original file, or the original with everything appended.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class RepairCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    private static string Reference => RepoPaths.Of("data", "samples", "reference_930.extxyz");

    private string Convert(string name, params string[] extra)
    {
        string output = _dir.File(name);
        var run = CliRunner.Run(["convert", "-i", Reference, "-o", output, "--no-progress", .. extra]);
        run.ExitCode.Should().Be(0, run.Stderr);
        return output;
    }

    private static void SameDatasets(string expected, string actual)
    {
        var comparison = DatasetComparer.Compare(expected, actual, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }

    [Fact]
    public void Journal_WrittenWhileAppendingAndAtCheckpoints_RemovedAtComplete()
    {
        string path = _dir.File("journal.h5");
        var options = Samples.Collecting([], new WriteOptions { Compression = Compression.None });
        long atoms;
        using (var writer = new HDF5DatasetWriter(path, options: options))
        {
            for (int i = 0; i < 5; i++) writer.AddStructure(Samples.Labelled(i));
            writer.Complete();
            atoms = writer.NumAtoms;
        }
        CheckpointJournal.Read(path).Should().BeNull("a completed file has no journal");

        using (var writer = new HDF5DatasetWriter(path, WriteMode.Append, options))
        {
            CheckpointJournal.Read(path).Should().Be(new CheckpointJournal.Entry(5, atoms),
                "from the moment an append opens, the journal holds what is committed");
            CheckpointJournal.ReadTails(path).Should().Contain(t => t.Dataset == "/structures/positions" && t.Start == 0,
                "the partial last chunk the append will rewrite is kept");
            for (int i = 5; i < 8; i++) writer.AddStructure(Samples.Labelled(i));
            writer.Checkpoint();
            CheckpointJournal.Read(path)!.Structures.Should().Be(8);
            writer.AddStructure(Samples.Labelled(8));
            writer.Complete();
        }
        CheckpointJournal.Read(path).Should().BeNull();
        File.Exists(CheckpointJournal.PathOf(path) + ".tmp").Should().BeFalse();
    }

    [Fact]
    public void Repair_JournalBehindNumStructures_CutsToTheJournalAndRewritesCountsAndStatistics()
    {
        // What a kill inside H5Fflush can leave: num_structures of the new checkpoint on disk, rows not all there.
        string path = _dir.File("torn.h5");
        string expected = _dir.File("expected.h5");
        var options = Samples.Collecting([], new WriteOptions { Compression = Compression.Gzip(4) });
        using (var writer = new HDF5DatasetWriter(expected, options: options))
            for (int i = 0; i < 10; i++) writer.AddStructure(Samples.Labelled(i));
        using (var writer = new HDF5DatasetWriter(path, options: options))
            for (int i = 0; i < 15; i++) writer.AddStructure(Samples.Labelled(i));
        long atoms;
        using (var reader = new HDF5DatasetReader(expected)) atoms = reader.NumAtoms;
        CheckpointJournal.Write(path, new CheckpointJournal.Entry(10, atoms));

        var run = CliRunner.Run("repair", path);

        run.ExitCode.Should().Be(0, run.Stderr);
        run.Stdout.Should().Contain("repaired: kept 10 structures").And.Contain("cut 5 structures");
        SameDatasets(expected, path);
        using (var want = new HDF5DatasetReader(expected))
        using (var got = new HDF5DatasetReader(path))
            foreach (var key in new[] { FormatNames.NumStructures, FormatNames.NumAtoms, FormatNames.EnergyMax, FormatNames.EnergyMean, FormatNames.MaxAbsForce })
                got.Metadata[key].Should().Be(want.Metadata[key], key);
        CheckpointJournal.Read(path).Should().BeNull();
        CliRunner.Run("repair", path).Stdout.Should().Contain("nothing to repair (10 structures");
    }

    [Fact]
    public void Reader_RowsPastNumStructures_SaysToRunRepair()
    {
        string path = Convert("past.h5", "-c", "none");
        PythonScript.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r+") as f:
                f["metadata"].attrs["num_structures"] = 900
            """, path);

        var info = CliRunner.Run("info", path);

        info.ExitCode.Should().Be(1);
        info.Stderr.Should().Contain("num_structures is 900, but the datasets hold 930 structures").And.Contain($"mlff-data repair {path}");
    }

    [Fact]
    public void Overwrite_RemovesAJournalLeftByTheOldFilesWriter()
    {
        string path = Convert("stale.h5", "-c", "none");
        CheckpointJournal.Write(path, new CheckpointJournal.Entry(3, 30));

        Convert("stale.h5", "-c", "none");

        CheckpointJournal.Read(path).Should().BeNull("the journal described the file that was replaced");
        HDF5DatasetWriter.NeedsRecovery(path).Should().BeFalse();
    }

    [Fact]
    public void Append_KilledAtManyPoints_RepairsToTheOriginalOrToEverything()
    {
        // An input of 3,720 structures: an append long enough to be killed in the middle of, at many points.
        string input = _dir.File("input.extxyz");
        File.WriteAllText(input, string.Concat(Enumerable.Repeat(File.ReadAllText(Reference), 4)));
        string original = Convert("original.h5", "-c", "gzip");
        string full = _dir.File("full.h5");
        File.Copy(original, full);
        CliRunner.Run("convert", "-i", input, "-o", full, "--append", "-c", "gzip", "--no-progress").ExitCode.Should().Be(0);

        var random = new Random(5);
        int midway = 0;
        for (int k = 0; k < 12; k++)
        {
            string target = _dir.File($"killed-{k}.h5");
            File.Copy(original, target, overwrite: true);
            using (var process = CliRunner.Start("convert", "-i", input, "-o", target, "--append", "-c", "gzip", "--no-progress"))
            {
                Thread.Sleep(150 + random.Next(1200));
                process.Kill();
                process.WaitForExit();
                // The append runs in the tool's worker process, which the kernel kills when the tool dies, a moment
                // later: its standard error, the tool's, reaches its end once both are gone.
                process.StandardError.ReadToEnd();
            }
            bool interrupted = HDF5DatasetWriter.NeedsRecovery(target);
            var repair = CliRunner.Run("repair", target);
            repair.ExitCode.Should().Be(0, $"kill {k}: {repair.Stderr}");
            CheckpointJournal.Read(target).Should().BeNull();
            long count;
            using (var reader = new HDF5DatasetReader(target)) count = reader.Count;
            count.Should().BeOneOf([930L, 930L + 3720], "nothing was committed between the open and the end of the append");
            SameDatasets(count == 930 ? original : full, target);
            DatasetVerifier.Verify(target).Ok.Should().BeTrue($"kill {k}");
            if (interrupted) midway++;
        }
        midway.Should().BeGreaterThan(3, "most kills must land while the append is writing");
    }

    [Theory]
    [InlineData("info")]
    [InlineData("verify")]
    [InlineData("export")]
    public void Read_FileWithAJournalOfADeadWriter_SaysToRunRepair(string command)
    {
        // A writer killed between checkpoints leaves a journal beside the file (here, one naming its state).
        string output = Convert("out.h5");
        CheckpointJournal.Write(output, new CheckpointJournal.Entry(930, 47034));
        string[] args = command == "export" ? [command, "-i", output, "-o", _dir.File("out.extxyz")] : [command, output];

        var (code, stdout, stderr) = CliRunner.Run(args);

        code.Should().Be(1);
        (stdout + stderr).Should().Contain($"{output}: was left by a writer that did not finish").And.Contain($"run `mlff-data repair {output}`");
        File.Exists(_dir.File("out.extxyz")).Should().BeFalse();
    }

    [Fact]
    public void Read_FileBeingWritten_SaysWhoWritesIt()
    {
        string output = Convert("out.h5");
        CheckpointJournal.Write(output, new CheckpointJournal.Entry(930, 47034));
        using var writer = OutputLock.Acquire(output);

        var (code, _, stderr) = CliRunner.Run("info", output);

        code.Should().Be(1);
        stderr.Should().Contain($"is being written by process {Environment.ProcessId}");
    }
}
