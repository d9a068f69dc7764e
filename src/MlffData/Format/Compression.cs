using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>How datasets are compressed: none, gzip level 1-9 (with HDF5's shuffle before it by default) or lzf.</summary>
public sealed record Compression
{
    private Compression(string kind, int level, bool shuffle)
    {
        Kind = kind;
        Level = level;
        Shuffle = shuffle;
    }

    /// <summary>"none", "gzip" or "lzf".</summary>
    public string Kind { get; }

    /// <summary>gzip level 1-9; 0 otherwise.</summary>
    public int Level { get; }

    /// <summary>Whether HDF5's byte-shuffle filter runs before the compressor.</summary>
    public bool Shuffle { get; }

    /// <summary>No compression.</summary>
    public static Compression None { get; } = new("none", 0, false);

    /// <summary>h5py's LZF: fast, moderate ratio.</summary>
    public static Compression Lzf { get; } = new("lzf", 0, false);

    /// <summary>gzip (HDF5 deflate) at the given level, with shuffle unless asked not to.</summary>
    /// <exception cref="ArgumentOutOfRangeException">level is not 1-9.</exception>
    public static Compression Gzip(int level = 4, bool shuffle = true)
    {
        if (level is < 1 or > 9) throw new ArgumentOutOfRangeException(nameof(level), level, "gzip level must be 1-9");
        return new("gzip", level, shuffle);
    }

    /// <summary>Parses FORMAT.md's spelling ("none", "lzf", "gzip", "gzip-N").</summary>
    /// <exception cref="ArgumentException">The text is none of those.</exception>
    public static Compression Parse(string text, int? level = null)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "none") return None;
        if (t == "lzf") return Lzf;
        if (t == "gzip") return Gzip(level ?? 4);
        if (t.StartsWith("gzip-", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int l)) return Gzip(l);
        throw new ArgumentException($"Unknown compression '{text}': use none, lzf, gzip or gzip-1 .. gzip-9");
    }

    /// <summary>FORMAT.md's name: "none", "gzip-N" or "lzf".</summary>
    public override string ToString() => Kind == "gzip" ? $"gzip-{Level}" : Kind;

    /// <summary>The filters of a dataset this library creates: this compression, and always the fletcher32 checksum,
    /// so that a corrupted chunk fails to read (in h5py too) instead of returning wrong numbers.</summary>
    internal H5FilterPipeline ToFilters() =>
        new(Shuffle: Shuffle, DeflateLevel: Kind == "gzip" ? Level : 0, Lzf: Kind == "lzf", Fletcher32: true);
}
