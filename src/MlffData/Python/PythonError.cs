using System.Diagnostics.CodeAnalysis;

namespace MlffData.Python;

/// <summary>
/// The one place a CPython result is checked: a NULL object or a -1 status fetches the pending Python exception,
/// clears it and throws it as a <see cref="PythonException"/> with the type, message and formatted traceback.
/// The caller holds the GIL.
/// </summary>
internal static class PythonError
{
    // Set while an exception is being formatted, so that a failure inside traceback.format_exception cannot recurse.
    [ThreadStatic]
    private static bool _formatting;

    /// <summary>Returns <paramref name="result"/> when it holds an object; throws the pending exception for NULL.</summary>
    internal static PyObjectHandle Check(PyObjectHandle result)
    {
        if (result.IsInvalid)
        {
            result.Dispose();
            Throw();
        }
        return result;
    }

    /// <summary>Returns an int/Py_ssize_t status; throws the pending exception for -1.</summary>
    internal static T Check<T>(T status) where T : System.Numerics.IBinaryInteger<T>
    {
        if (status == -T.One) Throw();
        return status;
    }

    /// <summary>Throws the pending exception when there is one (after an ambiguous -1 from PyLong_AsLongLong and kin).</summary>
    internal static void ThrowIfOccurred()
    {
        if (CPython.PyErr_Occurred() != 0) Throw();
    }

    /// <summary>Throws the pending exception (or a SystemError when a call failed without setting one).</summary>
    [DoesNotReturn]
    internal static void Throw() => throw Fetch();

    /// <summary>Takes the pending exception out of the interpreter (PyErr_Fetch clears it) and describes it.</summary>
    internal static PythonException Fetch()
    {
        CPython.PyErr_Fetch(out nint type, out nint value, out nint traceback);
        if (type == 0)
            return new PythonException("SystemError", "builtins", "a Python C API call failed without setting an exception", "");
        CPython.PyErr_NormalizeException(ref type, ref value, ref traceback);
        using var typeHandle = PyObjectHandle.FromNewReference(type);
        using var valueHandle = value == 0 ? PyObjectHandle.None() : PyObjectHandle.FromNewReference(value);
        using var tracebackHandle = traceback == 0 ? PyObjectHandle.None() : PyObjectHandle.FromNewReference(traceback);

        string typeName = Describe(() => StringAttribute(typeHandle, "__qualname__"), "<unknown type>");
        string module = Describe(() => StringAttribute(typeHandle, "__module__"), "");
        string message = valueHandle.IsNone ? "" : Describe(valueHandle.Str, "<exception str() failed>");
        string text = _formatting ? "" : Describe(() => FormatTraceback(typeHandle, valueHandle, tracebackHandle), "");
        return new PythonException(typeName, module, message, text);
    }

    private static string StringAttribute(PyObjectHandle obj, string name)
    {
        using var attribute = obj.GetAttr(name);
        return attribute.AsString();
    }

    private static string FormatTraceback(PyObjectHandle type, PyObjectHandle value, PyObjectHandle traceback)
    {
        _formatting = true;
        try
        {
            using var module = PythonError.Check(CPython.PyImport_ImportModule("traceback"));
            using var format = module.GetAttr("format_exception");
            using var lines = format.Call(type, value, traceback);
            var text = new System.Text.StringBuilder();
            for (int i = 0, n = lines.Length; i < n; i++)
            {
                using var line = lines.GetItem(i);
                text.Append(line.AsString());
            }
            return text.ToString();
        }
        finally
        {
            _formatting = false;
        }
    }

    // Describing an exception must not throw: a failure here leaves a placeholder and no pending Python error.
    private static string Describe(Func<string> read, string fallback)
    {
        try
        {
            return read();
        }
        catch (PythonException)
        {
            return fallback;
        }
    }
}
