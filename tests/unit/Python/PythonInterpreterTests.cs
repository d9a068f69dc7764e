using MlffData.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Python;

/// <summary>
/// Choosing and starting the interpreter with Debian's real Python 3.11 and ASE 3.22.1: discovery only probes
/// subprocesses, so it is tested with chosen environments while the process keeps the one interpreter it started.
/// </summary>
[Collection(PythonCollection.Name)]
public sealed class PythonInterpreterTests : IClassFixture<PythonVenvs>
{
    private const string DebianLibpython = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";
    private readonly PythonFixture _python;
    private readonly PythonVenvs _venvs;

    public PythonInterpreterTests(PythonFixture python, PythonVenvs venvs)
    {
        _python = python;
        _venvs = venvs;
    }

    // Only PATH comes from the real environment: MLFF_PYTHON or PYTHONNET_PYDLL set by a developer must not change the result.
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value ?? (name == "PATH" ? System.Environment.GetEnvironmentVariable("PATH") : null);

    [Fact]
    public void Discover_Default_FindsSystemPythonWithAseAndLibpython()
    {
        var found = PythonInterpreter.Discover(null, Environment(), PythonInterpreter.SystemPython);

        found.Executable.Should().Be("/usr/bin/python3");
        found.Source.Should().Be("system Python");
        found.Version.Major.Should().Be(3);
        found.Version.Minor.Should().Be(11);
        found.AseVersion.Should().Be("3.22.1");
        found.LibraryPath.Should().Be(DebianLibpython);
        found.SysPath.Should().Contain("/usr/lib/python3/dist-packages").And.NotContain("");
    }

    [Fact]
    public void Discover_RequestedWithoutAse_ThrowsListingItWithFix()
    {
        string python = PythonVenvs.Python(_venvs.WithoutAse);

        var act = () => PythonInterpreter.Discover(python, Environment(), PythonInterpreter.SystemPython);

        var e = act.Should().Throw<PythonNotFoundException>().Which;
        e.Tried.Should().ContainSingle().Which.Should().StartWith($"{python} (--python): Python 3.11")
            .And.Contain("cannot import ase (ModuleNotFoundError: No module named 'ase')");
        e.Message.Should().Contain(python).And.Contain("apt-get install python3-ase").And.Contain("--python /path/to/python");
    }

    [Fact]
    public void Discover_NonexistentPath_ThrowsNamingIt()
    {
        var act = () => PythonInterpreter.Discover("/nonexistent/bin/python3", Environment(), PythonInterpreter.SystemPython);

        act.Should().Throw<PythonNotFoundException>().Which.Tried.Should().Equal("/nonexistent/bin/python3 (--python): not found");
    }

    [Fact]
    public void Discover_MlffPythonVariable_IsExplicitAndNotReplaced()
    {
        var act = () => PythonInterpreter.Discover(null, Environment((PythonInterpreter.PathVariable, "/nonexistent/python")), PythonInterpreter.SystemPython);

        act.Should().Throw<PythonNotFoundException>().Which.Tried.Should().Equal("/nonexistent/python (MLFF_PYTHON): not found");
    }

    [Fact]
    public void Discover_NoCandidateHasAse_ListsEveryOneTried()
    {
        string venvBin = Path.Combine(_venvs.WithoutAse, "bin");

        var act = () => PythonInterpreter.Discover(null, Environment(("PATH", venvBin)), "/nonexistent/python3");

        var e = act.Should().Throw<PythonNotFoundException>().Which;
        e.Tried.Should().HaveCount(2);
        e.Tried[0].Should().Be("/nonexistent/python3 (system Python): not found");
        e.Tried[1].Should().StartWith($"{Path.Combine(venvBin, "python3")} (python3 on PATH): Python 3.11").And.Contain("cannot import ase");
        e.Message.Should().Contain("apt-get install python3-ase");
    }

    [Fact]
    public void Discover_Venv_UsesItsSysPathAndTheBaseLibpython()
    {
        string python = PythonVenvs.Python(_venvs.WithAse);

        var found = PythonInterpreter.Discover(python, Environment(), PythonInterpreter.SystemPython);

        found.Executable.Should().StartWith(_venvs.WithAse);
        found.Prefix.Should().Be(_venvs.WithAse);
        found.BasePrefix.Should().Be("/usr");
        found.LibraryPath.Should().Be(DebianLibpython);
        found.SysPath.Should().Contain(Path.Combine(_venvs.WithAse, "lib", "python3.11", "site-packages"));
        found.AseVersion.Should().Be("3.22.1");
    }

    [Fact]
    public void Discover_PythonNetPydll_FindsTheInterpreterBesideTheLibrary()
    {
        var env = Environment((PythonInterpreter.PythonNetVariable, DebianLibpython), ("PATH", ""));

        var found = PythonInterpreter.Discover(null, env, "/nonexistent/python3");

        found.Source.Should().Be(PythonInterpreter.PythonNetVariable);
        found.RequestedAs.Should().Be("/usr/bin/python3.11");
        found.LibraryPath.Should().Be(DebianLibpython);
        found.AseVersion.Should().Be("3.22.1");
    }

    [Fact]
    public void Get_Started_IsDebianPythonLoadedIntoThisProcess()
    {
        var current = PythonInterpreter.Get();

        current.Should().BeSameAs(_python.Interpreter).And.BeSameAs(PythonInterpreter.Current);
        PythonInterpreter.IsStarted.Should().BeTrue();
        current.Executable.Should().Be("/usr/bin/python3");
        current.AseVersion.Should().Be("3.22.1");
        File.ReadAllText("/proc/self/maps").Should().Contain(DebianLibpython);
    }

    [Fact]
    public void Get_SamePathAgain_ReturnsTheRunningInterpreter()
    {
        PythonInterpreter.Get(PythonScript.Interpreter).Should().BeSameAs(_python.Interpreter);
    }

    [Fact]
    public void Get_OtherInterpreterAfterStart_ThrowsInvalidOperation()
    {
        string python = PythonVenvs.Python(_venvs.WithAse);

        var act = () => PythonInterpreter.Get(python);

        act.Should().Throw<InvalidOperationException>()
            .WithMessage($"*already runs in this process*only one interpreter per process*'{python}'*");
    }

    [Fact]
    public void Start_SysPathAndExecutable_ComeFromTheProbe()
    {
        using var gil = GilScope.Enter();
        var sys = PythonModule.Import("sys");
        using var executable = sys.GetAttr("executable");
        using var path = sys.GetAttr("path");
        var os = PythonModule.Import("os");
        using var environ = os.GetAttr("environ");

        executable.AsString().Should().Be("/usr/bin/python3");
        Enumerable.Range(0, path.Length).Select(i => { using var p = path.GetItem(i); return p.AsString(); })
            .Should().Equal(_python.Interpreter.SysPath);
        environ.TryGetItem("PYTHONHOME", out var home).Should().BeFalse("PYTHONHOME was set only for Py_InitializeEx");
        home?.Dispose();
    }
}
