using System.Diagnostics;
using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// <see cref="OutputLock"/> alone (refusal naming the holder, stale locks of dead or reused pids taken over, foreign
/// locks left alone) and in <see cref="HDF5DatasetWriter"/>: a second writer is refused within a second without
/// touching the first one's partial file, and the lock file is gone after Complete, Abort and a failed write.
/// libhdf5's own flock: a reader holding the file makes append fail with a message, unless FileLocking is Off.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class OutputLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed");
        _dir.Dispose();
    }

    private string Output => _dir.File("out.h5");

    private string LockFile => Output + OutputLock.Suffix;

    private static WriteOptions Options(FileLockingMode? locking = null) => new() { Warning = _ => { }, FileLocking = locking };

    private void WriteLockFile(object content) => File.WriteAllText(LockFile, JsonSerializer.Serialize(content));

    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "0") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public void Acquire_Free_WritesHolderAndDisposeRemovesIt()
    {
        using (var held = OutputLock.Acquire(Output))
        {
            held.LockPath.Should().Be(LockFile);
            using var doc = JsonDocument.Parse(File.ReadAllText(LockFile));
            var root = doc.RootElement;
            root.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
            root.GetProperty("host").GetString().Should().Be(Environment.MachineName);
            DateTimeOffset.Parse(root.GetProperty("started").GetString()!).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
            root.GetProperty("command").GetString().Should().NotBeNullOrEmpty();
        }

        File.Exists(LockFile).Should().BeFalse();
    }

    [Fact]
    public void Acquire_HeldByLiveProcess_ThrowsNamingHolderAndWhatToDo()
    {
        using var first = OutputLock.Acquire(Output);

        var act = () => OutputLock.Acquire(Output);

        var e = act.Should().Throw<OutputLockedException>().Which;
        e.HolderPid.Should().Be(Environment.ProcessId);
        e.HolderHost.Should().Be(Environment.MachineName);
        e.HolderStarted.Should().NotBeNull();
        e.Message.Should().Contain(Output).And.Contain($"process {Environment.ProcessId} on {Environment.MachineName} since ")
            .And.Contain("wait for it to finish, or delete " + LockFile + " if that process is gone");
        e.Message.Should().NotContain("\n");
        File.Exists(LockFile).Should().BeTrue("the holder's lock stays");
    }

    [Fact]
    public void Acquire_StaleLockOfDeadPid_TakenOver()
    {
        int pid = DeadPid();
        WriteLockFile(new { pid, host = Environment.MachineName, started = "2020-01-01T00:00:00Z", command = "sleep 0" });

        using var held = OutputLock.Acquire(Output);

        using var doc = JsonDocument.Parse(File.ReadAllText(LockFile));
        doc.RootElement.GetProperty("pid").GetInt32().Should().Be(Environment.ProcessId);
    }

    [Fact]
    public void Acquire_LivePidWithOtherStartTime_TakenOverAsReused()
    {
        long ticks = OutputLock.ProcessStartTicks(Environment.ProcessId)!.Value;
        WriteLockFile(new { pid = Environment.ProcessId, host = Environment.MachineName, started = "2020-01-01T00:00:00Z", process_start_ticks = ticks - 1 });

        using var held = OutputLock.Acquire(Output);

        File.ReadAllText(LockFile).Should().Contain($"\"process_start_ticks\":{ticks}");
    }

    [Fact]
    public void Acquire_OtherHost_RefusedEvenIfPidIsDeadHere()
    {
        WriteLockFile(new { pid = DeadPid(), host = "elsewhere.cluster", started = "2020-01-01T00:00:00Z" });

        var act = () => OutputLock.Acquire(Output);

        act.Should().Throw<OutputLockedException>().Which.Message.Should().Contain("on elsewhere.cluster since 2020-01-01 00:00:00Z");
    }

    [Fact]
    public void Dispose_LockFileReplacedMeanwhile_LeavesTheOtherOne()
    {
        var held = OutputLock.Acquire(Output);
        File.Delete(LockFile);
        WriteLockFile(new { pid = 1, host = "elsewhere.cluster" });

        held.Dispose();

        File.ReadAllText(LockFile).Should().Contain("elsewhere.cluster");
    }

    [Fact]
    public void Writer_SecondWriterSameOutput_RefusedWithinOneSecondAndFirstUnharmed()
    {
        using var first = new HDF5DatasetWriter(Output, options: Options());
        first.AddStructure(Samples.Labelled(0));

        var clock = Stopwatch.StartNew();
        var act = () => new HDF5DatasetWriter(Output, WriteMode.Overwrite, Options(FileLockingMode.Off));

        act.Should().Throw<OutputLockedException>().Which.Message.Should().Contain($"process {Environment.ProcessId}");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeTrue("the refused writer must not delete the holder's partial file");
        first.AddStructure(Samples.Labelled(1));
        first.Complete();
        StoredDataset.Read(Output).Energy.Should().HaveCount(2);
    }

    [Fact]
    public void Writer_AppendWhileAnotherWrites_Refused()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        using var first = new HDF5DatasetWriter(Output, WriteMode.Append, Options());

        var act = () => new HDF5DatasetWriter(Output, WriteMode.Append, Options());

        act.Should().Throw<OutputLockedException>();
    }

    [Fact]
    public void Writer_Complete_LockGoneBeforeDispose()
    {
        var writer = new HDF5DatasetWriter(Output, options: Options());
        File.Exists(LockFile).Should().BeTrue();
        writer.AddStructure(Samples.Labelled(0));

        writer.Complete();

        File.Exists(LockFile).Should().BeFalse();
        writer.Dispose();
        File.Exists(LockFile).Should().BeFalse();
    }

    [Fact]
    public void Writer_Checkpoint_KeepsLockUntilComplete()
    {
        using var writer = new HDF5DatasetWriter(Output, options: Options());
        writer.AddStructure(Samples.Labelled(0));

        writer.Checkpoint();

        File.Exists(LockFile).Should().BeTrue("the run goes on in place after its first checkpoint");
        writer.Complete();
        File.Exists(LockFile).Should().BeFalse();
    }

    [Theory]
    [InlineData(WriteMode.Overwrite)]
    [InlineData(WriteMode.Append)]
    public void Writer_Abort_LockGone(WriteMode mode)
    {
        if (mode == WriteMode.Append)
            using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        using var writer = new HDF5DatasetWriter(Output, mode, Options());
        writer.AddStructure(Samples.Labelled(1));

        writer.Abort();

        File.Exists(LockFile).Should().BeFalse();
    }

    [Fact]
    public void Writer_FailedWrite_LockGone()
    {
        var writer = new HDF5DatasetWriter(Output, options: Options() with { ChunkBytes = 64 });
        writer.AddStructure(Samples.Labelled(1));
        // Take the partial file away under the writer: its next flush fails inside libhdf5.
        File.Delete(Output + HDF5DatasetWriter.PartialSuffix);
        Directory.CreateDirectory(Output + HDF5DatasetWriter.PartialSuffix);
        var act = () =>
        {
            for (int i = 0; i < 2000; i++) writer.AddStructure(Samples.Labelled(i));
            writer.Complete();
        };

        act.Should().Throw<Exception>();

        // This failure comes in Complete after the file was closed (the fsync of the vanished partial file), where the
        // writer's watcher releases the lock within a few tens of ms.
        SpinWait.SpinUntil(() => !File.Exists(LockFile), TimeSpan.FromSeconds(1));
        File.Exists(LockFile).Should().BeFalse("a faulted writer releases its lock");
        writer.Dispose();
        Directory.Delete(Output + HDF5DatasetWriter.PartialSuffix, recursive: true);
    }

    [Fact]
    public void Writer_FailedWriteBeforeClose_LockGoneAtOnce()
    {
        var writer = new HDF5DatasetWriter(Output, options: Options() with { ChunkBytes = 64, Compression = Compression.Gzip(4) });
        // A chunk that fails to compress fails the write, as an I/O error would.
        writer.Compressor.BeforeCompress = () => throw new IOException("injected");
        var act = () =>
        {
            for (int i = 0; i < 200; i++) writer.AddStructure(Samples.Labelled(i));
            writer.Complete();
        };

        act.Should().Throw<Exception>();

        File.Exists(LockFile).Should().BeFalse("a faulted writer releases its lock with the file");
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
        writer.Dispose();
    }

    [Fact]
    public void Writer_AppendToFileNotInFormat_LockGone()
    {
        File.WriteAllText(Output, "not hdf5");

        var act = () => new HDF5DatasetWriter(Output, WriteMode.Append, Options());

        act.Should().Throw<Exception>();
        File.Exists(LockFile).Should().BeFalse();
    }

    [Fact]
    public void Writer_StaleLockOfDeadPid_TakenOver()
    {
        WriteLockFile(new { pid = DeadPid(), host = Environment.MachineName, started = "2020-01-01T00:00:00Z" });

        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
            writer.AddStructure(Samples.Labelled(0));

        File.Exists(LockFile).Should().BeFalse();
        StoredDataset.Read(Output).Energy.Should().HaveCount(1);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(FileLockingMode.On, true)]
    [InlineData(FileLockingMode.BestEffort, true)]
    [InlineData(FileLockingMode.Off, false)]
    public void Writer_AppendWhileH5pyReads_Hdf5FlockRefusesUnlessOff(FileLockingMode? locking, bool refused)
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        // A reader in another process: libhdf5's flock (shared for readers) stands between it and a writer.
        var start = new ProcessStartInfo(PythonScript.Interpreter) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import h5py, sys\nf = h5py.File(sys.argv[1], 'r')\nprint('ready', flush=True)\nsys.stdin.read()\n");
        start.ArgumentList.Add(Output);
        start.Environment.Remove("HDF5_USE_FILE_LOCKING");
        using var reader = Process.Start(start)!;
        try
        {
            reader.StandardOutput.ReadLine().Should().Be("ready");
            if (Environment.GetEnvironmentVariable("HDF5_USE_FILE_LOCKING") is { Length: > 0 } env)
                throw new InvalidOperationException($"HDF5_USE_FILE_LOCKING={env} is set for the tests; this test needs libhdf5's default");

            var act = () =>
            {
                using var writer = new HDF5DatasetWriter(Output, WriteMode.Append, Options(locking));
                writer.AddStructure(Samples.Labelled(1));
            };

            if (refused)
            {
                act.Should().Throw<OutputLockedException>().Which.Message.Should()
                    .Be($"{Output}: another process has this file open (libhdf5's file lock, errno 11; a reader such as h5py holds it too): wait for it to finish");
                File.Exists(LockFile).Should().BeFalse();
            }
            else
            {
                act.Should().NotThrow();
            }
        }
        finally
        {
            reader.StandardInput.Close();
            reader.WaitForExit();
        }
    }

    [Theory]
    [InlineData("unable to lock file, errno = 37, error message = 'No locks available'", 37)]
    [InlineData("file locking disabled on this file system (use HDF5_USE_FILE_LOCKING environment variable to override), errno = 38, error message = 'Function not implemented'", 38)]
    [InlineData("unable to lock file, errno = 524, error message = 'Unknown error 524'", 524)]
    public void TranslateLockFailure_FileSystemCannotLock_SaysBestEffort(string cause, int errno)
    {
        var e = new MlffData.Native.H5Exception($"unable to create file ({cause}) [{Output}]", "H5Fcreate", "File accessibility", "Unable to open file", Output);

        var translated = HDF5DatasetWriter.TranslateLockFailure(Output, e);

        translated.Should().BeOfType<IOException>().Which.Message.Should()
            .StartWith($"{Output}: this file system cannot lock files (errno {errno}, ")
            .And.Contain("use --file-locking best-effort or set HDF5_USE_FILE_LOCKING=BEST_EFFORT");
        translated!.InnerException.Should().BeSameAs(e);
    }

    [Fact]
    public void TranslateLockFailure_OtherFailure_Null()
    {
        var e = new MlffData.Native.H5Exception("unable to open file (file signature not found)", "H5Fopen", null, null, Output);

        HDF5DatasetWriter.TranslateLockFailure(Output, e).Should().BeNull();
    }

    [Theory]
    [InlineData("on", FileLockingMode.On)]
    [InlineData("off", FileLockingMode.Off)]
    [InlineData("best-effort", FileLockingMode.BestEffort)]
    [InlineData(null, null)]
    public void ParseFileLocking_CliSpellings(string? text, FileLockingMode? expected) =>
        WriteOptions.ParseFileLocking(text).Should().Be(expected);
}
