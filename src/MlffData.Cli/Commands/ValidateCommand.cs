using System.CommandLine;
using MlffData.Converters;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data validate</c>: the seed's writer validation on any reference file of this format. Exit 0 only when
/// every rewrite matches the reference; otherwise one line naming the output, the dataset and the row.
/// </summary>
internal static class ValidateCommand
{
    internal static Command Create()
    {
        var reference = new Option<FileInfo>("--reference", "-r") { Description = "Reference HDF5 file in this format", Required = true };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "Keep the rewritten files here (default: a temporary directory, removed)" };
        var source = new Option<FileInfo?>("--source", "-s") { Description = "Extended XYZ the reference was made from: converted too and compared" };
        var verbose = CliOptions.Verbose();
        var command = new Command("validate", "Write a reference file again in every mode and compression and compare everything with it")
        {
            reference, workDir, source, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                string path = result.GetValue(reference)!.FullName;
                string? keep = result.GetValue(workDir)?.FullName;
                var plan = new WorkerPlan([path]) { BytesPerSecond = WorkerPlan.RewritingRate, Scratch = keep is null ? [DefaultDirectory()] : [] };
                return WorkerProcess.RunInWorker(plan) ?? Run(path, keep, result.GetValue(source)?.FullName);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private static int Run(string reference, string? workDir, string? source)
    {
        if (!File.Exists(reference)) throw new FileNotFoundException($"{reference}: no such file", reference);
        if (source is not null && !File.Exists(source)) throw new FileNotFoundException($"{source}: no such file", source);
        string directory = workDir ?? DefaultDirectory();
        try
        {
            var report = ReferenceValidator.Run(reference, directory, source is null ? null : () => ReadSource(source),
                source is null ? null : Path.GetFileName(source), name => Console.Error.WriteLine($"writing {name} ..."));
            Print(report);
            if (report.FirstFailure is { } failure)
            {
                Console.Error.WriteLine($"error: {failure.Name}{(workDir is null ? "" : $" ({failure.Path})")} differs from {reference}: {failure.Comparison.Detail}");
                return ErrorReporter.Failure;
            }
            return 0;
        }
        finally
        {
            if (workDir is null && Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    // Named after the tool's process, not the worker's, so that the tool removes it after a worker that crashed.
    private static string DefaultDirectory() => Path.Combine(Path.GetTempPath(), $"mlff-validate-{WorkerProcess.ToolProcessId}");

    private static IEnumerable<LabelledStructure> ReadSource(string path)
    {
        using var reader = new ExtxyzReader(path);
        foreach (var frame in reader.ReadFrames()) yield return frame.ToLabelled(path);
    }

    private static void Print(ValidationReport report)
    {
        Console.WriteLine($"Reference {report.Reference}: {report.Structures:N0} structures");
        Console.WriteLine();
        Console.WriteLine("| output | written | compression | result |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var c in report.Checks)
        {
            var r = c.Comparison;
            string result = !r.Equal ? $"DIFFERS: {r.Detail}"
                : r.BitExact ? "match, bit-exact"
                : $"match within {DatasetComparer.DefaultTolerance:G} (max difference {r.MaxAbsDifference:G3})";
            Console.WriteLine($"| {c.Name} | {c.Mode} | {c.Compression} | {result} |");
        }

        // The seed's compression summary: sizes against the uncompressed rewrite.
        var compressed = report.CompressionChecks.ToList();
        long none = compressed.FirstOrDefault(c => c.Compression == "none")?.Bytes ?? 0;
        Console.WriteLine();
        Console.WriteLine("| compression | size | % of uncompressed | savings |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var c in compressed)
        {
            double percent = none > 0 ? 100.0 * c.Bytes / none : 100;
            Console.WriteLine($"| {c.Compression} | {ByteSize.Format(c.Bytes)} | {percent:F1}% | {100 - percent:F1}% |");
        }
        Console.WriteLine();
        Console.WriteLine(report.Passed ? $"All {report.Checks.Count} outputs match the reference." : $"{report.Checks.Count(c => !c.Comparison.Equal)} of {report.Checks.Count} outputs differ from the reference.");
    }
}
