namespace MlffData.Converters;

/// <summary>
/// Bad input: names the file, the 0-based structure index and the field, so one line tells the user what to fix.
/// </summary>
public sealed class ConversionException : Exception
{
    /// <summary>Creates the exception; the message reads "FILE: structure N: FIELD: DETAIL".</summary>
    public ConversionException(string file, int? structureIndex, string? field, string detail, Exception? inner = null, long? line = null)
        : base(Format(file, structureIndex, field, detail, line), inner)
    {
        File = file;
        StructureIndex = structureIndex;
        Field = field;
        Detail = detail;
        Line = line;
    }

    /// <summary>The input file.</summary>
    public string File { get; }

    /// <summary>0-based index of the structure in the input, when known.</summary>
    public int? StructureIndex { get; }

    /// <summary>The field that is wrong (energy, forces, Lattice, ...), when known.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Detail { get; }

    /// <summary>1-based line in a text input, when known.</summary>
    public long? Line { get; }

    private static string Format(string file, int? index, string? field, string detail, long? line)
    {
        var where = file + (line is { } l ? $":{l}" : "");
        var parts = new List<string> { where };
        if (index is { } i) parts.Add($"structure {i}");
        if (!string.IsNullOrEmpty(field)) parts.Add(field!);
        parts.Add(detail);
        return string.Join(": ", parts);
    }
}
