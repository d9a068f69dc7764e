namespace MlffData.Converters.Pickle;

// safe_pickle.labels(): a labels pickle (a dict with energies, forces and optionally stresses, or a tuple or list
// (energies, forces[, stresses])), checked and converted as Python does it.
internal sealed partial class AsePickleFrames
{
    /// <summary>The energies (eV), forces (eV/Å, n x 3 row-major) and stresses (Voigt, eV/Å³, or null per structure;
    /// null when the file has none) of a loaded labels pickle.</summary>
    /// <exception cref="ConversionException">The object is not a labels pickle (safe_pickle.labels' messages).</exception>
    /// <exception cref="PickleNotSupportedException">A value whose handling by Python is not modelled.</exception>
    public (double[] Energies, double[][] Forces, double[]?[]? Stresses) ReadLabels(object? root)
    {
        object? energies, forces, stresses;
        if (root is PyDict dict)
        {
            foreach (string key in (string[])["energies", "forces"])
            {
                if (!dict.Items.Any(e => e.Key == key))
                {
                    var names = dict.Items.Select(e => e.Key).Order(StringComparer.Ordinal)
                        .Select(k => PyValues.StrRepr(k) ?? throw new PickleNotSupportedException("a labels key whose repr is not modelled"));
                    throw Error(null, key, $"missing: the labels dict has [{string.Join(", ", names)}], expected energies, forces and optionally stresses");
                }
            }
            (energies, forces, stresses) = (dict.Get("energies"), dict.Get("forces"), dict.Get("stresses"));
        }
        else if (root is PyTuple or List<object?> && Items(root) is { Length: 2 or 3 } items)
        {
            (energies, forces, stresses) = (items[0], items[1], items.Length == 3 ? items[2] : null);
        }
        else
        {
            throw Error(null, "labels", $"the pickle holds a {TypeName(root)}, expected a dict with energies, forces[, stresses] or a tuple (energies, forces[, stresses])");
        }

        var energyValues = PerStructure(energies, "energies");
        var outEnergies = new double[energyValues.Length];
        for (int i = 0; i < outEnergies.Length; i++)
        {
            var e = energyValues[i] is NdArray { Ndim: 0 } zero ? Item(zero) : energyValues[i];
            outEnergies[i] = Number(e, i, "energies");
        }

        var forceValues = PerStructure(forces, "forces");
        var outForces = new double[forceValues.Length][];
        for (int i = 0; i < outForces.Length; i++)
        {
            var f = Plain(forceValues[i]);
            if (f is not NdArray { Ndim: 2 } a || a.Shape[1] != 3)
                throw Error(i, "forces", $"has shape {(f is NdArray other ? other.ShapeRepr : "None")}, expected (n, 3) numbers");
            outForces[i] = a.ToDoubles();
        }

        double[]?[]? outStresses = null;
        if (stresses is not null)
        {
            var stressValues = PerStructure(stresses, "stresses");
            outStresses = new double[]?[stressValues.Length];
            for (int i = 0; i < outStresses.Length; i++)
            {
                var s = stressValues[i] is null ? null : Plain(stressValues[i]);
                outStresses[i] = s is null ? null : Voigt(s, i, "stresses");
            }
        }
        return (outEnergies, outForces, outStresses);
    }

    private static object?[]? Items(object? value) => value switch
    {
        PyTuple t => t.Items,
        List<object?> l => l.ToArray(),
        _ => null,
    };

    // safe_pickle._per_structure: a list or tuple, or an array's rows (numpy scalars for a 1-D array).
    private object?[] PerStructure(object? value, string field)
    {
        if (Items(value) is { } items) return items;
        if (value is NdArray { Ndim: >= 1 } a) return Rows(a);
        throw Error(null, field, $"is {TypeName(value)}, expected a list or an array with one entry per structure");
    }

    // list(a): the rows of a C-order array (numpy scalars for a 1-D one), sharing its data.
    private static object?[] Rows(NdArray a)
    {
        if (a.Kind == 'O' || (a.Fortran && a.Ndim > 1)) throw new PickleNotSupportedException("the rows of an object or Fortran-order array");
        int rows = checked((int)a.Shape[0]);
        var result = new object?[rows];
        if (rows == 0) return result;
        int rowBytes = a.Data.Length / rows;
        for (int r = 0; r < rows; r++)
        {
            var row = NdArray.Row(a, a.Data.Slice(r * rowBytes, rowBytes));
            result[r] = a.Ndim == 1 ? new NpScalar(row) : row;
        }
        return result;
    }

    // e.item() of a 0-d array: the Python scalar.
    private static object? Item(NdArray a) => a.Kind is 'b' or 'i' or 'u' or 'f'
        ? Plain(new NpScalar(a))
        : throw new PickleNotSupportedException($"item() of a {a.Dtype.Str} array");
}
