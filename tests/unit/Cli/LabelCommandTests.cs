using System.Diagnostics;
using MlffData.Format;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Cli;

/// <summary>
/// <c>mlff-data label</c> end to end with the real ASE EMT calculator in the embedded CPython: labels equal EMT's,
/// resume after --max-structures and after SIGKILL equals one uninterrupted run, failures are recorded or stop the
/// run keeping what was labelled, and mismatched resumes are refused.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class LabelCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _emt;
    private readonly string _other;

    public LabelCommandTests()
    {
        PythonScript.RunFile(Script, _dir.Path);
        _emt = _dir.File("emt.extxyz");
        _other = _dir.File("other.extxyz");
    }

    public void Dispose() => _dir.Dispose();

    private static string Script => RepoPaths.Of("tests", "unit", "Cli", "label_inputs.py");

    private static (int ExitCode, string Stdout, string Stderr) Label(params string[] args) =>
        CliRunner.Run(["label", "--no-progress", .. args]);

    private static void ShouldBeSameDatasets(string expected, string actual)
    {
        var comparison = DatasetComparer.Compare(expected, actual, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
        comparison.BitExact.Should().BeTrue();
    }

    [Fact]
    public void Label_Emt_EqualsAseEmtForEveryStructure()
    {
        string output = _dir.File("emt.h5");

        var (code, stdout, stderr) = Label("-i", _emt, "-o", output, "--calculator", "emt", "--batch-size", "5");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Labelled 36 structures with emt on cpu");
        PythonScript.RunFile(Script, "--check", output, _emt).Trim().Should().Be("ok");
        var stored = StoredDataset.Read(output);
        stored.StructureIndices.Should().Equal(Enumerable.Range(0, 36).Select(i => (long)i));
        stored.Metadata["teacher_model"].Should().Be("emt");
        stored.Metadata["device"].Should().Be("cpu");
        stored.Metadata["label_input_fingerprint"].Should().BeOfType<string>();
    }

    [Fact]
    public void Label_MaxStructuresThenResume_EqualsOneFullRun()
    {
        string full = _dir.File("full.h5"), parts = _dir.File("parts.h5");
        Label("-i", _emt, "-o", full, "--calculator", "emt").ExitCode.Should().Be(0);

        var first = Label("-i", _emt, "-o", parts, "--calculator", "emt", "--max-structures", "10", "--batch-size", "4");
        first.ExitCode.Should().Be(0, first.Stderr);
        StoredDataset.Read(parts).Energy.Should().HaveCount(10);
        var second = Label("-i", _emt, "-o", parts, "--calculator", "emt", "--resume", "--batch-size", "3");

        second.ExitCode.Should().Be(0, second.Stderr);
        second.Stdout.Should().Contain("Labelled 26 structures").And.Contain("10 already in the output");
        ShouldBeSameDatasets(full, parts);
    }

    [Fact]
    public void Label_KilledMidwayThenResumed_EqualsOneFullRun()
    {
        string full = _dir.File("full.h5"), killed = _dir.File("killed.h5");
        Label("-i", _emt, "-o", full, "--calculator", "emt").ExitCode.Should().Be(0);
        string slow = $"{Script}:SlowEMT";

        using (var process = CliRunner.Start("label", "--no-progress", "-i", _emt, "-o", killed, "--calculator", slow,
                   "--calculator-args", "{\"delay\": 0.1}", "--batch-size", "2", "--checkpoint-every", "4"))
        {
            // The first checkpoint renames the partial file to the output; kill a few batches after it.
            var clock = Stopwatch.StartNew();
            while (!File.Exists(killed) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            File.Exists(killed).Should().BeTrue("the first checkpoint should have made the output");
            Thread.Sleep(700);
            process.Kill();
            process.WaitForExit();
        }
        // Not read as it lies: a kill may leave the last partial chunk rewritten (the journal keeps its committed copy).
        CheckpointJournal.Read(killed)!.Structures.Should().BeLessThan(36, "the run was killed before the end");

        var resumed = Label("-i", _emt, "-o", killed, "--calculator", slow, "--calculator-args", "{\"delay\":0.1}", "--resume");

        resumed.ExitCode.Should().Be(0, resumed.Stderr);
        ShouldBeSameDatasets(full, killed);
    }

    [Fact]
    public void Label_FirstCheckpointComesAfterTheFirstBatch_WhateverTheInterval()
    {
        string output = _dir.File("early.h5");
        string slow = $"{Script}:SlowEMT";
        using var process = CliRunner.Start("label", "--no-progress", "-i", _emt, "-o", output, "--calculator", slow,
            "--calculator-args", "{\"delay\": 0.1}", "--batch-size", "2", "--checkpoint-every", "1000", "--checkpoint-seconds", "3600");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(output) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);

        // 36 structures at 0.1 s: seconds of labelling are left when the output first appears.
        File.Exists(output).Should().BeTrue();
        process.WaitForExit(1000).Should().BeFalse("the output must exist long before the run ends, so a kill now loses one batch at most");
        File.Exists(output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
        process.WaitForExit();
        process.ExitCode.Should().Be(0);
    }

    [Fact]
    public void Label_Sigterm_FinishesTheBatchCompletesTheFileAndExits143()
    {
        string full = _dir.File("full.h5"), stopped = _dir.File("stopped.h5");
        Label("-i", _emt, "-o", full, "--calculator", "emt").ExitCode.Should().Be(0);
        string slow = $"{Script}:SlowEMT";
        int code;
        string stderr;
        using (var process = CliRunner.Start("label", "--no-progress", "-i", _emt, "-o", stopped, "--calculator", slow,
                   "--calculator-args", "{\"delay\": 0.1}", "--batch-size", "2", "--checkpoint-every", "4"))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(stopped) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                kill.WaitForExit();
            stderr = process.StandardError.ReadToEnd();
            process.WaitForExit(TimeSpan.FromSeconds(5)).Should().BeTrue("SIGTERM ends the run after the batch in hand");
            code = process.ExitCode;
        }

        code.Should().Be(143, stderr);
        stderr.Should().Contain("interrupted: everything labelled so far is in the output");
        // Completed, not merely checkpointed: it opens as it is.
        StoredDataset.Read(stopped).Energy.Length.Should().BeInRange(2, 35, "the output appears at the first checkpoint, after the first batch of 2");
        var resumed = Label("-i", _emt, "-o", stopped, "--calculator", slow, "--calculator-args", "{\"delay\":0.1}", "--resume");
        resumed.ExitCode.Should().Be(0, resumed.Stderr);
        ShouldBeSameDatasets(full, stopped);
    }

    [Fact]
    public void Label_SkipErrors_RecordsFailuresAndLabelsTheRest()
    {
        string output = _dir.File("skip.h5");
        string failing = $"{Script}:FailingEMT";

        var (code, stdout, stderr) = Label("-i", _emt, "-o", output, "--calculator", failing, "--calculator-args", "{\"fail_sizes\": [6]}", "--skip-errors");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("Labelled 30 structures").And.Contain("6 failed");
        var stored = StoredDataset.Read(output);
        stored.StructureIndices.Should().NotContain([2L, 8L]).And.HaveCount(30);
        ((string)stored.Metadata["label_errors"]).Should().Contain("\"index\":2").And.Contain("ValueError: refusing 6 atoms");
    }

    [Fact]
    public void Label_FailureWithoutSkipErrors_StopsThereKeepingWhatWasLabelled()
    {
        string output = _dir.File("stop.h5");

        var (code, _, stderr) = Label("-i", _emt, "-o", output, "--calculator", $"{Script}:FailingEMT", "--calculator-args", "{\"fail_sizes\": [6]}");

        code.Should().Be(1);
        stderr.Trim().Should().StartWith($"error: {_emt}: structure 2: calculator: ValueError: refusing 6 atoms");
        StoredDataset.Read(output).StructureIndices.Should().Equal(0L, 1L);
    }

    [Fact]
    public void Label_ResumeWithAnotherInput_Refused()
    {
        string output = _dir.File("one.h5");
        Label("-i", _emt, "-o", output, "--calculator", "emt", "--max-structures", "3").ExitCode.Should().Be(0);

        var (code, _, stderr) = Label("-i", _other, "-o", output, "--calculator", "emt", "--resume");

        code.Should().Be(1);
        stderr.Should().Contain("was made from another input").And.Contain("resume refuses to mix them");
        StoredDataset.Read(output).Energy.Should().HaveCount(3);
    }

    [Fact]
    public void Label_ExistingOutputWithoutResumeOrOverwrite_RefusedNamingBoth()
    {
        string output = _dir.File("exists.h5");
        Label("-i", _emt, "-o", output, "--calculator", "emt", "--max-structures", "2").ExitCode.Should().Be(0);

        var (code, _, stderr) = Label("-i", _emt, "-o", output, "--calculator", "emt");

        code.Should().Be(1);
        stderr.Trim().Should().Be($"error: {output} exists; pass --resume to continue it or --overwrite to replace it");
    }

    [Fact]
    public void Label_UnknownPreset_ClearError()
    {
        var (code, _, stderr) = Label("-i", _emt, "-o", _dir.File("x.h5"), "--calculator", "orb-v9");

        code.Should().Be(1);
        stderr.Should().StartWith("error: ").And.Contain("orb-v9").And.NotContain("Traceback");
        File.Exists(_dir.File("x.h5")).Should().BeFalse();
    }
}
