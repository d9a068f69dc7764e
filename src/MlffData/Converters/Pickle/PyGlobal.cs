namespace MlffData.Converters.Pickle;

/// <summary>
/// A global a pickle named (GLOBAL, STACK_GLOBAL) that safe_pickle.py's allowlist accepts. It is a token, never
/// imported or called: the machine gives each call the typed result numpy or ASE would give. One instance per kind,
/// so identity tests (<c>base is object</c>) work as in Python.
/// </summary>
internal sealed class PyGlobal
{
    private static readonly PyGlobal[] ByKind = Enum.GetValues<PyGlobalKind>().Select(k => new PyGlobal(k)).ToArray();

    private static readonly Dictionary<(string Module, string Name), PyGlobalKind> Allowed = BuildAllowed();

    private PyGlobal(PyGlobalKind kind) => Kind = kind;

    /// <summary>Which global.</summary>
    public PyGlobalKind Kind { get; }

    /// <summary>True for a class (its Python type is <c>type</c>).</summary>
    public bool IsClass => Kind <= PyGlobalKind.Dtype;

    /// <summary>Python's <c>__name__</c> of the object safe_pickle.py maps the global to.</summary>
    public string Name => Kind switch
    {
        PyGlobalKind.Object => "object",
        PyGlobalKind.Dict => "dict",
        PyGlobalKind.NdArray => "ndarray",
        PyGlobalKind.Dtype => "dtype",
        PyGlobalKind.Getattr => "_safe_getattr",
        PyGlobalKind.Encode => "_safe_encode",
        PyGlobalKind.Reconstructor => "_safe_reconstructor",
        PyGlobalKind.Reconstruct => "_reconstruct",
        PyGlobalKind.Scalar => "scalar",
        PyGlobalKind.FromBuffer => "_frombuffer",
        var k => k.ToString(),
    };

    /// <summary>Python's <c>type(x).__name__</c> of the object.</summary>
    public string TypeName => IsClass ? "type"
        : Kind is PyGlobalKind.Reconstruct or PyGlobalKind.Scalar ? "builtin_function_or_method" : "function";

    /// <summary>The global of one kind.</summary>
    public static PyGlobal Of(PyGlobalKind kind) => ByKind[(int)kind];

    /// <summary>safe_pickle.SafeUnpickler.find_class: the allowed global, or null when (module, name) is forbidden.</summary>
    public static PyGlobal? Find(string module, string name) =>
        Allowed.TryGetValue((module, name), out var kind) ? Of(kind) : null;

    private static Dictionary<(string, string), PyGlobalKind> BuildAllowed()
    {
        var allowed = new Dictionary<(string, string), PyGlobalKind>
        {
            [("ase.atoms", "Atoms")] = PyGlobalKind.Atoms,
            [("ase.cell", "Cell")] = PyGlobalKind.Cell,
            [("ase.constraints", "FixAtoms")] = PyGlobalKind.FixAtoms,
            [("ase.calculators.singlepoint", "SinglePointCalculator")] = PyGlobalKind.SinglePointCalculator,
            [("ase.calculators.calculator", "Parameters")] = PyGlobalKind.Parameters,
            [("builtins", "getattr")] = PyGlobalKind.Getattr,
            [("__builtin__", "getattr")] = PyGlobalKind.Getattr,
            [("_codecs", "encode")] = PyGlobalKind.Encode,
            [("copy_reg", "_reconstructor")] = PyGlobalKind.Reconstructor,
            [("copyreg", "_reconstructor")] = PyGlobalKind.Reconstructor,
            [("__builtin__", "object")] = PyGlobalKind.Object,
            [("builtins", "object")] = PyGlobalKind.Object,
            [("__builtin__", "dict")] = PyGlobalKind.Dict,
            [("builtins", "dict")] = PyGlobalKind.Dict,
            [("numpy", "ndarray")] = PyGlobalKind.NdArray,
            [("numpy", "dtype")] = PyGlobalKind.Dtype,
        };
        // numpy 2 spells these numpy._core.*; safe_pickle.py maps both spellings to the local numpy.
        foreach (string root in (string[])["numpy.core", "numpy._core"])
        {
            allowed[($"{root}.multiarray", "_reconstruct")] = PyGlobalKind.Reconstruct;
            allowed[($"{root}.multiarray", "scalar")] = PyGlobalKind.Scalar;
            allowed[($"{root}.numeric", "_frombuffer")] = PyGlobalKind.FromBuffer;
        }
        return allowed;
    }
}
