using System.Runtime.CompilerServices;
using System.Text;
using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// Reads extended XYZ files natively, one frame at a time, agreeing with ASE 3.22.1's <c>ase.io.read(..., format="extxyz")</c>
/// as the converter's ASE path (ase_frames.py) sees it: the same atomic numbers, positions (Å), cell (Å), pbc, energy
/// (eV), forces (eV/Å), stress (eV/Å³, Voigt) and extras, bit for bit, under MACE-style label keys (<see cref="SourceKeys"/>).
/// </summary>
/// <remarks>
/// A frame is a line with the atom count N, a comment line of key=value pairs and N atom lines whose columns the
/// Properties key declares. Where ASE guesses or fails obscurely this reader refuses with a
/// <see cref="ConversionException"/> naming file, structure, field and line; see <see cref="ReadFrames"/>.
/// </remarks>
public sealed class ExtxyzReader : IDisposable
{
    /// <summary>The largest atom count accepted; a larger one is taken for a corrupt count line.</summary>
    public const int MaxAtoms = 100_000_000;

    // Frames up to this size get exact arrays at once; larger ones grow as lines arrive, so a corrupt count that
    // passes MaxAtoms costs memory only for the lines that really exist.
    private const int InitialAtomCapacity = 1 << 16;

    // ase_frames.EXTRA_INFO: the FORMAT.md extras always kept, each from the first of its keys a comment line has.
    private static readonly (string Name, string[] Keys)[] ExtraInfo =
    [
        (FormatNames.ConfigType, ["config_type"]),
        (FormatNames.TotalCharge, ["total_charge", "charge"]),
        (FormatNames.TotalSpin, ["total_spin", "spin"]),
        (FormatNames.ConfigWeight, ["config_weight"]),
    ];

    private readonly TextLineReader _lines;
    private readonly string _file;
    private readonly ExtxyzCommentParser _comment;
    private readonly string _energyKey;
    private readonly string _forcesKey;
    private readonly string? _labelKey;       // the explicit stress or virials key, which some structure must have
    private readonly string? _virialsKey;
    private readonly int _energySlot;
    private readonly int _stressSlot;         // of the virials key, the explicit stress key or "stress"
    private readonly int[][] _extraInfoSlots; // per ExtraInfo entry, the slots of its keys in order
    private readonly string[] _keepInfo;
    private readonly int[] _keepInfoSlots;
    private readonly string[] _keepArrays;
    private readonly Dictionary<string, int> _keepArraysIndex;
    private readonly bool[] _keepInfoFound;
    private readonly bool[] _keepArraysFound;
    private bool _labelFound;
    private int _lastIndex = -1;
    private long _lastLine;
    private ExtxyzProperties? _layout;   // the last layout, reused while frames repeat their Properties
    private bool _started;
    private bool _disposed;

    /// <summary>Opens an extxyz file for sequential reading (UTF-8, a byte-order mark is honoured).</summary>
    /// <param name="path">The file; it also names the file in error messages.</param>
    /// <param name="keys">Label keys and extras to keep; null for <see cref="SourceKeys.Default"/>.</param>
    /// <exception cref="ArgumentException">path is empty, or keys lists a null name.</exception>
    /// <exception cref="IOException">The file cannot be opened (FileNotFoundException, ...).</exception>
    public ExtxyzReader(string path, SourceKeys? keys = null)
        : this(OpenFile(path, keys), path, maxLineLength: 1 << 26, keys)
    {
    }

    /// <summary>Reads extxyz text from a reader (a test string, stdin); the reader is disposed with this one.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <param name="keys">Label keys and extras to keep; null for <see cref="SourceKeys.Default"/>.</param>
    /// <exception cref="ArgumentNullException">reader or fileName is null.</exception>
    /// <exception cref="ArgumentException">keys lists a null name.</exception>
    public ExtxyzReader(TextReader reader, string fileName, SourceKeys? keys = null)
        : this(reader, fileName, maxLineLength: 1 << 26, keys)
    {
    }

    /// <summary>As the public reader constructor, with a line-length limit tests can make small.</summary>
    internal ExtxyzReader(TextReader reader, string fileName, int maxLineLength, SourceKeys? keys = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fileName);
        Keys = keys ?? SourceKeys.Default;
        ThrowIfNullNames(Keys);
        _lines = new TextLineReader(reader, maxLineLength: maxLineLength);
        _file = fileName;

        // As ase_frames.py, an empty key counts as none (Python's "if key:").
        _energyKey = NonEmpty(Keys.EnergyKey) ?? "energy";
        _forcesKey = NonEmpty(Keys.ForcesKey) ?? "forces";
        _virialsKey = NonEmpty(Keys.VirialsKey);
        _labelKey = _virialsKey ?? NonEmpty(Keys.StressKey);
        _keepInfo = Keys.KeepInfo.Distinct(StringComparer.Ordinal).ToArray();
        _keepArrays = Keys.KeepArrays.Distinct(StringComparer.Ordinal).ToArray();
        _keepArraysIndex = _keepArrays.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i, StringComparer.Ordinal);
        _keepInfoFound = new bool[_keepInfo.Length];
        _keepArraysFound = new bool[_keepArrays.Length];

        string stressKey = _labelKey ?? "stress";
        _comment = new ExtxyzCommentParser([_energyKey, stressKey, .. ExtraInfo.SelectMany(e => e.Keys), .. _keepInfo]);
        _energySlot = _comment.Slot(_energyKey);
        _stressSlot = _comment.Slot(stressKey);
        _extraInfoSlots = ExtraInfo.Select(e => e.Keys.Select(_comment.Slot).ToArray()).ToArray();
        _keepInfoSlots = _keepInfo.Select(_comment.Slot).ToArray();
    }

    /// <summary>The label keys and extras this reader reads.</summary>
    public SourceKeys Keys { get; }

    /// <summary>
    /// Reads the frames lazily, in file order: only the frame being returned is in memory.
    /// Blank lines at the end of the file are allowed. May be called once.
    /// </summary>
    /// <returns>Each frame with its 0-based index and the 1-based line of its atom count. Energy is the comment key
    /// <see cref="SourceKeys.EnergyKey"/> (default "energy"), Forces the Properties column <see cref="SourceKeys.ForcesKey"/>
    /// (default "forces"); both are null when a frame lacks a default key. Stress comes from <see cref="SourceKeys.VirialsKey"/>
    /// (-virial / volume), else <see cref="SourceKeys.StressKey"/> (6 Voigt or 9 numbers, off-diagonals averaged), else
    /// "stress" (ASE's own reading: 9 numbers in Fortran order, not averaged), and is null unless pbc is T T T. Extras
    /// (null when none): config_type, total_charge (or charge), total_spin (or spin), config_weight, the kept info keys,
    /// "fixed" from a move_mask column, and the kept arrays.</returns>
    /// <exception cref="ConversionException">While enumerating: a frame is malformed (field "atom count", "comment line",
    /// "Lattice", "pbc", "Properties", "species", "Z", "pos", "move_mask", "line", or the label key or extra that is
    /// bad), an explicit energy or forces key is missing from a frame, or, after the last frame, an explicit stress or
    /// virials key or a kept key is in no frame; with the structure index and line number.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    /// <exception cref="InvalidOperationException">ReadFrames was already called.</exception>
    public IEnumerable<SourceFrame> ReadFrames()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started)
            throw new InvalidOperationException("ReadFrames reads the input once; it was already called.");
        _started = true;
        return Enumerate();
    }

    /// <summary>Closes the input.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _lines.Dispose();
    }

    private IEnumerable<SourceFrame> Enumerate()
    {
        for (int index = 0; ; index++)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var frame = ReadFrame(index);
            if (frame is null)
            {
                ThrowIfKeyNeverFound();
                yield break;
            }
            _lastIndex = index;
            _lastLine = frame.Line;
            yield return frame;
        }
    }

    // Reads one frame; null at the end of the input.
    private SourceFrame? ReadFrame(int index)
    {
        if (!NextLine(index, out var countText))
            return null;
        long countLine = _lines.LineNumber;
        if (PythonText.IsBlank(countText))
        {
            // ASE stops at the first blank line where a count should be, silently dropping anything after it.
            // Trailing blank lines are fine; data after them is refused rather than lost.
            while (NextLine(index, out var rest))
            {
                if (!PythonText.IsBlank(rest))
                    throw Error(index, "atom count", _lines.LineNumber,
                        $"blank line {countLine} is followed by more data; expected an atom count or the end of the file");
            }
            return null;
        }
        int count = ParseCount(index, countText, countLine);

        if (!NextLine(index, out var commentLine))
            throw Error(index, "atom count", countLine, $"expected a comment line and {count} atom lines, file ended after the atom count");
        long commentLineNumber = _lines.LineNumber;
        if (_comment.Parse(commentLine) is { } commentError)
            throw Error(index, "comment line", commentLineNumber, commentError);

        var cell = new double[9];
        if (_comment.Lattice is { } lattice)
            ParseNumbers(lattice, cell, index, "Lattice", commentLineNumber);
        var pbc = ParsePbc(index, commentLineNumber);
        var layout = Layout(index, commentLineNumber);

        double? energy = null;
        if (_comment.Value(_energySlot) is { } e)
            energy = ParseEnergy(e, index, commentLineNumber);
        else if (NonEmpty(Keys.EnergyKey) is not null)
            throw Error(index, _energyKey, commentLineNumber, $"key '{_energyKey}' is not on the comment line (Atoms.info)");
        if (!layout.HasForces && NonEmpty(Keys.ForcesKey) is not null)
            throw Error(index, _forcesKey, commentLineNumber, $"key '{_forcesKey}' is not a Properties column (Atoms.arrays)");
        double[]? stress = ReadStress(index, cell, pbc, commentLineNumber);
        var info = ReadInfo(index, commentLineNumber);

        var (numbers, positions, forces, buffers) = ReadAtoms(index, count, countLine, layout);
        var arrays = KeptArrays(layout, numbers, positions, forces, buffers, count);
        var extras = info is null && arrays is null
            ? null
            : new StructureExtras(info ?? StructureExtras.Empty.Info, arrays ?? StructureExtras.Empty.Arrays);
        return new SourceFrame(index, countLine, new Structure(numbers, positions, cell, pbc), energy, forces, stress, extras);
    }

    // ase_frames.frame's stress: from the virials key (-virial / volume, looked at only for a periodic cell), the
    // explicit stress key (6 or 9 numbers, off-diagonals averaged) or ASE's own "stress"; kept only for pbc T T T.
    private double[]? ReadStress(int index, double[] cell, bool[] pbc, long line)
    {
        if (_comment.Value(_stressSlot) is not { } text)
            return null;
        _labelFound = true;
        bool periodic = pbc[0] && pbc[1] && pbc[2];
        if (_virialsKey is { } virialsKey)
        {
            if (!periodic)
                return null;
            var virial = ParseVoigt(text, index, virialsKey, line);
            // ASE's get_volume() refuses a cell with a zero lattice vector.
            int rank = ExtxyzCellVolume.Rank(cell);
            if (rank != 3)
                throw Error(index, virialsKey, line, $"the cell has {rank} nonzero lattice vectors, so no volume to divide the virials by");
            double volume = ExtxyzCellVolume.Volume(cell);
            for (int i = 0; i < 6; i++)
                virial[i] = -virial[i] / volume;
            return virial;
        }
        var stress = _labelKey is { } stressKey ? ParseVoigt(text, index, stressKey, line) : ParseStress(text, index, line);
        return periodic ? stress : null;
    }

    // ase_frames.frame's info: the FORMAT.md extras, then the kept keys (a kept key overrides an extra of its name).
    private Dictionary<string, ExtraValue>? ReadInfo(int index, long line)
    {
        Dictionary<string, ExtraValue>? info = null;
        for (int e = 0; e < ExtraInfo.Length; e++)
        {
            var (name, keys) = ExtraInfo[e];
            var slots = _extraInfoSlots[e];
            for (int k = 0; k < slots.Length; k++)
            {
                if (_comment.Value(slots[k]) is not { } text)
                    continue;
                string key = keys[k];
                var value = ParseInfo(key, text, index, line);
                string error;
                if (name == FormatNames.ConfigType)
                {
                    if (!ExtxyzInfoValue.TryConfigType(value, out var configType, out error))
                        throw Error(index, key, line, error);
                    (info ??= [])[name] = ExtraValue.String(configType);
                }
                else
                {
                    if (!ExtxyzInfoValue.TryFloat(value, out double number, out error))
                        throw Error(index, key, line, error);
                    (info ??= [])[name] = ExtraValue.Float(number);
                }
                break;
            }
        }
        for (int k = 0; k < _keepInfo.Length; k++)
        {
            if (_comment.Value(_keepInfoSlots[k]) is not { } text)
                continue;
            // JSON null is None in Atoms.info, which ase_frames.py takes for absent.
            if (ParseInfo(_keepInfo[k], text, index, line) is { } value)
            {
                (info ??= [])[_keepInfo[k]] = value;
                _keepInfoFound[k] = true;
            }
        }
        return info;
    }

    private ExtraValue? ParseInfo(string key, string text, int index, long line) =>
        ExtxyzInfoValue.TryParse(key, text, out var value, out var error) ? value : throw Error(index, key, line, error);

    // ase_frames.frame's arrays: "fixed" from FixAtoms (ASE makes one of move_mask:L:1; of L:3 it makes FixCartesian,
    // so nothing is fixed), then the kept arrays.
    private Dictionary<string, ExtraValue>? KeptArrays(ExtxyzProperties layout, int[] numbers, double[] positions,
        double[]? forces, Array[] buffers, int count)
    {
        Dictionary<string, ExtraValue>? arrays = null;
        if (layout.MoveMask is { } moveMask)
        {
            var mask = (bool[])buffers[moveMask.Buffer];
            var fixedAtoms = new bool[count];
            if (moveMask.Count == 1)
                for (int i = 0; i < count; i++)
                    fixedAtoms[i] = !mask[i];
            // ASE sets no constraint at all for an empty L:3 mask, but an empty FixAtoms for an empty L:1 mask.
            if (moveMask.Count == 1 || count > 0)
                (arrays ??= [])[FormatNames.Fixed] = ExtraValue.BoolRows(fixedAtoms);
        }
        foreach (var kept in layout.Kept)
        {
            int[] row = kept.Count == 1 ? [] : [kept.Count];
            var value = kept.Role switch
            {
                ExtxyzColumnRole.PositionX => ExtraValue.FloatRows((double[])positions.Clone(), 3),
                ExtxyzColumnRole.AtomicNumber => ExtraValue.IntegerRows(Array.ConvertAll(numbers, z => (long)z)),
                // An I:3 forces column is int32 in Atoms.arrays; its values are integers, held exactly as doubles.
                ExtxyzColumnRole.ForceX when kept.Type == "I" => ExtraValue.IntegerRows(Array.ConvertAll(forces!, f => (long)f), 3),
                ExtxyzColumnRole.ForceX => ExtraValue.FloatRows((double[])forces!.Clone(), 3),
                ExtxyzColumnRole.KeptReal => ExtraValue.FloatRows((double[])buffers[kept.Buffer], row),
                ExtxyzColumnRole.KeptInteger when kept.AsFloat => ExtraValue.FloatRows(Array.ConvertAll((long[])buffers[kept.Buffer], v => (double)v), row),
                ExtxyzColumnRole.KeptInteger => ExtraValue.IntegerRows((long[])buffers[kept.Buffer], row),
                _ => ExtraValue.BoolRows((bool[])buffers[kept.Buffer], row),
            };
            (arrays ??= [])[kept.Name] = value;
            _keepArraysFound[_keepArraysIndex[kept.Name]] = true;
        }
        return arrays;
    }

    // After the last frame: ase_frames.frames refuses a stress, virials or kept key that no structure holds.
    private void ThrowIfKeyNeverFound()
    {
        if (_lastIndex < 0)
            return;
        if (_labelKey is { } label && !_labelFound)
            throw Error(_lastIndex, label, _lastLine, $"key '{label}' is on no structure's comment line (Atoms.info)");
        for (int k = 0; k < _keepInfo.Length; k++)
            if (!_keepInfoFound[k])
                throw Error(_lastIndex, _keepInfo[k], _lastLine, $"key '{_keepInfo[k]}' is on no structure's comment line (Atoms.info)");
        for (int k = 0; k < _keepArrays.Length; k++)
            if (!_keepArraysFound[k])
                throw Error(_lastIndex, _keepArrays[k], _lastLine, $"key '{_keepArrays[k]}' is in no structure's Properties columns (Atoms.arrays)");
    }

    private int ParseCount(int index, ReadOnlySpan<char> text, long line)
    {
        if (!PythonText.TryParseInt(text, out long count))
        {
            // ASE's vec_cell=True writes the cell as "VEC1 x y z" lines after the atoms; we read only Lattice.
            if (PythonText.Strip(text).StartsWith("VEC", StringComparison.Ordinal))
                throw Error(index, "atom count", line, "cell vectors as VEC lines (ASE's vec_cell=True) are not supported; write the cell as Lattice");
            throw Error(index, "atom count", line, $"expected an integer, found \"{Excerpt(text)}\"");
        }
        if (count < 0)
            throw Error(index, "atom count", line, $"{count} is negative");
        if (count > MaxAtoms)
            throw Error(index, "atom count", line, $"\"{Excerpt(PythonText.Strip(text))}\" exceeds the limit of {MaxAtoms} atoms");
        return (int)count;
    }

    // Lattice present and no pbc key means periodic in all three directions; neither means a molecule.
    // A pbc key wins even without a Lattice, as in ASE (which writes pbc for every frame).
    private bool[] ParsePbc(int index, long line)
    {
        if (_comment.Pbc is not { } text)
            return _comment.Lattice is null ? [false, false, false] : [true, true, true];
        Span<bool> flags = stackalloc bool[3];
        int n = 0;
        foreach (var range in ValueTokens(text))
        {
            var token = text.AsSpan(range);
            bool flag;
            if (token is "T" or "True")
                flag = true;
            else if (token is "F" or "False")
                flag = false;
            // ASE turns an all-numeric value into a numpy array, and numpy's bool of a number is "not zero".
            else if (PythonText.TryParseFloat(token, out double number))
                flag = number != 0;
            else
                throw Error(index, "pbc", line, $"\"{Excerpt(text)}\" is not T or F for each of the three axes");
            if (n == 3)
                throw Error(index, "pbc", line, $"\"{Excerpt(text)}\" has more than 3 values");
            flags[n++] = flag;
        }
        return n switch
        {
            1 => [flags[0], flags[0], flags[0]],
            3 => [flags[0], flags[1], flags[2]],
            _ => throw Error(index, "pbc", line, $"\"{Excerpt(text)}\" has {n} values; expected 1 or 3"),
        };
    }

    private ExtxyzProperties Layout(int index, long line)
    {
        var text = _comment.Properties ?? ExtxyzProperties.Default;
        if (_layout is not null && _layout.Text == text)
            return _layout;
        if (!ExtxyzProperties.TryParse(text, _forcesKey, _keepArrays, out var layout, out var field, out var error))
            throw Error(index, field, line, error);
        return _layout = layout!;
    }

    private double ParseEnergy(string text, int index, long line)
    {
        Span<double> value = stackalloc double[1];
        ParseNumbers(text, value, index, _energyKey, line);
        return value[0];
    }

    // ASE reads 9 numbers into a 3 x 3 matrix in Fortran order, s[i, j] = v[i + 3j], and takes
    // [s00, s11, s22, s12, s02, s01] without symmetrising, i.e. v[0], v[4], v[8], v[7], v[6], v[3].
    // Six numbers are taken as Voigt xx yy zz yz xz xy (ASE 3.22.1 itself refuses them).
    private double[] ParseStress(string text, int index, long line)
    {
        int n = CountTokens(text);
        if (n is not (6 or 9))
            throw Error(index, "stress", line, $"has {n} values; expected 9 (3 x 3) or 6 (Voigt xx yy zz yz xz xy)");
        var values = new double[n];
        ParseNumbers(text, values, index, "stress", line);
        return n == 6 ? values : [values[0], values[4], values[8], values[7], values[6], values[3]];
    }

    // ase_frames.voigt of an explicit stress or virials key: 6 numbers as Voigt xx yy zz yz xz xy; 9 as a 3 x 3 matrix m
    // giving [m00, m11, m22, (m12 + m21) / 2, (m02 + m20) / 2, (m01 + m10) / 2]. Whether ASE filled m in Fortran order
    // ("stress", "virial") or not, the averages are the same bits, since a + b == b + a.
    private double[] ParseVoigt(string text, int index, string key, long line)
    {
        int n = CountTokens(text);
        if (n is not (6 or 9))
            throw Error(index, key, line, $"has {n} values; expected 6 (Voigt xx yy zz yz xz xy) or 9 (3 x 3)");
        var v = new double[n];
        ParseNumbers(text, v, index, key, line);
        return n == 6 ? v : [v[0], v[4], v[8], (v[5] + v[7]) / 2, (v[2] + v[6]) / 2, (v[1] + v[3]) / 2];
    }

    // Parses a comment value into exactly destination.Length numbers, split as ASE splits it (on whitespace and commas).
    private void ParseNumbers(string text, Span<double> destination, int index, string field, long line)
    {
        int n = 0;
        foreach (var range in ValueTokens(text))
        {
            if (n == destination.Length)
            {
                n = CountTokens(text);
                break;
            }
            if (!PythonText.TryParseFloat(text.AsSpan(range), out destination[n]))
                throw Error(index, field, line, $"cannot parse \"{Excerpt(text.AsSpan(range))}\" as a number");
            n++;
        }
        if (n != destination.Length)
        {
            string expected = destination.Length == 1 ? "1 number" : $"{destination.Length} numbers";
            throw Error(index, field, line, $"\"{Excerpt(text)}\" has {n} values; expected {expected}");
        }
    }

    private static int CountTokens(string text)
    {
        int n = 0;
        foreach (var _ in ValueTokens(text))
            n++;
        return n;
    }

    private static IEnumerable<Range> ValueTokens(string text) => ExtxyzInfoValue.Tokens(text);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (int[] Numbers, double[] Positions, double[]? Forces, Array[] Buffers) ReadAtoms(int index, int count, long countLine, ExtxyzProperties layout)
    {
        int capacity = Math.Min(count, InitialAtomCapacity);
        var numbers = new int[capacity];
        var positions = new double[3 * capacity];
        var forces = layout.HasForces ? new double[3 * capacity] : null;
        var buffers = new Array[layout.Buffers.Length];
        for (int b = 0; b < buffers.Length; b++)
            buffers[b] = Resize(layout.Buffers[b], null, capacity);
        var roles = layout.Roles;

        for (int atom = 0; atom < count; atom++)
        {
            if (!NextLine(index, out var line))
                throw Error(index, "atom count", countLine, $"expected {count} atom lines after line {countLine + 1}, file ended after {atom}");
            if (atom == capacity)
            {
                capacity = (int)Math.Min(2L * capacity, count);
                Array.Resize(ref numbers, capacity);
                Array.Resize(ref positions, 3 * capacity);
                if (forces is not null)
                    Array.Resize(ref forces, 3 * capacity);
                for (int b = 0; b < buffers.Length; b++)
                    buffers[b] = Resize(layout.Buffers[b], buffers[b], capacity);
            }

            int column = 0, p = 0, symbolNumber = 0;
            while ((p = PythonText.SkipSpace(line, p)) < line.Length)
            {
                var role = column < roles.Length ? roles[column] : ExtxyzColumnRole.Skip;
                switch (role)
                {
                    case ExtxyzColumnRole.Skip:
                        // ASE converts these too; passing over them is part of what makes this reader fast.
                        p = PythonText.TokenEnd(line, p);
                        break;
                    case ExtxyzColumnRole.Species:
                        symbolNumber = ParseSymbol(line, ref p, index, atom, column);
                        break;
                    case ExtxyzColumnRole.AtomicNumber:
                        numbers[atom] = ParseAtomicNumber(line, ref p, index, atom, column);
                        break;
                    case <= ExtxyzColumnRole.PositionZ:
                        positions[3 * atom + (role - ExtxyzColumnRole.PositionX)] = ParseReal(line, ref p, index, "pos", atom, column);
                        break;
                    case <= ExtxyzColumnRole.ForceZ:
                        forces![3 * atom + (role - ExtxyzColumnRole.ForceX)] = ParseReal(line, ref p, index, _forcesKey, atom, column);
                        break;
                    default:
                        ParseKept(line, ref p, index, atom, column, layout, buffers);
                        break;
                }
                column++;
            }
            // ASE zips the values with the columns, ignoring extra values and failing on missing ones; both are refused.
            if (column != roles.Length)
                throw Error(index, "Properties", _lines.LineNumber,
                    $"atom {atom} has {column} columns; Properties={layout.Text} declares {roles.Length}");

            if (!layout.HasNumbers)
                numbers[atom] = symbolNumber;
            else if (layout.HasSpecies && numbers[atom] != symbolNumber)
                // ASE silently lets Z override the symbols; a disagreement means a corrupt file.
                throw Error(index, "Z", _lines.LineNumber,
                    $"atom {atom} has Z {numbers[atom]} but species {ChemicalSymbols.Symbol(symbolNumber)}");
        }
        return (numbers, positions, forces, buffers);
    }

    // A buffer for a kept column, of its element type, resized to hold capacity atoms (new when old is null).
    private static Array Resize(ExtxyzKeptColumn kept, Array? old, int capacity)
    {
        int length = kept.Count * capacity;
        switch (kept.Role)
        {
            case ExtxyzColumnRole.KeptReal:
                var reals = (double[]?)old ?? [];
                Array.Resize(ref reals, length);
                return reals;
            case ExtxyzColumnRole.KeptInteger:
                var integers = (long[]?)old ?? [];
                Array.Resize(ref integers, length);
                return integers;
            default:
                var bools = (bool[]?)old ?? [];
                Array.Resize(ref bools, length);
                return bools;
        }
    }

    // One value of a kept column, parsed as ASE's parse_properties converts it: float(), int() into int32, or T/F/True/False.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ParseKept(ReadOnlySpan<char> line, ref int p, int index, int atom, int column, ExtxyzProperties layout, Array[] buffers)
    {
        int b = layout.ColumnBuffer[column];
        var kept = layout.Buffers[b];
        int at = atom * kept.Count + (column - kept.First);
        if (kept.Role == ExtxyzColumnRole.KeptReal)
        {
            ((double[])buffers[b])[at] = ParseReal(line, ref p, index, kept.Name, atom, column);
            return;
        }
        int end = PythonText.TokenEnd(line, p);
        var token = line[p..end];
        p = end;
        if (kept.Role == ExtxyzColumnRole.KeptInteger)
        {
            if (!PythonText.TryParseInt(token, out long value))
                throw Error(index, kept.Name, _lines.LineNumber, $"atom {atom}, column {column + 1}: cannot parse \"{Excerpt(token)}\" as an integer");
            // numpy stores an I column as int32 and silently wraps a larger value.
            if (value is < int.MinValue or > int.MaxValue)
                throw Error(index, kept.Name, _lines.LineNumber, $"atom {atom}, column {column + 1}: {Excerpt(token)} is outside int32, which ASE would wrap");
            ((long[])buffers[b])[at] = value;
            return;
        }
        // ASE reads anything but these four as False without a word; that hides typos, so it is refused.
        bool? flag = token switch
        {
            "T" or "True" => true,
            "F" or "False" => false,
            _ => null,
        };
        ((bool[])buffers[b])[at] = flag ?? throw Error(index, kept.Name, _lines.LineNumber,
            $"atom {atom}, column {column + 1}: \"{Excerpt(token)}\" is not T, F, True or False");
    }

    private int ParseSymbol(ReadOnlySpan<char> line, ref int p, int index, int atom, int column)
    {
        int end = PythonText.TokenEnd(line, p);
        var token = line[p..end];
        p = end;
        // ASE capitalises symbols (str.capitalize), so "CU" and "cu" are copper; the table itself is case-sensitive.
        Span<char> symbol = stackalloc char[2];
        int z = 0;
        if (token.Length is 1 or 2)
        {
            symbol[0] = char.ToUpperInvariant(token[0]);
            if (token.Length == 2)
                symbol[1] = char.ToLowerInvariant(token[1]);
            ChemicalSymbols.TryGetAtomicNumber(symbol[..token.Length], out z);
        }
        if (z == 0)
            throw Error(index, "species", _lines.LineNumber,
                $"atom {atom}, column {column + 1}: \"{Excerpt(token)}\" is not a chemical symbol of an element 1..{ChemicalSymbols.MaxAtomicNumber}");
        return z;
    }

    private int ParseAtomicNumber(ReadOnlySpan<char> line, ref int p, int index, int atom, int column)
    {
        int end = PythonText.TokenEnd(line, p);
        var token = line[p..end];
        p = end;
        if (!PythonText.TryParseInt(token, out long z) || z < 1 || z > ChemicalSymbols.MaxAtomicNumber)
            throw Error(index, "Z", _lines.LineNumber,
                $"atom {atom}, column {column + 1}: \"{Excerpt(token)}\" is not an atomic number 1..{ChemicalSymbols.MaxAtomicNumber}");
        return (int)z;
    }

    // Parses the number starting at p and moves p past it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double ParseReal(ReadOnlySpan<char> line, ref int p, int index, string field, int atom, int column)
    {
        int length = PythonText.ScanDecimal(line[p..], out double value);
        if (length > 0)
        {
            p += length;
            return value;
        }
        return ParseRealSlow(line, ref p, index, field, atom, column);
    }

    private double ParseRealSlow(ReadOnlySpan<char> line, ref int p, int index, string field, int atom, int column)
    {
        int end = PythonText.TokenEnd(line, p);
        var token = line[p..end];
        p = end;
        if (!PythonText.TryParseFloat(token, out double value))
            throw Error(index, field, _lines.LineNumber, $"atom {atom}, column {column + 1}: cannot parse \"{Excerpt(token)}\" as a number");
        return value;
    }

    private bool NextLine(int index, out ReadOnlySpan<char> line)
    {
        try
        {
            return _lines.TryReadLine(out line);
        }
        catch (InvalidDataException e)
        {
            throw Error(index, "line", _lines.LineNumber + 1, e.Message, e);
        }
    }

    // Checks the keys too, before the file is open: a throw in the constructor after this would leak the stream.
    private static TextReader OpenFile(string path, SourceKeys? keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfNullNames(keys ?? SourceKeys.Default);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read,
            Options = FileOptions.SequentialScan,
            // The StreamReader buffers; a second FileStream buffer would only add a copy.
            BufferSize = 0,
        });
        return new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 20);
    }

    private static void ThrowIfNullNames(SourceKeys keys)
    {
        if (keys.KeepInfo.Any(k => k is null) || keys.KeepArrays.Any(k => k is null))
            throw new ArgumentException("KeepInfo and KeepArrays must not hold null names", nameof(keys));
    }

    private static string? NonEmpty(string? key) => string.IsNullOrEmpty(key) ? null : key;

    private ConversionException Error(int index, string field, long line, string detail, Exception? inner = null) =>
        new(_file, index, field, detail, inner, line);

    // Quotes at most 40 characters of bad input, so a corrupt line cannot flood the message.
    private static string Excerpt(ReadOnlySpan<char> text) =>
        text.Length <= 40 ? text.ToString() : string.Concat(text[..37], "...");
}
