using System.Text.RegularExpressions;
using MlffData.Converters.Pickle;
using MlffData.Format;
using MlffData.Python;

namespace MlffData.Converters;

/// <summary>
/// Reads structures through ASE itself, in this process (the embedded CPython): ASE pickles, loaded safely unless the
/// caller opts out (src/MlffData/PythonScripts/safe_pickle.py; a safe load is done natively by
/// <see cref="AsePickleReader"/> when the file holds nothing it does not model, with the same results and messages),
/// and every format <c>ase.io.iread</c> reads (traj, extxyz, cif, POSCAR, db, ...), streamed (ase_frames.py). Labels
/// come from each Atoms' calculator or from the keys in <see cref="SourceKeys"/>; each structure crosses into .NET as
/// a few byte arrays, never one object per atom.
/// </summary>
/// <remarks>
/// The GIL is held for one structure at a time, so other threads may use Python between structures. Errors become
/// <see cref="ConversionException"/>s naming the file, the 0-based structure and the field; the Python traceback is
/// the inner <see cref="PythonException"/>.
/// </remarks>
public static partial class AseReader
{
    /// <summary>
    /// The structures of an ASE pickle (one Atoms, or a list or tuple of them). The pickle is loaded whole (the
    /// format cannot be streamed). A safe load is native (<see cref="AsePickleReader"/>, no Python) unless the file
    /// holds something the native reader does not model; then, and for an unsafe load, Python reads it (started on
    /// first use) and structures are converted one at a time.
    /// </summary>
    /// <param name="path">The pickle file.</param>
    /// <param name="keys">Label keys and extras to keep; null for the defaults.</param>
    /// <param name="allowUnsafe">Use plain <c>pickle.loads</c>, which runs any code the file carries; only for trusted files.</param>
    /// <param name="python">The interpreter to embed (<c>--python</c>), or null to discover one.</param>
    /// <exception cref="ConversionException">The file is no safe ASE pickle, or a structure or label is malformed.</exception>
    /// <exception cref="PythonNotFoundException">No interpreter with ASE was found.</exception>
    public static IEnumerable<SourceFrame> ReadPickle(string path, SourceKeys? keys = null, bool allowUnsafe = false, string? python = null)
    {
        if (allowUnsafe) return ReadPickleWithPython(path, keys, true, python);
        return NativeOrPython(path, keys, python);
    }

    /// <summary>The Python path of <see cref="ReadPickle"/> (safe_pickle.py), whatever the native reader could do.</summary>
    internal static IEnumerable<SourceFrame> ReadPickleWithPython(string path, SourceKeys? keys, bool allowUnsafe, string? python)
    {
        var arguments = Arguments(keys);
        arguments["allow_unsafe"] = allowUnsafe;
        return Stream(path, "safe_pickle", arguments, python, "");
    }

    // The native reader decodes the whole file before the first frame, and makes the frames on a thread of its own
    // while the caller writes the ones before. Something it does not model (PickleNotSupportedException) sends the
    // file to Python: whole when no frame has been given yet, else after the frames given, which are Python's too.
    private static IEnumerable<SourceFrame> NativeOrPython(string path, SourceKeys? keys, string? python)
    {
        int given = 0;
        using (var native = InputReader.ReadAhead(AsePickleReader.Stream(path, keys)).GetEnumerator())
        {
            while (true)
            {
                try
                {
                    if (!native.MoveNext()) yield break;
                }
                catch (PickleNotSupportedException)
                {
                    break;
                }
                yield return native.Current;
                given++;
            }
        }
        foreach (var frame in ReadPickleWithPython(path, keys, false, python).Skip(given))
            yield return frame;
    }

    /// <summary>
    /// The structures of any file ASE reads, streamed with <c>ase.io.iread</c>. Starts Python on first use.
    /// </summary>
    /// <param name="path">The input file.</param>
    /// <param name="format">ASE's format name (e.g. "traj", "vasp", "extxyz"), or null to let ASE tell from the file.</param>
    /// <param name="keys">Label keys and extras to keep; null for the defaults.</param>
    /// <param name="python">The interpreter to embed (<c>--python</c>), or null to discover one.</param>
    /// <exception cref="ConversionException">ASE cannot read the file, or a structure or label is malformed.</exception>
    /// <exception cref="PythonNotFoundException">No interpreter with ASE was found.</exception>
    public static IEnumerable<SourceFrame> Read(string path, string? format = null, SourceKeys? keys = null, string? python = null)
    {
        var arguments = Arguments(keys);
        arguments["format"] = format;
        // When ASE guessed the format, its failure may be a wrong guess: say how to name the format.
        return Stream(path, "ase_frames", arguments, python, format is null ? "; if that is not the file's format, name it with -f (traj, extxyz, vasp, cif, db, ...)" : "");
    }

    private static Dictionary<string, object?> Arguments(SourceKeys? keys)
    {
        keys ??= SourceKeys.Default;
        return new Dictionary<string, object?>
        {
            ["energy_key"] = keys.EnergyKey,
            ["forces_key"] = keys.ForcesKey,
            ["stress_key"] = keys.StressKey,
            ["virials_key"] = keys.VirialsKey,
            ["keep_info"] = keys.KeepInfo,
            ["keep_arrays"] = keys.KeepArrays,
        };
    }

    private static IEnumerable<SourceFrame> Stream(string path, string module, Dictionary<string, object?> arguments, string? python, string hint)
    {
        PythonInterpreter.Get(python);
        var iterator = Open(path, module, arguments, hint);
        try
        {
            for (int index = 0; Next(path, iterator, index, hint) is { } frame; index++)
                yield return frame;
        }
        finally
        {
            iterator.Dispose();
        }
    }

    private static PyObjectHandle Open(string path, string module, Dictionary<string, object?> arguments, string hint)
    {
        using var gil = GilScope.Enter();
        try
        {
            using var frames = PythonModule.FromResource(module).Call("iter_frames", [path], arguments);
            return frames.GetIterator();
        }
        catch (PythonException e)
        {
            throw Translate(path, e, null, hint);
        }
    }

    // One structure under the GIL: the next item of the Python iterator, decoded; null at the end.
    private static SourceFrame? Next(string path, PyObjectHandle iterator, int index, string hint)
    {
        using var gil = GilScope.Enter();
        try
        {
            if (!iterator.TryNext(out var item)) return null;
            using (item) return Decode(path, item, index);
        }
        catch (PythonException e)
        {
            throw Translate(path, e, index, hint);
        }
    }

    private static SourceFrame Decode(string path, PyObjectHandle frame, int index)
    {
        long[] numbers;
        using (var value = frame.GetItem("numbers")) numbers = value.ReadArray<long>();
        var atomicNumbers = new int[numbers.Length];
        for (int i = 0; i < numbers.Length; i++)
        {
            if (numbers[i] is < 0 or > int.MaxValue)
                throw new ConversionException(path, index, "numbers", $"atomic number {numbers[i]} is out of range");
            atomicNumbers[i] = (int)numbers[i];
        }
        var structure = new Structure(atomicNumbers, Doubles(frame, "positions")!, Doubles(frame, "cell")!, Bools(frame, "pbc"));
        double? energy;
        using (var value = frame.GetItem("energy")) energy = value.IsNone ? null : value.AsDouble();
        var extras = new StructureExtras(Extras(path, frame, "info", index), Extras(path, frame, "arrays", index));
        return new SourceFrame(index, 0, structure, energy, Doubles(frame, "forces"), Doubles(frame, "stress"),
            extras.IsEmpty ? null : extras);
    }

    private static double[]? Doubles(PyObjectHandle frame, string key)
    {
        using var value = frame.GetItem(key);
        return value.IsNone ? null : value.ReadArray<double>();
    }

    private static bool[] Bools(PyObjectHandle frame, string key)
    {
        using var value = frame.GetItem(key);
        return value.ReadArray<bool>();
    }

    // {name: (kind, data, row_shape)} as ase_frames.extra encodes it.
    private static Dictionary<string, ExtraValue> Extras(string path, PyObjectHandle frame, string group, int index)
    {
        var result = new Dictionary<string, ExtraValue>(StringComparer.Ordinal);
        using var values = frame.GetItem(group);
        if (values.Length == 0) return result;
        using var names = values.GetIterator();
        while (names.TryNext(out var name))
        {
            using (name)
            using (var encoded = values.GetItem(name.AsString()))
            using (var kind = encoded.GetItem(0))
            using (var data = encoded.GetItem(1))
            using (var shape = encoded.GetItem(2))
            {
                string key = name.AsString();
                var rowShape = new int[shape.Length];
                for (int d = 0; d < rowShape.Length; d++)
                    using (var dimension = shape.GetItem(d)) rowShape[d] = checked((int)dimension.AsLong());
                result[key] = kind.AsString() switch
                {
                    "f" => ExtraValue.FloatRows(data.ReadArray<double>(), rowShape),
                    "i" => ExtraValue.IntegerRows(data.ReadArray<long>(), rowShape),
                    "b" => ExtraValue.BoolRows(data.ReadArray<bool>(), rowShape),
                    "s" => ExtraValue.String(data.AsString()),
                    var other => throw new ConversionException(path, index, $"{group}/{key}", $"unknown extra kind '{other}'"),
                };
            }
        }
        return result;
    }

    /// <summary>A Python error as the user should see it: file, structure, field, and what is wrong.</summary>
    /// <param name="path">The input.</param>
    /// <param name="e">What Python raised.</param>
    /// <param name="index">The structure being read, when known.</param>
    /// <param name="hint">Appended to an error of ASE's own reader.</param>
    internal static ConversionException Translate(string path, PythonException e, int? index, string hint = "")
    {
        switch (e.TypeName)
        {
            // Ours (ase_frames.LabelError, safe_pickle.FrameError): "structure N: FIELD: detail" or "FIELD: detail".
            case "LabelError" or "FrameError" when Ours(path, e.PythonMessage, e) is { } ours:
                return ours;
            case "UnsafePickleError" or "UnpicklingError":
                return new ConversionException(path, null, null, e.PythonMessage, e);
            case "FileNotFoundError" or "PermissionError" or "IsADirectoryError":
                return new ConversionException(path, null, null, e.PythonMessage, e);
            case "UnknownFileTypeError":
                return new ConversionException(path, null, null,
                    $"ASE does not recognise this file ({e.PythonMessage}); name its format with -f (an ASE format such as traj, vasp, cif, db)", e);
            default:
                // ASE's own reader failed on the structure it was reading.
                return new ConversionException(path, index, null, $"ASE cannot read it: {e.Message}{hint}", e);
        }
    }

    /// <summary>
    /// The <see cref="ConversionException"/> a LabelError or FrameError (index, field, detail) raised in Python becomes
    /// through <see cref="Translate"/>, for readers that make the same checks natively; null when Translate would not
    /// parse the message (it then reports it as ASE's own error).
    /// </summary>
    internal static ConversionException? FromLabelError(string path, int? index, string field, string detail, Exception? inner = null)
    {
        return Ours(path, (index is { } i ? $"structure {i}: " : "") + $"{field}: {detail}", inner);
    }

    // "structure N: FIELD: detail" or "FIELD: detail" as a ConversionException; null for another shape.
    private static ConversionException? Ours(string path, string message, Exception? inner)
    {
        if (OurError().Match(message) is not { Success: true } m) return null;
        int? at = m.Groups[1].Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
        return new ConversionException(path, at, m.Groups[2].Value, m.Groups[3].Value, inner);
    }

    [GeneratedRegex(@"^(?:structure (\d+): )?([^:]+): (.*)$", RegexOptions.Singleline)]
    private static partial Regex OurError();
}
