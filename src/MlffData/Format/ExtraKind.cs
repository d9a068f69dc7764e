namespace MlffData.Format;

/// <summary>The element type of an extra (FORMAT.md's optional /info and /arrays datasets).</summary>
public enum ExtraKind
{
    /// <summary>float64; missing rows hold NaN.</summary>
    Float,

    /// <summary>int64 (tags, counts); missing rows hold 0, so read the mask.</summary>
    Integer,

    /// <summary>The bool enum; missing rows hold false.</summary>
    Bool,

    /// <summary>Variable-length UTF-8 string, one per structure (config_type); missing rows hold "".</summary>
    String,
}
