namespace MlffData.Converters;

/// <summary>
/// The column layout an extxyz <c>Properties=name:TYPE:NCOLS:...</c> value declares, reduced to what the reader
/// keeps: which column holds the symbol, the atomic number, each position and each force component, and the columns
/// of the per-atom arrays kept as extras (and of ASE's move_mask).
/// </summary>
/// <remarks>
/// Names follow ASE's <c>parse_properties</c> and its name map: "species" or "symbols" are the symbols,
/// "Z" or "numbers" the atomic numbers, "pos" or "positions" the positions; "charge" or "charges" become
/// Atoms.arrays["initial_charges"]; move_mask becomes a constraint; any other column keeps its name. The forces are
/// the column whose Atoms.arrays name is the forces key ("forces" by default).
/// When two columns get one name, the later column wins, as it overwrites the earlier in ASE's arrays.
/// </remarks>
internal sealed class ExtxyzProperties
{
    /// <summary>ASE's default when a comment line has no Properties.</summary>
    public const string Default = "species:S:1:pos:R:3";

    // A sanity bound that keeps a corrupt NCOLS from allocating a huge role table.
    private const int MaxColumns = 100_000;

    private ExtxyzProperties(string text, ExtxyzColumnRole[] roles, bool hasSpecies, bool hasNumbers, bool hasForces,
        ExtxyzKeptColumn[] kept, ExtxyzKeptColumn? moveMask, ExtxyzKeptColumn[] buffers, int[] columnBuffer)
    {
        Text = text;
        Roles = roles;
        HasSpecies = hasSpecies;
        HasNumbers = hasNumbers;
        HasForces = hasForces;
        Kept = kept;
        MoveMask = moveMask;
        Buffers = buffers;
        ColumnBuffer = columnBuffer;
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

    /// <summary>The kept per-atom arrays this layout has, in the order they were asked for.</summary>
    public ExtxyzKeptColumn[] Kept { get; }

    /// <summary>ASE's move_mask (L:1, or L:3 per axis), or null: it becomes FixAtoms, i.e. /arrays/fixed.</summary>
    public ExtxyzKeptColumn? MoveMask { get; }

    /// <summary>The columns read into buffers while atom lines are parsed, indexed by <see cref="ExtxyzKeptColumn.Buffer"/>.</summary>
    public ExtxyzKeptColumn[] Buffers { get; }

    /// <summary>For each column of a KeptReal, KeptInteger or KeptBool role, the index of its buffer; -1 elsewhere.</summary>
    public int[] ColumnBuffer { get; }

    /// <summary>Parses a Properties value with the default keys: forces from "forces", no kept arrays.</summary>
    /// <param name="text">The value, e.g. "species:S:1:pos:R:3:forces:R:3".</param>
    /// <param name="layout">The layout, or null on failure.</param>
    /// <param name="field">On failure, the field to blame: "Properties", "species", "Z", "pos" or "forces".</param>
    /// <param name="error">On failure, what is wrong.</param>
    public static bool TryParse(string text, out ExtxyzProperties? layout, out string field, out string error) =>
        TryParse(text, "forces", [], out layout, out field, out error);

    /// <summary>Parses a Properties value.</summary>
    /// <param name="text">The value, e.g. "species:S:1:pos:R:3:forces:R:3".</param>
    /// <param name="forcesKey">The Atoms.arrays name of the forces.</param>
    /// <param name="keepArrays">Atoms.arrays names to keep, without repeats; those this layout lacks are left out.</param>
    /// <param name="layout">The layout, or null on failure.</param>
    /// <param name="field">On failure, the field to blame: "Properties", "species", "Z", "pos", "move_mask", the
    /// forces key or a kept name.</param>
    /// <param name="error">On failure, what is wrong.</param>
    public static bool TryParse(string text, string forcesKey, IReadOnlyList<string> keepArrays,
        out ExtxyzProperties? layout, out string field, out string error)
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
        var groups = new List<(string Name, string Type, int Count, int First)>();
        var byArrayName = new Dictionary<string, int>(StringComparer.Ordinal);   // Atoms.arrays name to group
        int species = -1, numbers = -1, positions = -1, moveMask = -1, charges = -1, initialCharges = -1;
        int columns = 0;
        for (int i = 0; i < fields.Length; i += 3)
        {
            string name = fields[i], type = fields[i + 1];
            if (type is not ("R" or "I" or "S" or "L"))
            {
                error = $"property \"{name}\" has type \"{type}\"; expected R, I, S or L";
                return false;
            }
            if (!PythonText.TryParseInt(fields[i + 2], out long count) || count < 1 || count > MaxColumns - columns)
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

            // The columns the reader always reads, under ASE's names for them.
            string? fixedRole = name switch
            {
                "species" or "symbols" => "species",
                "Z" or "numbers" => "Z",
                "pos" or "positions" => "pos",
                _ => null,
            };
            if (fixedRole is not null)
            {
                var (expectedType, expectedCount) = fixedRole switch { "species" => ("S", 1), "Z" => ("I", 1), _ => ("R", 3) };
                // Integers are accepted where reals are expected, as numpy converts them.
                if (!(type == expectedType || (expectedType == "R" && type == "I")) || count != expectedCount)
                {
                    field = fixedRole;
                    error = $"column \"{name}\" is {name}:{type}:{count}; expected {name}:{expectedType}:{expectedCount}";
                    return false;
                }
            }
            if (name == "move_mask" && (type != "L" || count is not (1 or 3)))
            {
                // ASE makes FixAtoms of L:1 and FixCartesian of L:3, fails on other counts and misreads other types.
                field = "move_mask";
                error = $"column \"{name}\" is {name}:{type}:{count}; expected move_mask:L:1 or move_mask:L:3";
                return false;
            }

            int g = groups.Count;
            groups.Add((name, type, (int)count, columns));
            columns += (int)count;
            switch (name)
            {
                case "species" or "symbols": species = g; break;
                case "Z" or "numbers": numbers = g; byArrayName["numbers"] = g; break;
                case "pos" or "positions": positions = g; byArrayName["positions"] = g; break;
                case "charge" or "charges": charges = g; byArrayName["initial_charges"] = g; break;
                case "move_mask": moveMask = g; break;
                default:
                    if (name == "initial_charges")
                        initialCharges = g;
                    byArrayName[name] = g;
                    break;
            }
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
        bool chargesClash = charges >= 0 && initialCharges >= 0;

        int forces = -1;
        if (byArrayName.TryGetValue(forcesKey, out int f))
        {
            var (name, type, count, _) = groups[f];
            if (f == positions || f == numbers || f == charges || (chargesClash && f == initialCharges))
            {
                field = forcesKey;
                error = f == positions || f == numbers
                    ? $"key '{forcesKey}' names the {(f == positions ? "positions" : "atomic numbers")}, not forces"
                    : $"column \"{name}\" becomes initial charges, not forces";
                return false;
            }
            if (type is not ("R" or "I") || count != 3)
            {
                field = forcesKey;
                error = $"column \"{name}\" is {name}:{type}:{count}; expected {name}:R:3";
                return false;
            }
            forces = f;
        }
        else if (forcesKey is "positions" or "numbers")
        {
            field = forcesKey;
            error = $"key '{forcesKey}' names the {(forcesKey == "positions" ? "positions" : "atomic numbers")}, not forces";
            return false;
        }

        var table = new ExtxyzColumnRole[columns];
        var columnBuffer = new int[columns];
        Array.Fill(columnBuffer, -1);
        var buffers = new List<ExtxyzKeptColumn>();
        ExtxyzKeptColumn Buffered(string keptName, int g, ExtxyzColumnRole role, bool asFloat = false)
        {
            var (_, type, count, first) = groups[g];
            var column = new ExtxyzKeptColumn(keptName, role, type, count, first, buffers.Count, asFloat);
            for (int c = first; c < first + count; c++)
            {
                table[c] = role;
                columnBuffer[c] = buffers.Count;
            }
            buffers.Add(column);
            return column;
        }

        var kept = new List<ExtxyzKeptColumn>();
        foreach (var name in keepArrays)
        {
            // positions and numbers are in every Atoms, however the file spells them (or derives them from symbols).
            if (name == "positions")
            {
                kept.Add(new ExtxyzKeptColumn(name, ExtxyzColumnRole.PositionX, "R", 3, -1, -1));
                continue;
            }
            if (name == "numbers")
            {
                kept.Add(new ExtxyzKeptColumn(name, ExtxyzColumnRole.AtomicNumber, "I", 1, -1, -1));
                continue;
            }
            if (!byArrayName.TryGetValue(name, out int g))
                continue;
            var (columnName, type, count, _) = groups[g];
            if (g == forces)
            {
                kept.Add(new ExtxyzKeptColumn(name, ExtxyzColumnRole.ForceX, type, 3, -1, -1));
                continue;
            }
            if (g == charges)
            {
                // ASE passes these to Atoms(charges=...), which stores float64 with one value per atom.
                if (chargesClash || type is not ("R" or "I") || count != 1)
                {
                    field = name;
                    error = chargesClash
                        ? $"columns \"{groups[charges].Name}\" and \"initial_charges\" are both initial charges, which ASE refuses"
                        : $"column \"{columnName}\" is {columnName}:{type}:{count}; ASE reads initial charges from R:1 or I:1 only";
                    return false;
                }
                kept.Add(Buffered(name, g, type == "R" ? ExtxyzColumnRole.KeptReal : ExtxyzColumnRole.KeptInteger, asFloat: type == "I"));
                continue;
            }
            if (chargesClash && g == initialCharges)
            {
                field = name;
                error = $"columns \"{groups[charges].Name}\" and \"initial_charges\" are both initial charges, which ASE refuses";
                return false;
            }
            var role = type switch
            {
                "R" => ExtxyzColumnRole.KeptReal,
                "I" => ExtxyzColumnRole.KeptInteger,
                "L" => ExtxyzColumnRole.KeptBool,
                _ => ExtxyzColumnRole.Skip,
            };
            if (role == ExtxyzColumnRole.Skip)
            {
                field = name;
                error = $"column \"{columnName}\" is {columnName}:{type}:{count}, per-atom text, which cannot be stored (numbers and bools only)";
                return false;
            }
            kept.Add(Buffered(name, g, role));
        }
        var mask = moveMask >= 0 ? Buffered("move_mask", moveMask, ExtxyzColumnRole.KeptBool) : null;

        // The roles of the columns read anyway come last: a later spelling of a name overrides an earlier one.
        if (species >= 0) table[groups[species].First] = ExtxyzColumnRole.Species;
        if (numbers >= 0) table[groups[numbers].First] = ExtxyzColumnRole.AtomicNumber;
        for (int k = 0; k < 3; k++)
        {
            table[groups[positions].First + k] = (ExtxyzColumnRole)((int)ExtxyzColumnRole.PositionX + k);
            if (forces >= 0) table[groups[forces].First + k] = (ExtxyzColumnRole)((int)ExtxyzColumnRole.ForceX + k);
        }
        field = "";
        layout = new ExtxyzProperties(text, table, species >= 0, numbers >= 0, forces >= 0, [.. kept], mask, [.. buffers], columnBuffer);
        return true;
    }
}
