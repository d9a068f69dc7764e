using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5;

[Collection(NativeStateCollection.Name)]
public sealed class H5DatasetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    [Fact]
    public void Append_TwoBlocks_RowsAreConcatenated()
    {
        string path = _dir.File("a.h5");
        using (var file = H5File.Create(path))
        using (var d = file.CreateDataset<double>("pos", [3], chunkRows: 2))
        {
            d.Append([1, 2, 3, 4, 5, 6]);
            d.Append([7, 8, 9]);
            d.Rows.Should().Be(3);
        }
        using var reopened = H5File.Open(path);
        using var r = reopened.OpenDataset<double>("pos");
        r.Rows.Should().Be(3);
        r.RowLength.Should().Be(3);
        r.ChunkRows.Should().Be(2);
        r.Read(1, 2).Should().Equal(4, 5, 6, 7, 8, 9);
    }

    [Fact]
    public void Append_PartialRow_ThrowsArgumentException()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using var d = file.CreateDataset<double>("pos", [3], 4);
        var act = () => d.Append([1.0, 2.0]);
        act.Should().Throw<ArgumentException>().WithMessage("*whole number of rows*");
    }

    [Fact]
    public void Read_OutsideExtent_ThrowsArgumentOutOfRange()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using var d = file.CreateDataset<long>("n", [], 4);
        d.Append([1L, 2L]);
        var act = () => d.Read(1, 5);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Resize_Shrink_DropsRows()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using var d = file.CreateDataset<float>("f", [3], 2);
        d.Append([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f]);
        d.Resize(1);
        d.Rows.Should().Be(1);
        d.Read(0, 1).Should().Equal(1f, 2f, 3f);
    }

    [Theory]
    [InlineData(true, false, 0, false)]
    [InlineData(true, false, 4, false)]
    [InlineData(false, true, 0, false)]
    [InlineData(true, false, 9, true)]
    public void Filters_WrittenAndReadBack(bool shuffle, bool lzf, int level, bool fletcher)
    {
        string path = _dir.File("a.h5");
        var pipeline = new H5FilterPipeline(shuffle, level, lzf, fletcher);
        var values = Enumerable.Range(0, 3000).Select(i => Math.Sin(i) * 10).ToArray();
        using (var file = H5File.Create(path))
        using (var d = file.CreateDataset<double>("x", [3], 100, pipeline))
            d.Append(values);
        using var reopened = H5File.Open(path);
        using var r = reopened.OpenDataset<double>("x");
        r.Filters.Should().BeEquivalentTo(pipeline with { OtherFilters = null });
        r.Read(0, r.Rows).Should().Equal(values);
    }

    [Fact]
    public void OpenDataset_WrongElementType_NamesBothTypes()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using (file.CreateDataset<int>("i", [], 4)) { }
        var act = () => file.OpenDataset<long>("i");
        act.Should().Throw<InvalidDataException>().WithMessage("/i has type int32, expected int64");
    }

    [Fact]
    public void Bool_StoredAsH5pyEnum()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using (var d = file.CreateDataset<bool>("b", [3], 4)) d.Append([true, false, true]);
        using var r = file.OpenDataset<bool>("b");
        r.Read(0, 1).Should().Equal(true, false, true);
        using var t = H5Type.Bool();
        t.IsBool.Should().BeTrue();
        t.Describe().Should().Be("bool");
    }
}
