using MlffData.Hdf5;
using MlffData.Native;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5;

[Collection(NativeStateCollection.Name)]
public sealed class H5FileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    [Fact]
    public void Load_DebianLibrary_Version1_10()
    {
        Hdf5Library.Load();
        Hdf5Library.Version!.Major.Should().Be(1);
        Hdf5Library.Version.Minor.Should().BeGreaterThanOrEqualTo(10);
        Hdf5Library.LoadedFrom.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        var act = () => H5File.Open(_dir.File("missing.h5"));
        act.Should().Throw<FileNotFoundException>().WithMessage("*missing.h5*");
    }

    [Fact]
    public void Open_NotHdf5_ThrowsH5ExceptionWithLibraryMessage()
    {
        string path = _dir.File("text.h5");
        File.WriteAllText(path, "this is not an HDF5 file");
        var act = () => H5File.Open(path);
        var e = act.Should().Throw<H5Exception>().Which;
        e.Function.Should().Be("H5Fopen");
        e.ObjectPath.Should().Be(path);
        // libhdf5's own words for a file without the HDF5 signature.
        e.Message.Should().Contain("unable to open file").And.Contain("file signature not found");
    }

    [Fact]
    public void Create_Exclusive_ExistingFile_Throws()
    {
        string path = _dir.File("a.h5");
        H5File.Create(path).Dispose();
        var act = () => H5File.Create(path, overwrite: false);
        act.Should().Throw<H5Exception>().Which.Function.Should().Be("H5Fcreate");
    }

    [Fact]
    public void OpenGroup_Missing_ThrowsObjectNotFound()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        var act = () => file.OpenGroup("nope");
        act.Should().Throw<H5ObjectNotFoundException>().Which.ObjectPath.Should().Be("/nope");
    }

    [Fact]
    public void Contains_NestedPathWithMissingParent_IsFalseNotAnError()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using (var g = file.CreateGroup("a")) { }
        file.Contains("a").Should().BeTrue();
        file.Contains("a/b").Should().BeFalse();
        file.Contains("x/y/z").Should().BeFalse();
        file.KindOf("a").Should().Be("group");
        file.KindOf("x").Should().BeNull();
    }

    [Fact]
    public void MemberNames_ListsGroupsAndDatasetsInNameOrder()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        using (file.CreateGroup("zeta")) { }
        using (file.CreateDataset<double>("alpha", [3], 4)) { }
        file.MemberNames().Should().Equal("alpha", "zeta");
        file.KindOf("alpha").Should().Be("dataset");
    }

    [Fact]
    public void ObjectCount_AfterDispose_IsZero()
    {
        using (var file = H5File.Create(_dir.File("a.h5")))
        using (var g = file.CreateGroup("g"))
        using (var d = g.CreateDataset<long>("d", [], 8))
        {
            d.Append([1L, 2L]);
            H5File.OpenObjectCount().Should().BeGreaterThan(0);
        }
        H5File.OpenObjectCount().Should().Be(0);
    }
}
