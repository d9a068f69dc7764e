using System.Text.RegularExpressions;
using MlffData.Python;

namespace MlffData.Converters;

/// <summary>
/// A teacher calculator cannot be made: an unknown preset, a missing Python package (<see cref="Package"/> names it,
/// and the message says to install it into the interpreter used), arguments the calculator refuses, or a device that
/// <c>--strict-device</c> will not replace. The message is meant for the user as it is; the Python traceback is the
/// inner <see cref="PythonException"/>.
/// </summary>
public sealed partial class TeacherSetupException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="spec">The calculator spec, e.g. "orb-v2".</param>
    /// <param name="message">The whole message for the user.</param>
    /// <param name="package">The Python package to install, when one is missing.</param>
    /// <param name="inner">The Python error with its traceback.</param>
    public TeacherSetupException(string spec, string message, string? package = null, PythonException? inner = null)
        : base(message, inner)
    {
        Spec = spec;
        Package = package;
    }

    /// <summary>The calculator spec, e.g. "orb-v2".</summary>
    public string Spec { get; }

    /// <summary>The pip name of the missing Python package (e.g. "orb-models", "mace-torch"), or null when nothing is missing.</summary>
    public string? Package { get; }

    /// <summary>The exception for what teacher.make raised: its own TeacherSetupError as worded, anything else wrapped.</summary>
    internal static TeacherSetupException From(string spec, PythonException e)
    {
        if (e is { TypeName: "TeacherSetupError", TypeModule: CalculatorLabeler.ModuleName })
        {
            var missing = MissingPackage().Match(e.PythonMessage);
            return new TeacherSetupException(spec, e.PythonMessage, missing.Success ? missing.Groups[1].Value : null, e);
        }
        return new TeacherSetupException(spec, $"calculator '{spec}' could not be made: {e.Message}", null, e);
    }

    // teacher.py's wording: "... needs the Python package orb-models: ..." or "... needs the Python module x, ...".
    [GeneratedRegex(@"needs the Python (?:package|module) ([^\s:,]+)")]
    private static partial Regex MissingPackage();
}
