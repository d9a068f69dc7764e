namespace MlffData.Python;

/// <summary>
/// No interpreter that can be embedded and can import ASE was found: the message lists each interpreter tried with
/// the reason it was refused, then how to fix it.
/// </summary>
public sealed class PythonNotFoundException : Exception
{
    /// <summary>What to do about it, the last part of the message.</summary>
    public const string Fix =
        "Install ASE for the system Python with 'apt-get install python3-ase' (it brings numpy), or name an interpreter " +
        "that can 'import ase' with '--python /path/to/python' (or the " + PythonInterpreter.PathVariable + " environment variable); " +
        "it must be CPython 3.8 or newer built with a shared libpython.";

    /// <summary>Creates the exception from the refused candidates, in the order they were tried.</summary>
    public PythonNotFoundException(IReadOnlyList<string> tried)
        : base($"No usable Python interpreter with ASE was found. Tried:{Environment.NewLine}" +
               string.Concat(tried.Select(t => $"  {t}{Environment.NewLine}")) + Fix)
    {
        Tried = tried;
    }

    /// <summary>Each candidate as "path (how it was chosen): why it was refused".</summary>
    public IReadOnlyList<string> Tried { get; }
}
