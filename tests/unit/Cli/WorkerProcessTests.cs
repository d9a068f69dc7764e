using System.Diagnostics;
using System.Globalization;
using System.Text;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// The worker process that reads user-supplied HDF5 (issue 7): a file that crashes libhdf5, one that never finishes
/// reading, and a worker past its memory limit each end in one error line naming the file and exit 65, with nothing
/// left at the output; a sound file reads as it did in-process; SIGTERM and SIGINT reach label through the worker; and
/// a killed tool takes its worker with it.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class WorkerProcessTests : IDisposable
{
    // A value that is not a pid: the tool runs the command in-process, as the worker does (for comparison).
    private static readonly Dictionary<string, string?> InProcess = new() { ["MLFF_DATA_WORKER"] = "in-process" };

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Reference => RepoPaths.Of("data", "samples", "reference_930.h5");

    private static string LabelScript => RepoPaths.Of("tests", "unit", "Cli", "label_inputs.py");

    private static Dictionary<string, string?> Env(string name, string value) => new() { [name] = value };

    /// <summary>
    /// A file of ours with an /info string column, whose second string's global-heap object has its length's top byte
    /// set: the layout check passes, and libhdf5 1.10.8 segfaults reading the strings (H5HG_read), i.e. while a merge
    /// copies the rows, after it created OUT.partial and OUT.lock.
    /// </summary>
    private string CrashingInCopy(string name)
    {
        string source = _dir.File("info.extxyz");
        var text = new StringBuilder();
        for (int i = 0; i < 4; i++)
            text.Append(CultureInfo.InvariantCulture, $"2\nLattice=\"5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0\" Properties=species:S:1:pos:R:3:forces:R:3 " +
                                                      $"energy=-1.5 config_type=conf{i}XYZW pbc=\"T T T\"\nO 0.0 0.0 0.0 0.1 0.2 0.3\nH 0.9 0.0 0.0 0.1 0.2 0.3\n");
        File.WriteAllText(source, text.ToString());
        string path = _dir.File(name);
        CliRunner.Run("convert", "-i", source, "-o", path, "--keep-info", "config_type", "--no-progress").ExitCode.Should().Be(0);
        var bytes = File.ReadAllBytes(path);
        int at = Encoding.ASCII.GetString(bytes).IndexOf("conf1XYZW", StringComparison.Ordinal);
        at.Should().BePositive("the string is stored once, in the global heap");
        bytes[at - 8].Should().Be(9, "the heap object's 8-byte length (9) comes right before it");
        bytes[at - 1] = 0xCC;
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The pids of the running processes whose parent is <paramref name="parent"/>.</summary>
    private static int[] ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent) children.Add(pid);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        return [.. children];
    }

    private static int WorkerOf(Process tool)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !tool.HasExited)
        {
            if (ChildrenOf(tool.Id) is [var worker]) return worker;
            Thread.Sleep(5);
        }
        throw new Xunit.Sdk.XunitException("the tool started no worker process");
    }

    private static bool Alive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Signal(int pid, string signal) => CliRunner.Signal(pid, signal);

    private static string[] ErrorLines(string stderr) => stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData("info", null)]
    [InlineData("info", "--json")]
    [InlineData("verify", null)]
    public void Read_SoundFile_ExitsZeroWithTheOutputOfAnInProcessRun(string command, string? option)
    {
        string[] args = option is null ? [command, Reference] : [command, option, Reference];
        var inProcess = CliRunner.Run(InProcess, args);

        var (code, stdout, stderr) = CliRunner.Run(args);

        code.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
        inProcess.ExitCode.Should().Be(0);
        stdout.Should().Be(inProcess.Stdout).And.NotBeEmpty();
    }

    [Fact]
    public void Merge_InputCrashesLibhdf5MidCopy_Exit65NamingThatInputAndNothingLeft()
    {
        string good = _dir.File("good.h5");
        CliRunner.Run("convert", "-i", RepoPaths.Of("data", "samples", "sample.extxyz"), "-o", good, "--no-progress").ExitCode.Should().Be(0);
        string crash = CrashingInCopy("crash.h5");
        string output = _dir.File("merged.h5");
        // In-process, the same merge dies of SIGSEGV with its partial file and lock written: what the worker must clean up.
        var unprotected = CliRunner.Run(InProcess, "merge", "--no-progress", "--reindex", "-o", output, good, crash, good);
        unprotected.ExitCode.Should().Be(139, unprotected.Stderr);
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeTrue();
        File.Exists(output + OutputLock.Suffix).Should().BeTrue();
        File.Delete(output + HDF5DatasetWriter.PartialSuffix);
        File.Delete(output + OutputLock.Suffix);

        int code, tool;
        string stdout, stderr;
        using (var process = CliRunner.Start("merge", "--no-progress", "--reindex", "-o", output, good, crash, good))
        {
            tool = process.Id;
            // A failed merge writes one line: neither pipe fills while the other is read.
            stderr = process.StandardError.ReadToEnd();
            stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            code = process.ExitCode;
        }

        code.Should().Be(65, stderr);
        ErrorLines(stderr).Should().Equal($"error: {crash}: invalid HDF5 file: libhdf5 crashed reading it (SIGSEGV)");
        stdout.Should().BeEmpty();
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["good.h5", "crash.h5", "info.extxyz"],
            "no output, partial file or lock is left");
        Directory.GetFiles(Path.GetTempPath(), $"mlff-data-worker-{tool}-*").Should().BeEmpty("the worker's status file is removed");
    }

    [Fact]
    public void Info_FileThatNeverFinishesReading_KilledAtTheTimeLimitExit65()
    {
        // A named pipe nobody writes: opening it blocks for ever, as a file that hangs libhdf5 does.
        string fifo = _dir.File("hangs.h5");
        using (var mkfifo = Process.Start("mkfifo", [fifo])!) mkfifo.WaitForExit();
        var clock = Stopwatch.StartNew();

        var (code, stdout, stderr) = CliRunner.Run(Env("MLFF_DATA_WORKER_TIMEOUT", "1.5"), "info", fifo);

        code.Should().Be(65, stderr);
        ErrorLines(stderr).Should().Equal($"error: {fifo}: invalid HDF5 file: reading it did not finish within 1.5 s (MLFF_DATA_WORKER_TIMEOUT sets the limit)");
        stdout.Should().BeEmpty();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Verify_DatasetClaimingTrillionsOfRows_RefusedWithoutReading()
    {
        // /labels/energy's dataspace says 2^43 + 930 rows (one bit of its size flipped, as a fuzz mutant had it): read
        // row by row, fill values past the stored chunks, verify would run for hours; it refuses the claim instead.
        string path = _dir.File("huge.h5");
        var bytes = File.ReadAllBytes(Reference);
        // Dataspace message version 1, rank 1, maximum dimensions present; the size 930; the maximum unlimited.
        byte[] dataspace = [1, 1, 1, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(930L), .. Enumerable.Repeat((byte)0xFF, 8)];
        int at = bytes.AsSpan().IndexOf(dataspace);
        at.Should().BePositive();
        bytes[at + 8 + 5] |= 0x08;
        File.WriteAllBytes(path, bytes);
        var clock = Stopwatch.StartNew();

        var (code, stdout, stderr) = CliRunner.Run(Env("MLFF_DATA_WORKER_TIMEOUT", "60"), "verify", path);

        code.Should().Be(1, stderr);
        stdout.Should().Contain("/labels/energy: claims 8,796,093,023,138 rows").And.Contain("not read");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30));
        Directory.GetFiles(_dir.Path).Should().Equal([path], "verify writes nothing");
    }

    [Fact]
    public void Merge_WorkerStuckAfterStartingTheOutput_KilledAtTheTimeLimitNothingLeft()
    {
        // 24 inputs of 1.6 MB: a merge of a second or more, stopped (SIGSTOP) once its partial file exists.
        string[] inputs = [.. Enumerable.Repeat(Reference, 24)];
        string output = _dir.File("merged.h5");
        using var tool = CliRunner.Start(Env("MLFF_DATA_WORKER_TIMEOUT", "4"), ["merge", "--no-progress", "--reindex", "-o", output, .. inputs]);
        int worker = WorkerOf(tool);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(output + HDF5DatasetWriter.PartialSuffix) && !tool.HasExited && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(2);
        Signal(worker, "STOP");

        tool.WaitForExit(TimeSpan.FromSeconds(30)).Should().BeTrue();
        // Its one line of error fits the pipe: read after the end.
        string stderr = tool.StandardError.ReadToEnd();
        tool.WaitForExit();

        tool.ExitCode.Should().Be(65, stderr);
        ErrorLines(stderr).Should().ContainSingle().Which.Should().StartWith("error: ").And.Contain(": invalid HDF5 file: reading it did not finish within 4 s");
        Alive(worker).Should().BeFalse("the worker is killed at the limit");
        Directory.GetFiles(_dir.Path).Should().BeEmpty("no output, partial file or lock is left");
    }

    [Fact]
    public void Verify_WorkerPastTheMemoryLimit_Exit65NamingTheFile()
    {
        var (code, _, stderr) = CliRunner.Run(Env("MLFF_DATA_WORKER_MEMORY", "1"), "verify", Reference);

        code.Should().Be(65, stderr);
        ErrorLines(stderr).Should().Equal($"error: {Reference}: invalid HDF5 file: reading it used more than 1 MiB of memory (MLFF_DATA_WORKER_MEMORY sets the limit)");
    }

    [Fact]
    public void Info_LimitNotANumber_RefusedNamingTheVariable()
    {
        var (code, _, stderr) = CliRunner.Run(Env("MLFF_DATA_WORKER_TIMEOUT", "soon"), "info", Reference);

        code.Should().Be(1);
        stderr.Trim().Should().Be("error: MLFF_DATA_WORKER_TIMEOUT=soon: expected a number of seconds (0 for no limit)");
    }

    [Fact]
    public void Info_ToolKilledWithSigkill_WorkerEndsTooAndTheNextRunRemovesItsStatusFile()
    {
        string fifo = _dir.File("hangs.h5");
        using (var mkfifo = Process.Start("mkfifo", [fifo])!) mkfifo.WaitForExit();
        using var tool = CliRunner.Start("info", fifo);
        int worker = WorkerOf(tool);
        string statusFiles = $"mlff-data-worker-{tool.Id}-*";
        var clock = Stopwatch.StartNew();
        // The worker names the file just before libhdf5's open, which blocks.
        while (Directory.GetFiles(Path.GetTempPath(), statusFiles).Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(10);

        tool.Kill();
        tool.WaitForExit();

        clock.Restart();
        while (Alive(worker) && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(10);
        Alive(worker).Should().BeFalse("the kernel kills the worker with its tool (PR_SET_PDEATHSIG)");
        Directory.GetFiles(Path.GetTempPath(), statusFiles).Should().ContainSingle("a killed tool cannot remove its status file");
        CliRunner.Run("info", Reference).ExitCode.Should().Be(0);
        Directory.GetFiles(Path.GetTempPath(), statusFiles).Should().BeEmpty("the next run removes the status files of tools that are gone");
    }

    [Fact]
    public void LabelResume_TeacherCrashesAfterTheOutputWasRead_WorkerDeathReportedNotBlamedOnTheOutput()
    {
        PythonScript.RunFile(LabelScript, _dir.Path);
        string input = _dir.File("emt.extxyz"), output = _dir.File("resumed.h5");
        string[] args = ["label", "--no-progress", "-i", input, "-o", output, "--calculator", $"{LabelScript}:CrashingEMT", "--resume"];
        var first = CliRunner.Run([.. args, "--max-structures", "4"]);
        first.ExitCode.Should().Be(0, first.Stderr);

        var (code, _, stderr) = CliRunner.Run(Env("MLFF_TEST_TEACHER_CRASH", "1"), args);

        code.Should().Be(139, stderr);
        ErrorLines(stderr).Should().Equal($"error: the worker process died of SIGSEGV after it had read {output} " +
                                          "(in the teacher's or ASE's code, or while appending)");
        File.Exists(output + OutputLock.Suffix).Should().BeFalse("the dead worker's lock is removed");
        var resumed = CliRunner.Run(args);
        resumed.ExitCode.Should().Be(0, resumed.Stderr);
        StoredDataset.Read(output).Energy.Length.Should().Be(36, "the resume after the crash labels everything");
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public void LabelResume_SignalToTheTool_ReachesTheWorkerWhichFinishesItsBatch(string signal, int exit)
    {
        PythonScript.RunFile(LabelScript, _dir.Path);
        string input = _dir.File("emt.extxyz"), full = _dir.File("full.h5"), resumed = _dir.File("resumed.h5");
        CliRunner.Run("label", "--no-progress", "-i", input, "-o", full, "--calculator", "emt").ExitCode.Should().Be(0);
        string slow = $"{LabelScript}:SlowEMT";
        string[] args = ["label", "--no-progress", "-i", input, "-o", resumed, "--calculator", slow, "--calculator-args", "{\"delay\": 0.1}", "--resume"];
        var first = CliRunner.Run([.. args, "--max-structures", "4"]);
        first.ExitCode.Should().Be(0, first.Stderr);
        int code, worker;
        string stderr;
        using (var tool = CliRunner.Start([.. args, "--batch-size", "2", "--checkpoint-every", "4"]))
        {
            worker = WorkerOf(tool);
            // The journal appears when the append opens the output, after the teacher is set up: labelling has begun.
            var clock = Stopwatch.StartNew();
            while (!File.Exists(CheckpointJournal.PathOf(resumed)) && !tool.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            tool.HasExited.Should().BeFalse(tool.HasExited ? tool.StandardError.ReadToEnd() : "");
            Signal(tool.Id, signal);
            tool.WaitForExit(TimeSpan.FromSeconds(5)).Should().BeTrue("the signal ends the run after the batch in hand");
            stderr = tool.StandardError.ReadToEnd();
            tool.WaitForExit();
            code = tool.ExitCode;
        }

        code.Should().Be(exit, stderr);
        stderr.Should().Contain("interrupted: everything labelled so far is in the output");
        Alive(worker).Should().BeFalse();
        // Completed by the worker, not left for repair: it opens as it is.
        StoredDataset.Read(resumed).Energy.Length.Should().BeInRange(4, 35);
        CliRunner.Run(args).ExitCode.Should().Be(0);
        var comparison = DatasetComparer.Compare(full, resumed, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }
}
