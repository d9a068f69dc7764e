using System.CommandLine;
using System.Globalization;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data merge</c>: concatenates dataset files (e.g. the shards of a label run) into one, streaming, with the
/// structure_indices kept or (--reindex) made unique and the metadata combined. A broken input is refused before
/// anything is written, and nothing new is left at the output on any failure.
/// </summary>
internal static class MergeCommand
{
    internal static Command Create()
    {
        var files = new Argument<string[]>("FILES")
        {
            Description = "Input files in output order; without -o the first is the output (OUT IN1 IN2 ...) and must not exist yet",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Output HDF5 file (replaced if it exists); every FILE is then an input" };
        var reindex = new Option<bool>("--reindex")
        {
            Description = "Make structure_indices unique: each input's are shifted by the sum of (largest index + 1) over the inputs before it",
        };
        var compression = new Option<string?>("--compression", "-c") { Description = "Compression of the output (default: the first input's)" };
        compression.AcceptOnlyFromAmong("gzip", "lzf", "none");
        var level = new Option<int?>("--compression-level") { Description = "gzip level 1-9 (implies -c gzip; default 4)" };
        level.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1 or > 9) r.AddError("--compression-level must be 1-9");
        });
        var metadata = CliOptions.Metadata();
        var fileLocking = CliOptions.FileLocking();
        var noProgress = CliOptions.NoProgress();
        var verbose = CliOptions.Verbose();

        var command = new Command("merge", "Concatenate dataset files (e.g. the shards of a label run) into one: mlff-data merge -o OUT IN1 IN2 ...")
        {
            files, output, reindex, compression, level, metadata, fileLocking, noProgress, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var (target, inputs) = Split(result.GetValue(output)?.FullName, result.GetValue(files) ?? []);
                var plan = new WorkerPlan(inputs) { BytesPerSecond = WorkerPlan.WritingRate, LockedOutput = target };
                if (WorkerProcess.RunInWorker(plan) is { } exit) return exit;
                var warnings = new WarningPrinter(isVerbose);
                var options = new MergeOptions
                {
                    Reindex = result.GetValue(reindex),
                    Compression = CompressionOf(result.GetValue(compression), result.GetValue(level)),
                    Metadata = MetadataArguments.Parse(result.GetValue(metadata)),
                    FileLocking = WriteOptions.ParseFileLocking(result.GetValue(fileLocking)),
                    Warning = warnings.Add,
                };
                return Run(target, inputs, options, !result.GetValue(noProgress), warnings);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    /// <summary>The output and the inputs: -o names the output, otherwise the first file does.</summary>
    private static (string Output, string[] Inputs) Split(string? output, string[] files)
    {
        if (output is not null) return (output, files);
        if (files.Length < 2)
            throw new ArgumentException("Name the output: mlff-data merge -o OUT IN1 [IN2 ...] (or mlff-data merge OUT IN1 [IN2 ...])");
        // 'merge part_*.h5' without -o would take part_0.h5 as the output and destroy it: without -o, never replace a file.
        if (File.Exists(files[0]) || Directory.Exists(files[0]))
            throw new ArgumentException($"{files[0]} exists and would be replaced by the merge of the files after it; " +
                                        "name the output with -o (mlff-data merge -o OUT IN1 IN2 ...) to merge into a new file or replace one");
        return (Path.GetFullPath(files[0]), files[1..]);
    }

    private static Compression? CompressionOf(string? kind, int? level) => (kind, level) switch
    {
        (null, null) => null,
        (null or "gzip", _) => Compression.Gzip(level ?? 4),
        ("lzf" or "none", not null) => throw new ArgumentException($"--compression-level applies to gzip, not {kind}"),
        _ => Compression.Parse(kind),
    };

    private static int Run(string output, string[] inputs, MergeOptions options, bool showProgress, WarningPrinter warnings)
    {
        MergeSummary summary;
        // SIGINT/SIGTERM stop the merge after the block in hand: the partial output is deleted, the old file stays.
        using var interruption = new Interruption();
        try
        {
            using var progress = new ProgressBar("structures", showProgress);
            summary = DatasetMerger.Merge(output, inputs, options with { Cancellation = interruption.Token },
                (done, total) => progress.Report(total == 0 ? 1 : (double)done / total, done));
        }
        catch (OperationCanceledException) when (interruption.Interrupted)
        {
            Console.Error.WriteLine("interrupted: nothing was written; the output was not created or replaced");
            return interruption.ExitCode;
        }
        warnings.Summarize();

        string reindexed = options.Reindex ? "; structure_indices offset per input (--reindex)" : "";
        Console.WriteLine($"Merged {summary.Inputs:N0} {(summary.Inputs == 1 ? "file" : "files")} into {summary.Output}: {summary.Structures:N0} structures, {summary.Atoms:N0} atoms{reindexed}");
        double mbPerSecond = summary.InputBytesPerSecond / (1 << 20);
        Console.WriteLine($"  {summary.Compression} compression: {ByteSize.Format(summary.OutputBytes)} from {ByteSize.Format(summary.InputBytes)} of input, " +
                          $"{summary.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s " +
                          $"({mbPerSecond.ToString("F1", CultureInfo.InvariantCulture)} MiB/s)");
        return 0;
    }
}
