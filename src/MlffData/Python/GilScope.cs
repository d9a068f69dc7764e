namespace MlffData.Python;

/// <summary>
/// Holds the GIL for one scope on the current thread: <c>using var gil = GilScope.Enter();</c> around every call into
/// Python (PyGILState_Ensure ... PyGILState_Release). Scopes nest, any .NET thread may enter one, and as a ref struct
/// a scope cannot outlive its stack frame or move to another thread across an await.
/// </summary>
public ref struct GilScope
{
    private readonly int _state;
    private bool _held;

    private GilScope(int state)
    {
        _state = state;
        _held = true;
    }

    /// <summary>True when the current thread holds the GIL.</summary>
    public static bool IsHeld => PythonInterpreter.IsLoaded && CPython.PyGILState_Check() == 1;

    /// <summary>Takes the GIL for this thread (waiting for another thread to let go of it).</summary>
    /// <exception cref="InvalidOperationException">Python has not been started with <see cref="PythonInterpreter.Get"/>.</exception>
    public static GilScope Enter()
    {
        if (!PythonInterpreter.IsStarted)
            throw new InvalidOperationException("Python is not started: call PythonInterpreter.Get(...) before GilScope.Enter()");
        int state = CPython.PyGILState_Ensure();
        // References whose handles were finalized without the GIL are dropped now that we hold it.
        PyObjectHandle.ReleasePending();
        return new GilScope(state);
    }

    /// <summary>Gives the GIL back as it was before <see cref="Enter"/>.</summary>
    public void Dispose()
    {
        if (!_held) return;
        _held = false;
        CPython.PyGILState_Release(_state);
    }

    /// <summary>Throws unless the current thread holds the GIL: calling CPython without it corrupts the interpreter.</summary>
    internal static void ThrowIfNotHeld()
    {
        if (!IsHeld)
            throw new InvalidOperationException("This call into Python needs the GIL: wrap it in 'using var gil = GilScope.Enter();'");
    }
}
