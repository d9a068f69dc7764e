using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>Checkpoints and recovery to the last checkpoint, the ground of label's resume.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetWriterCheckpointTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    private string Output => _dir.File("out.h5");

    private WriteOptions Options => Samples.Collecting(_warnings, new WriteOptions { Compression = Compression.Gzip(4) });

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once writers and files are disposed");
        _dir.Dispose();
    }

    [Fact]
    public void Checkpoint_NewFile_RenamesToTargetAndAbortKeepsTheCheckpointedStructures()
    {
        var writer = new HDF5DatasetWriter(Output, options: Options);
        for (int i = 0; i < 7; i++) writer.AddStructure(Samples.Labelled(i));
        File.Exists(Output).Should().BeFalse("nothing is at the target before the first checkpoint");

        writer.Checkpoint(new Dictionary<string, object?> { ["teacher_model"] = "emt" });
        File.Exists(Output).Should().BeTrue();
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
        for (int i = 7; i < 10; i++) writer.AddStructure(Samples.Labelled(i));
        writer.Abort();
        writer.Dispose();

        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(7);
        reader.Metadata["teacher_model"].Should().Be("emt");
        reader[6].Labels.Energy.Should().Be(Samples.Labelled(6).Labels.Energy);
    }

    [Fact]
    public void Checkpoint_ThenMoreAndComplete_EqualsOneUninterruptedWrite()
    {
        string once = _dir.File("once.h5");
        using (var writer = new HDF5DatasetWriter(once, options: Options))
            for (int i = 0; i < 30; i++) writer.AddStructure(Samples.Labelled(i));

        using (var writer = new HDF5DatasetWriter(Output, options: Options))
        {
            for (int i = 0; i < 30; i++)
            {
                writer.AddStructure(Samples.Labelled(i));
                if (i % 7 == 6) writer.Checkpoint();
            }
        }

        var comparison = DatasetComparer.Compare(once, Output, tolerance: 0);
        comparison.Equal.Should().BeTrue(comparison.Detail);
    }

    [Fact]
    public void RecoverToCheckpoint_RowsPastNumStructures_CutBackAndReadable()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options))
            for (int i = 0; i < 5; i++) writer.AddStructure(Samples.Labelled(i));
        // What a killed run leaves: datasets grown past the last checkpoint's num_structures (h5py grows them here).
        PythonScript.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "a") as f:
                for g in ("structures", "labels"):
                    for name, d in f[g].items():
                        d.resize(d.shape[0] + 3, axis=0)
            """, Output);
        FluentActions.Invoking(() => new HDF5DatasetReader(Output)).Should().Throw<DatasetFormatException>();

        var (structures, atoms, dropped) = HDF5DatasetWriter.RecoverToCheckpoint(Output);

        structures.Should().Be(5);
        dropped.Should().Be(3);
        using var reader = new HDF5DatasetReader(Output);
        reader.Count.Should().Be(5);
        reader.NumAtoms.Should().Be(atoms);
    }

    [Fact]
    public void RecoverToCheckpoint_CompletedFile_Unchanged()
    {
        using (var writer = new HDF5DatasetWriter(Output, options: Options))
            for (int i = 0; i < 4; i++) writer.AddStructure(Samples.Labelled(i));
        string copy = _dir.File("copy.h5");
        File.Copy(Output, copy);

        HDF5DatasetWriter.RecoverToCheckpoint(Output).Dropped.Should().Be(0);

        DatasetComparer.Compare(copy, Output, tolerance: 0).Equal.Should().BeTrue();
    }
}
