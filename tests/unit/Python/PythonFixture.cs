using MlffData.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Python;

/// <summary>Starts Debian's Python once for the test process and loads the tests' helper module (bridge_cases.py).</summary>
public sealed class PythonFixture
{
    /// <summary>Starts the interpreter; a missing piece fails every Python test with the reason.</summary>
    public PythonFixture()
    {
        Interpreter = PythonInterpreter.Get(PythonScript.Interpreter);
        string path = RepoPaths.Of("tests", "unit", "Python", "bridge_cases.py");
        using var gil = GilScope.Enter();
        Cases = PythonModule.FromSource("bridge_cases", File.ReadAllText(path), path);
    }

    /// <summary>The started interpreter.</summary>
    public PythonInterpreter Interpreter { get; }

    /// <summary>The helper module of tests/unit/Python/bridge_cases.py.</summary>
    public PythonModule Cases { get; }

    /// <summary>sys.getrefcount of bridge_cases.SENTINEL, less the call's own reference.</summary>
    public long SentinelRefCount()
    {
        using var gil = GilScope.Enter();
        using var count = Cases.Call("sentinel_refcount");
        return count.AsLong();
    }
}
