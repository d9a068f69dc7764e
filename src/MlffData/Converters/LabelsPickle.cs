using MlffData.Converters.Pickle;
using MlffData.Python;

namespace MlffData.Converters;

/// <summary>
/// Labels kept apart from the structures, as the seed's converter took them (<c>-l labels.pkl</c>): a pickle of a dict
/// with "energies", "forces" and optionally "stresses", or of a tuple (energies, forces[, stresses]), one entry per
/// structure in the structures' order. Loaded with the same safe reader as structure pickles (native, or Python's
/// safe_pickle.py for what the native reader does not model).
/// </summary>
public sealed class LabelsPickle
{
    private readonly double[] _energies;
    private readonly double[][] _forces;
    private readonly double[]?[]? _stresses;

    private LabelsPickle(string path, double[] energies, double[][] forces, double[]?[]? stresses)
    {
        Path = path;
        _energies = energies;
        _forces = forces;
        _stresses = stresses;
    }

    /// <summary>The labels file.</summary>
    public string Path { get; }

    /// <summary>Number of structures the file labels.</summary>
    public int Count => _energies.Length;

    /// <summary>Whether the file has stresses.</summary>
    public bool HasStresses => _stresses is not null;

    /// <summary>Loads a labels pickle. Starts Python on first use.</summary>
    /// <param name="path">The pickle.</param>
    /// <param name="allowUnsafe">Use plain <c>pickle.loads</c> (runs any code the file carries).</param>
    /// <param name="python">The interpreter to embed, or null to discover one.</param>
    /// <exception cref="ConversionException">The file is not a labels pickle, or energies, forces and stresses differ in count.</exception>
    public static LabelsPickle Read(string path, bool allowUnsafe = false, string? python = null)
    {
        if (!allowUnsafe)
        {
            try
            {
                // Read natively when the file holds nothing the native reader does not model; the same checks and messages.
                var (e, f, s) = AsePickleReader.ReadLabels(path);
                return Checked(path, e, f, s);
            }
            catch (PickleNotSupportedException)
            {
                // Read through Python below.
            }
        }
        return ReadWithPython(path, allowUnsafe, python);
    }

    /// <summary>The Python path of <see cref="Read"/> (safe_pickle.labels), whatever the native reader could do.</summary>
    internal static LabelsPickle ReadWithPython(string path, bool allowUnsafe, string? python)
    {
        PythonInterpreter.Get(python);
        double[] energies;
        double[][] forces;
        double[]?[]? stresses = null;
        using (var gil = GilScope.Enter())
        {
            try
            {
                using var labels = PythonModule.FromResource("safe_pickle").Call("labels", [path, allowUnsafe]);
                using (var list = labels.GetItem("energies"))
                {
                    energies = new double[list.Length];
                    for (int i = 0; i < energies.Length; i++)
                        using (var e = list.GetItem(i)) energies[i] = e.AsDouble();
                }
                using (var list = labels.GetItem("forces"))
                {
                    forces = new double[list.Length][];
                    for (int i = 0; i < forces.Length; i++)
                        using (var f = list.GetItem(i)) forces[i] = f.ReadArray<double>();
                }
                using (var list = labels.GetItem("stresses"))
                {
                    if (!list.IsNone)
                    {
                        stresses = new double[]?[list.Length];
                        for (int i = 0; i < stresses.Length; i++)
                            using (var s = list.GetItem(i)) stresses[i] = s.IsNone ? null : s.ReadArray<double>();
                    }
                }
            }
            catch (PythonException e)
            {
                throw AseReader.Translate(path, e, null);
            }
        }
        return Checked(path, energies, forces, stresses);
    }

    private static LabelsPickle Checked(string path, double[] energies, double[][] forces, double[]?[]? stresses)
    {
        if (forces.Length != energies.Length)
            throw new ConversionException(path, null, "forces", $"Number of forces ({forces.Length}) doesn't match number of energies ({energies.Length})");
        if (stresses is not null && stresses.Length != energies.Length)
            throw new ConversionException(path, null, "stresses", $"Number of stresses ({stresses.Length}) doesn't match number of energies ({energies.Length})");
        return new LabelsPickle(path, energies, forces, stresses);
    }

    /// <summary>
    /// The frames with their labels replaced by this file's, in order. Stress is kept only for structures periodic on
    /// all three axes, as for labels read from the structures themselves.
    /// </summary>
    /// <param name="frames">The structures, from any reader.</param>
    /// <param name="structuresPath">Their file, for the count error.</param>
    /// <exception cref="ConversionException">The counts differ, or a structure's forces do not match its atoms.</exception>
    public IEnumerable<SourceFrame> Apply(IEnumerable<SourceFrame> frames, string structuresPath)
    {
        int count = 0;
        foreach (var frame in frames)
        {
            if (count == Count)
                throw new ConversionException(Path, null, "energies",
                    $"Number of energies ({Count}) doesn't match number of structures (more than {Count} in {structuresPath})");
            var forces = _forces[count];
            int atoms = frame.Structure.NumAtoms;
            if (forces.Length != atoms * 3)
                throw new ConversionException(Path, count, "forces", $"Forces shape ({forces.Length / 3}, 3) doesn't match atoms ({atoms}, 3)");
            var stress = _stresses?[count];
            if (stress is not null && !frame.Structure.Pbc.All(p => p)) stress = null;
            yield return frame with { Energy = _energies[count], Forces = forces, Stress = stress };
            count++;
        }
        if (count != Count)
            throw new ConversionException(Path, null, "energies",
                $"Number of energies ({Count}) doesn't match number of structures ({count} in {structuresPath})");
    }
}
