using System.Globalization;
using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// Writes labelled structures as extended XYZ that ASE 3.22's <c>ase.io.read</c> reads back to the same atomic
/// numbers, positions (Å), cell (Å), pbc, energy (eV), forces (eV/Å) and stress (eV/Å³), bit for bit; so does
/// <see cref="ExtxyzReader"/>.
/// </summary>
/// <remarks>
/// <para>Each number is written in its shortest round-trip form, which Python's <c>float()</c> and numpy parse to the
/// same double; ASE's own writer uses <c>%16.8f</c> and loses bits. Forces stored as float32 come out as the exact
/// double of that float32.</para>
/// <para>The comment line holds <c>Lattice</c> (9 numbers, row i = lattice vector i) when the cell is not all zeros,
/// <c>Properties=species:S:1:pos:R:3:forces:R:3</c>, <c>energy</c>, <c>stress</c> when present and <c>pbc</c>.
/// Without a key prefix, stress is the full symmetric 3 x 3 tensor (9 numbers), the only form ASE 3.22 accepts for
/// the key <c>stress</c>; it attaches energy, forces and stress to a SinglePointCalculator, so <c>get_stress()</c>
/// gives our Voigt numbers. With a prefix such as <c>REF_</c> the labels become <c>REF_energy</c>,
/// <c>REF_forces</c> and <c>REF_stress</c> (6 Voigt numbers), which ASE leaves in <c>atoms.info</c> and
/// <c>atoms.arrays</c>, where MACE's trainer looks for them.</para>
/// </remarks>
public sealed class ExtxyzWriter : IDisposable
{
    // The longest shortest-round-trip double, "-2.2250738585072014E-308", is 24 characters; ".0" may be added.
    private const int MaxNumberLength = 32;

    private readonly TextWriter _writer;
    private readonly string _properties;
    private readonly string _energyKey;
    private readonly string _stressKey;
    private bool _disposed;

    /// <summary>Writes to a text writer, which is disposed with this one.</summary>
    /// <param name="writer">The output; lines end with "\n" whatever the platform.</param>
    /// <param name="keyPrefix">Prefix of the label keys (e.g. "REF_" gives REF_energy, REF_forces, REF_stress); null or
    /// empty for ASE's own energy, forces and stress.</param>
    /// <exception cref="ArgumentNullException">writer is null.</exception>
    /// <exception cref="ArgumentException">keyPrefix holds a character other than an ASCII letter, digit or '_'.</exception>
    public ExtxyzWriter(TextWriter writer, string? keyPrefix = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        keyPrefix ??= "";
        if (!IsValidKeyPrefix(keyPrefix))
            throw new ArgumentException($"key prefix \"{keyPrefix}\" may hold only ASCII letters, digits and '_'", nameof(keyPrefix));
        _writer = writer;
        KeyPrefix = keyPrefix;
        _properties = $"Properties=species:S:1:pos:R:3:{keyPrefix}forces:R:3";
        _energyKey = $"{keyPrefix}energy=";
        _stressKey = $"{keyPrefix}stress=\"";
    }

    /// <summary>The prefix of the label keys; empty for ASE's own keys.</summary>
    public string KeyPrefix { get; }

    /// <summary>Structures written so far.</summary>
    public long Count { get; private set; }

    /// <summary>Atoms written so far.</summary>
    public long NumAtoms { get; private set; }

    /// <summary>Whether a key prefix is accepted: empty, or ASCII letters, digits and '_' only.</summary>
    public static bool IsValidKeyPrefix(string? keyPrefix)
    {
        // The prefix ends up unquoted in a key and in a Properties column name, where whitespace, '=', quotes,
        // brackets, backslashes and ':' would change how ASE splits the line.
        foreach (char c in keyPrefix ?? "")
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
                return false;
        return true;
    }

    /// <summary>Writes one structure with its labels as one frame.</summary>
    /// <exception cref="ValidationException">An array has the wrong length or an atomic number is not 1..118; its
    /// <see cref="ValidationException.StructureIndex"/> is <see cref="Count"/>. Nothing of the frame is written.</exception>
    /// <exception cref="IOException">The output cannot be written.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    public void Write(LabelledStructure item)
    {
        ArgumentNullException.ThrowIfNull(item);
        Write(item.Structure, item.Labels);
    }

    /// <inheritdoc cref="Write(LabelledStructure)"/>
    public void Write(Structure structure, Labels labels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(structure);
        ArgumentNullException.ThrowIfNull(labels);
        StructureValidator.CheckShapes(Count, structure, labels.Forces, labels.Stress);
        foreach (int z in structure.AtomicNumbers)
            if (z is < 1 or > ChemicalSymbols.MaxAtomicNumber)
                throw new ValidationException(Count, "atomic_numbers", $"Atomic number {z} is not an element 1..{ChemicalSymbols.MaxAtomicNumber}");

        int n = structure.NumAtoms;
        _writer.Write(n.ToString(CultureInfo.InvariantCulture));
        _writer.Write('\n');
        WriteComment(structure, labels);
        var positions = structure.Positions;
        var forces = labels.Forces;
        for (int atom = 0; atom < n; atom++)
        {
            _writer.Write(ChemicalSymbols.Symbol(structure.AtomicNumbers[atom]));
            for (int k = 3 * atom; k < 3 * atom + 3; k++)
                WriteNumber(' ', positions[k]);
            for (int k = 3 * atom; k < 3 * atom + 3; k++)
                WriteNumber(' ', forces[k]);
            _writer.Write('\n');
        }
        Count++;
        NumAtoms += n;
    }

    /// <summary>Flushes the text writer.</summary>
    /// <exception cref="IOException">The output cannot be written.</exception>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer.Flush();
    }

    /// <summary>Disposes the text writer, which flushes it.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _writer.Dispose();
    }

    private void WriteComment(Structure structure, Labels labels)
    {
        // No Lattice gives ASE a zero cell; writing zeros would give the same, but ASE's writer leaves them out too.
        if (structure.Cell.AsSpan().ContainsAnyExcept(0.0))
        {
            _writer.Write("Lattice=\"");
            WriteNumbers(structure.Cell);
            _writer.Write("\" ");
        }
        _writer.Write(_properties);
        _writer.Write(' ');
        _writer.Write(_energyKey);
        WriteNumber(null, labels.Energy);
        if (labels.Stress is { } stress)
        {
            Span<double> voigt = stackalloc double[6];
            // A 9-number stress becomes what HDF5DatasetWriter would store for it, so both outputs agree.
            StructureValidator.ToVoigt(stress, voigt);
            _writer.Write(' ');
            _writer.Write(_stressKey);
            if (KeyPrefix.Length == 0)
            {
                // ASE 3.22 refuses a "stress" that is not 9 numbers. It reshapes them in Fortran order and takes
                // [s00, s11, s22, s12, s02, s01]; the tensor is symmetric, so the order of the pairs does not matter.
                Span<double> tensor = [voigt[0], voigt[5], voigt[4], voigt[5], voigt[1], voigt[3], voigt[4], voigt[3], voigt[2]];
                WriteNumbers(tensor);
            }
            else
            {
                // MACE turns a (6,) or (3, 3) array into a matrix, but not the flat (9,) that ASE makes of 9 numbers
                // under any key other than "stress", so a prefixed stress stays in Voigt form.
                WriteNumbers(voigt);
            }
            _writer.Write('"');
        }
        _writer.Write(" pbc=\"");
        for (int axis = 0; axis < 3; axis++)
        {
            if (axis > 0)
                _writer.Write(' ');
            _writer.Write(structure.Pbc[axis] ? 'T' : 'F');
        }
        _writer.Write("\"\n");
    }

    private void WriteNumbers(ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            WriteNumber(i == 0 ? null : ' ', values[i]);
    }

    private void WriteNumber(char? separator, double value)
    {
        if (separator is { } c)
            _writer.Write(c);
        Span<char> buffer = stackalloc char[MaxNumberLength];
        _writer.Write(Format(value, buffer));
    }

    /// <summary>
    /// Formats a double as the shortest text that parses back to it (Python's <c>float()</c>, numpy and .NET agree),
    /// always with a '.' or an exponent, and non-finite values as Python spells them.
    /// </summary>
    internal static ReadOnlySpan<char> Format(double value, Span<char> buffer)
    {
        if (double.IsNaN(value))
            return double.IsNegative(value) ? "-nan" : "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (!value.TryFormat(buffer, out int length, "R", CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"{MaxNumberLength} characters do not hold the double {value:R}");
        // ASE tries numpy's int parse first, so a comment value "5" would come back as an integer, not a float.
        if (buffer[..length].IndexOfAny('.', 'E') < 0)
        {
            buffer[length++] = '.';
            buffer[length++] = '0';
        }
        return buffer[..length];
    }
}
