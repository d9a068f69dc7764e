using System.Text.Json;
using MlffData.Python;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Python;

/// <summary>Calling into modules: ASE's real structures, exceptions with tracebacks, keywords, our embedded sources.</summary>
[Collection(PythonCollection.Name)]
public sealed class PythonModuleTests
{
    private readonly PythonFixture _python;

    public PythonModuleTests(PythonFixture python) => _python = python;

    [Fact]
    public void Call_BulkCopper_ArraysEqualWhatPythonPrints()
    {
        var expected = JsonDocument.Parse(PythonScript.Run("""
            import json
            from ase.build import bulk
            a = bulk("Cu", cubic=True)
            print(json.dumps({"numbers": a.numbers.tolist(), "positions": a.positions.ravel().tolist(),
                              "cell": a.cell.array.ravel().tolist(), "pbc": a.pbc.tolist(), "volume": a.get_volume()}))
            """)).RootElement;

        using var gil = GilScope.Enter();
        using var result = _python.Cases.Call("bulk_arrays", "Cu", true);
        using var numbers = result.GetItem(0);
        using var positions = result.GetItem(1);
        using var cell = result.GetItem(2);
        using var pbc = result.GetItem(3);
        using var volume = result.GetItem(4);

        result.Length.Should().Be(5);
        numbers.ReadArray<long>().Should().Equal(expected.GetProperty("numbers").EnumerateArray().Select(e => e.GetInt64()));
        positions.ReadArray<double>().Should().Equal(expected.GetProperty("positions").EnumerateArray().Select(e => e.GetDouble()));
        cell.ReadArray<double>().Should().Equal(expected.GetProperty("cell").EnumerateArray().Select(e => e.GetDouble()));
        pbc.ReadArray<bool>().Should().Equal(expected.GetProperty("pbc").EnumerateArray().Select(e => e.GetBoolean()));
        volume.AsDouble().Should().Be(expected.GetProperty("volume").GetDouble());
        numbers.ReadArray<long>().Should().Equal(29, 29, 29, 29);
    }

    [Fact]
    public void Call_RaisingFunction_ThrowsPythonExceptionWithTypeMessageAndTraceback()
    {
        using var gil = GilScope.Enter();

        var act = () => _python.Cases.Call("boom");

        var e = act.Should().Throw<PythonException>().Which;
        e.TypeName.Should().Be("ValueError");
        e.TypeModule.Should().Be("builtins");
        e.PythonMessage.Should().Be("boom");
        e.Message.Should().Be("ValueError: boom");
        e.PythonTraceback.Should().StartWith("Traceback (most recent call last):")
            .And.Contain("bridge_cases.py").And.Contain("in boom").And.Contain("raise ValueError(\"boom\")")
            .And.EndWith("ValueError: boom\n");
        e.ToString().Should().Contain("in boom");
    }

    [Fact]
    public void Call_AfterAnException_NoErrorIsLeftPending()
    {
        using var gil = GilScope.Enter();
        var act = () => _python.Cases.Call("boom");
        act.Should().Throw<PythonException>();

        using var result = _python.Cases.Call("describe", 1);

        result.AsString().Should().Be("int:1");
    }

    [Fact]
    public void Call_MissingFunction_ThrowsAttributeError()
    {
        using var gil = GilScope.Enter();

        var act = () => _python.Cases.Call("no_such_function");

        act.Should().Throw<PythonException>().Which.TypeName.Should().Be("AttributeError");
    }

    [Fact]
    public void Call_PositionalAndKeywordArguments_ConvertToPythonTypes()
    {
        using var gil = GilScope.Enter();
        var keywords = new Dictionary<string, object?> { ["flag"] = false, ["nothing"] = null, ["data"] = new byte[] { 0, 255 } };

        using var result = _python.Cases.Call("describe", ["Å\0b", 7, 1L << 40, 0.1, 2.5f, true], keywords);

        result.AsString().Should().Be(
            "str:'Å\\x00b' int:7 int:1099511627776 float:0.1 float:2.5 bool:True data=bytes:b'\\x00\\xff' flag=bool:False nothing=NoneType:None");
    }

    [Fact]
    public void Call_UnsupportedArgument_ThrowsArgumentException()
    {
        using var gil = GilScope.Enter();

        var act = () => _python.Cases.Call("describe", new DateTime(2024, 1, 1));

        act.Should().Throw<ArgumentException>().WithMessage("*DateTime*");
    }

    [Fact]
    public void Import_NumpyAndAse_WorkWithNumpysCExtensions()
    {
        using var gil = GilScope.Enter();
        var numpy = PythonModule.Import("numpy");
        using var version = numpy.GetAttr("__version__");
        using var extension = _python.Cases.Call("numpy_extension_file");
        var build = PythonModule.Import("ase.build");
        using var atoms = build.Call("molecule", "H2O");
        using var count = atoms.GetAttr("__len__").Call();

        // numpy's extension modules do not link libpython: they import only because it was opened RTLD_GLOBAL.
        version.AsString().Should().StartWith("1.24");
        extension.AsString().Should().EndWith(".so");
        count.AsLong().Should().Be(3);
    }

    [Fact]
    public void Import_MissingModule_ThrowsModuleNotFoundError()
    {
        using var gil = GilScope.Enter();

        var act = () => PythonModule.Import("no_such_module_here");

        act.Should().Throw<PythonException>().Which.Message.Should().Be("ModuleNotFoundError: No module named 'no_such_module_here'");
    }

    [Fact]
    public void FromSource_TracebackShowsLinesOfSourceThatIsNoFile()
    {
        using var gil = GilScope.Enter();
        var module = PythonModule.FromSource("inline_cases", "def fail(key):\n    return {}[key]\n", "<tests>/inline_cases.py");

        var act = () => module.Call("fail", "k");

        var e = act.Should().Throw<PythonException>().Which;
        e.Message.Should().Be("KeyError: 'k'");
        e.PythonTraceback.Should().Contain("File \"<tests>/inline_cases.py\", line 2, in fail").And.Contain("return {}[key]");
    }

    [Fact]
    public void FromSource_SameNameOtherSource_ThrowsInvalidOperation()
    {
        using var gil = GilScope.Enter();
        PythonModule.FromSource("twice_cases", "X = 1\n", "<tests>/twice_cases.py");

        var again = PythonModule.FromSource("twice_cases", "X = 1\n", "<tests>/twice_cases.py");
        var act = () => PythonModule.FromSource("twice_cases", "X = 2\n", "<tests>/twice_cases.py");

        using var x = again.GetAttr("X");
        x.AsLong().Should().Be(1);
        act.Should().Throw<InvalidOperationException>().WithMessage("*twice_cases*other source*");
    }

    [Fact]
    public void FromSource_SyntaxError_ThrowsPythonException()
    {
        using var gil = GilScope.Enter();

        var act = () => PythonModule.FromSource("broken_cases", "def (:\n", "<tests>/broken_cases.py");

        act.Should().Throw<PythonException>().Which.TypeName.Should().Be("SyntaxError");
    }

    [Fact]
    public void FromResource_OurSources_AreCompiledInAndImportOnce()
    {
        using var gil = GilScope.Enter();

        var first = PythonModule.FromResource("ase_frames");
        var second = PythonModule.FromResource("ase_frames");
        using var iterFrames = first.GetAttr("iter_frames");
        using var sysModules = PythonModule.Import("sys").GetAttr("modules");
        using var registered = sysModules.GetItem("ase_frames");

        PythonModule.ResourceNames.Should().Contain(["ase_frames", "safe_pickle", "mlff_bridge"]);
        second.Should().BeSameAs(first);
        registered.Address.Should().Be(first.Handle.Address);
    }

    [Fact]
    public void FromResource_UnknownName_ThrowsArgumentExceptionListingSources()
    {
        using var gil = GilScope.Enter();

        var act = () => PythonModule.FromResource("no_such_source");

        act.Should().Throw<ArgumentException>().WithMessage("*no_such_source.py*ase_frames*");
    }
}
