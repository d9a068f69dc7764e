using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlffData.Format;
using MlffData.Python;

namespace MlffData.Converters;

/// <summary>
/// Labels structures with a teacher model: an ASE calculator made and run in the embedded CPython
/// (src/MlffData/PythonScripts/teacher.py). Generation code labels and writes in one loop:
/// <code>
/// using var labeler = CalculatorLabeler.Create("emt");
/// using var writer = new HDF5DatasetWriter("out.h5");
/// foreach (var (structure, result) in labeler.LabelAll(structures, s =&gt; s, batchSize: 32))
///     if (result.Labels is { } labels) writer.AddStructure(new LabelledStructure(structure, labels));
/// writer.Complete();
/// </code>
/// <para>
/// Calculators: the presets in <see cref="Presets"/> (emt: ASE's EMT; orb-v2 and orb-v3: orb-models' pretrained
/// models; mace-mp: mace-torch's <c>mace_mp</c>), or <c>module:callable</c>, where module may be a .py file
/// (<c>/path/calc.py:MyCalculator</c>), called with the JSON arguments as keywords and <c>device=</c> when it declares
/// one. A calculator with a <c>label_batch(list_of_atoms)</c> method gets each batch in one call (teacher.py
/// documents that protocol); any other is used through ASE, one structure after another, in one Python call per
/// batch.
/// </para>
/// <para>
/// Each batch crosses into Python as five byte arrays (atom counts, atomic numbers, positions, cells, pbc) and each
/// structure comes back as an energy and one or two byte arrays: no Python object per atom. Energies are float64
/// throughout. The GIL is held for one batch at a time. A labeler is not thread-safe: ASE calculators keep state
/// between calls, so use one labeler per thread.
/// </para>
/// </summary>
public sealed partial class CalculatorLabeler : IDisposable
{
    /// <summary>The embedded Python module that makes calculators and labels batches (teacher.py).</summary>
    public const string ModuleName = "teacher";

    /// <summary>Structures per Python call when the caller does not say: large enough to amortise the bridge.</summary>
    public const int DefaultBatchSize = 32;

    private readonly PythonModule _module;
    private PyObjectHandle? _calculator;

    private CalculatorLabeler(PythonModule module, PyObjectHandle calculator, string spec, string? argumentsJson, string requestedDevice,
        bool strictDevice, string device, IReadOnlyDictionary<string, string> versions, IReadOnlyList<string> warnings, bool usesBatchedApi)
    {
        _module = module;
        _calculator = calculator;
        Spec = spec;
        ArgumentsJson = argumentsJson;
        RequestedDevice = requestedDevice;
        StrictDevice = strictDevice;
        Device = device;
        Versions = versions;
        Warnings = warnings;
        UsesBatchedApi = usesBatchedApi;
    }

    /// <summary>The preset calculator names: emt, mace-mp, orb-v2, orb-v3.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["emt", "mace-mp", "orb-v2", "orb-v3"];

    /// <summary>The calculator spec as given, e.g. "emt" or "/path/calc.py:MyCalculator".</summary>
    public string Spec { get; }

    /// <summary>The calculator's keyword arguments as a JSON object, or null for none.</summary>
    public string? ArgumentsJson { get; }

    /// <summary>The device asked for: "cpu", "cuda" or "cuda:N".</summary>
    public string RequestedDevice { get; }

    /// <summary>True when an unavailable device is an error rather than a fallback to the CPU.</summary>
    public bool StrictDevice { get; }

    /// <summary>The device actually used: "cpu" or "cuda:N" (cpu when CUDA was unavailable, or for a calculator that takes no device).</summary>
    public string Device { get; }

    /// <summary>Versions of what labels: python, ase, numpy, torch (when installed) and the calculator's package, e.g. "orb-models".</summary>
    public IReadOnlyDictionary<string, string> Versions { get; }

    /// <summary>The warnings given while making the calculator (also passed to the warning callback), e.g. the CUDA fallback.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when the calculator offers the batched API (<c>label_batch(list_of_atoms)</c>) and gets whole batches.</summary>
    public bool UsesBatchedApi { get; }

    /// <summary>
    /// Makes the calculator in the embedded Python, starting Python on first use. With <paramref name="device"/>
    /// "cuda" and no CUDA available to torch, warns and uses the CPU, or throws when <paramref name="strictDevice"/>.
    /// </summary>
    /// <param name="spec">A preset (<see cref="Presets"/>) or <c>module:callable</c> (module may be a path to a .py file).</param>
    /// <param name="argumentsJson">Keyword arguments as a JSON object (<c>--calculator-args</c>): of the preset's loader or of the callable.</param>
    /// <param name="device">"cpu", "cuda" or "cuda:N".</param>
    /// <param name="strictDevice">Throw instead of falling back to the CPU.</param>
    /// <param name="python">The interpreter to embed (<c>--python</c>), or null to discover one.</param>
    /// <param name="warning">Receives each warning; null writes "warning: ..." to standard error.</param>
    /// <exception cref="ArgumentException">The spec is empty, the arguments are no JSON object or name the device, or the device is not cpu, cuda or cuda:N.</exception>
    /// <exception cref="TeacherSetupException">Unknown preset, missing Python package (named, with how to install it), the calculator refused its arguments, or the device is unavailable with <paramref name="strictDevice"/>.</exception>
    /// <exception cref="PythonNotFoundException">No interpreter with ASE was found.</exception>
    public static CalculatorLabeler Create(string spec, string? argumentsJson = null, string device = "cpu", bool strictDevice = false,
        string? python = null, Action<string>? warning = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        ArgumentNullException.ThrowIfNull(device);
        CheckArguments(argumentsJson);
        if (!DevicePattern().IsMatch(device))
            throw new ArgumentException($"Device '{device}' is not cpu, cuda or cuda:N", nameof(device));

        PythonInterpreter.Get(python);
        var labeler = Make(spec.Trim(), string.IsNullOrWhiteSpace(argumentsJson) ? null : argumentsJson, device, strictDevice);
        // Outside the GIL: the callback is the caller's code.
        var report = warning ?? (message => Console.Error.WriteLine($"warning: {message}"));
        foreach (string message in labeler.Warnings)
            report(message);
        return labeler;
    }

    private static CalculatorLabeler Make(string spec, string? argumentsJson, string device, bool strictDevice)
    {
        using var gil = GilScope.Enter();
        var module = PythonModule.FromResource(ModuleName);
        PyObjectHandle made;
        try
        {
            made = module.Call("make", spec, argumentsJson, device, strictDevice);
        }
        catch (PythonException e)
        {
            throw TeacherSetupException.From(spec, e);
        }
        using (made)
        using (var used = made.GetItem(1))
        using (var info = made.GetItem(2))
        using (var versions = info.GetItem("versions"))
        using (var warnings = info.GetItem("warnings"))
        using (var batched = info.GetItem("batched"))
        {
            var calculator = made.GetItem(0);
            return new CalculatorLabeler(module, calculator, spec, argumentsJson, device, strictDevice, used.AsString(),
                ReadVersions(versions), ReadStrings(warnings), batched.AsBool());
        }
    }

    /// <summary>Labels one structure.</summary>
    /// <param name="structure">The structure; stress is computed only when it is periodic on all three axes.</param>
    /// <returns>Energy (eV), forces (eV/Å, flattened n x 3) and stress (eV/Å³, Voigt) or null.</returns>
    /// <exception cref="ArgumentException">The structure's arrays do not fit together (positions not 3n, cell not 9, pbc not 3).</exception>
    /// <exception cref="LabelingException">The calculator failed; carries the Python type and message, the traceback as the inner <see cref="PythonException"/>.</exception>
    /// <exception cref="ObjectDisposedException">The labeler was disposed.</exception>
    public Labels Label(Structure structure)
    {
        ArgumentNullException.ThrowIfNull(structure);
        return Run([structure], firstIndex: null)[0].GetLabels();
    }

    /// <summary>
    /// Labels structures in one Python call under one GIL scope: one result per structure, in order; a structure
    /// that fails gets its error and the others are labelled all the same.
    /// </summary>
    /// <param name="structures">The structures; an empty list returns an empty list without calling Python.</param>
    /// <returns>Per structure, its labels or its <see cref="LabelingException"/> (StructureIndex: its index in <paramref name="structures"/>).</returns>
    /// <exception cref="ArgumentException">A structure is null or its arrays do not fit together.</exception>
    /// <exception cref="LabelingException">The batch as a whole failed (not one structure): a fault outside any structure.</exception>
    /// <exception cref="ObjectDisposedException">The labeler was disposed.</exception>
    public IReadOnlyList<LabelResult> LabelBatch(IReadOnlyList<Structure> structures)
    {
        ArgumentNullException.ThrowIfNull(structures);
        return Run(structures, firstIndex: 0);
    }

    /// <summary>
    /// Labels a stream of items lazily, <paramref name="batchSize"/> structures per Python call, yielding each item
    /// with its result in input order as soon as its batch is done: generation code can label and write in one loop
    /// without holding the whole stream.
    /// </summary>
    /// <typeparam name="T">The caller's item, e.g. a <see cref="Structure"/> or a frame with its source index.</typeparam>
    /// <param name="items">The items; enumerated once.</param>
    /// <param name="structure">The structure of an item.</param>
    /// <param name="batchSize">Structures per Python call (<c>--batch-size</c>), at least 1.</param>
    /// <returns>Each item with its labels or its <see cref="LabelingException"/> (StructureIndex: the item's 0-based position in the stream).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">While enumerating: a structure is null or its arrays do not fit together.</exception>
    /// <exception cref="LabelingException">While enumerating: a batch as a whole failed.</exception>
    public IEnumerable<(T Item, LabelResult Result)> LabelAll<T>(IEnumerable<T> items, Func<T, Structure> structure, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(structure);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ObjectDisposedException.ThrowIf(_calculator is null, this);
        return Stream(items, structure, batchSize);
    }

    private IEnumerable<(T Item, LabelResult Result)> Stream<T>(IEnumerable<T> items, Func<T, Structure> structure, int batchSize)
    {
        var pending = new List<T>(batchSize);
        var structures = new List<Structure>(batchSize);
        int first = 0;
        foreach (var item in items)
        {
            pending.Add(item);
            structures.Add(structure(item));
            if (pending.Count < batchSize) continue;
            var results = Run(structures, first);
            for (int i = 0; i < pending.Count; i++)
                yield return (pending[i], results[i]);
            first += pending.Count;
            pending.Clear();
            structures.Clear();
        }
        if (pending.Count > 0)
        {
            var results = Run(structures, first);
            for (int i = 0; i < pending.Count; i++)
                yield return (pending[i], results[i]);
        }
    }

    // One Python call for the batch. firstIndex: the stream position of structures[0] for error messages, null for Label.
    private LabelResult[] Run(IReadOnlyList<Structure> structures, int? firstIndex)
    {
        ObjectDisposedException.ThrowIf(_calculator is null, this);
        if (structures.Count == 0) return [];
        var batch = PackedBatch.Pack(structures);
        using var gil = GilScope.Enter();
        PyObjectHandle results;
        try
        {
            results = _module.Call("label_packed", _calculator, batch.Counts, batch.Numbers, batch.Positions, batch.Cells, batch.Pbcs);
        }
        catch (PythonException e)
        {
            throw new LabelingException(Spec, null, $"labelling a batch of {structures.Count} structures failed: {e.Message}", e);
        }
        using (results)
        {
            var labelled = new LabelResult[structures.Count];
            for (int i = 0; i < labelled.Length; i++)
            {
                using var item = results.GetItem(i);
                labelled[i] = Decode(item, structures[i], firstIndex + i);
            }
            return labelled;
        }
    }

    private LabelResult Decode(PyObjectHandle item, Structure structure, int? index)
    {
        // teacher.label_batch: a dict of labels, or a (type, module, message, traceback) tuple for a failure.
        if (item.TypeName == "tuple")
        {
            using var type = item.GetItem(0);
            using var module = item.GetItem(1);
            using var message = item.GetItem(2);
            using var traceback = item.GetItem(3);
            var python = new PythonException(type.AsString(), module.AsString(), message.AsString(), traceback.AsString());
            return LabelResult.Failure(new LabelingException(Spec, index, python.Message, python));
        }
        double energy;
        double[] forces;
        double[]? stress;
        using (var value = item.GetItem("energy")) energy = value.AsDouble();
        using (var value = item.GetItem("forces")) forces = value.ReadArray<double>();
        using (var value = item.GetItem("stress")) stress = value.IsNone ? null : value.ReadArray<double>();
        // teacher.py checks the shapes; this guards the bridge itself.
        if (forces.Length != 3 * structure.NumAtoms || stress is { Length: not 6 })
            return LabelResult.Failure(new LabelingException(Spec, index,
                $"the calculator returned {forces.Length} force components for {structure.NumAtoms} atoms and {stress?.Length ?? 0} stress components"));
        return LabelResult.Success(new Labels(energy, forces, stress));
    }

    private static void CheckArguments(string? argumentsJson)
    {
        if (string.IsNullOrWhiteSpace(argumentsJson)) return;
        try
        {
            using var document = JsonDocument.Parse(argumentsJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"Calculator arguments must be a JSON object of keyword arguments, not {document.RootElement.ValueKind}: {argumentsJson}", nameof(argumentsJson));
            if (document.RootElement.TryGetProperty("device", out _))
                throw new ArgumentException("Pass the device with the device parameter (--device), not in the calculator arguments", nameof(argumentsJson));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Calculator arguments are not valid JSON ({e.Message}): {argumentsJson}", nameof(argumentsJson), e);
        }
    }

    private static Dictionary<string, string> ReadVersions(PyObjectHandle versions)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var names = versions.GetIterator();
        while (names.TryNext(out var name))
        {
            using (name)
            {
                string key = name.AsString();
                using var value = versions.GetItem(key);
                result[key] = value.AsString();
            }
        }
        return result;
    }

    private static string[] ReadStrings(PyObjectHandle list)
    {
        var result = new string[list.Length];
        for (int i = 0; i < result.Length; i++)
            using (var item = list.GetItem(i)) result[i] = item.AsString();
        return result;
    }

    /// <summary>Releases the calculator (and with it, once Python drops its last reference, the model and its device memory).</summary>
    public void Dispose()
    {
        _calculator?.Dispose();
        _calculator = null;
    }

    [GeneratedRegex(@"^(cpu|cuda(:\d+)?)$", RegexOptions.IgnoreCase)]
    private static partial Regex DevicePattern();

    // A batch as teacher.label_packed takes it: one little-endian array per field, for all structures together.
    private readonly record struct PackedBatch(byte[] Counts, byte[] Numbers, byte[] Positions, byte[] Cells, byte[] Pbcs)
    {
        public static PackedBatch Pack(IReadOnlyList<Structure> structures)
        {
            int atoms = 0;
            for (int i = 0; i < structures.Count; i++)
            {
                var s = structures[i] ?? throw new ArgumentException($"Structure {i} is null", nameof(structures));
                if (s.AtomicNumbers is null || s.Positions is null || s.Cell is null || s.Pbc is null)
                    throw new ArgumentException($"Structure {i} has a null array", nameof(structures));
                if (s.Positions.Length != 3 * s.NumAtoms || s.Cell.Length != 9 || s.Pbc.Length != 3)
                    throw new ArgumentException($"Structure {i} has {s.NumAtoms} atoms, {s.Positions.Length} position components (expected {3 * s.NumAtoms}), " +
                        $"{s.Cell.Length} cell components (expected 9) and {s.Pbc.Length} pbc flags (expected 3)", nameof(structures));
                atoms = checked(atoms + s.NumAtoms);
            }
            var counts = new long[structures.Count];
            var numbers = new long[atoms];
            var positions = new double[3 * atoms];
            var cells = new double[9 * structures.Count];
            var pbcs = new bool[3 * structures.Count];
            int at = 0;
            for (int i = 0; i < structures.Count; i++)
            {
                var s = structures[i];
                counts[i] = s.NumAtoms;
                for (int a = 0; a < s.NumAtoms; a++)
                    numbers[at + a] = s.AtomicNumbers[a];
                s.Positions.CopyTo(positions, 3 * at);
                s.Cell.CopyTo(cells, 9 * i);
                s.Pbc.CopyTo(pbcs, 3 * i);
                at += s.NumAtoms;
            }
            // x64 is little-endian, the byte order teacher.py reads ('<i8', '<f8'); .NET stores bool as one byte 0/1 ('?').
            return new PackedBatch(Bytes(counts), Bytes(numbers), Bytes(positions), Bytes(cells), Bytes(pbcs));
        }

        private static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
