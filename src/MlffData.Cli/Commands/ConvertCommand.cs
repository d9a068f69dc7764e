using System.CommandLine;
using System.Diagnostics;
using MlffData.Converters;
using MlffData.Format;
using MlffData.Python;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data convert</c>: reads labelled structures from an input file and writes them in FORMAT.md's layout.
/// On bad input it prints one line naming the file, the structure and the field, and leaves nothing at the output.
/// </summary>
internal static class ConvertCommand
{
    internal static Command Create()
    {
        var input = new Option<FileInfo>("--input", "-i") { Description = "Input file: ASE pickle, extended XYZ, or anything ASE reads (traj, POSCAR, cif, db, ...)", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output HDF5 file", Required = true };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Input format: auto (by extension: .pkl/.pickle, .xyz/.extxyz, else ASE guesses), pickle, extxyz, xyz, or an ASE format name",
            DefaultValueFactory = _ => "auto",
        };
        var aseReader = new Option<bool>("--ase-reader") { Description = "Read xyz/extxyz with ASE's reader instead of the native one" };
        var labels = new Option<FileInfo?>("--labels", "-l") { Description = "Labels pickle: a dict with energies, forces[, stresses] or a tuple (energies, forces[, stresses])" };
        var energyKey = new Option<string?>("--energy-key", "--energy_key") { Description = "Key of the energy in Atoms.info or the calculator's results (default: energy)" };
        var forcesKey = new Option<string?>("--forces-key", "--forces_key") { Description = "Key of the forces in Atoms.arrays or the calculator's results (default: forces)" };
        var stressKey = new Option<string?>("--stress-key", "--stress_key") { Description = "Key of the stress, 6 or 9 numbers (default: stress)" };
        var virialsKey = new Option<string?>("--virials-key", "--virials_key") { Description = "Key of the virials, 6 or 9 numbers, turned into stress = -virial / volume" };
        var keepInfo = new Option<string[]>("--keep-info") { Description = "Also keep this Atoms.info key in /info (repeatable)", DefaultValueFactory = _ => [] };
        var keepArray = new Option<string[]>("--keep-array") { Description = "Also keep this Atoms.arrays key in /arrays (repeatable)", DefaultValueFactory = _ => [] };
        var skipUnlabelled = new Option<bool>("--skip-unlabelled") { Description = "Leave out structures without energy or forces instead of stopping (counted in the summary and metadata)" };
        var python = new Option<string?>("--python") { Description = $"Python interpreter with ASE to embed (default: ${PythonInterpreter.PathVariable}, then /usr/bin/python3, then python3 on PATH)" };
        var allowUnsafe = new Option<bool>("--allow-unsafe-pickle") { Description = "Load pickles with plain pickle.loads, which runs any code they carry: only for files you trust" };
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
        var fileLocking = CliOptions.FileLocking();
        var noProgress = CliOptions.NoProgress();
        var verbose = CliOptions.Verbose();

        var command = new Command("convert", "Convert labelled structures (ASE pickle, extended XYZ, any ASE format) into an HDF5 dataset")
        {
            input, output, format, aseReader, labels, energyKey, forcesKey, stressKey, virialsKey, keepInfo, keepArray,
            skipUnlabelled, python, allowUnsafe, compression, level, metadata, append, noValidate, fileLocking, noProgress, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var inputOptions = new InputOptions
                {
                    Format = result.GetValue(format)!,
                    UseAseReader = result.GetValue(aseReader),
                    LabelsPath = result.GetValue(labels)?.FullName,
                    Python = result.GetValue(python),
                    AllowUnsafePickle = result.GetValue(allowUnsafe),
                    Keys = new SourceKeys
                    {
                        EnergyKey = result.GetValue(energyKey),
                        ForcesKey = result.GetValue(forcesKey),
                        StressKey = result.GetValue(stressKey),
                        VirialsKey = result.GetValue(virialsKey),
                        KeepInfo = result.GetValue(keepInfo) ?? [],
                        KeepArrays = result.GetValue(keepArray) ?? [],
                    },
                };
                var request = new ConvertRequest(
                    result.GetValue(input)!.FullName,
                    result.GetValue(output)!.FullName,
                    inputOptions,
                    Compression.Parse(result.GetValue(compression)!, result.GetValue(level)),
                    MetadataArguments.Parse(result.GetValue(metadata)),
                    result.GetValue(append),
                    result.GetValue(skipUnlabelled),
                    !result.GetValue(noValidate),
                    WriteOptions.ParseFileLocking(result.GetValue(fileLocking)),
                    !result.GetValue(noProgress),
                    isVerbose);
                // An existing append target is the user's HDF5 file: opened in a worker. Its run time and memory follow the
                // input, so no default limits.
                if (request.Append && File.Exists(request.Output)
                    && WorkerProcess.RunInWorker(new WorkerPlan([request.Output]) { LockedOutput = request.Output }) is { } exit)
                    return exit;
                return Run(request);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private sealed record ConvertRequest(string Input, string Output, InputOptions InputOptions, Compression Compression,
        Dictionary<string, object?> Metadata, bool Append, bool SkipUnlabelled, bool Validate, FileLockingMode? FileLocking, bool Progress, bool Verbose);

    private static int Run(ConvertRequest request)
    {
        // Reading the input (ASE's code, perhaps) is not reading the append target: a crash there is not blamed on it.
        WorkerProcess.NotReading();
        var inputOptions = request.InputOptions;
        string reader = InputReader.Resolve(request.Input, inputOptions);
        if (inputOptions.AllowUnsafePickle)
            Console.Error.WriteLine("warning: --allow-unsafe-pickle: pickles are loaded with plain pickle.loads, which runs any code they carry");
        var frames = InputReader.Read(request.Input, inputOptions, out var fraction);
        var warnings = new WarningPrinter(request.Verbose);
        var options = new WriteOptions { Compression = request.Compression, Validate = request.Validate, FileLocking = request.FileLocking, Warning = warnings.Add };
        var clock = Stopwatch.StartNew();
        var counts = new LabelCounts();

        // SIGINT/SIGTERM stop between two structures; nothing is written (a convert cannot be resumed, so half an
        // output would only mislead), and an append is rolled back.
        using var interruption = new Interruption();
        using var progress = new ProgressBar("structures", request.Progress);
        var writer = new HDF5DatasetWriter(request.Output, request.Append ? WriteMode.Append : WriteMode.Overwrite, options);
        WorkerProcess.NotReading();
        long before = writer.Count;
        try
        {
            foreach (var frame in frames)
            {
                interruption.Token.ThrowIfCancellationRequested();
                counts.Add(frame);
                if (frame.Energy is null || frame.Forces is null)
                {
                    if (!request.SkipUnlabelled)
                        throw new ConversionException(request.Input, frame.Index, frame.Energy is null ? "energy" : "forces",
                            $"structure has no {(frame.Energy is null ? "energy" : "forces")} label (pass --skip-unlabelled to leave such structures out)",
                            line: Line(frame));
                    counts.Skip(frame.Index);
                    continue;
                }
                try
                {
                    writer.AddStructure(frame.Structure, frame.Energy.Value, frame.Forces, frame.Stress, frame.Index, frame.Extras);
                }
                catch (ValidationException e)
                {
                    throw new ConversionException(request.Input, frame.Index, e.Field, e.Reason, e, Line(frame));
                }
                progress.Report(fraction(), writer.Count - before);
            }
            // ASE refuses an input without a single structure ("Empty file"); a conversion of nothing is a mistake.
            if (counts.Structures == 0) throw new ConversionException(request.Input, null, null, "the file holds no structure (it is empty or blank)");
            var metadata = new Dictionary<string, object?>(request.Metadata);
            if (request.SkipUnlabelled) metadata["skipped_unlabelled"] = (long)counts.Skipped.Count;
            writer.Complete(metadata);
        }
        catch (OperationCanceledException) when (interruption.Interrupted)
        {
            writer.Abort();
            progress.Dispose();
            Console.Error.WriteLine($"interrupted: nothing was written; {(request.Append ? $"{request.Output} is as it was before the append" : "the output was not created or replaced")}");
            return interruption.ExitCode;
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
        string source = reader.StartsWith("ase", StringComparison.Ordinal) ? $"ASE {(reader == "ase" ? "" : reader[4..] + " ")}reader" : reader == "pickle" ? "ASE pickle" : "extxyz";
        Console.WriteLine($"Read {counts.Structures:N0} structures from {request.Input} ({source}): {counts.Describe()}");
        if (counts.Skipped.Count > 0)
            Console.WriteLine($"  skipped {counts.Skipped.Count:N0} without energy or forces (0-based: {counts.DescribeSkipped()})");
        string total = request.Append ? $"; the file now holds {writer.Count:N0} structures, {writer.NumAtoms:N0} atoms" : $" ({writer.NumAtoms:N0} atoms)";
        Console.WriteLine($"Wrote {added:N0} structures{total} to {request.Output}");
        Console.WriteLine($"  {writer.Compression} compression: {ByteSize.Format(size)}, {100.0 * size / Math.Max(1, raw):F1}% of uncompressed ({ByteSize.Format(raw)}), {clock.Elapsed.TotalSeconds:F2} s");
        return 0;
    }

    /// <summary>Where the structure starts in a text input (its atom-count line), for the error; null when unknown.</summary>
    private static long? Line(SourceFrame frame) => frame.Line > 0 ? frame.Line : null;
}
