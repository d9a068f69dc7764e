using System.CommandLine;
using System.Diagnostics;
using MlffData.Converters;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data convert</c>: reads labelled structures from an input file and writes them in FORMAT.md's layout.
/// On bad input it prints one line naming the file, the structure and the field, and leaves nothing at the output.
/// </summary>
internal static class ConvertCommand
{
    internal static Command Create()
    {
        var input = new Option<FileInfo>("--input", "-i") { Description = "Input file (extended XYZ)", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output HDF5 file", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "Input format", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong("auto", "xyz", "extxyz");
        var compression = new Option<string>("--compression", "-c") { Description = "Compression of the datasets", DefaultValueFactory = _ => "gzip" };
        compression.AcceptOnlyFromAmong("gzip", "lzf", "none");
        var level = new Option<int>("--compression-level") { Description = "gzip level 1-9", DefaultValueFactory = _ => 4 };
        level.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 9) r.AddError("--compression-level must be 1-9");
        });
        var metadata = CliOptions.Metadata();
        var append = new Option<bool>("--append") { Description = "Append to the output instead of replacing it" };
        var noValidate = new Option<bool>("--no-validate") { Description = "Skip value checks (NaN/Inf, atomic numbers, cells)" };
        var noProgress = CliOptions.NoProgress();
        var verbose = CliOptions.Verbose();

        var command = new Command("convert", "Convert labelled structures (extended XYZ) into an HDF5 dataset")
        {
            input, output, format, compression, level, metadata, append, noValidate, noProgress, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var request = new ConvertRequest(
                    result.GetValue(input)!.FullName,
                    result.GetValue(output)!.FullName,
                    result.GetValue(format)!,
                    Compression.Parse(result.GetValue(compression)!, result.GetValue(level)),
                    MetadataArguments.Parse(result.GetValue(metadata)),
                    result.GetValue(append),
                    !result.GetValue(noValidate),
                    !result.GetValue(noProgress),
                    isVerbose);
                return Run(request);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private sealed record ConvertRequest(string Input, string Output, string Format, Compression Compression,
        Dictionary<string, object?> Metadata, bool Append, bool Validate, bool Progress, bool Verbose);

    private static int Run(ConvertRequest request)
    {
        if (!File.Exists(request.Input)) throw new FileNotFoundException($"{request.Input}: no such file", request.Input);
        string format = request.Format == "auto" ? Detect(request.Input) : request.Format;
        var warnings = new WarningPrinter(request.Verbose);
        var options = new WriteOptions { Compression = request.Compression, Validate = request.Validate, Warning = warnings.Add };
        var clock = Stopwatch.StartNew();

        using var stream = new FileStream(request.Input, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var reader = new ExtxyzReader(new StreamReader(stream, bufferSize: 1 << 16), request.Input);
        using var progress = new ProgressBar("structures", request.Progress);
        var writer = new HDF5DatasetWriter(request.Output, request.Append ? WriteMode.Append : WriteMode.Overwrite, options);
        long before = writer.Count;
        try
        {
            foreach (var frame in reader.ReadFrames())
            {
                var labels = frame.ToLabels(request.Input);
                try
                {
                    writer.AddStructure(frame.Structure, labels.Energy, labels.Forces, labels.Stress, frame.Index);
                }
                catch (ValidationException e)
                {
                    throw new ConversionException(request.Input, frame.Index, e.Field, e.Reason, e);
                }
                progress.Report(stream.Length == 0 ? 1 : (double)stream.Position / stream.Length, writer.Count - before);
            }
            writer.Complete(request.Metadata);
        }
        catch
        {
            // Bad input or a failed write: nothing half-done stays at the output (the old file, if any, is kept).
            writer.Abort();
            throw;
        }
        finally
        {
            writer.Dispose();
        }
        progress.Dispose();
        warnings.Summarize();

        long added = writer.Count - before;
        long size = new FileInfo(request.Output).Length;
        long raw = DatasetSizes.Uncompressed(writer.Count, writer.NumAtoms);
        string total = request.Append ? $"; the file now holds {writer.Count:N0} structures, {writer.NumAtoms:N0} atoms" : $" ({writer.NumAtoms:N0} atoms)";
        Console.WriteLine($"Wrote {added:N0} structures{total} to {request.Output}");
        Console.WriteLine($"  {format} input, {writer.Compression} compression: {ByteSize.Format(size)}, {100.0 * size / Math.Max(1, raw):F1}% of uncompressed ({ByteSize.Format(raw)}), {clock.Elapsed.TotalSeconds:F2} s");
        return 0;
    }

    private static string Detect(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".xyz" or ".extxyz" => "extxyz",
        var ext => throw new ArgumentException($"{path}: cannot tell the format from '{ext}'; use -f extxyz (pickle and other ASE formats are not supported yet)"),
    };
}
