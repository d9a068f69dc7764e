using MlffData.Hdf5;
using MlffData.Native;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5;

[Collection(NativeStateCollection.Name)]
public sealed class H5AttributesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    [Fact]
    public void Set_EachScalarType_ReadsBackTyped()
    {
        string path = _dir.File("a.h5");
        using (var file = H5File.Create(path))
        using (var g = file.CreateGroup("metadata"))
        {
            g.Attributes.Set("i", 42L);
            g.Attributes.Set("d", -1.5);
            g.Attributes.Set("b", true);
            g.Attributes.Set("s", "orb-v2 ✓ Å");
        }
        using var reopened = H5File.Open(path);
        using var m = reopened.OpenGroup("metadata");
        m.Attributes.Get("i").Should().Be(42L);
        m.Attributes.Get("d").Should().Be(-1.5);
        m.Attributes.Get("b").Should().Be(true);
        m.Attributes.Get("s").Should().Be("orb-v2 ✓ Å");
        m.Attributes.Names.Should().Equal("b", "d", "i", "s");
    }

    [Fact]
    public void Set_ExistingNameWithOtherType_Replaces()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        file.Attributes.Set("x", 1L);
        file.Attributes.Set("x", "text");
        file.Attributes.Get("x").Should().Be("text");
        file.Attributes.Names.Should().Equal("x");
    }

    [Fact]
    public void Get_Missing_ThrowsObjectNotFound()
    {
        using var file = H5File.Create(_dir.File("a.h5"));
        var act = () => file.Attributes.Get("nope");
        act.Should().Throw<H5ObjectNotFoundException>().Which.ObjectPath.Should().Be("/@nope");
    }

    [Fact]
    public void Get_H5pyAttributes_ArraysAndFixedStrings()
    {
        string path = _dir.File("py.h5");
        PythonScript.Run("""
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["arr"] = np.array([1.5, 2.5])
    f.attrs["ints"] = np.array([1, 2, 3], dtype=np.int32)
    f.attrs["fixed"] = np.bytes_("abc")
    f.attrs["flag"] = np.bool_(True)
    f.attrs["f32"] = np.float32(0.5)
""", path);
        using var file = H5File.Open(path);
        file.Attributes.Get("arr").Should().BeEquivalentTo(new[] { 1.5, 2.5 });
        file.Attributes.Get("ints").Should().BeEquivalentTo(new[] { 1L, 2L, 3L });
        file.Attributes.Get("fixed").Should().Be("abc");
        file.Attributes.Get("flag").Should().Be(true);
        file.Attributes.Get("f32").Should().Be(0.5);
    }
}
