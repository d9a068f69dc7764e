using MlffData.Converters;
using MlffData.Format;

namespace MlffData.Labeling;

/// <summary>How <see cref="LabelingJob"/> labels an input; every default is the one written here.</summary>
public sealed record LabelingOptions
{
    /// <summary>The calculator: a preset (emt, orb-v2, orb-v3, mace-mp) or module:callable (module may be a .py path).</summary>
    public required string Calculator { get; init; }

    /// <summary>Keyword arguments of the calculator as a JSON object, or null (default).</summary>
    public string? CalculatorArguments { get; init; }

    /// <summary>cpu (default), cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Fail instead of falling back to cpu when cuda is unavailable; default false (a warning and cpu).</summary>
    public bool StrictDevice { get; init; }

    /// <summary>Structures handed to Python per call; default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Label at most this many structures in this run (null, the default: all).</summary>
    public long? MaxStructures { get; init; }

    /// <summary>Label only this shard of the input positions (i % n == k), so n jobs cover the input disjointly; null
    /// (default) for all. structure_indices stay input positions, so merged shards trace back without reindexing.</summary>
    public LabelShard? Shard { get; init; }

    /// <summary>Continue an existing output: skip the input positions it already holds; default false.</summary>
    public bool Resume { get; init; }

    /// <summary>Replace an existing output; default false (an existing output without Resume is refused).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Leave out a structure whose calculation raises (recorded in metadata) instead of stopping; default false.</summary>
    public bool SkipErrors { get; init; }

    /// <summary>Checkpoint after this many newly labelled structures; default 1000.</summary>
    public long CheckpointEvery { get; init; } = 1000;

    /// <summary>Checkpoint when this much time has passed since the last one; default 60 s.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How the input is read (format, interpreter, pickle safety); its labels, if any, are replaced.</summary>
    public InputOptions Input { get; init; } = new();

    /// <summary>Compression, validation and warnings of the output.</summary>
    public WriteOptions Write { get; init; } = WriteOptions.Default;

    /// <summary>
    /// Called when the job is done reading an existing output: after a resumed run's recovery and read of it, and again
    /// once the writer has opened it; the teacher's work and the appends follow. Null (default) for none.
    /// </summary>
    public Action? OutputRead { get; init; }

    /// <summary>The caller's metadata (e.g. -m keys), written with the job's own.</summary>
    public IReadOnlyDictionary<string, object?> Metadata { get; init; } = new Dictionary<string, object?>();
}
