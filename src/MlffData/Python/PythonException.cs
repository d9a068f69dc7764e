namespace MlffData.Python;

/// <summary>
/// A Python exception raised inside a call from .NET, taken out of the interpreter: <see cref="Exception.Message"/>
/// reads like Python's last traceback line, "ValueError: boom", and <see cref="PythonTraceback"/> holds the whole
/// traceback as <c>traceback.format_exception</c> writes it.
/// </summary>
public class PythonException : Exception
{
    /// <summary>Creates the exception from the fetched Python error.</summary>
    public PythonException(string typeName, string typeModule, string pythonMessage, string pythonTraceback)
        : base(pythonMessage.Length > 0 ? $"{typeName}: {pythonMessage}" : typeName)
    {
        TypeName = typeName;
        TypeModule = typeModule;
        PythonMessage = pythonMessage;
        PythonTraceback = pythonTraceback;
    }

    /// <summary>The Python exception type's qualified name, e.g. "ValueError" or "LabelError".</summary>
    public string TypeName { get; }

    /// <summary>The module defining the type, e.g. "builtins" or "ase_frames"; tells apart two types of one name.</summary>
    public string TypeModule { get; }

    /// <summary>str() of the exception, e.g. "boom"; empty when it has no message.</summary>
    public string PythonMessage { get; }

    /// <summary>The formatted traceback, from "Traceback (most recent call last):" to the "Type: message" line.</summary>
    public string PythonTraceback { get; }

    /// <inheritdoc />
    public override string ToString() =>
        PythonTraceback.Length == 0 ? base.ToString() : $"{base.ToString()}{Environment.NewLine}--- Python ---{Environment.NewLine}{PythonTraceback}";
}
