using System.CommandLine;
using System.Diagnostics;
using System.Text;
using MlffData.Converters;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data export</c>: writes structures of a dataset back out as extended XYZ that ASE reads to the same
/// structures and labels, bit for bit. The output appears only when complete; on any error the old file, if any, stays.
/// </summary>
internal static class ExportCommand
{
    internal static Command Create()
    {
        var input = new Option<FileInfo>("--input", "-i") { Description = "Input HDF5 dataset", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output extended XYZ file", Required = true };
        var start = new Option<long>("--start") { Description = "First structure to export, 0-based", DefaultValueFactory = _ => 0 };
        start.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 0) r.AddError("--start must be 0 or more");
        });
        var count = new Option<long?>("--count") { Description = "Number of structures to export (default: through the last)" };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long?>() < 0) r.AddError("--count must be 0 or more");
        });
        var keyPrefix = new Option<string>("--key-prefix")
        {
            Description = "Write the labels as PREFIXenergy, PREFIXforces and PREFIXstress (6 Voigt numbers), e.g. REF_ for MACE",
        };
        keyPrefix.Validators.Add(r =>
        {
            if (!ExtxyzWriter.IsValidKeyPrefix(r.GetValueOrDefault<string>()))
                r.AddError($"--key-prefix \"{r.GetValueOrDefault<string>()}\" may hold only ASCII letters, digits and '_'");
        });
        var noProgress = CliOptions.NoProgress();
        var verbose = CliOptions.Verbose();

        var command = new Command("export", "Export structures and labels of an HDF5 dataset as extended XYZ for ASE")
        {
            input, output, start, count, keyPrefix, noProgress, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var request = new ExportRequest(
                    result.GetValue(input)!.FullName,
                    result.GetValue(output)!.FullName,
                    result.GetValue(start),
                    result.GetValue(count),
                    result.GetValue(keyPrefix),
                    !result.GetValue(noProgress));
                var plan = new WorkerPlan([request.Input])
                {
                    BytesPerSecond = WorkerPlan.WritingRate,
                    Scratch = [request.Output + HDF5DatasetWriter.PartialSuffix],
                };
                return WorkerProcess.RunInWorker(plan) ?? Run(request);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private sealed record ExportRequest(string Input, string Output, long Start, long? Count, string? KeyPrefix, bool Progress);

    private static int Run(ExportRequest request)
    {
        if (!File.Exists(request.Input)) throw new FileNotFoundException($"{request.Input}: no such file", request.Input);
        var clock = Stopwatch.StartNew();
        using var reader = new HDF5DatasetReader(request.Input);
        long count = Range(reader, request.Start, request.Count);

        // Convert's suffix: a run killed mid-way leaves OUT as it was, and the next run overwrites the leftover.
        string partial = request.Output + HDF5DatasetWriter.PartialSuffix;
        long written, atoms;
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            using (var writer = new ExtxyzWriter(new StreamWriter(stream, new UTF8Encoding(false), 1 << 16), request.KeyPrefix))
            using (var progress = new ProgressBar("structures", request.Progress))
            {
                foreach (var block in reader.ReadBlocks(request.Start, count))
                {
                    foreach (var item in block)
                    {
                        try
                        {
                            writer.Write(item);
                        }
                        catch (ValidationException e)
                        {
                            throw new ConversionException(request.Input, checked((int)(request.Start + e.StructureIndex)), e.Field, e.Reason, e);
                        }
                    }
                    progress.Report(count == 0 ? 1 : (double)writer.Count / count, writer.Count);
                }
                writer.Flush();
                // On disk before the rename, so a crash cannot leave OUT renamed but empty.
                stream.Flush(flushToDisk: true);
                written = writer.Count;
                atoms = writer.NumAtoms;
            }
            File.Move(partial, request.Output, overwrite: true);
        }
        catch
        {
            // Cleanup must not hide the error that got us here.
            try
            {
                File.Delete(partial);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            throw;
        }

        long size = new FileInfo(request.Output).Length;
        string keys = string.IsNullOrEmpty(request.KeyPrefix) ? "" : $", labels as {request.KeyPrefix}energy/{request.KeyPrefix}forces/{request.KeyPrefix}stress";
        Console.WriteLine($"Wrote {written:N0} structures ({atoms:N0} atoms) to {request.Output}: {ByteSize.Format(size)}{keys}, {clock.Elapsed.TotalSeconds:F2} s");
        return 0;
    }

    // The number of structures to export; a range past the end is refused before anything is written.
    private static long Range(HDF5DatasetReader reader, long start, long? count)
    {
        long total = reader.Count;
        if (start > 0 && start >= total)
            throw new ArgumentException($"{reader.FileName}: --start {start} is past the last structure; the file has {total:N0} structures");
        long available = total - start;
        if (count > available)
            throw new ArgumentException($"{reader.FileName}: --start {start} --count {count} asks for structures [{start}, {start + count}); the file has {total:N0} structures");
        return count ?? available;
    }
}
