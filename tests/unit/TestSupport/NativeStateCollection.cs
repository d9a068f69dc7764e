namespace MlffData.UnitTests.TestSupport;

/// <summary>
/// Tests that touch libhdf5's process-wide state (open-id counts, the error stack) run one at a time,
/// as PureHDF's SharedHdf5StateCollection does.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeStateCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "native HDF5 state";
}
