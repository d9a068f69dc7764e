using System.Globalization;
using System.Text.RegularExpressions;
using MlffData.Format;

namespace MlffData.Converters.Pickle;

// ase_frames.frame() of a cleaned structure, then AseReader's decoding of the frame dict.
internal sealed partial class AsePickleFrames
{
    private SourceFrame Frame(CleanAtoms atoms, int index)
    {
        int n = atoms.Count;
        var results = atoms.Results;

        double? energy = null;
        var energyValue = _energyKey is { } ek ? Lookup(atoms, index, ek, false) : results?.GetValueOrDefault("energy");
        if (energyValue is not null) energy = Float(energyValue);

        double[]? forces = null;
        var forcesValue = _forcesKey is { } fk ? Lookup(atoms, index, fk, true) : results?.GetValueOrDefault("forces");
        if (forcesValue is not null)
        {
            var (values, shape) = FloatArray(forcesValue);
            if (shape.Length != 2 || shape[0] != n || shape[1] != 3)
                throw Error(index, _forcesKey ?? "forces", $"has shape {PyValues.TupleRepr(shape)}, expected ({n}, 3)");
            forces = values;
        }

        // Stress is optional per structure; it means something only for a cell periodic on all three axes.
        double[]? stress;
        if (_virialsKey is { } vk)
        {
            var virial = Optional(atoms, vk, false);
            stress = null;
            if (virial is not null && atoms.Periodic)
            {
                var v = Voigt(virial, index, vk);
                // ASE's get_volume() raises for a cell with a zero lattice vector; that message is Python's own.
                if (ExtxyzCellVolume.Rank(atoms.Cell) != 3) throw new PickleNotSupportedException("virials with a cell of rank below 3");
                double volume = ExtxyzCellVolume.Volume(atoms.Cell);
                stress = new double[6];
                for (int i = 0; i < 6; i++) stress[i] = -v[i] / volume;
            }
        }
        else if (_stressKey is { } sk)
        {
            var value = Optional(atoms, sk, false);
            stress = value is null ? null : Voigt(value, index, sk);
        }
        else
        {
            var value = results?.GetValueOrDefault("stress");
            stress = value is null ? null : Voigt(value, index, "stress");
        }
        if (!atoms.Periodic) stress = null;

        var info = new Dictionary<string, ExtraValue>(StringComparer.Ordinal);
        foreach (var (name, keys) in ExtraInfo)
        {
            foreach (string key in keys)
            {
                if (atoms.Info.TryGetValue(key, out var value))
                {
                    info[name] = FixedExtra(value, index, key, name);
                    break;
                }
            }
        }
        foreach (string key in _keepInfo)
            if (Optional(atoms, key, false) is { } value) info[key] = Extra(value, index, key, null);

        var arrays = new Dictionary<string, ExtraValue>(StringComparer.Ordinal);
        if (atoms.Fixed is { } fixedAtoms) arrays[FormatNames.Fixed] = ExtraValue.BoolRows(fixedAtoms);
        foreach (string key in _keepArrays)
            if (Optional(atoms, key, true) is { } value) arrays[key] = Extra(value, index, key, n);

        // AseReader.Decode: atomic numbers must fit the format's int32.
        var atomicNumbers = new int[n];
        for (int i = 0; i < n; i++)
        {
            long z = atoms.Numbers[i];
            if (z is < 0 or > int.MaxValue)
                throw new ConversionException(_path, index, "numbers", $"atomic number {z} is out of range");
            atomicNumbers[i] = (int)z;
        }
        var structure = new Structure(atomicNumbers, atoms.Positions, atoms.Cell, atoms.Pbc);
        var extras = new StructureExtras(info, arrays);
        return new SourceFrame(index, 0, structure, energy, forces, stress, extras.IsEmpty ? null : extras);
    }

    // ase_frames._lookup: Atoms.info (or Atoms.arrays) first, then the calculator's results; an error when in neither.
    private object? Lookup(CleanAtoms atoms, int index, string key, bool perAtom)
    {
        if (perAtom ? atoms.TryGetArray(key, out var value) : atoms.Info.TryGetValue(key, out value)) return value;
        if (atoms.Results is { } results && results.TryGetValue(key, out value)) return value;
        throw Error(index, key, $"key '{key}' is in neither Atoms.{(perAtom ? "arrays" : "info")} nor the calculator's results");
    }

    // ase_frames._optional.
    private static object? Optional(CleanAtoms atoms, string key, bool perAtom)
    {
        if (perAtom ? atoms.TryGetArray(key, out var value) : atoms.Info.TryGetValue(key, out value)) return value;
        return atoms.Results?.GetValueOrDefault(key);
    }

    // Python's float() of a label value.
    private static double Float(object value) => value switch
    {
        double x => x,
        long l => l,
        bool b => b ? 1 : 0,
        NdArray { Size: 1, Kind: 'b' or 'i' or 'u' or 'f' } a => a.ToDoubles()[0],
        _ => throw new PickleNotSupportedException($"float() of a {PyValues.TypeName(value) ?? "value"}"),
    };

    // np.asarray(value, dtype=float): the values in C order and the shape.
    private static (double[] Values, long[] Shape) FloatArray(object value) => value switch
    {
        NdArray { Kind: 'b' or 'i' or 'u' or 'f' } a => (a.ToDoubles(), a.Shape),
        double or long or bool => ([Float(value)], []),
        _ => throw new PickleNotSupportedException($"np.asarray(float) of a {PyValues.TypeName(value) ?? "value"}"),
    };

    // ase_frames.voigt: 6 numbers as Voigt xx yy zz yz xz xy; 9 (3 x 3) with the off-diagonals averaged.
    private double[] Voigt(object value, int index, string field)
    {
        var (v, shape) = FloatArray(value);
        bool nine = shape is [3, 3] or [9];
        if (nine) return [v[0], v[4], v[8], (v[5] + v[7]) / 2, (v[2] + v[6]) / 2, (v[1] + v[3]) / 2];
        if (shape is [6]) return v;
        throw Error(index, field, $"has shape {PyValues.TupleRepr(shape)}, expected 6 or 9 numbers");
    }

    // ase_frames._fixed_extra: config_type as text, total_charge / total_spin / config_weight as one float64.
    private ExtraValue FixedExtra(object? value, int index, string key, string name)
    {
        if (value is NdArray { Ndim: not 0 })
            throw Error(index, key, $"is ndarray, expected one {(name == "config_type" ? "text" : "number")}");
        if (name == "config_type")
            return ExtraValue.String(PyValues.Str(value) ?? throw new PickleNotSupportedException("str() of a 0-d array"));
        return ExtraValue.FloatRows([value switch
        {
            string s => ParseFloat(s, index, key),
            _ => Float(value!),
        }]);
    }

    // Python's float(text): the plain decimal forms are parsed here; text with no digit (that is not inf or nan) is an
    // error worded as ase_frames words it; anything else is left to Python.
    private double ParseFloat(string text, int index, string key)
    {
        if (PlainDecimal().IsMatch(text))
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        string word = text.Trim().TrimStart('+', '-').ToLowerInvariant();
        if (!text.Any(char.IsDigit) && word is not ("inf" or "infinity" or "nan") && PyValues.StrRepr(text) is { } repr)
            throw Error(index, key, $"is {repr}, expected a number");
        throw new PickleNotSupportedException("float() of this text");
    }

    [GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex PlainDecimal();

    // ase_frames.extra: (kind, data, row shape); rows: the atom count for a per-atom array, null for info.
    private ExtraValue Extra(object value, int index, string name, int? rows)
    {
        if (value is string text)
        {
            if (rows is not null) throw Error(index, name, "is text; only per-structure (info) values can be text");
            return ExtraValue.String(text);
        }
        switch (value)
        {
            case bool b: return ExtraValue.BoolRows([b]);
            case long l: return ExtraValue.IntegerRows([l]);
            case double x: return ExtraValue.FloatRows([x]);
        }
        if (value is not NdArray { Kind: 'b' or 'i' or 'u' or 'f' } a)
            throw new PickleNotSupportedException($"an extra of type {PyValues.TypeName(value) ?? "?"}");
        if (a.Size == 0) throw Error(index, name, "is empty");
        long[] shape;
        if (rows is null)
        {
            shape = a.Shape;
        }
        else
        {
            if (a.Ndim == 0 || a.Shape[0] != rows)
                throw Error(index, name, $"has shape {a.ShapeRepr}, expected ({rows}, ...) for {rows} atoms");
            shape = a.Shape[1..];
        }
        var rowShape = shape.Select(d => checked((int)d)).ToArray();
        return a.Kind switch
        {
            'b' => ExtraValue.BoolRows(a.ToBools(), rowShape),
            'f' => ExtraValue.FloatRows(a.ToDoubles(), rowShape),
            _ => ExtraValue.IntegerRows(a.ToInt64s(), rowShape),
        };
    }

    private static string TypeName(object? value) =>
        PyValues.TypeName(value) ?? throw new PickleNotSupportedException("a type name that is not modelled");

    private static string DtypeStr(NdArray a) => a.Dtype.Str;

    // safe_pickle.FrameError / ase_frames.LabelError as AseReader turns them into a ConversionException.
    private ConversionException Error(int? index, string field, string detail) =>
        AseReader.FromLabelError(_path, index, field, detail)
        ?? throw new PickleNotSupportedException($"an error message AseReader would not parse ({field})");
}
