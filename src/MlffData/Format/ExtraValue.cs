namespace MlffData.Format;

/// <summary>
/// One extra of one structure: a value of Atoms.info (one row, stored in /info/NAME) or of Atoms.arrays (one row per
/// atom, stored in /arrays/NAME concatenated like positions). A row is a scalar (<see cref="RowShape"/> empty) or a
/// small array, e.g. [3] for a magnetic moment vector.
/// </summary>
public sealed class ExtraValue
{
    private readonly Array _data;

    private ExtraValue(ExtraKind kind, Array data, int[] rowShape)
    {
        foreach (int d in rowShape)
            if (d < 1) throw new ArgumentOutOfRangeException(nameof(rowShape), d, "Every row dimension must be positive");
        int rowLength = rowShape.Aggregate(1, (a, b) => checked(a * b));
        if (data.Length % rowLength != 0)
            throw new ArgumentException($"{data.Length} values do not make whole rows of shape ({string.Join(", ", rowShape)})", nameof(data));
        Kind = kind;
        _data = data;
        RowShape = rowShape;
        RowLength = rowLength;
    }

    /// <summary>The element type.</summary>
    public ExtraKind Kind { get; }

    /// <summary>The shape of one row: empty for a scalar, [k] for k numbers per row.</summary>
    public IReadOnlyList<int> RowShape { get; }

    /// <summary>Elements per row.</summary>
    public int RowLength { get; }

    /// <summary>Number of rows: 1 for an info value, the atom count for an array.</summary>
    public int Rows => _data.Length / RowLength;

    /// <summary>The values when <see cref="Kind"/> is Float, row-major; otherwise null.</summary>
    public double[]? Floats => _data as double[];

    /// <summary>The values when <see cref="Kind"/> is Integer, row-major; otherwise null.</summary>
    public long[]? Integers => _data as long[];

    /// <summary>The values when <see cref="Kind"/> is Bool, row-major; otherwise null.</summary>
    public bool[]? Bools => _data as bool[];

    /// <summary>The values when <see cref="Kind"/> is String; otherwise null.</summary>
    public string[]? Strings => _data as string[];

    /// <summary>One number.</summary>
    public static ExtraValue Float(double value) => new(ExtraKind.Float, new[] { value }, []);

    /// <summary>Numbers in rows of the given shape (none: one number per row).</summary>
    public static ExtraValue FloatRows(double[] values, params int[] rowShape) => new(ExtraKind.Float, values ?? throw new ArgumentNullException(nameof(values)), rowShape);

    /// <summary>One integer.</summary>
    public static ExtraValue Integer(long value) => new(ExtraKind.Integer, new[] { value }, []);

    /// <summary>Integers in rows of the given shape.</summary>
    public static ExtraValue IntegerRows(long[] values, params int[] rowShape) => new(ExtraKind.Integer, values ?? throw new ArgumentNullException(nameof(values)), rowShape);

    /// <summary>One bool.</summary>
    public static ExtraValue Bool(bool value) => new(ExtraKind.Bool, new[] { value }, []);

    /// <summary>Bools in rows of the given shape.</summary>
    public static ExtraValue BoolRows(bool[] values, params int[] rowShape) => new(ExtraKind.Bool, values ?? throw new ArgumentNullException(nameof(values)), rowShape);

    /// <summary>One string (an info value such as config_type).</summary>
    public static ExtraValue String(string value) => new(ExtraKind.String, new[] { value ?? throw new ArgumentNullException(nameof(value)) }, []);

    /// <summary>"float64 (3,)"-style description for error messages.</summary>
    public string Describe() => Describe(Kind, RowShape);

    /// <summary>The description of <see cref="Describe()"/> for any kind and row shape (a column a file already has).</summary>
    internal static string Describe(ExtraKind kind, IReadOnlyList<int> rowShape) =>
        $"{kind switch { ExtraKind.Float => "float64", ExtraKind.Integer => "int64", ExtraKind.Bool => "bool", _ => "string" }}" +
        (rowShape.Count == 0 ? "" : $" ({string.Join(", ", rowShape)})");
}
