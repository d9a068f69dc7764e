namespace MlffData.UnitTests.TestSupport;

/// <summary>Locates the repository (the directory holding MlffDistiller.sln) from the test assembly.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MlffDistiller.sln"))) return dir.FullName;
        throw new InvalidOperationException($"MlffDistiller.sln not found above {AppContext.BaseDirectory}");
    });

    /// <summary>The repository root.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path relative to the repository root.</summary>
    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);
}
