using System.CommandLine;
using System.Runtime.InteropServices;
using MlffData.Converters;
using MlffData.Format;
using MlffData.Labeling;
using MlffData.Python;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data label</c>: runs a teacher model (an ASE calculator in the embedded Python) over every structure of
/// an input and writes the labelled dataset, with checkpoints and resume for runs of days.
/// </summary>
internal static class LabelCommand
{
    internal static Command Create()
    {
        var input = new Option<FileInfo>("--input", "-i") { Description = "Structures to label: extended XYZ, ASE pickle, or anything ASE reads", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output HDF5 file", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "Input format, as for convert", DefaultValueFactory = _ => "auto" };
        var calculator = new Option<string>("--calculator") { Description = "emt, orb-v2, orb-v3, mace-mp, or module:callable (module may be a .py path)", Required = true };
        var calculatorArgs = new Option<string?>("--calculator-args") { Description = "Keyword arguments of the calculator, a JSON object" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var strictDevice = new Option<bool>("--strict-device") { Description = "Fail when cuda is requested but unavailable (default: warn and use cpu)" };
        var batchSize = new Option<int>("--batch-size") { Description = "Structures handed to Python per call", DefaultValueFactory = _ => 16 };
        var maxStructures = new Option<long?>("--max-structures") { Description = "Label at most this many structures in this run" };
        var shard = new Option<string?>("--shard")
        {
            Description = "Label only input positions i with i % n == k (k/n, 0-based, e.g. $SLURM_ARRAY_TASK_ID/4); merge the shards with 'mlff-data merge'",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue an existing output: skip the input positions it already holds" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output" };
        var skipErrors = new Option<bool>("--skip-errors") { Description = "Leave out structures whose calculation fails (recorded in metadata) instead of stopping" };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Make labelled structures durable every N structures", DefaultValueFactory = _ => 1000 };
        var checkpointSeconds = new Option<double>("--checkpoint-seconds") { Description = "... or every T seconds, whichever comes first", DefaultValueFactory = _ => 60 };
        var python = new Option<string?>("--python") { Description = "Python interpreter with ASE (and the calculator's packages) to embed" };
        var allowUnsafe = new Option<bool>("--allow-unsafe-pickle") { Description = "Load pickles with plain pickle.loads (runs any code they carry)" };
        var compression = new Option<string>("--compression", "-c") { Description = "Compression of the datasets", DefaultValueFactory = _ => "gzip" };
        compression.AcceptOnlyFromAmong("gzip", "lzf", "none");
        var level = new Option<int>("--compression-level") { Description = "gzip level 1-9", DefaultValueFactory = _ => 4 };
        var metadata = CliOptions.Metadata();
        var fileLocking = CliOptions.FileLocking();
        var noProgress = CliOptions.NoProgress();
        var verbose = CliOptions.Verbose();

        var command = new Command("label", "Label structures with a teacher model (ASE calculator) into an HDF5 dataset, with checkpoints and resume")
        {
            input, output, format, calculator, calculatorArgs, device, strictDevice, batchSize, maxStructures, shard, resume, overwrite,
            skipErrors, checkpointEvery, checkpointSeconds, python, allowUnsafe, compression, level, metadata, fileLocking, noProgress, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var warnings = new WarningPrinter(isVerbose);
                var options = new LabelingOptions
                {
                    Calculator = result.GetValue(calculator)!,
                    CalculatorArguments = result.GetValue(calculatorArgs),
                    Device = result.GetValue(device)!,
                    StrictDevice = result.GetValue(strictDevice),
                    BatchSize = result.GetValue(batchSize),
                    MaxStructures = result.GetValue(maxStructures),
                    Shard = result.GetValue(shard) is { } text ? LabelShard.Parse(text) : null,
                    Resume = result.GetValue(resume),
                    Overwrite = result.GetValue(overwrite),
                    SkipErrors = result.GetValue(skipErrors),
                    CheckpointEvery = result.GetValue(checkpointEvery),
                    CheckpointInterval = TimeSpan.FromSeconds(result.GetValue(checkpointSeconds)),
                    Input = new InputOptions
                    {
                        Format = result.GetValue(format)!,
                        Python = result.GetValue(python),
                        AllowUnsafePickle = result.GetValue(allowUnsafe),
                    },
                    Write = new WriteOptions
                    {
                        Compression = Compression.Parse(result.GetValue(compression)!, result.GetValue(level)),
                        FileLocking = WriteOptions.ParseFileLocking(result.GetValue(fileLocking)),
                        Warning = warnings.Add,
                    },
                    Metadata = MetadataArguments.Parse(result.GetValue(metadata)),
                    // The worker's time limit and crash report cover the reading of the output, not the teacher's work.
                    OutputRead = WorkerProcess.NotReading,
                };
                // An existing output resumed is the user's HDF5 file: read in a worker. The teacher sets its run time and
                // memory, so no default limits.
                string target = result.GetValue(output)!.FullName;
                if (options.Resume && File.Exists(target)
                    && WorkerProcess.RunInWorker(new WorkerPlan([target]) { LockedOutput = target }) is { } exit)
                    return exit;
                return Run(result.GetValue(input)!.FullName, target, options, !result.GetValue(noProgress), warnings);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private static int Run(string input, string output, LabelingOptions options, bool showProgress, WarningPrinter warnings)
    {
        // SIGINT/SIGTERM finish the batch in hand, then the output is completed: a batch job's scheduler may stop it.
        using var interruption = new Interruption();
        LabelingSummary summary;
        using (var progress = new ProgressBar("structures", showProgress))
            summary = LabelingJob.Run(input, output, options, progress.Report, interruption.Token);
        warnings.Summarize();

        string errors = summary.Failed > 0 ? $", {summary.Failed:N0} failed (in metadata label_errors)" : "";
        string skipped = summary.AlreadyDone > 0 ? $", {summary.AlreadyDone:N0} already in the output" : "";
        string share = options.Shard is { } shard ? $" (shard {shard} of the input)" : "";
        Console.WriteLine($"Labelled {summary.Labelled:N0} structures{share} with {options.Calculator} on {summary.Device}{errors}{skipped} " +
                          $"in {summary.Elapsed.TotalSeconds:F1} s ({summary.Throughput:N1}/s)");
        if (summary.Recovered > 0)
            Console.WriteLine($"  resumed after an interrupted run: {summary.Recovered:N0} rows written after its last checkpoint were dropped and labelled again");
        Console.WriteLine($"{output} holds {summary.TotalInOutput:N0} structures");
        if (!summary.Interrupted) return 0;
        Console.Error.WriteLine("interrupted: everything labelled so far is in the output; run again with --resume to continue");
        return interruption.ExitCode;
    }
}
