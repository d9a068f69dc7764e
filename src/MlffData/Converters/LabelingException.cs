using MlffData.Python;

namespace MlffData.Converters;

/// <summary>
/// A teacher calculator failed on a structure (or on a whole batch): names the calculator, the structure and the
/// Python error, e.g. "calculator 'emt': structure 3: NotImplementedError: No EMT-potential for Fe". The Python
/// traceback is the inner <see cref="PythonException"/>.
/// </summary>
public sealed class LabelingException : Exception
{
    /// <summary>Creates the exception; the message reads "calculator 'SPEC': structure N: DETAIL".</summary>
    /// <param name="spec">The calculator spec, e.g. "emt".</param>
    /// <param name="structureIndex">0-based index of the structure in the batch or stream, or null for a whole batch.</param>
    /// <param name="detail">What went wrong, e.g. "ValueError: boom".</param>
    /// <param name="inner">The Python error with its traceback, when there is one.</param>
    public LabelingException(string spec, int? structureIndex, string detail, PythonException? inner = null)
        : base(Format(spec, structureIndex, detail), inner)
    {
        Spec = spec;
        StructureIndex = structureIndex;
        Detail = detail;
    }

    /// <summary>The calculator spec, e.g. "emt" or "/path/calc.py:MyCalculator".</summary>
    public string Spec { get; }

    /// <summary>0-based index of the structure in the batch (<see cref="CalculatorLabeler.LabelBatch"/>) or stream
    /// (<see cref="CalculatorLabeler.LabelAll{T}"/>); null for a single structure or a failure of the whole batch.</summary>
    public int? StructureIndex { get; }

    /// <summary>What went wrong, without the location.</summary>
    public string Detail { get; }

    /// <summary>The Python exception type's name, e.g. "ValueError"; null when the error did not come from Python.</summary>
    public string? PythonType => (InnerException as PythonException)?.TypeName;

    /// <summary>str() of the Python exception; null when the error did not come from Python.</summary>
    public string? PythonMessage => (InnerException as PythonException)?.PythonMessage;

    private static string Format(string spec, int? index, string detail) =>
        index is { } i ? $"calculator '{spec}': structure {i}: {detail}" : $"calculator '{spec}': {detail}";
}
