using System.Text.Json;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Converters;

/// <summary>
/// Runs safe_pickle_cases.py once for all of <see cref="SafePickleTests"/> (starting Python with numpy and ASE for
/// every case would cost seconds each): the outcome of each case, and whether the attacks' canary file exists.
/// </summary>
public sealed class SafePickleCases : IDisposable
{
    private readonly TempDirectory _dir = new();

    public SafePickleCases()
    {
        string output = PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Converters", "safe_pickle_cases.py"),
            RepoPaths.Of("src", "MlffData", "PythonScripts"), _dir.Path,
            RepoPaths.Of("data", "samples", "reference_930.pkl"), RepoPaths.Of("data", "samples", "reference_930.h5"));
        using var doc = JsonDocument.Parse(output);
        Results = doc.RootElement.GetProperty("results").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Canary = doc.RootElement.GetProperty("canary").GetBoolean();
    }

    /// <summary>Case name → "ok" or "ExceptionType: message".</summary>
    public IReadOnlyDictionary<string, string> Results { get; }

    /// <summary>Whether any attack created its canary file.</summary>
    public bool Canary { get; }

    public void Dispose() => _dir.Dispose();
}
