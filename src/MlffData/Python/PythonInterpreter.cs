using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlffData.Native;

namespace MlffData.Python;

/// <summary>
/// The CPython interpreter embedded in this process: found once, started once, never finalized. CPython allows one
/// interpreter per process for its whole life, so this is a process-wide singleton.
/// <para>
/// Choosing it (<see cref="Discover(string?)"/>): the requested path (the CLI's <c>--python</c>), else
/// <see cref="PathVariable"/>; both are the user's explicit choice, so a refusal is an error rather than a silent
/// fallback. Otherwise, in order, the first that can import ASE: <see cref="PythonNetVariable"/> (a libpython, whose
/// interpreter is looked for beside it), <see cref="SystemPython"/>, and the first <c>python3</c> on PATH. Each
/// candidate is probed as a subprocess (version, sysconfig's LIBDIR/INSTSONAME/LDLIBRARY, sys.path, ASE's version),
/// so a bad one is never loaded into this process.
/// </para>
/// <para>
/// Starting it (<see cref="Get"/>): libpython is opened with dlopen(RTLD_NOW | RTLD_GLOBAL), since numpy's extension
/// modules resolve CPython symbols from the global namespace; Py_InitializeEx(0) leaves signal handlers to .NET;
/// sys.path and sys.executable are set from the probe, so venvs work; then the GIL is released, and every call
/// takes it again in a <see cref="GilScope"/>.
/// </para>
/// </summary>
public sealed partial class PythonInterpreter
{
    /// <summary>Environment variable naming the Python interpreter to use (like <c>--python</c>).</summary>
    public const string PathVariable = "MLFF_PYTHON";

    /// <summary>pythonnet's environment variable naming a libpython file; honoured for users who have it set.</summary>
    public const string PythonNetVariable = "PYTHONNET_PYDLL";

    /// <summary>Debian's interpreter, which <c>apt-get install python3-ase</c> equips.</summary>
    public const string SystemPython = "/usr/bin/python3";

    /// <summary>The oldest CPython accepted.</summary>
    public static readonly Version MinimumVersion = new(3, 8);

    private const int RTLD_NOW = 0x002;
    private const int RTLD_GLOBAL = 0x100;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(60);

    // Runs in the candidate: everything needed to embed it, and whether it can import ASE. Errors are reported,
    // not raised, so that the reason reaches the user. The JSON is the last line, whatever sitecustomize prints.
    private const string ProbeScript = """
        import json, sys, sysconfig
        r = {"version": list(sys.version_info[:3]), "executable": sys.executable,
             "prefix": sys.prefix, "exec_prefix": sys.exec_prefix,
             "base_prefix": getattr(sys, "base_prefix", sys.prefix),
             "base_exec_prefix": getattr(sys, "base_exec_prefix", sys.exec_prefix), "path": sys.path}
        for k in ("LIBDIR", "LDLIBRARY", "INSTSONAME", "Py_ENABLE_SHARED"):
            r[k] = sysconfig.get_config_var(k)
        try:
            import ase
            r["ase"] = ase.__version__
        except BaseException as e:
            r["ase_error"] = "%s: %s" % (type(e).__name__, e)
        sys.stdout.write("\n" + json.dumps(r) + "\n")
        """;

    private static readonly Lock Gate = new();
    private static volatile PythonInterpreter? _current;
    private static Exception? _startFailure;

    private readonly string _probeJson;

    private PythonInterpreter(string source, string requestedAs, string probeJson, JsonElement probe, string libraryPath)
    {
        Source = source;
        RequestedAs = requestedAs;
        _probeJson = probeJson;
        var v = probe.GetProperty("version");
        Version = new Version(v[0].GetInt32(), v[1].GetInt32(), v[2].GetInt32());
        Executable = probe.GetProperty("executable").GetString() ?? requestedAs;
        Prefix = probe.GetProperty("prefix").GetString() ?? "";
        BasePrefix = probe.GetProperty("base_prefix").GetString() ?? Prefix;
        BaseExecPrefix = probe.GetProperty("base_exec_prefix").GetString() ?? BasePrefix;
        SysPath = probe.GetProperty("path").EnumerateArray().Select(p => p.GetString() ?? "").Where(p => p.Length > 0).ToArray();
        AseVersion = probe.GetProperty("ase").GetString() ?? "";
        LibraryPath = libraryPath;
    }

    /// <summary>How the interpreter was chosen: "--python", an environment variable's name, "system Python" or "python3 on PATH".</summary>
    public string Source { get; }

    /// <summary>The path as given or found (e.g. a pyenv shim), before the interpreter reported its own.</summary>
    public string RequestedAs { get; }

    /// <summary>The interpreter's sys.executable, e.g. /usr/bin/python3 or a venv's bin/python.</summary>
    public string Executable { get; }

    /// <summary>The CPython version, e.g. 3.11.2.</summary>
    public Version Version { get; }

    /// <summary>The libpython file that is (or will be) loaded, e.g. /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0.</summary>
    public string LibraryPath { get; }

    /// <summary>ase.__version__ in that interpreter, e.g. 3.22.1.</summary>
    public string AseVersion { get; }

    /// <summary>sys.prefix (a venv's directory for a venv).</summary>
    public string Prefix { get; }

    /// <summary>sys.base_prefix: the installation the standard library comes from (PYTHONHOME).</summary>
    public string BasePrefix { get; }

    /// <summary>sys.base_exec_prefix.</summary>
    public string BaseExecPrefix { get; }

    /// <summary>The interpreter's sys.path without the working directory entry; the embedded sys.path is set to it.</summary>
    public IReadOnlyList<string> SysPath { get; }

    /// <summary>The started interpreter, or null before <see cref="Get"/> succeeded.</summary>
    public static PythonInterpreter? Current => _current;

    /// <summary>True once the interpreter runs in this process.</summary>
    public static bool IsStarted => _current is not null;

    /// <summary>True once libpython is loaded and registered for P/Invoke (slightly before <see cref="IsStarted"/>).</summary>
    internal static bool IsLoaded { get; private set; }

    /// <summary>Py_None's address (<c>_Py_NoneStruct</c>), read from the library after loading.</summary>
    internal static nint NoneObject { get; private set; }

    /// <summary>The thread state of the thread that started Python, saved when it released the GIL.</summary>
    internal static nint MainThreadState { get; private set; }

    /// <summary>Our start-up and import helper module (src/MlffData/Python/mlff_bridge.py).</summary>
    internal static PythonModule Bridge { get; private set; } = null!;

    /// <summary>
    /// Starts the interpreter the first time (discovering it as <see cref="Discover(string?)"/> does) and returns it;
    /// later calls return the same one. Thread-safe.
    /// </summary>
    /// <param name="requestedPath">The interpreter asked for (<c>--python</c>), or null for the default order.</param>
    /// <exception cref="PythonNotFoundException">No candidate can be embedded and import ASE; lists each one tried.</exception>
    /// <exception cref="NativeLibraryLoadException">dlopen of the chosen libpython failed.</exception>
    /// <exception cref="InvalidOperationException">Another interpreter already runs in this process, or starting failed before.</exception>
    public static PythonInterpreter Get(string? requestedPath = null)
    {
        lock (Gate)
        {
            if (_current is { } current)
            {
                if (string.IsNullOrEmpty(requestedPath) || current.IsSameAs(requestedPath)) return current;
                throw new InvalidOperationException(
                    $"Python {current.Version} from {current.Executable} already runs in this process and CPython allows only one " +
                    $"interpreter per process, so '{requestedPath}' cannot be used; start a new process to use it.");
            }
            if (_startFailure is not null)
                throw new InvalidOperationException($"Python failed to start earlier in this process and cannot be started again: {_startFailure.Message}", _startFailure);
            var chosen = Discover(requestedPath);
            chosen.Start();
            _current = chosen;
            return chosen;
        }
    }

    /// <summary>
    /// Finds the interpreter <see cref="Get"/> would start, from the process environment, without loading anything:
    /// candidates are only run as subprocesses.
    /// </summary>
    /// <param name="requestedPath">An interpreter path or a name on PATH, or null for the default order.</param>
    /// <exception cref="PythonNotFoundException">No candidate can be embedded and import ASE; lists each one tried.</exception>
    public static PythonInterpreter Discover(string? requestedPath = null) =>
        Discover(requestedPath, Environment.GetEnvironmentVariable, SystemPython);

    /// <summary>Discovery with the environment and the system interpreter's path supplied, for tests.</summary>
    internal static PythonInterpreter Discover(string? requestedPath, Func<string, string?> environment, string systemPython)
    {
        var tried = new List<string>();
        // An explicit choice is used or refused, never replaced by another interpreter behind the user's back.
        if (!string.IsNullOrEmpty(requestedPath))
            return TryInterpreter("--python", requestedPath, environment, tried) ?? throw new PythonNotFoundException(tried);
        if (environment(PathVariable) is { Length: > 0 } fromVariable)
            return TryInterpreter(PathVariable, fromVariable, environment, tried) ?? throw new PythonNotFoundException(tried);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (environment(PythonNetVariable) is { Length: > 0 } pythonNetLibrary
            && TryPythonNetLibrary(pythonNetLibrary, environment, tried, seen) is { } fromLibrary)
            return fromLibrary;
        if (seen.Add(FullPath(systemPython)) && TryInterpreter("system Python", systemPython, environment, tried) is { } system)
            return system;
        if (FindOnPath("python3", environment) is { } onPath)
        {
            if (seen.Add(FullPath(onPath)) && TryInterpreter("python3 on PATH", onPath, environment, tried) is { } fromPath)
                return fromPath;
        }
        else
        {
            tried.Add("python3 on PATH: none found");
        }
        throw new PythonNotFoundException(tried);
    }

    private static PythonInterpreter? TryInterpreter(string source, string path, Func<string, string?> environment, List<string> tried, string? libraryPath = null)
    {
        string label = $"{path} ({source})";
        string? executable = path.Contains('/') ? Path.GetFullPath(path) : FindOnPath(path, environment);
        if (executable is null)
        {
            tried.Add($"{label}: not found on PATH");
            return null;
        }
        if (Directory.Exists(executable) || !File.Exists(executable))
        {
            tried.Add($"{label}: {(Directory.Exists(executable) ? "is a directory" : "not found")}");
            return null;
        }
        if (!IsExecutable(executable))
        {
            tried.Add($"{label}: not executable");
            return null;
        }

        if (Probe(executable, out string json, out string failure) is not { } probe)
        {
            tried.Add($"{label}: {failure}");
            return null;
        }
        using (probe)
        {
            var root = probe.RootElement;
            var v = root.GetProperty("version");
            var version = new Version(v[0].GetInt32(), v[1].GetInt32(), v[2].GetInt32());
            if (version < MinimumVersion)
            {
                tried.Add($"{label}: Python {version} is older than {MinimumVersion}");
                return null;
            }
            if (root.TryGetProperty("ase_error", out var aseError))
            {
                tried.Add($"{label}: Python {version} cannot import ase ({aseError.GetString()})");
                return null;
            }
            if (libraryPath is null)
            {
                libraryPath = FindLibrary(root, out string why);
                if (libraryPath is null)
                {
                    tried.Add($"{label}: Python {version}, {why}");
                    return null;
                }
            }
            return new PythonInterpreter(source, path, json, root.Clone(), libraryPath);
        }
    }

    // PYTHONNET_PYDLL names a libpython; the matching interpreter beside it gives sys.path and the ASE check.
    private static PythonInterpreter? TryPythonNetLibrary(string library, Func<string, string?> environment, List<string> tried, HashSet<string> seen)
    {
        string label = $"{library} ({PythonNetVariable})";
        if (!library.Contains('/') || !File.Exists(library))
        {
            tried.Add($"{label}: {(library.Contains('/') ? "not found" : "needs a path to the libpython file")}");
            return null;
        }
        var match = Regex.Match(Path.GetFileName(library), @"^libpython(\d+)\.(\d+)");
        if (!match.Success)
        {
            tried.Add($"{label}: not a libpython file name (libpython3.X...)");
            return null;
        }
        string name = $"python{match.Groups[1].Value}.{match.Groups[2].Value}";
        string libraryDir = Path.GetDirectoryName(Path.GetFullPath(library))!;
        // lib/ -> ../bin; Debian's multiarch lib/x86_64-linux-gnu/ -> ../../bin.
        string[] looked = [Path.GetFullPath(Path.Combine(libraryDir, "..", "bin", name)), Path.GetFullPath(Path.Combine(libraryDir, "..", "..", "bin", name))];
        string? executable = looked.FirstOrDefault(File.Exists);
        if (executable is null)
        {
            tried.Add($"{label}: no {name} beside it (looked for {string.Join(", ", looked)})");
            return null;
        }
        seen.Add(FullPath(executable));
        return TryInterpreter(PythonNetVariable, executable, environment, tried, Path.GetFullPath(library));
    }

    private static JsonDocument? Probe(string executable, out string json, out string failure)
    {
        json = "";
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(ProbeScript);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            failure = $"cannot be run ({e.Message})";
            return null;
        }
        using (process)
        {
            process.StandardInput.Close();
            // Both streams at once, so that a full stderr pipe cannot stall the child while we wait on stdout.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                failure = $"did not answer within {ProbeTimeout.TotalSeconds:0} s";
                return null;
            }
            if (process.ExitCode != 0)
            {
                string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                failure = $"exited with code {process.ExitCode}{(last.Length > 0 ? $" ({last})" : "")}";
                return null;
            }
            json = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            try
            {
                failure = "";
                return JsonDocument.Parse(json);
            }
            catch (JsonException)
            {
                failure = "did not answer the probe (not CPython 3?)";
                return null;
            }
        }
    }

    // The shared library that sysconfig names: INSTSONAME is the installed file (Debian ships libpython3.11.so only
    // in -dev packages), LDLIBRARY the link name; a static libpython (.a) cannot be embedded.
    private static string? FindLibrary(JsonElement probe, out string why)
    {
        string? Text(string key) => probe.TryGetProperty(key, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        bool shared = probe.TryGetProperty("Py_ENABLE_SHARED", out var enableShared) && enableShared.ValueKind == JsonValueKind.Number && enableShared.GetInt32() == 1;
        if (!shared)
        {
            why = "built without a shared libpython (Py_ENABLE_SHARED is not 1), so it cannot be embedded";
            return null;
        }
        string libDir = Text("LIBDIR") ?? "";
        var names = new[] { Text("INSTSONAME"), Text("LDLIBRARY") }.OfType<string>()
            .Where(n => n.Length > 0 && !n.EndsWith(".a", StringComparison.Ordinal)).Distinct().ToArray();
        var paths = names.Select(n => Path.Combine(libDir, n)).ToArray();
        string? found = paths.FirstOrDefault(File.Exists);
        why = found is null ? $"its libpython is missing (looked for {string.Join(", ", paths)})" : "";
        return found;
    }

    private void Start()
    {
        nint library = Dlopen(LibraryPath, RTLD_NOW | RTLD_GLOBAL);
        if (library == 0)
        {
            string error = Marshal.PtrToStringUTF8(Dlerror()) ?? "dlopen failed";
            throw new NativeLibraryLoadException("libpython", [$"{LibraryPath} ({error})"],
                $"It belongs to {Executable}; install its shared library (Debian: 'apt-get install libpython{Version.Major}.{Version.Minor}') or use '--python' with another interpreter.");
        }
        // Checked through the export, before any P/Invoke binds to this library for good.
        string loaded = LibraryVersion(library);
        if (!loaded.StartsWith($"{Version.Major}.{Version.Minor}.", StringComparison.Ordinal))
        {
            // Its symbols are in the global namespace now: a second libpython beside them would not be safe.
            _startFailure = new NativeLibraryLoadException("libpython", [$"{LibraryPath} (is Python {loaded.Split(' ')[0]}, the interpreter is {Version})"],
                $"Point {PythonNetVariable} at the libpython of {Executable}, or unset it.");
            throw _startFailure;
        }

        NativeLibraryResolver.Register(CPython.Library, library);
        NoneObject = NativeLibrary.GetExport(library, "_Py_NoneStruct");
        IsLoaded = true;
        if (CPython.Py_IsInitialized() != 0)
        {
            // Someone else's interpreter (a Python host process): its GIL and sys.path are not ours to manage.
            _startFailure = new InvalidOperationException($"{LibraryPath} was already initialized by other code in this process");
            throw _startFailure;
        }

        // Python reads PYTHONHOME from the C environment during Py_InitializeEx (.NET's own copy is not the C one);
        // it makes the standard library come from the probed installation whatever the host program's name is.
        string? previousHome = Marshal.PtrToStringUTF8(Getenv("PYTHONHOME"));
        string home = BasePrefix == BaseExecPrefix ? BasePrefix : $"{BasePrefix}:{BaseExecPrefix}";
        Setenv("PYTHONHOME", home, 1);
        // 0: no Python signal handlers, so Ctrl+C and SIGTERM stay with .NET.
        CPython.Py_InitializeEx(0);
        if (previousHome is null) Unsetenv("PYTHONHOME");
        else Setenv("PYTHONHOME", previousHome, 1);

        try
        {
            // This thread holds the GIL until PyEval_SaveThread.
            string source = PythonModule.ReadResource("mlff_bridge")
                ?? throw new InvalidOperationException("mlff_bridge.py is not compiled into MlffData (EmbeddedResource in MlffData.csproj)");
            Bridge = PythonModule.Execute("mlff_bridge", source, "<MlffData>/mlff_bridge.py");
            using var _ = Bridge.Call("configure", _probeJson, previousHome is not null);
        }
        catch (Exception e)
        {
            _startFailure = e;
            throw;
        }
        finally
        {
            // Released for good: from now on any thread takes the GIL with PyGILState_Ensure (GilScope). The main
            // thread state stays with this thread; we never restore it, as we never finalize.
            MainThreadState = CPython.PyEval_SaveThread();
        }
    }

    private static unsafe string LibraryVersion(nint library)
    {
        var getVersion = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(library, "Py_GetVersion");
        return Marshal.PtrToStringUTF8((nint)getVersion()) ?? "";
    }

    private bool IsSameAs(string requestedPath)
    {
        string? path = requestedPath.Contains('/') ? Path.GetFullPath(requestedPath) : FindOnPath(requestedPath, Environment.GetEnvironmentVariable);
        return path is not null && (path == FullPath(RequestedAs) || path == FullPath(Executable));
    }

    private static string? FindOnPath(string name, Func<string, string?> environment) =>
        (environment("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(p => File.Exists(p) && IsExecutable(p));

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    // Paths are compared unresolved: a venv's bin/python is a symlink to the base interpreter, yet another environment.
    private static string FullPath(string path) => path.Contains('/') ? Path.GetFullPath(path) : path;

    /// <inheritdoc />
    public override string ToString() => $"Python {Version} ({Executable}, {LibraryPath}), ASE {AseVersion}";

    // libc: NativeLibrary.Load opens with RTLD_LOCAL, which hides CPython's symbols from numpy's extension modules.
    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Dlopen(string path, int flags);

    [LibraryImport("libc", EntryPoint = "dlerror")]
    private static partial nint Dlerror();

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Getenv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unsetenv(string name);
}
