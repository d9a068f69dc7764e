namespace MlffData.UnitTests.Python;

/// <summary>
/// Every test that calls into Python: CPython allows one interpreter per process, so they share the one that
/// <see cref="PythonFixture"/> starts (as pythonnet's GlobalTestsSetup does).
/// </summary>
[CollectionDefinition(Name)]
public sealed class PythonCollection : ICollectionFixture<PythonFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "embedded Python";
}
