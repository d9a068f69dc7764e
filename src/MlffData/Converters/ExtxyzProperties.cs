namespace MlffData.Converters;

/// <summary>
/// The column layout an extxyz <c>Properties=name:TYPE:NCOLS:...</c> value declares, reduced to what the reader
/// keeps: which column holds the symbol, the atomic number, each position and each force component.
/// </summary>
/// <remarks>
/// Names follow ASE's <c>parse_properties</c> and its name map: "species" or "symbols" are the symbols,
/// "Z" or "numbers" the atomic numbers, "pos" or "positions" the positions, "forces" the forces.
/// When both spellings appear, the later column wins, as it overwrites the earlier in ASE's arrays.
/// </remarks>
internal sealed class ExtxyzProperties
{
    /// <summary>ASE's default when a comment line has no Properties.</summary>
    public const string Default = "species:S:1:pos:R:3";

    // A sanity bound that keeps a corrupt NCOLS from allocating a huge role table.
    private const int MaxColumns = 100_000;

    private ExtxyzProperties(string text, ExtxyzColumnRole[] roles, bool hasSpecies, bool hasNumbers, bool hasForces)
    {
        Text = text;
        Roles = roles;
        HasSpecies = hasSpecies;
        HasNumbers = hasNumbers;
        HasForces = hasForces;
    }

    /// <summary>The Properties value this layout was parsed from.</summary>
    public string Text { get; }

    /// <summary>What each whitespace-separated column of an atom line holds; its length is the column count.</summary>
    public ExtxyzColumnRole[] Roles { get; }

    /// <summary>Whether a column gives chemical symbols.</summary>
    public bool HasSpecies { get; }

    /// <summary>Whether a column gives atomic numbers.</summary>
    public bool HasNumbers { get; }

    /// <summary>Whether columns give forces.</summary>
    public bool HasForces { get; }

    /// <summary>Parses a Properties value.</summary>
    /// <param name="text">The value, e.g. "species:S:1:pos:R:3:forces:R:3".</param>
    /// <param name="layout">The layout, or null on failure.</param>
    /// <param name="field">On failure, the field to blame: "Properties", "species", "Z", "pos" or "forces".</param>
    /// <param name="error">On failure, what is wrong.</param>
    public static bool TryParse(string text, out ExtxyzProperties? layout, out string field, out string error)
    {
        layout = null;
        field = "Properties";
        error = "";
        var fields = text.Split(':');
        // ASE zips the fields in threes and silently drops a ragged tail; a ragged tail is a typo, so refuse it.
        if (fields.Length % 3 != 0)
        {
            error = $"\"{text}\" has {fields.Length} colon-separated fields, not a multiple of 3 (name:TYPE:NCOLS)";
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var roles = new List<ExtxyzColumnRole>();
        int species = -1, numbers = -1, positions = -1, forces = -1;
        for (int i = 0; i < fields.Length; i += 3)
        {
            string name = fields[i], type = fields[i + 1];
            if (type is not ("R" or "I" or "S" or "L"))
            {
                error = $"property \"{name}\" has type \"{type}\"; expected R, I, S or L";
                return false;
            }
            if (!PythonText.TryParseInt(fields[i + 2], out long count) || count < 1 || count > MaxColumns - roles.Count)
            {
                error = $"property \"{name}\" has column count \"{fields[i + 2]}\"; expected a positive integer";
                return false;
            }
            // ASE builds a numpy record dtype from the names, which refuses a repeated name.
            if (!names.Add(name))
            {
                error = $"property \"{name}\" appears twice";
                return false;
            }

            // The columns the reader keeps, under ASE's names for them.
            string? kept = name switch
            {
                "species" or "symbols" => "species",
                "Z" or "numbers" => "Z",
                "pos" or "positions" => "pos",
                "forces" => "forces",
                _ => null,
            };
            if (kept is not null)
            {
                var (expectedType, expectedCount) = kept switch { "species" => ("S", 1), "Z" => ("I", 1), _ => ("R", 3) };
                // Integers are accepted where reals are expected, as numpy converts them.
                if (!(type == expectedType || (expectedType == "R" && type == "I")) || count != expectedCount)
                {
                    field = kept;
                    error = $"column \"{name}\" is {name}:{type}:{count}; expected {name}:{expectedType}:{expectedCount}";
                    return false;
                }
                switch (kept)
                {
                    case "species": species = roles.Count; break;
                    case "Z": numbers = roles.Count; break;
                    case "pos": positions = roles.Count; break;
                    default: forces = roles.Count; break;
                }
            }
            for (long c = 0; c < count; c++)
                roles.Add(ExtxyzColumnRole.Skip);
        }

        if (species < 0 && numbers < 0)
        {
            error = $"\"{text}\" has neither species:S:1 nor Z:I:1, so the atoms have no elements";
            return false;
        }
        if (positions < 0)
        {
            field = "pos";
            error = $"\"{text}\" has no pos:R:3 column";
            return false;
        }

        var table = roles.ToArray();
        if (species >= 0) table[species] = ExtxyzColumnRole.Species;
        if (numbers >= 0) table[numbers] = ExtxyzColumnRole.AtomicNumber;
        for (int k = 0; k < 3; k++)
        {
            table[positions + k] = (ExtxyzColumnRole)((int)ExtxyzColumnRole.PositionX + k);
            if (forces >= 0) table[forces + k] = (ExtxyzColumnRole)((int)ExtxyzColumnRole.ForceX + k);
        }
        field = "";
        layout = new ExtxyzProperties(text, table, species >= 0, numbers >= 0, forces >= 0);
        return true;
    }
}
