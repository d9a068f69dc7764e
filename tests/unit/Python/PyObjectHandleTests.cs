using System.Runtime.CompilerServices;
using MlffData.Python;

namespace MlffData.UnitTests.Python;

/// <summary>Reading Python values into .NET: scalars, strings, buffers without a Python object per item, iterators.</summary>
[Collection(PythonCollection.Name)]
public sealed class PyObjectHandleTests
{
    private readonly PythonFixture _python;

    public PyObjectHandleTests(PythonFixture python) => _python = python;

    [Fact]
    public void AsString_NonAscii_RoundTrips()
    {
        using var gil = GilScope.Enter();
        using var text = _python.Cases.Call("text");

        text.AsString().Should().Be("Cu – Å³");
        text.TypeName.Should().Be("str");
    }

    [Fact]
    public void AsLong_BeyondInt64_ThrowsOverflowError()
    {
        using var gil = GilScope.Enter();
        using var big = _python.Cases.Call("big_int");

        var act = () => big.AsLong();

        act.Should().Throw<PythonException>().Which.TypeName.Should().Be("OverflowError");
    }

    [Fact]
    public void AsDouble_NotANumber_ThrowsTypeError()
    {
        using var gil = GilScope.Enter();
        using var text = _python.Cases.Call("text");

        var act = () => text.AsDouble();

        act.Should().Throw<PythonException>().Which.TypeName.Should().Be("TypeError");
    }

    [Fact]
    public void From_None_IsNone()
    {
        using var gil = GilScope.Enter();
        using var none = PyObjectHandle.From(null);
        using var one = PyObjectHandle.From(1);

        none.IsNone.Should().BeTrue();
        one.IsNone.Should().BeFalse();
        none.AsBool().Should().BeFalse();
    }

    [Fact]
    public void ReadArray_Float64Ndarray_ReadsThroughTheBufferProtocol()
    {
        using var gil = GilScope.Enter();
        using var array = _python.Cases.Call("float64_array");

        array.ReadArray<double>().Should().Equal(0.0, 0.5, 1.0, 1.5, 2.0, 2.5);
    }

    [Fact]
    public void CopyTo_Span_CopiesAndCounts()
    {
        using var gil = GilScope.Enter();
        using var array = _python.Cases.Call("float64_array");
        var destination = new double[8];

        int count = array.CopyTo<double>(destination);

        count.Should().Be(6);
        destination.Should().Equal(0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 0.0, 0.0);
    }

    [Fact]
    public void CopyTo_ShortSpan_ThrowsArgumentException()
    {
        using var gil = GilScope.Enter();
        using var array = _python.Cases.Call("float64_array");

        var act = () => array.CopyTo<double>(new double[5]);

        act.Should().Throw<ArgumentException>().WithMessage("*6 items*room for 5*");
    }

    [Fact]
    public void ReadArray_WrongItemType_ThrowsInvalidCast()
    {
        using var gil = GilScope.Enter();
        using var array = _python.Cases.Call("int32_array");

        var asDouble = () => array.ReadArray<double>();
        var asLong = () => array.ReadArray<long>();

        asDouble.Should().Throw<InvalidCastException>().WithMessage("*format 'i'*Double*");
        asLong.Should().Throw<InvalidCastException>();
        array.ReadArray<int>().Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void ReadArray_NonContiguous_ThrowsNumpysError()
    {
        using var gil = GilScope.Enter();
        using var array = _python.Cases.Call("strided_array");

        var act = () => array.ReadArray<double>();

        act.Should().Throw<PythonException>().Which.Message.Should().Be("ValueError: ndarray is not C-contiguous");
    }

    [Fact]
    public void ReadBytes_NotABuffer_ThrowsTypeError()
    {
        using var gil = GilScope.Enter();
        using var text = _python.Cases.Call("text");

        var act = () => text.ReadBytes();

        act.Should().Throw<PythonException>().Which.TypeName.Should().Be("TypeError");
    }

    [Fact]
    public void TryNext_Generator_YieldsEachFrameThenEnds()
    {
        using var gil = GilScope.Enter();
        using var generator = _python.Cases.Call("frames", 3);
        using var iterator = generator.GetIterator();
        var energies = new List<double>();
        var positions = new List<double[]>();

        while (iterator.TryNext(out var frame))
        {
            using (frame)
            {
                using var energy = frame.GetItem("energy");
                using var xyz = frame.GetItem("positions");
                frame.TryGetItem("stress", out var stress).Should().BeFalse();
                stress.Should().BeNull();
                energies.Add(energy.AsDouble());
                positions.Add(xyz.ReadArray<double>());
            }
        }

        energies.Should().Equal(0.0, -1.5, -3.0);
        positions[2].Should().Equal(2, 2, 2, 2, 2, 2);
    }

    [Fact]
    public void TryNext_GeneratorRaises_ThrowsPythonException()
    {
        using var gil = GilScope.Enter();
        using var generator = _python.Cases.Call("frames", 3, 1);
        using var iterator = generator.GetIterator();
        iterator.TryNext(out var first).Should().BeTrue();
        first!.Dispose();

        PyObjectHandle? second = null;
        var act = () => iterator.TryNext(out second);

        act.Should().Throw<PythonException>().Which.Message.Should().Be("RuntimeError: frame 1 is broken");
        second.Should().BeNull();
    }

    [Fact]
    public void GetItem_MissingKeyOrIndex_ThrowsKeyAndIndexError()
    {
        using var gil = GilScope.Enter();
        using var result = _python.Cases.Call("bulk_arrays", "Cu", false);

        var index = () => result.GetItem(9);
        var key = () => result.GetItem("numbers");

        index.Should().Throw<PythonException>().Which.TypeName.Should().Be("IndexError");
        key.Should().Throw<PythonException>().Which.TypeName.Should().Be("TypeError");
    }

    [Fact]
    public void Call_WithoutGil_ThrowsInvalidOperation()
    {
        PyObjectHandle sentinel;
        using (GilScope.Enter())
            sentinel = _python.Cases.Call("sentinel");

        var act = () => sentinel.Str();

        act.Should().Throw<InvalidOperationException>().WithMessage("*GilScope.Enter*");
        // Disposing outside a scope takes the GIL for the Py_DecRef itself.
        sentinel.Dispose();
    }

    [Fact]
    public void Dispose_ManyHandles_ReferenceCountStaysFlat()
    {
        long before = _python.SentinelRefCount();

        using (GilScope.Enter())
        {
            for (int i = 0; i < 10_000; i++)
            {
                using var sentinel = _python.Cases.Call("sentinel");
                using var again = sentinel.NewReference();
                using var args = _python.Cases.Call("describe", sentinel);
            }
        }

        _python.SentinelRefCount().Should().Be(before);
    }

    [Fact]
    public void Dispose_OutsideGilScope_DropsTheReference()
    {
        long before = _python.SentinelRefCount();
        var handles = new List<PyObjectHandle>();
        using (GilScope.Enter())
            for (int i = 0; i < 100; i++)
                handles.Add(_python.Cases.Call("sentinel"));
        _python.SentinelRefCount().Should().Be(before + 100);

        handles.ForEach(h => h.Dispose());

        _python.SentinelRefCount().Should().Be(before);
    }

    [Fact]
    public void Finalizer_QueuesTheReferenceAndNextScopeDropsIt()
    {
        long before = _python.SentinelRefCount();
        Leak(1000);

        // With this thread holding the GIL, a finalizer waiting for it would deadlock here.
        using (GilScope.Enter())
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        _python.SentinelRefCount().Should().Be(before);
        PyObjectHandle.PendingCount.Should().Be(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Leak(int count)
    {
        using var gil = GilScope.Enter();
        for (int i = 0; i < count; i++)
            _python.Cases.Call("sentinel");
    }
}
