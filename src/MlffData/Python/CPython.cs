using System.Runtime.InteropServices;

namespace MlffData.Python;

/// <summary>
/// The few CPython C API functions the bridge needs (Python.h), named as in C. <see cref="Library"/> is not a file
/// name: <see cref="PythonInterpreter"/> opens the chosen libpython RTLD_GLOBAL and registers that handle for it.
/// Ownership follows the C API: a function documented to return a new reference returns a
/// <see cref="PyObjectHandle"/>; a borrowed result stays an <c>nint</c> named <c>borrowed...</c>; a parameter that
/// steals is an <c>nint</c> filled from <see cref="PyObjectHandle.Steal"/>. Every call needs the GIL
/// (<see cref="GilScope"/>) except the ones used before Py_InitializeEx.
/// </summary>
internal static unsafe partial class CPython
{
    /// <summary>The logical library name that the assembly's resolver maps to the loaded libpython.</summary>
    internal const string Library = "python";

    /// <summary>Py_file_input: compile a sequence of statements, as for a module.</summary>
    internal const int Py_file_input = 257;

    /// <summary>PyBUF_FORMAT | PyBUF_C_CONTIGUOUS: ask for the item format and refuse a non-contiguous view.</summary>
    internal const int PyBUF_C_CONTIGUOUS_FORMAT = 0x0004 | 0x0038;

    /// <summary>The Py_buffer struct (pybuffer.h); its layout is part of the stable ABI since 3.11 and unchanged since 3.3.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Py_buffer
    {
        internal void* buf;
        internal nint obj;
        internal nint len;
        internal nint itemsize;
        internal int @readonly;
        internal int ndim;
        internal byte* format;
        internal nint* shape;
        internal nint* strides;
        internal nint* suboffsets;
        internal void* @internal;
    }

    // Life cycle and threads (pylifecycle.h, pystate.h, ceval.h).

    [LibraryImport(Library, EntryPoint = "Py_GetVersion")]
    internal static partial byte* Py_GetVersion();

    [LibraryImport(Library, EntryPoint = "Py_InitializeEx")]
    internal static partial void Py_InitializeEx(int initsigs);

    [LibraryImport(Library, EntryPoint = "Py_IsInitialized")]
    internal static partial int Py_IsInitialized();

    [LibraryImport(Library, EntryPoint = "PyEval_SaveThread")]
    internal static partial nint PyEval_SaveThread();

    [LibraryImport(Library, EntryPoint = "PyGILState_Ensure")]
    internal static partial int PyGILState_Ensure();

    [LibraryImport(Library, EntryPoint = "PyGILState_Release")]
    internal static partial void PyGILState_Release(int state);

    [LibraryImport(Library, EntryPoint = "PyGILState_Check")]
    internal static partial int PyGILState_Check();

    // Reference counts: the function forms, since Py_INCREF/Py_DECREF are macros over the object header.

    [LibraryImport(Library, EntryPoint = "Py_IncRef")]
    internal static partial void Py_IncRef(nint obj);

    [LibraryImport(Library, EntryPoint = "Py_DecRef")]
    internal static partial void Py_DecRef(nint obj);

    // Errors (pyerrors.h). PyErr_Fetch hands out three new references (any may be NULL).

    [LibraryImport(Library, EntryPoint = "PyErr_Occurred")]
    internal static partial nint PyErr_Occurred();

    [LibraryImport(Library, EntryPoint = "PyErr_Fetch")]
    internal static partial void PyErr_Fetch(out nint type, out nint value, out nint traceback);

    [LibraryImport(Library, EntryPoint = "PyErr_NormalizeException")]
    internal static partial void PyErr_NormalizeException(ref nint type, ref nint value, ref nint traceback);

    [LibraryImport(Library, EntryPoint = "PyErr_Clear")]
    internal static partial void PyErr_Clear();

    // Modules and code.

    [LibraryImport(Library, EntryPoint = "PyImport_ImportModule", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PyObjectHandle PyImport_ImportModule(string name);

    [LibraryImport(Library, EntryPoint = "Py_CompileString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PyObjectHandle Py_CompileString(string source, string fileName, int start);

    [LibraryImport(Library, EntryPoint = "PyImport_ExecCodeModuleEx", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PyObjectHandle PyImport_ExecCodeModuleEx(string name, PyObjectHandle code, string pathName);

    // Objects.

    [LibraryImport(Library, EntryPoint = "PyObject_GetAttrString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PyObjectHandle PyObject_GetAttrString(PyObjectHandle obj, string name);

    [LibraryImport(Library, EntryPoint = "PyObject_SetAttrString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PyObject_SetAttrString(PyObjectHandle obj, string name, PyObjectHandle value);

    [LibraryImport(Library, EntryPoint = "PyObject_Call")]
    internal static partial PyObjectHandle PyObject_Call(PyObjectHandle callable, PyObjectHandle args, PyObjectHandle kwargs);

    /// <summary>PyObject_Call without keywords (a null SafeHandle cannot be marshalled, so this is the NULL-kwargs form).</summary>
    [LibraryImport(Library, EntryPoint = "PyObject_CallObject")]
    internal static partial PyObjectHandle PyObject_CallObject(PyObjectHandle callable, PyObjectHandle args);

    [LibraryImport(Library, EntryPoint = "PyObject_Str")]
    internal static partial PyObjectHandle PyObject_Str(PyObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "PyObject_IsTrue")]
    internal static partial int PyObject_IsTrue(PyObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "PyObject_Size")]
    internal static partial nint PyObject_Size(PyObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "PyObject_GetIter")]
    internal static partial PyObjectHandle PyObject_GetIter(PyObjectHandle obj);

    /// <summary>The next item as a new reference; NULL at the end (no error set) or on an error.</summary>
    [LibraryImport(Library, EntryPoint = "PyIter_Next")]
    internal static partial PyObjectHandle PyIter_Next(PyObjectHandle iterator);

    // Containers. Tuples are built with PyTuple_SetItem (steals); reading goes through the sequence and mapping
    // protocols, which return new references and raise on a wrong type instead of PyTuple_GetItem's SystemError.

    [LibraryImport(Library, EntryPoint = "PyTuple_New")]
    internal static partial PyObjectHandle PyTuple_New(nint size);

    /// <summary>Steals <paramref name="stolenItem"/>, also when it fails.</summary>
    [LibraryImport(Library, EntryPoint = "PyTuple_SetItem")]
    internal static partial int PyTuple_SetItem(PyObjectHandle tuple, nint index, nint stolenItem);

    [LibraryImport(Library, EntryPoint = "PySequence_Size")]
    internal static partial nint PySequence_Size(PyObjectHandle sequence);

    [LibraryImport(Library, EntryPoint = "PySequence_GetItem")]
    internal static partial PyObjectHandle PySequence_GetItem(PyObjectHandle sequence, nint index);

    [LibraryImport(Library, EntryPoint = "PyDict_New")]
    internal static partial PyObjectHandle PyDict_New();

    [LibraryImport(Library, EntryPoint = "PyDict_SetItemString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PyDict_SetItemString(PyObjectHandle dict, string key, PyObjectHandle value);

    [LibraryImport(Library, EntryPoint = "PyMapping_GetItemString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial PyObjectHandle PyMapping_GetItemString(PyObjectHandle mapping, string key);

    /// <summary>1 when the key is present; 0 otherwise, including when the lookup raised (the error is cleared).</summary>
    [LibraryImport(Library, EntryPoint = "PyMapping_HasKeyString", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PyMapping_HasKeyString(PyObjectHandle mapping, string key);

    // Scalars and strings.

    [LibraryImport(Library, EntryPoint = "PyUnicode_FromStringAndSize")]
    internal static partial PyObjectHandle PyUnicode_FromStringAndSize(byte* utf8, nint size);

    /// <summary>The object's UTF-8 buffer, cached inside the str object: valid while the object lives.</summary>
    [LibraryImport(Library, EntryPoint = "PyUnicode_AsUTF8AndSize")]
    internal static partial byte* PyUnicode_AsUTF8AndSize(PyObjectHandle unicode, out nint size);

    [LibraryImport(Library, EntryPoint = "PyLong_FromLongLong")]
    internal static partial PyObjectHandle PyLong_FromLongLong(long value);

    [LibraryImport(Library, EntryPoint = "PyLong_AsLongLong")]
    internal static partial long PyLong_AsLongLong(PyObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "PyFloat_FromDouble")]
    internal static partial PyObjectHandle PyFloat_FromDouble(double value);

    [LibraryImport(Library, EntryPoint = "PyFloat_AsDouble")]
    internal static partial double PyFloat_AsDouble(PyObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "PyBool_FromLong")]
    internal static partial PyObjectHandle PyBool_FromLong(nint value);

    [LibraryImport(Library, EntryPoint = "PyBytes_FromStringAndSize")]
    internal static partial PyObjectHandle PyBytes_FromStringAndSize(byte* data, nint size);

    // The buffer protocol: bytes, bytearray, memoryview and numpy arrays all export one.

    [LibraryImport(Library, EntryPoint = "PyObject_GetBuffer")]
    internal static partial int PyObject_GetBuffer(PyObjectHandle obj, Py_buffer* view, int flags);

    [LibraryImport(Library, EntryPoint = "PyBuffer_Release")]
    internal static partial void PyBuffer_Release(Py_buffer* view);
}
