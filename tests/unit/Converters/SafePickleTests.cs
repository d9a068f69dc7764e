namespace MlffData.UnitTests.Converters;

/// <summary>
/// The safe ASE-pickle loader (src/MlffData/PythonScripts/safe_pickle.py) with Debian's real CPython 3.11, numpy and
/// ASE 3.22: benign pickles of every protocol load exactly as pickle.loads does, and the attacks measured in
/// RELIABILITY.md section 4 are refused with nothing run (a canary file every attack tries to create stays absent).
/// </summary>
public sealed class SafePickleTests(SafePickleCases cases) : IClassFixture<SafePickleCases>
{
    private string Outcome(string name) => cases.Results[name];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Benign_ASE_pickles_of_every_protocol_load_exactly_as_pickle_does(int protocol) =>
        Outcome($"benign_protocol_{protocol}").Should().Be("ok");

    [Fact]
    public void The_reference_pickle_loads_safely_and_equals_the_reference_file() =>
        Outcome("reference_pickle").Should().Be("ok");

    [Theory]
    [InlineData("os_system_protocol_0", "UnsafePickleError: global 'posix.system' is forbidden*")]
    [InlineData("os_system_protocol_2", "UnsafePickleError: global 'posix.system' is forbidden*")]
    [InlineData("os_system_protocol_4", "UnsafePickleError: global 'posix.system' is forbidden*")]
    [InlineData("os_system_protocol_5", "UnsafePickleError: global 'posix.system' is forbidden*")]
    [InlineData("eval", "UnsafePickleError: global 'builtins.eval' is forbidden*")]
    [InlineData("getattr_chain", "UnsafePickleError: getattr(type, '__init__') is not allowed*")]
    [InlineData("zlib_codec", "UnsafePickleError: _codecs.encode(..., 'zlib') is not allowed*")]
    [InlineData("memo_bomb", "UnsafePickleError: memo index 134217728 at byte 3 skips ahead of 0*")]
    [InlineData("persistent_id", "UnsafePickleError: opcode BINPERSID*")]
    [InlineData("other_constraint", "UnsafePickleError: global 'ase.constraints.FixBondLengths' is forbidden*")]
    public void Attacks_are_refused_naming_the_module_and_callable(string attack, string expected)
    {
        Outcome(attack).Should().Match(expected);
        Outcome(attack).Should().Contain("--allow-unsafe-pickle");
        cases.Canary.Should().BeFalse("no attack may run any code");
    }

    [Theory]
    [InlineData("bytearray8_657GB", "UnpicklingError: not a valid pickle: expected 657000000000 bytes in a bytearray8, but only 3 remain")]
    [InlineData("truncated", "UnpicklingError: not a valid pickle: pickle exhausted before seeing STOP")]
    [InlineData("not_a_pickle", "UnpicklingError: not a valid pickle: *")]
    [InlineData("something_else", "FrameError: structure 0: atoms: the pickle holds a dict, expected an ase.Atoms or a list of them")]
    [InlineData("list_with_other", "FrameError: structure 1: atoms: is a int, expected ase.Atoms")]
    [InlineData("emt_calculator_unsafe", "FrameError: structure 0: calc: is a EMT, expected a SinglePointCalculator")]
    [InlineData("object_array_positions", "FrameError: structure 0: positions: is object, expected a numeric array")]
    public void Malformed_or_unexpected_pickles_are_clear_errors(string name, string expected) =>
        Outcome(name).Should().Match(expected);
}
