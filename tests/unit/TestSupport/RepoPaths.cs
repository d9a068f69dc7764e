using System.Runtime.CompilerServices;

namespace MlffData.UnitTests.TestSupport;

/// <summary>
/// Locates the repository (the directory holding MlffDistiller.sln): above the test assembly when the build output
/// sits in the repository's artifacts/, else from where this file was compiled (a build with another ArtifactsPath).
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() => FindRoot());

    /// <summary>The repository root.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path relative to the repository root.</summary>
    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(thisFile) ?? "" })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MlffDistiller.sln"))) return dir.FullName;
        throw new InvalidOperationException($"MlffDistiller.sln not found above {AppContext.BaseDirectory} or {thisFile}");
    }
}
