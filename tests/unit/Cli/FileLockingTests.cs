using System.Diagnostics;
using System.Text.Json;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;
using Xunit.Abstractions;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// The output lock end to end with the real tool as a child process: a second writer is refused with the holder named,
/// also when libhdf5's flock is off (HDF5_USE_FILE_LOCKING=FALSE or --file-locking off); a convert killed with SIGKILL
/// leaves a stale lock that the next run takes over; --file-locking is offered by convert, label and merge.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class FileLockingTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public FileLockingTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.File("out.h5");

    private static string Sample => RepoPaths.Of("data", "samples", "sample.extxyz");

    private static Process Start(IDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliRunner.Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        return Process.Start(start)!;
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(IDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("FALSE", null)]
    [InlineData(null, "off")]
    [InlineData("BEST_EFFORT", "best-effort")]
    public void Convert_OutputHeldByAnotherWriter_RefusedNamingTheHolder(string? hdf5Locking, string? option)
    {
        using var holder = new HDF5DatasetWriter(Output, options: new WriteOptions { Warning = _ => { } });
        holder.AddStructure(Samples.Labelled(0));
        string[] args = ["convert", "-i", Sample, "-o", Output, "--no-progress", .. option is null ? Array.Empty<string>() : ["--file-locking", option]];

        var clock = Stopwatch.StartNew();
        var (code, _, stderr) = Run(new Dictionary<string, string?> { ["HDF5_USE_FILE_LOCKING"] = hdf5Locking }, args);
        _output.WriteLine($"refused after {clock.ElapsedMilliseconds} ms of child process (start-up included)");

        code.Should().Be(1);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the refusal is immediate; the tool's start-up is the rest");
        stderr.Trim().Should().StartWith($"error: {Output} is being written by process {Environment.ProcessId} on {Environment.MachineName} since ")
            .And.EndWith($"wait for it to finish, or delete {Output}{OutputLock.Suffix} if that process is gone");
        stderr.Trim().Split('\n').Should().HaveCount(1);
        // The refused run touched nothing of the holder's: it completes as if alone.
        holder.AddStructure(Samples.Labelled(1));
        holder.Complete();
        File.Exists(Output + OutputLock.Suffix).Should().BeFalse();
        StoredDataset.Read(Output).Energy.Should().HaveCount(2);
    }

    [Fact]
    public void Convert_KilledWithSigkill_StaleLockTakenOverByNextRun()
    {
        // A long input, so that the run is still writing when it is killed.
        string input = _dir.File("long.extxyz");
        string reference = File.ReadAllText(RepoPaths.Of("data", "samples", "reference_930.extxyz"));
        File.WriteAllText(input, string.Concat(Enumerable.Repeat(reference, 8)));
        string lockFile = Output + OutputLock.Suffix;

        int killedPid;
        using (var run = Start(new Dictionary<string, string?>(), "convert", "-i", input, "-o", Output, "--no-progress"))
        {
            killedPid = run.Id;
            SpinWait.SpinUntil(() => File.Exists(lockFile) || run.HasExited, TimeSpan.FromSeconds(60)).Should().BeTrue();
            run.HasExited.Should().BeFalse("the run must still be writing when it is killed");
            run.Kill(); // SIGKILL: nothing of the tool runs after it
            run.WaitForExit();
        }
        File.Exists(lockFile).Should().BeTrue("a killed writer cannot remove its lock");
        using (var doc = JsonDocument.Parse(File.ReadAllText(lockFile)))
            doc.RootElement.GetProperty("pid").GetInt32().Should().Be(killedPid);

        var (code, stdout, stderr) = CliRunner.Run("convert", "-i", Sample, "-o", Output, "--no-progress");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Wrote");
        File.Exists(lockFile).Should().BeFalse();
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Merge_FileLockingBestEffort_Merges()
    {
        var (c1, _, e1) = CliRunner.Run("convert", "-i", Sample, "-o", _dir.File("a.h5"), "--no-progress", "--file-locking", "off");
        c1.Should().Be(0, e1);

        var (code, _, stderr) = CliRunner.Run("merge", "-o", Output, _dir.File("a.h5"), _dir.File("a.h5"), "--no-progress", "--file-locking", "best-effort");

        code.Should().Be(0, stderr);
        File.Exists(Output + OutputLock.Suffix).Should().BeFalse();
    }

    [Theory]
    [InlineData("convert")]
    [InlineData("label")]
    [InlineData("merge")]
    public void Help_FileLockingOption_OfferedAndSaysOurLockStays(string command)
    {
        var (code, stdout, _) = CliRunner.Run(command, "--help");

        code.Should().Be(0);
        stdout.Should().Contain("--file-locking").And.Contain("OUTPUT.lock");
    }

    [Fact]
    public void Convert_FileLockingBogus_Refused()
    {
        var (code, _, stderr) = CliRunner.Run("convert", "-i", Sample, "-o", Output, "--file-locking", "sometimes");

        code.Should().NotBe(0);
        stderr.Should().Contain("sometimes");
        File.Exists(Output).Should().BeFalse();
    }
}
