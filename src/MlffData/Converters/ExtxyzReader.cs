using System.Runtime.CompilerServices;
using System.Text;
using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// Reads extended XYZ files natively, one frame at a time, agreeing with ASE 3.22.1's <c>ase.io.read(..., format="extxyz")</c>:
/// the same atomic numbers, positions (Å), cell (Å), pbc, energy (eV), forces (eV/Å) and stress (eV/Å³, Voigt), bit for bit.
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

    private readonly TextLineReader _lines;
    private readonly string _file;
    private readonly ExtxyzCommentParser _comment = new();
    private ExtxyzProperties? _layout;   // the last layout, reused while frames repeat their Properties
    private bool _started;
    private bool _disposed;

    /// <summary>Opens an extxyz file for sequential reading (UTF-8, a byte-order mark is honoured).</summary>
    /// <param name="path">The file; it also names the file in error messages.</param>
    /// <exception cref="ArgumentException">path is empty.</exception>
    /// <exception cref="IOException">The file cannot be opened (FileNotFoundException, ...).</exception>
    public ExtxyzReader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read,
            Options = FileOptions.SequentialScan,
            // The StreamReader buffers; a second FileStream buffer would only add a copy.
            BufferSize = 0,
        });
        _lines = new TextLineReader(new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 20));
        _file = path;
    }

    /// <summary>Reads extxyz text from a reader (a test string, stdin); the reader is disposed with this one.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <exception cref="ArgumentNullException">reader or fileName is null.</exception>
    public ExtxyzReader(TextReader reader, string fileName)
        : this(reader, fileName, maxLineLength: 1 << 26)
    {
    }

    /// <summary>As the public reader constructor, with a line-length limit tests can make small.</summary>
    internal ExtxyzReader(TextReader reader, string fileName, int maxLineLength)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fileName);
        _lines = new TextLineReader(reader, maxLineLength: maxLineLength);
        _file = fileName;
    }

    /// <summary>
    /// Reads the frames lazily, in file order: only the frame being returned is in memory.
    /// Blank lines at the end of the file are allowed. May be called once.
    /// </summary>
    /// <returns>Each frame with its 0-based index and the 1-based line of its atom count; Energy, Forces and Stress are
    /// null when the frame has no energy key, no forces column or no stress key.</returns>
    /// <exception cref="ConversionException">While enumerating: a frame is malformed (field "atom count", "comment line",
    /// "Lattice", "pbc", "Properties", "species", "Z", "pos", "forces", "energy", "stress" or "line"), with the structure
    /// index and line number.</exception>
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
                yield break;
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
        double? energy = _comment.Energy is { } e ? ParseEnergy(e, index, commentLineNumber) : null;
        double[]? stress = _comment.Stress is { } s ? ParseStress(s, index, commentLineNumber) : null;

        var (numbers, positions, forces) = ReadAtoms(index, count, countLine, layout);
        return new SourceFrame(index, countLine, new Structure(numbers, positions, cell, pbc), energy, forces, stress);
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
        if (!ExtxyzProperties.TryParse(text, out var layout, out var field, out var error))
            throw Error(index, field, line, error);
        return _layout = layout!;
    }

    private double ParseEnergy(string text, int index, long line)
    {
        Span<double> value = stackalloc double[1];
        ParseNumbers(text, value, index, "energy", line);
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

    // The pieces of a comment value as ASE's re.findall(r'[^\s,]+', value) finds them.
    private static IEnumerable<Range> ValueTokens(string text)
    {
        int i = 0;
        while (true)
        {
            while (i < text.Length && (text[i] == ',' || PythonText.IsSpace(text[i]))) i++;
            if (i == text.Length)
                yield break;
            int start = i;
            while (i < text.Length && text[i] != ',' && !PythonText.IsSpace(text[i])) i++;
            yield return start..i;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (int[] Numbers, double[] Positions, double[]? Forces) ReadAtoms(int index, int count, long countLine, ExtxyzProperties layout)
    {
        int capacity = Math.Min(count, InitialAtomCapacity);
        var numbers = new int[capacity];
        var positions = new double[3 * capacity];
        var forces = layout.HasForces ? new double[3 * capacity] : null;
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
                    default:
                        forces![3 * atom + (role - ExtxyzColumnRole.ForceX)] = ParseReal(line, ref p, index, "forces", atom, column);
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
        return (numbers, positions, forces);
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
        int length = PythonText.ScanShortDecimal(line[p..], out double value);
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

    private ConversionException Error(int index, string field, long line, string detail, Exception? inner = null) =>
        new(_file, index, field, detail, inner, line);

    // Quotes at most 40 characters of bad input, so a corrupt line cannot flood the message.
    private static string Excerpt(ReadOnlySpan<char> text) =>
        text.Length <= 40 ? text.ToString() : string.Concat(text[..37], "...");
}
