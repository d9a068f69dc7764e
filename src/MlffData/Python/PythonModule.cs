using System.Collections.Concurrent;
using System.Reflection;

namespace MlffData.Python;

/// <summary>
/// An imported Python module and calls into its functions: an installed one (<see cref="Import"/>), one of ours
/// compiled into this assembly (<see cref="FromResource"/>: src/MlffData/Python/*.py and PythonScripts/*.py), or one
/// from source text (<see cref="FromSource"/>). Our sources are imported through Python's own import system, so each
/// runs once per process and they can import each other. Every member needs the GIL (<see cref="GilScope"/>).
/// </summary>
/// <example>
/// <code>
/// PythonInterpreter.Get(options.Python);
/// using var gil = GilScope.Enter();
/// var frames = PythonModule.FromResource("ase_frames");
/// using var iterator = frames.Call("iter_frames", [path], new Dictionary&lt;string, object?&gt; { ["format"] = "extxyz" });
/// </code>
/// </example>
public sealed class PythonModule
{
    /// <summary>Prefix of the manifest resource names of our Python sources (MlffData.csproj).</summary>
    internal const string ResourcePrefix = "python/";

    // One wrapper per module name, kept like sys.modules keeps the module: a module is never unloaded, so its
    // reference is held for the life of the process and the wrapper needs no Dispose.
    private static readonly ConcurrentDictionary<string, PythonModule> Loaded = new(StringComparer.Ordinal);

    private PythonModule(string name, PyObjectHandle handle)
    {
        Name = name;
        Handle = handle;
    }

    /// <summary>The module's name in sys.modules.</summary>
    public string Name { get; }

    /// <summary>The module object, held for the life of the process as sys.modules holds it: do not dispose it.</summary>
    public PyObjectHandle Handle { get; }

    /// <summary>The names of the Python sources compiled into this assembly, e.g. "ase_frames".</summary>
    public static IReadOnlyList<string> ResourceNames { get; } = typeof(PythonModule).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".py", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^3])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>import name, e.g. "numpy" or "ase.build". Needs the GIL.</summary>
    /// <exception cref="PythonException">The import raised (ModuleNotFoundError, or an error inside the module).</exception>
    public static PythonModule Import(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        GilScope.ThrowIfNotHeld();
        if (Loaded.TryGetValue(name, out var known)) return known;
        var module = new PythonModule(name, PythonError.Check(CPython.PyImport_ImportModule(name)));
        // A racing thread may have added the same module meanwhile; the spare wrapper's reference then goes to the finalizer queue.
        return Loaded.GetOrAdd(name, module);
    }

    /// <summary>
    /// Imports one of the Python sources compiled into this assembly by its file name without ".py", e.g.
    /// "ase_frames"; the module runs once per process. Needs the GIL.
    /// </summary>
    /// <exception cref="ArgumentException">No such source is compiled in (<see cref="ResourceNames"/> lists them).</exception>
    /// <exception cref="PythonException">Running the module raised.</exception>
    public static PythonModule FromResource(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        GilScope.ThrowIfNotHeld();
        if (Loaded.TryGetValue(name, out var known)) return known;
        if (!ResourceNames.Contains(name, StringComparer.Ordinal))
            throw new ArgumentException($"No Python source '{name}.py' is compiled into MlffData; there are: {string.Join(", ", ResourceNames)}", nameof(name));
        // Every embedded source is made importable first, so that ours can import each other (safe_pickle uses
        // ase_frames). No .NET lock here: one held while Python runs (and may hand the GIL to another thread) could
        // deadlock; registering is idempotent and Python's import lock makes each module run once.
        foreach (string resource in ResourceNames)
            Register(resource, ReadResource(resource)!, $"<MlffData>/{resource}.py");
        return Import(name);
    }

    /// <summary>
    /// Imports source text as module <paramref name="name"/>; tracebacks name <paramref name="fileName"/> and show the
    /// source lines. A second call with the same name and source returns the same module. Needs the GIL.
    /// </summary>
    /// <exception cref="InvalidOperationException">A module of that name was already loaded from other source.</exception>
    /// <exception cref="PythonException">The source does not compile (SyntaxError) or running it raised.</exception>
    public static PythonModule FromSource(string name, string source, string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        GilScope.ThrowIfNotHeld();
        Register(name, source, fileName);
        return Import(name);
    }

    private static void Register(string name, string source, string fileName)
    {
        using var registered = PythonInterpreter.Bridge.Call("register_source", name, source, fileName);
        if (!registered.AsBool())
            throw new InvalidOperationException($"Python module '{name}' was already loaded from other source; a process holds one module per name");
    }

    /// <summary>Compiles and runs source as a module without the import system (the bridge module itself, at start-up).</summary>
    internal static PythonModule Execute(string name, string source, string fileName)
    {
        using var code = PythonError.Check(CPython.Py_CompileString(source, fileName, CPython.Py_file_input));
        var module = new PythonModule(name, PythonError.Check(CPython.PyImport_ExecCodeModuleEx(name, code, fileName)));
        return Loaded.GetOrAdd(name, module);
    }

    internal static string? ReadResource(string name)
    {
        using var stream = typeof(PythonModule).Assembly.GetManifestResourceStream($"{ResourcePrefix}{name}.py");
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>getattr(module, name) as a new reference. Needs the GIL.</summary>
    /// <exception cref="PythonException">The module has no such attribute (AttributeError).</exception>
    public PyObjectHandle GetAttr(string name) => Handle.GetAttr(name);

    /// <summary>
    /// Calls module.function(*args) with str/int/float/bool/bytes/None/<see cref="PyObjectHandle"/> arguments
    /// (see <see cref="PyObjectHandle.From"/>) and returns the result. Needs the GIL.
    /// </summary>
    /// <exception cref="PythonException">The function is missing or raised; carries the Python type, message and traceback.</exception>
    public PyObjectHandle Call(string function, params ReadOnlySpan<object?> args)
    {
        using var callable = Handle.GetAttr(function);
        return callable.Call(args);
    }

    /// <summary>Calls module.function(*args, **keywords) and returns the result. Needs the GIL.</summary>
    /// <exception cref="PythonException">The function is missing or raised; carries the Python type, message and traceback.</exception>
    public PyObjectHandle Call(string function, ReadOnlySpan<object?> args, IReadOnlyDictionary<string, object?> keywords)
    {
        using var callable = Handle.GetAttr(function);
        return callable.Call(args, keywords);
    }

    /// <inheritdoc />
    public override string ToString() => $"<module '{Name}'>";
}
