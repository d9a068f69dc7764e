using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;

namespace MlffData.Python;

/// <summary>
/// One strong reference to a Python object (a <c>PyObject*</c>), dropped exactly once with Py_DecRef. Everything
/// that reads or calls the object needs the GIL: use it inside <c>using var gil = GilScope.Enter();</c>, which is
/// checked. Disposing without the GIL takes it for the Py_DecRef; the finalizer never blocks on the GIL but queues
/// the pointer, and the next <see cref="GilScope.Enter"/> releases it (as pythonnet's Finalizer does).
/// </summary>
public sealed class PyObjectHandle : SafeHandle
{
    // Pointers whose handles were finalized; drained under the GIL by GilScope.Enter.
    private static readonly ConcurrentQueue<nint> PendingDecRefs = new();
    private bool _finalizing;

    /// <summary>Creates an invalid handle that P/Invoke fills in with a new reference (NULL stays invalid).</summary>
    public PyObjectHandle() : base(0, ownsHandle: true) { }

    private PyObjectHandle(nint obj) : base(0, ownsHandle: true) => SetHandle(obj);

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>True when the object is Python's None. Needs no GIL.</summary>
    public bool IsNone => handle != 0 && handle == PythonInterpreter.NoneObject;

    /// <summary>The raw <c>PyObject*</c>, for diagnostics.</summary>
    public nint Address => handle;

    /// <summary>The Python type's name, e.g. "ndarray". Needs the GIL.</summary>
    /// <exception cref="PythonException">The type has no readable name.</exception>
    public string TypeName
    {
        get
        {
            using var type = GetAttr("__class__");
            using var name = type.GetAttr("__name__");
            return name.AsString();
        }
    }

    /// <summary>len(obj): the number of items of a sequence, mapping or bytes. Needs the GIL.</summary>
    /// <exception cref="PythonException">The object has no length (TypeError).</exception>
    public int Length
    {
        get
        {
            GilScope.ThrowIfNotHeld();
            return checked((int)PythonError.Check(CPython.PyObject_Size(this)));
        }
    }

    /// <summary>Takes ownership of a new reference returned as a raw pointer (PyErr_Fetch, PyErr_NormalizeException).</summary>
    internal static PyObjectHandle FromNewReference(nint obj) => new(obj);

    /// <summary>Takes a new reference to a borrowed pointer (PyList_GetItem, Py_None).</summary>
    internal static PyObjectHandle FromBorrowed(nint borrowed)
    {
        CPython.Py_IncRef(borrowed);
        return new PyObjectHandle(borrowed);
    }

    /// <summary>A new reference to None. Needs the GIL.</summary>
    public static PyObjectHandle None()
    {
        GilScope.ThrowIfNotHeld();
        return FromBorrowed(PythonInterpreter.NoneObject);
    }

    /// <summary>
    /// Converts a .NET value into a new Python object: null to None, <see cref="string"/> to str,
    /// <see cref="bool"/> to bool, <see cref="int"/>/<see cref="long"/> to int, <see cref="double"/>/<see cref="float"/>
    /// to float, <see cref="T:byte[]"/> and <see cref="ReadOnlyMemory{T}"/> of bytes to bytes (one copy), a list of strings to a tuple of str, and a
    /// <see cref="PyObjectHandle"/> to another reference to the same object. Needs the GIL.
    /// </summary>
    /// <exception cref="ArgumentException">The value has another type.</exception>
    public static unsafe PyObjectHandle From(object? value)
    {
        GilScope.ThrowIfNotHeld();
        switch (value)
        {
            case null:
                return None();
            case PyObjectHandle obj:
                return obj.NewReference();
            case string text:
                return FromUtf8(text);
            case bool flag:
                return PythonError.Check(CPython.PyBool_FromLong(flag ? 1 : 0));
            case int number:
                return PythonError.Check(CPython.PyLong_FromLongLong(number));
            case long number:
                return PythonError.Check(CPython.PyLong_FromLongLong(number));
            case double number:
                return PythonError.Check(CPython.PyFloat_FromDouble(number));
            case float number:
                return PythonError.Check(CPython.PyFloat_FromDouble(number));
            case byte[] bytes:
                return FromBytes(bytes);
            case ReadOnlyMemory<byte> bytes:
                return FromBytes(bytes.Span);
            case IReadOnlyList<string> items:
                return FromStrings(items);
            default:
                throw new ArgumentException(
                    $"Cannot pass a {value.GetType().Name} to Python; use null, string, bool, int, long, double, float, byte[] or PyObjectHandle",
                    nameof(value));
        }
    }

    private static unsafe PyObjectHandle FromUtf8(string text)
    {
        // Through the byte count rather than PyUnicode_FromString, so that a NUL inside the text survives.
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = utf8)
            return PythonError.Check(CPython.PyUnicode_FromStringAndSize(p, utf8.Length));
    }

    // A tuple of str: the keyword lists our Python helpers take (keep_info=("REF_charge", ...)).
    private static PyObjectHandle FromStrings(IReadOnlyList<string> items)
    {
        var tuple = PythonError.Check(CPython.PyTuple_New(items.Count));
        for (int i = 0; i < items.Count; i++)
        {
            // PyTuple_SetItem steals the item even when it fails.
            if (CPython.PyTuple_SetItem(tuple, i, FromUtf8(items[i]).Steal()) != 0)
            {
                tuple.Dispose();
                throw PythonError.Fetch();
            }
        }
        return tuple;
    }

    private static unsafe PyObjectHandle FromBytes(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
            return PythonError.Check(CPython.PyBytes_FromStringAndSize(p, bytes.Length));
    }

    /// <summary>Another strong reference to the same object, owned by the new handle. Needs the GIL.</summary>
    public PyObjectHandle NewReference()
    {
        GilScope.ThrowIfNotHeld();
        ObjectDisposedException.ThrowIf(IsClosed, this);
        return FromBorrowed(handle);
    }

    /// <summary>
    /// Hands this reference to a call that steals it (PyTuple_SetItem): the handle becomes closed and will not
    /// Py_DecRef, since the callee now owns the reference.
    /// </summary>
    internal nint Steal()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        nint obj = handle;
        SetHandleAsInvalid();
        return obj;
    }

    /// <summary>getattr(obj, name) as a new reference. Needs the GIL.</summary>
    /// <exception cref="PythonException">The attribute lookup raised (AttributeError).</exception>
    public PyObjectHandle GetAttr(string name)
    {
        GilScope.ThrowIfNotHeld();
        return PythonError.Check(CPython.PyObject_GetAttrString(this, name));
    }

    /// <summary>obj[index] for a tuple, list or other sequence; a negative index counts from the end. Needs the GIL.</summary>
    /// <exception cref="PythonException">The index is out of range (IndexError) or the object is no sequence (TypeError).</exception>
    public PyObjectHandle GetItem(int index)
    {
        GilScope.ThrowIfNotHeld();
        return PythonError.Check(CPython.PySequence_GetItem(this, index));
    }

    /// <summary>obj[key] for a dict or other mapping. Needs the GIL.</summary>
    /// <exception cref="PythonException">The key is missing (KeyError) or the object is no mapping (TypeError).</exception>
    public PyObjectHandle GetItem(string key)
    {
        GilScope.ThrowIfNotHeld();
        return PythonError.Check(CPython.PyMapping_GetItemString(this, key));
    }

    /// <summary>obj[key] when the mapping has the key, else false. Needs the GIL.</summary>
    /// <exception cref="PythonException">Reading the value raised.</exception>
    public bool TryGetItem(string key, [NotNullWhen(true)] out PyObjectHandle? value)
    {
        GilScope.ThrowIfNotHeld();
        value = CPython.PyMapping_HasKeyString(this, key) == 1 ? GetItem(key) : null;
        return value is not null;
    }

    /// <summary>Calls the object with positional arguments (converted by <see cref="From"/>). Needs the GIL.</summary>
    /// <exception cref="PythonException">The call raised; carries the Python type, message and traceback.</exception>
    public PyObjectHandle Call(params ReadOnlySpan<object?> args)
    {
        GilScope.ThrowIfNotHeld();
        using var tuple = NewTuple(args);
        return PythonError.Check(CPython.PyObject_CallObject(this, tuple));
    }

    /// <summary>Calls the object with positional and keyword arguments (converted by <see cref="From"/>). Needs the GIL.</summary>
    /// <exception cref="PythonException">The call raised; carries the Python type, message and traceback.</exception>
    public PyObjectHandle Call(ReadOnlySpan<object?> args, IReadOnlyDictionary<string, object?> keywords)
    {
        GilScope.ThrowIfNotHeld();
        using var tuple = NewTuple(args);
        using var dict = PythonError.Check(CPython.PyDict_New());
        foreach (var (key, value) in keywords)
        {
            using var item = From(value);
            PythonError.Check(CPython.PyDict_SetItemString(dict, key, item));
        }
        return PythonError.Check(CPython.PyObject_Call(this, tuple, dict));
    }

    private static PyObjectHandle NewTuple(ReadOnlySpan<object?> args)
    {
        var tuple = PythonError.Check(CPython.PyTuple_New(args.Length));
        try
        {
            for (int i = 0; i < args.Length; i++)
                PythonError.Check(CPython.PyTuple_SetItem(tuple, i, From(args[i]).Steal()));
            return tuple;
        }
        catch
        {
            tuple.Dispose();
            throw;
        }
    }

    /// <summary>iter(obj): an iterator to read with <see cref="TryNext"/>, e.g. over a generator of frames. Needs the GIL.</summary>
    /// <exception cref="PythonException">The object is not iterable.</exception>
    public PyObjectHandle GetIterator()
    {
        GilScope.ThrowIfNotHeld();
        return PythonError.Check(CPython.PyObject_GetIter(this));
    }

    /// <summary>next(iterator): false at the end. Needs the GIL.</summary>
    /// <exception cref="PythonException">The iterator raised (other than StopIteration).</exception>
    public bool TryNext([NotNullWhen(true)] out PyObjectHandle? item)
    {
        GilScope.ThrowIfNotHeld();
        var next = CPython.PyIter_Next(this);
        if (!next.IsInvalid)
        {
            item = next;
            return true;
        }
        next.Dispose();
        item = null;
        PythonError.ThrowIfOccurred();
        return false;
    }

    /// <summary>int(obj) as a 64-bit integer, for a Python int or anything with __index__. Needs the GIL.</summary>
    /// <exception cref="PythonException">Not an integer (TypeError) or out of range (OverflowError).</exception>
    public long AsLong()
    {
        GilScope.ThrowIfNotHeld();
        long value = CPython.PyLong_AsLongLong(this);
        if (value == -1) PythonError.ThrowIfOccurred();
        return value;
    }

    /// <summary>float(obj), for a Python float, int or anything with __float__ (numpy scalars). Needs the GIL.</summary>
    /// <exception cref="PythonException">Not convertible to float (TypeError).</exception>
    public double AsDouble()
    {
        GilScope.ThrowIfNotHeld();
        double value = CPython.PyFloat_AsDouble(this);
        if (value == -1.0) PythonError.ThrowIfOccurred();
        return value;
    }

    /// <summary>bool(obj), Python's truth value. Needs the GIL.</summary>
    /// <exception cref="PythonException">__bool__ or __len__ raised.</exception>
    public bool AsBool()
    {
        GilScope.ThrowIfNotHeld();
        return PythonError.Check(CPython.PyObject_IsTrue(this)) == 1;
    }

    /// <summary>The text of a Python str (not str(obj): see <see cref="Str"/>). Needs the GIL.</summary>
    /// <exception cref="PythonException">The object is not a str (TypeError).</exception>
    public unsafe string AsString()
    {
        GilScope.ThrowIfNotHeld();
        byte* utf8 = CPython.PyUnicode_AsUTF8AndSize(this, out nint size);
        if (utf8 is null) PythonError.Throw();
        // The UTF-8 buffer belongs to the str object: copy it before this handle can be released.
        string text = Encoding.UTF8.GetString(utf8, checked((int)size));
        GC.KeepAlive(this);
        return text;
    }

    /// <summary>str(obj). Needs the GIL.</summary>
    /// <exception cref="PythonException">__str__ raised.</exception>
    public string Str()
    {
        GilScope.ThrowIfNotHeld();
        using var text = PythonError.Check(CPython.PyObject_Str(this));
        return text.AsString();
    }

    /// <summary>The contents of a bytes object (or any C-contiguous buffer) as a new array: one copy. Needs the GIL.</summary>
    /// <exception cref="PythonException">The object exports no buffer (TypeError), or a non-contiguous one (numpy: ValueError).</exception>
    public byte[] ReadBytes() => ReadArray<byte>();

    /// <summary>
    /// The contents of a buffer as an array of <typeparamref name="T"/>, in one copy and without a Python object per
    /// item: either a bytes object (reinterpreted; the Python side wrote it with the matching dtype, e.g.
    /// <c>np.ascontiguousarray(a, "&lt;f8").tobytes()</c>) or a C-contiguous array whose items match
    /// <typeparamref name="T"/> in kind and size (a float64 numpy array for double). Needs the GIL.
    /// </summary>
    /// <exception cref="PythonException">The object exports no buffer (TypeError), or a non-contiguous one (numpy: ValueError).</exception>
    /// <exception cref="InvalidCastException">The buffer's items are not <typeparamref name="T"/>, or its size is no multiple of it.</exception>
    public unsafe T[] ReadArray<T>() where T : unmanaged
    {
        GilScope.ThrowIfNotHeld();
        CPython.Py_buffer view = default;
        PythonError.Check(CPython.PyObject_GetBuffer(this, &view, CPython.PyBUF_C_CONTIGUOUS_FORMAT));
        try
        {
            int count = CountItems<T>(in view);
            var result = GC.AllocateUninitializedArray<T>(count);
            new ReadOnlySpan<byte>(view.buf, count * sizeof(T)).CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
            return result;
        }
        finally
        {
            CPython.PyBuffer_Release(&view);
        }
    }

    /// <summary>
    /// Copies a buffer's contents into <paramref name="destination"/> (rules as for <see cref="ReadArray{T}"/>) and
    /// returns the number of items copied. Needs the GIL.
    /// </summary>
    /// <exception cref="PythonException">The object exports no buffer (TypeError), or a non-contiguous one (numpy: ValueError).</exception>
    /// <exception cref="InvalidCastException">The buffer's items are not <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the buffer.</exception>
    public unsafe int CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        GilScope.ThrowIfNotHeld();
        CPython.Py_buffer view = default;
        PythonError.Check(CPython.PyObject_GetBuffer(this, &view, CPython.PyBUF_C_CONTIGUOUS_FORMAT));
        try
        {
            int count = CountItems<T>(in view);
            if (count > destination.Length)
                throw new ArgumentException($"The Python buffer holds {count} items of {typeof(T).Name}; the destination has room for {destination.Length}", nameof(destination));
            new ReadOnlySpan<byte>(view.buf, count * sizeof(T)).CopyTo(MemoryMarshal.AsBytes(destination));
            return count;
        }
        finally
        {
            CPython.PyBuffer_Release(&view);
        }
    }

    private static unsafe int CountItems<T>(in CPython.Py_buffer view) where T : unmanaged
    {
        string format = view.format is null ? "B" : Marshal.PtrToStringUTF8((nint)view.format) ?? "B";
        // '@', '=' and '<' are native or little-endian on this (x64) host; '>' and '!' would need a byte swap.
        string code = format.TrimStart('@', '=', '<');
        bool rawBytes = code == "B" && view.itemsize == 1;
        if (!rawBytes && (code.Length != 1 || view.itemsize != sizeof(T) || ItemKind(code[0]) != ItemKind<T>()))
            throw new InvalidCastException($"A Python buffer of format '{format}' (item size {view.itemsize}) cannot be read as {typeof(T).Name}");
        if (view.len % sizeof(T) != 0)
            throw new InvalidCastException($"A Python buffer of {view.len} bytes is no whole number of {typeof(T).Name} ({sizeof(T)} bytes)");
        return checked((int)(view.len / sizeof(T)));
    }

    // 'i' signed integer, 'u' unsigned integer, 'f' floating point, '?' bool (struct module format codes).
    private static char ItemKind(char code) => code switch
    {
        'b' or 'h' or 'i' or 'l' or 'q' or 'n' => 'i',
        'B' or 'H' or 'I' or 'L' or 'Q' or 'N' => 'u',
        'e' or 'f' or 'd' => 'f',
        '?' => '?',
        _ => '\0',
    };

    private static char ItemKind<T>() where T : unmanaged =>
        typeof(T) == typeof(sbyte) || typeof(T) == typeof(short) || typeof(T) == typeof(int) || typeof(T) == typeof(long) ? 'i'
        : typeof(T) == typeof(byte) || typeof(T) == typeof(ushort) || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong) ? 'u'
        : typeof(T) == typeof(Half) || typeof(T) == typeof(float) || typeof(T) == typeof(double) ? 'f'
        : typeof(T) == typeof(bool) ? '?'
        : '\x01';

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        // SafeHandle's finalizer calls Dispose(false): remember it so that ReleaseHandle never waits for the GIL there.
        if (!disposing) _finalizing = true;
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        // We never call Py_FinalizeEx; this only guards a process that is tearing down.
        if (!PythonInterpreter.IsLoaded || CPython.Py_IsInitialized() == 0) return true;
        if (CPython.PyGILState_Check() == 1)
        {
            CPython.Py_DecRef(handle);
        }
        else if (_finalizing)
        {
            // Blocking the finalizer thread on the GIL would stall every finalizer in the process for as long as
            // Python runs, and deadlock a GIL holder that waits for pending finalizers.
            PendingDecRefs.Enqueue(handle);
        }
        else
        {
            int state = CPython.PyGILState_Ensure();
            CPython.Py_DecRef(handle);
            CPython.PyGILState_Release(state);
        }
        return true;
    }

    /// <summary>Drops the references that finalizers queued. The caller holds the GIL.</summary>
    internal static void ReleasePending()
    {
        while (PendingDecRefs.TryDequeue(out nint obj))
            CPython.Py_DecRef(obj);
    }

    /// <summary>The number of references the finalizer queued and no GilScope has dropped yet, for tests.</summary>
    internal static int PendingCount => PendingDecRefs.Count;
}
