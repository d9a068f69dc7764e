using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Python;

/// <summary>
/// Two venvs of Debian's Python, made once per test class: one that sees the system's ASE
/// (--system-site-packages) and one that does not, so refusing an interpreter without ASE needs nothing installed.
/// </summary>
public sealed class PythonVenvs : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <summary>Creates both venvs (without pip, which Debian ships separately).</summary>
    public PythonVenvs()
    {
        WithAse = Create("with-ase", systemSitePackages: true);
        WithoutAse = Create("without-ase", systemSitePackages: false);
    }

    /// <summary>The venv that can import ASE through the system site-packages.</summary>
    public string WithAse { get; }

    /// <summary>The venv that cannot import ASE.</summary>
    public string WithoutAse { get; }

    /// <summary>A venv's interpreter.</summary>
    public static string Python(string venv) => Path.Combine(venv, "bin", "python3");

    private string Create(string name, bool systemSitePackages)
    {
        string dir = _dir.File(name);
        PythonScript.Run("import sys, venv\nvenv.create(sys.argv[1], with_pip=False, system_site_packages=sys.argv[2] == '1')",
            dir, systemSitePackages ? "1" : "0");
        return dir;
    }

    /// <inheritdoc />
    public void Dispose() => _dir.Dispose();
}
