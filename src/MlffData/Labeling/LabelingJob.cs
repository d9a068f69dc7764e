using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MlffData.Converters;
using MlffData.Format;
using MlffData.Hdf5;

namespace MlffData.Labeling;

/// <summary>
/// Labels every structure of an input with a teacher model and writes the dataset, as the seed's generate_labels.py
/// did, built for runs of days: checkpoints make the labelled structures durable every N structures or T seconds,
/// <see cref="LabelingOptions.Resume"/> continues an interrupted run (also one killed with SIGKILL) where its last
/// checkpoint left off, and the output's structure_indices trace every row back to its input position.
/// </summary>
/// <remarks>
/// Resume refuses an output made from another input (path, size and a fingerprint of its first and last MiB), with
/// another calculator (spec and arguments) or for another shard: mixing them would silently corrupt a dataset.
/// A sharded run (<see cref="LabelingOptions.Shard"/>) reads the whole input but labels only its positions.
/// </remarks>
public static class LabelingJob
{
    /// <summary>Metadata key: the calculator spec (FORMAT.md's example key).</summary>
    public const string TeacherModelKey = "teacher_model";
    /// <summary>Metadata key: the calculator's arguments (JSON).</summary>
    public const string CalculatorArgumentsKey = "calculator_args";
    /// <summary>Metadata key: the device used.</summary>
    public const string DeviceKey = "device";
    /// <summary>Metadata key: the input file.</summary>
    public const string InputKey = "label_input";
    /// <summary>Metadata key: the input's size in bytes.</summary>
    public const string InputSizeKey = "label_input_size";
    /// <summary>Metadata key: SHA-256 of the input's size, first and last MiB.</summary>
    public const string InputFingerprintKey = "label_input_fingerprint";
    /// <summary>Metadata key: the shard "k/n" a sharded run labelled; absent for a run over the whole input.</summary>
    public const string ShardKey = "label_shard";
    /// <summary>Metadata key: the structures whose calculation failed, JSON [{"index": N, "error": "..."}].</summary>
    public const string ErrorsKey = "label_errors";

    private const int FingerprintBytes = 1 << 20;

    /// <summary>Runs the job.</summary>
    /// <param name="input">The structures (any format <see cref="InputReader"/> reads).</param>
    /// <param name="output">The dataset to write or continue.</param>
    /// <param name="options">Calculator, device, batching, checkpoints, resume.</param>
    /// <param name="progress">Called after each batch with the input fraction read (null when unknown) and the structures labelled so far.</param>
    /// <param name="cancel">Stops the run after the current batch; what was labelled is kept and the output completed.</param>
    /// <exception cref="InvalidOperationException">The output exists and neither Resume nor Overwrite was given, or
    /// Resume found an output made from another input, calculator or shard.</exception>
    /// <exception cref="LabelingStoppedException">A calculation failed and SkipErrors is off; everything before it is in the output.</exception>
    public static LabelingSummary Run(string input, string output, LabelingOptions options, Action<double?, long>? progress = null,
        CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be at least 1");
        if (options.CheckpointEvery < 1) throw new ArgumentOutOfRangeException(nameof(options), options.CheckpointEvery, "CheckpointEvery must be at least 1");
        if (!File.Exists(input)) throw new FileNotFoundException($"{input}: no such file", input);
        bool exists = File.Exists(output);
        if (exists && !options.Resume && !options.Overwrite)
            throw new InvalidOperationException($"{output} exists; pass --resume to continue it or --overwrite to replace it");
        var clock = Stopwatch.StartNew();
        var fingerprint = Fingerprint(input);
        string arguments = NormalizeArguments(options.CalculatorArguments);

        var done = new HashSet<long>();
        var errors = new List<(long Index, string Error)>();
        long recovered = 0;
        bool resuming = exists && options.Resume;
        if (resuming)
        {
            // Under the output's lock: a run still writing it is refused, naming it, before anything is cut.
            using var writerLock = OutputLock.Acquire(output);
            recovered = HDF5DatasetWriter.RecoverToCheckpoint(output).Dropped;
            ReadProgress(output, input, fingerprint, options.Calculator, arguments, options.Shard, done, errors);
            options.OutputRead?.Invoke();
        }

        using var labeler = CalculatorLabeler.Create(options.Calculator, options.CalculatorArguments, options.Device, options.StrictDevice,
            options.Input.Python, options.Write.Warning);
        var metadata = new Dictionary<string, object?>(options.Metadata)
        {
            [TeacherModelKey] = options.Calculator,
            [CalculatorArgumentsKey] = arguments,
            [DeviceKey] = labeler.Device,
            [InputKey] = Path.GetFullPath(input),
            [InputSizeKey] = fingerprint.Size,
            [InputFingerprintKey] = fingerprint.Hash,
            ["label_batch_size"] = (long)options.BatchSize,
        };
        if (options.Shard is { } shard) metadata[ShardKey] = shard.ToString();
        foreach (var (name, version) in labeler.Versions) metadata[$"{name}_version"] = version;

        var frames = InputReader.Read(input, options.Input with { LabelsPath = null }, out var fraction);
        var writer = new HDF5DatasetWriter(output, resuming ? WriteMode.Append : WriteMode.Overwrite, options.Write);
        if (resuming) options.OutputRead?.Invoke();
        long labelled = 0, failed = 0, alreadyDone = 0, sinceCheckpoint = 0;
        // A resumed run's output is already at its target.
        bool checkpointed = resuming;
        var lastCheckpoint = Stopwatch.StartNew();
        bool interrupted = false;
        var batch = new List<SourceFrame>(options.BatchSize);
        // The run's own metadata as it stands: written at every checkpoint and at the end, so a resumed or stopped
        // run records its failures and rate the same way.
        Dictionary<string, object?> Record()
        {
            metadata[ErrorsKey] = ErrorsJson(errors);
            metadata["label_throughput"] = labelled / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            return metadata;
        }

        try
        {
            using var enumerator = frames.GetEnumerator();
            while (true)
            {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                long room = options.MaxStructures is { } max ? max - labelled - failed : long.MaxValue;
                if (room <= 0) break;
                batch.Clear();
                while (batch.Count < Math.Min(options.BatchSize, room) && enumerator.MoveNext())
                {
                    var frame = enumerator.Current;
                    // Another shard's position: that job labels it (every job reads the whole input).
                    if (options.Shard is { } own && !own.Contains(frame.Index)) continue;
                    if (done.Contains(frame.Index)) alreadyDone++;
                    else batch.Add(frame);
                }
                if (batch.Count == 0) break;

                IReadOnlyList<LabelResult> results;
                try
                {
                    results = labeler.LabelBatch(batch.Select(f => f.Structure).ToArray());
                }
                catch (LabelingException e)
                {
                    // The whole batch failed (not one structure): stop, keeping what was labelled before it.
                    writer.Complete(Record());
                    throw new LabelingStoppedException(input, batch[0].Index, e.Detail, labelled);
                }
                for (int i = 0; i < batch.Count; i++)
                {
                    var frame = batch[i];
                    string? error = results[i].Error?.Detail;
                    if (results[i].Labels is { } labels)
                    {
                        try
                        {
                            writer.AddStructure(frame.Structure, labels.Energy, labels.Forces, labels.Stress, frame.Index, frame.Extras);
                            labelled++;
                            sinceCheckpoint++;
                            continue;
                        }
                        catch (ValidationException e)
                        {
                            error = $"the calculator's labels are invalid: {e.Field}: {e.Reason}";
                        }
                    }
                    if (!options.SkipErrors)
                    {
                        // Everything labelled before this structure stays: the output is completed, not discarded.
                        writer.Complete(Record());
                        throw new LabelingStoppedException(input, frame.Index, error ?? "no labels", labelled);
                    }
                    errors.Add((frame.Index, error ?? "no labels"));
                    failed++;
                }
                progress?.Invoke(fraction(), labelled);
                // The first checkpoint comes after the first batch with a labelled structure: from then on OUT exists and
                // a killed run resumes instead of starting again, whatever the checkpoint interval.
                bool first = !checkpointed && sinceCheckpoint > 0;
                if (first || sinceCheckpoint >= options.CheckpointEvery || lastCheckpoint.Elapsed >= options.CheckpointInterval)
                {
                    writer.Checkpoint(Record());
                    checkpointed = true;
                    sinceCheckpoint = 0;
                    lastCheckpoint.Restart();
                }
            }
            writer.Complete(Record());
        }
        catch (LabelingStoppedException)
        {
            throw;
        }
        catch
        {
            // Bad input or a failed write: back to the last checkpoint (a new file without one is removed).
            writer.Abort();
            throw;
        }
        finally
        {
            writer.Dispose();
        }
        return new LabelingSummary(labelled, failed, alreadyDone, recovered, writer.Count, labeler.Device, clock.Elapsed, interrupted);
    }

    // The output's own record of its run: the input and calculator it was made with, the positions already labelled
    // (structure_indices) and those that failed (label_errors).
    private static void ReadProgress(string output, string input, (long Size, string Hash) fingerprint, string calculator, string arguments,
        LabelShard? shard, HashSet<long> done, List<(long Index, string Error)> errors)
    {
        using var file = H5File.Open(output);
        using var metadata = file.OpenGroup(FormatNames.Metadata);
        string? Text(string key) => metadata.Attributes.Contains(key) ? Convert.ToString(metadata.Attributes.Get(key), CultureInfo.InvariantCulture) : null;
        if (Text(InputFingerprintKey) is not { } recorded)
            throw new InvalidOperationException($"{output} was not written by 'mlff-data label' (no {InputFingerprintKey} in its metadata); it cannot be resumed");
        if (recorded != fingerprint.Hash || Text(InputSizeKey) != fingerprint.Size.ToString(CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"{output} was made from another input ({Text(InputKey)}, {Text(InputSizeKey)} bytes) than {Path.GetFullPath(input)} ({fingerprint.Size} bytes); resume refuses to mix them");
        if (Text(TeacherModelKey) != calculator || Text(CalculatorArgumentsKey) != arguments)
            throw new InvalidOperationException($"{output} was labelled with calculator '{Text(TeacherModelKey)}' {Text(CalculatorArgumentsKey)}, not '{calculator}' {arguments}; resume refuses to mix them");
        if (Text(ShardKey) != shard?.ToString())
            throw new InvalidOperationException($"{output} was labelled {Describe(Text(ShardKey))}, not {Describe(shard?.ToString())}; resume refuses to mix them");
        using (var labels = file.OpenGroup(FormatNames.Labels))
        using (var indices = labels.OpenDataset<long>(FormatNames.StructureIndices))
            done.UnionWith(indices.Read(0, indices.Rows));
        if (Text(ErrorsKey) is { Length: > 0 } json)
        {
            foreach (var entry in JsonDocument.Parse(json).RootElement.EnumerateArray())
            {
                long index = entry.GetProperty("index").GetInt64();
                errors.Add((index, entry.GetProperty("error").GetString() ?? ""));
                done.Add(index);
            }
        }
    }

    private static string Describe(string? shard) => shard is null ? "without --shard" : $"as shard {shard}";

    private static string ErrorsJson(List<(long Index, string Error)> errors) =>
        JsonSerializer.Serialize(errors.Select(e => new Dictionary<string, object> { ["index"] = e.Index, ["error"] = e.Error }));

    // Compact JSON, so that '{"a": 1}' and '{"a":1}' are the same calculator on resume.
    private static string NormalizeArguments(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return "{}";
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"--calculator-args must be a JSON object, not {document.RootElement.ValueKind}: {json}");
            return JsonSerializer.Serialize(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--calculator-args is not valid JSON ({e.Message}): {json}", e);
        }
    }

    // Size plus SHA-256 of the size and the first and last MiB: cheap for a file of any size, and it tells apart the
    // inputs that get confused in practice (another file of the same name, a file that was appended to or rewritten).
    private static (long Size, string Hash) Fingerprint(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long size = stream.Length;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(BitConverter.GetBytes(size));
        var buffer = new byte[FingerprintBytes];
        int n = stream.ReadAtLeast(buffer, (int)Math.Min(size, FingerprintBytes), throwOnEndOfStream: false);
        sha.AppendData(buffer, 0, n);
        if (size > FingerprintBytes)
        {
            stream.Seek(Math.Max(FingerprintBytes, size - FingerprintBytes), SeekOrigin.Begin);
            n = stream.ReadAtLeast(buffer, (int)(size - stream.Position), throwOnEndOfStream: false);
            sha.AppendData(buffer, 0, n);
        }
        return (size, Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant());
    }
}
