using System.Globalization;

namespace MlffData.Converters.Pickle;

/// <summary>
/// Turns the object a pickle holds into <see cref="SourceFrame"/>s exactly as the Python path does: safe_pickle's
/// atoms_list() and clean() (their checks and FrameError messages), then ase_frames.frames() and frame() under
/// <see cref="SourceKeys"/>, then AseReader's decoding (atomic-number range). Python reports a structure's error
/// after yielding the structures before it; so does this, by returning the frames read and the error that stopped it.
/// </summary>
internal sealed partial class AsePickleFrames
{
    private static readonly (string Name, string[] Keys)[] ExtraInfo =
    [
        ("config_type", ["config_type"]), ("total_charge", ["total_charge", "charge"]),
        ("total_spin", ["total_spin", "spin"]), ("config_weight", ["config_weight"]),
    ];

    private readonly string _path;
    private readonly string? _energyKey, _forcesKey, _stressKey, _virialsKey;
    private readonly IReadOnlyList<string> _keepInfo, _keepArrays;

    /// <summary>A mapper for one file.</summary>
    /// <param name="path">The file, for error messages.</param>
    /// <param name="keys">Label keys and extras to keep.</param>
    public AsePickleFrames(string path, SourceKeys keys)
    {
        _path = path;
        // Python tests the keys for truth: an empty key is no key.
        _energyKey = NullIfEmpty(keys.EnergyKey);
        _forcesKey = NullIfEmpty(keys.ForcesKey);
        _stressKey = NullIfEmpty(keys.StressKey);
        _virialsKey = NullIfEmpty(keys.VirialsKey);
        _keepInfo = keys.KeepInfo;
        _keepArrays = keys.KeepArrays;
    }

    /// <summary>The frames of a loaded pickle, up to the first error, and that error (null when none).</summary>
    /// <exception cref="PickleNotSupportedException">A value whose handling by Python is not modelled.</exception>
    public (List<SourceFrame> Frames, ConversionException? Error) Read(object? root)
    {
        var frames = new List<SourceFrame>();
        try
        {
            foreach (var frame in Frames(root))
                frames.Add(frame);
            return (frames, null);
        }
        catch (ConversionException e)
        {
            return (frames, e);
        }
    }

    /// <summary>
    /// The frames of a loaded pickle, each made when it is asked for; the first error is thrown after the frames
    /// before it, as Python's generator raises it.
    /// </summary>
    /// <exception cref="ConversionException">A structure or label is malformed.</exception>
    /// <exception cref="PickleNotSupportedException">A value whose handling by Python is not modelled.</exception>
    public IEnumerable<SourceFrame> Frames(object? root)
    {
        var structures = AtomsList(root);
        string? label = _virialsKey ?? _stressKey;
        var wanted = new List<string>();
        foreach (string? k in (string?[])[label, .. _keepInfo])
            if (!string.IsNullOrEmpty(k) && !wanted.Contains(k)) wanted.Add(k);
        var wantedArrays = _keepArrays.Distinct(StringComparer.Ordinal).ToList();
        var found = new HashSet<string>(StringComparer.Ordinal);
        var foundArrays = new HashSet<string>(StringComparer.Ordinal);
        for (int index = 0; index < structures.Count; index++)
        {
            var atoms = Clean(structures[index], index);
            foreach (string key in wanted)
                if (!found.Contains(key) && Optional(atoms, key, false) is not null) found.Add(key);
            foreach (string key in wantedArrays)
                if (!foundArrays.Contains(key) && Optional(atoms, key, true) is not null) foundArrays.Add(key);
            yield return Frame(atoms, index);
        }
        int last = structures.Count - 1;
        if (last >= 0)
        {
            foreach (string key in wanted)
                if (!found.Contains(key)) throw Error(last, key, $"key '{key}' is in no structure's Atoms.info or calculator results");
            foreach (string key in wantedArrays)
                if (!foundArrays.Contains(key)) throw Error(last, key, $"key '{key}' is in no structure's Atoms.arrays or calculator results");
        }
    }

    private static string? NullIfEmpty(string? key) => string.IsNullOrEmpty(key) ? null : key;

    // ---- safe_pickle.atoms_list and clean ----

    private List<PyInstance> AtomsList(object? root)
    {
        if (root is PyInstance { Class: PyGlobalKind.Atoms } single) return [single];
        if (root is List<object?> or PyTuple)
        {
            var items = root is PyTuple t ? t.Items : ((List<object?>)root).ToArray();
            var result = new List<PyInstance>(items.Length);
            for (int i = 0; i < items.Length; i++)
            {
                if (items[i] is not PyInstance { Class: PyGlobalKind.Atoms } atoms)
                    throw Error(i, "atoms", $"is a {TypeName(items[i])}, expected ase.Atoms");
                result.Add(atoms);
            }
            return result;
        }
        throw Error(0, "atoms", $"the pickle holds a {TypeName(root)}, expected an ase.Atoms or a list of them");
    }

    private CleanAtoms Clean(PyInstance loaded, int index)
    {
        var d = loaded.State!;
        if (d.Get("arrays") is not PyDict arrays) throw Error(index, "arrays", "missing");
        var numbers = CheckedArray(arrays.Get("numbers"), index, "numbers", "iu", [null]);
        int n = checked((int)numbers.Shape[0]);
        var positions = CheckedArray(arrays.Get("positions"), index, "positions", "fiu", [n, 3]);
        if (d.Get("_cellobj") is not PyInstance { Class: PyGlobalKind.Cell } cellObject) throw Error(index, "cell", "missing");
        var cell = CheckedArray(cellObject.State!.Get("array"), index, "cell", "fiu", [3, 3]);
        var pbc = CheckedArray(d.Get("_pbc"), index, "pbc", "b", [3]);
        var atoms = new CleanAtoms { Numbers = numbers.ToInt64s(), Positions = positions.ToDoubles(), Cell = cell.ToDoubles(), Pbc = pbc.ToBools() };

        foreach (var (key, value) in arrays.Items)
            if (key is not ("numbers" or "positions") && Plain(value) is NdArray { Ndim: >= 1 } a && a.Shape[0] == n)
                atoms.Arrays[key] = a;
        if (d.Get("info") is PyDict info)
            foreach (var (key, value) in info.Items)
                if (Plain(value) is { } plain) atoms.Info[key] = plain;

        if (d.Get("_calc") is { } calc)
        {
            if (calc is not PyInstance { Class: PyGlobalKind.SinglePointCalculator } spc)
                throw Error(index, "calc", $"is a {TypeName(calc)}, expected a SinglePointCalculator");
            if (spc.State!.Get("results") is not PyDict results) throw Error(index, "calc", "has no results");
            var checkedResults = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, value) in results.Items)
            {
                if (value is null) continue;
                if (key == "energy") checkedResults[key] = Number(value, index, "energy");
                else if (key == "forces") checkedResults[key] = CheckedArray(value, index, "forces", "fiu", [n, 3]);
                else if (key == "stress") checkedResults[key] = CheckedArray(value, index, "stress", "fiu", value is NdArray { Ndim: 2 } ? [3, 3] : [6]);
                else if (Plain(value) is { } plain) checkedResults[key] = plain;
            }
            atoms.Results = checkedResults;
        }

        var constraints = d.Get("_constraints");
        if (Truthy(constraints))
        {
            if (constraints is not List<object?> list) throw Error(index, "constraints", $"is a {TypeName(constraints)}, expected a list");
            var fixedAtoms = new bool[n];
            foreach (var c in list)
            {
                if (c is not PyInstance { Class: PyGlobalKind.FixAtoms } fix)
                    throw Error(index, "constraints", $"holds a {TypeName(c)}; only FixAtoms is read");
                var indices = CheckedArray(fix.State!.Get("index"), index, "constraints", "iub", [null]);
                if (indices.Kind == 'b')
                {
                    if (indices.Size != n) throw Error(index, "constraints", $"FixAtoms mask of {indices.Size} for {n} atoms");
                    var mask = indices.ToBools();
                    for (int i = 0; i < n; i++) fixedAtoms[i] |= mask[i];
                }
                else
                {
                    var values = indices.ToInt64s();
                    bool unsigned = indices.Kind == 'u';
                    // numpy compares uint64 as unsigned: a wrapped value is out of range at the top, not below 0.
                    if (values.Any(v => unsigned ? (ulong)v >= (ulong)n : v < 0 || v >= n))
                        throw Error(index, "constraints", $"FixAtoms index out of range for {n} atoms");
                    foreach (long v in values) fixedAtoms[v] = true;
                }
            }
            atoms.Fixed = fixedAtoms;
        }
        return atoms;
    }

    // safe_pickle._array: a plain numeric array of one of the kinds and the shape (null: any length).
    private NdArray CheckedArray(object? value, int index, string field, string kinds, int?[] shape)
    {
        if (value is not NdArray a || !kinds.Contains(a.Kind))
            throw Error(index, field, $"is {(value is NdArray other ? DtypeStr(other) : TypeName(value))}, expected a numeric array");
        bool matches = a.Ndim == shape.Length;
        for (int i = 0; matches && i < shape.Length; i++) matches = shape[i] is not { } s || s == a.Shape[i];
        if (!matches)
        {
            string expected = shape.Length == 1
                ? $"({(shape[0] is { } s0 ? s0.ToString(CultureInfo.InvariantCulture) : "'n'")},)"
                : $"({string.Join(", ", shape.Select(s => s is { } v ? v.ToString(CultureInfo.InvariantCulture) : "'n'"))})";
            throw Error(index, field, $"has shape {a.ShapeRepr}, expected {expected}");
        }
        return a;
    }

    // safe_pickle._number.
    private double Number(object? value, int index, string field) => value switch
    {
        long l => l,
        double x => x,
        NpScalar { Dtype.Kind: 'i' or 'u' or 'f' } s => ScalarAsDouble(s),
        _ => throw Error(index, field, $"is {TypeName(value)}, expected a number"),
    };

    private static double ScalarAsDouble(NpScalar s) =>
        s.Dtype.Kind == 'f' ? s.Value.FirstAsDouble() : s.Value.ToDoubles()[0];

    // safe_pickle._plain: a copy of plain data (text, number, bool, numeric array); null for anything else.
    private static object? Plain(object? value) => value switch
    {
        string or bool or long or double => value,
        NpScalar { Dtype.Kind: 'b' } s => s.Value.FirstAsInt64() != 0,
        NpScalar { Dtype.Kind: 'i' } s => s.Value.FirstAsInt64(),
        NpScalar { Dtype.Kind: 'u', Dtype.ItemSize: 8 } s when s.Value.FirstAsInt64() < 0 =>
            throw new PickleNotSupportedException("a uint64 scalar above the int64 range"),
        NpScalar { Dtype.Kind: 'u' } s => s.Value.FirstAsInt64(),
        NpScalar { Dtype.Kind: 'f' } s => s.Value.FirstAsDouble(),
        NpScalar => null,
        NdArray { Kind: 'b' or 'i' or 'u' or 'f' } a => a,
        List<object?> list => SequenceArray(list.ToArray()),
        PyTuple t => SequenceArray(t.Items),
        _ => null,
    };

    // np.array(list) for the lists an info value holds: numbers (or rows of numbers) give a numeric array; text or None
    // give a text or object array, which is not plain. Other mixtures are not modelled.
    private static NdArray? SequenceArray(object?[] items)
    {
        if (items.Length == 0) return NdArray.FromValues('f', [], [0]);
        if (items.All(IsNumber)) return NdArray.FromValues(KindOf(items), items, [items.Length]);
        if (items.All(i => i is List<object?> or PyTuple))
        {
            var rows = items.Select(i => i is PyTuple t ? t.Items : ((List<object?>)i!).ToArray()).ToArray();
            int width = rows[0].Length;
            if (width > 0 && rows.All(r => r.Length == width && r.All(IsNumber)))
            {
                var flat = rows.SelectMany(r => r).ToArray();
                return NdArray.FromValues(KindOf(flat), flat, [rows.Length, width]);
            }
        }
        else if (items.All(i => i is null or string || IsNumber(i)))
        {
            return null;
        }
        throw new PickleNotSupportedException("a list whose numpy conversion is not modelled");
    }

    private static bool IsNumber(object? v) => v is bool or long or double;

    private static char KindOf(object?[] items) =>
        items.All(i => i is bool) ? 'b' : items.Any(i => i is double) ? 'f' : 'i';

    private static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double x => x != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Length > 0,
        PyDict d => d.Items.Count > 0,
        PyBytes b => b.Data.Length > 0,
        PySet s => s.Count > 0,
        PyInstance { Class: PyGlobalKind.Parameters } p => p.Items.Items.Count > 0,
        PyInstance { Class: PyGlobalKind.FixAtoms or PyGlobalKind.SinglePointCalculator or PyGlobalKind.Object } => true,
        PyGlobal or PyBoundMethod => true,
        _ => throw new PickleNotSupportedException($"the truth value of a {PyValues.TypeName(value) ?? "value"}"),
    };
}
