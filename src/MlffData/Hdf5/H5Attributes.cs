using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// The attributes of a group, dataset or file. Writes scalar int64, float64, bool and UTF-8 string attributes the way
/// h5py does; reads those and h5py's other scalar and one-dimensional numeric attributes back as .NET values.
/// </summary>
public sealed class H5Attributes
{
    private readonly H5LocationHandle _owner;
    private readonly string _path;

    internal H5Attributes(H5LocationHandle owner, string path)
    {
        _owner = owner;
        _path = path;
    }

    /// <summary>True when the attribute exists.</summary>
    public bool Contains(string name) => H5Error.Check(H5A.Exists(_owner, name), "H5Aexists", Where(name)) > 0;

    /// <summary>Removes the attribute; nothing happens when it does not exist.</summary>
    public void Delete(string name)
    {
        if (Contains(name)) H5Error.Check(H5A.Delete(_owner, name), "H5Adelete", Where(name));
    }

    /// <summary>Writes a scalar int64 attribute, replacing any attribute of that name.</summary>
    public unsafe void Set(string name, long value)
    {
        using var type = H5Type.File<long>();
        using var mem = H5Type.Memory<long>();
        WriteScalar(name, type, mem, &value);
    }

    /// <summary>Writes a scalar float64 attribute, replacing any attribute of that name.</summary>
    public unsafe void Set(string name, double value)
    {
        using var type = H5Type.File<double>();
        using var mem = H5Type.Memory<double>();
        WriteScalar(name, type, mem, &value);
    }

    /// <summary>Writes a scalar bool attribute (h5py's bool enum), replacing any attribute of that name.</summary>
    public unsafe void Set(string name, bool value)
    {
        using var type = H5Type.Bool();
        sbyte raw = value ? (sbyte)1 : (sbyte)0;
        WriteScalar(name, type, type, &raw);
    }

    /// <summary>Writes a scalar variable-length UTF-8 string attribute, replacing any attribute of that name.</summary>
    public unsafe void Set(string name, string value)
    {
        using var type = H5Type.Utf8String();
        nint text = Marshal.StringToCoTaskMemUTF8(value);
        try
        {
            WriteScalar(name, type, type, &text);
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    /// <summary>
    /// Reads an attribute: a scalar comes back as long, double, bool or string; a one-dimensional numeric or bool
    /// attribute as long[], double[] or bool[].
    /// </summary>
    /// <exception cref="H5ObjectNotFoundException">There is no such attribute.</exception>
    /// <exception cref="NotSupportedException">The attribute has a type or shape this reader does not handle.</exception>
    public object Get(string name)
    {
        using var attribute = H5Error.Check(H5A.Open(_owner, name, H5PropertyListHandle.Default), "H5Aopen", Where(name));
        using var type = new H5Type(H5Error.Check(H5A.GetType(attribute), "H5Aget_type", Where(name)));
        using var space = new H5Space(H5Error.Check(H5A.GetSpace(attribute), "H5Aget_space", Where(name)));
        var dims = space.Dims;
        if (dims.Length > 1) throw new NotSupportedException($"Attribute {Where(name)} has {dims.Length} dimensions");
        long count = dims.Length == 0 ? 1 : (long)dims[0];
        bool scalar = dims.Length == 0;

        if (type.IsBool) return Convert<bool>(ReadArray<bool>(attribute, type, count, name), scalar);
        switch (type.Class)
        {
            case H5T.ClassInteger:
            {
                using var mem = H5Type.Memory<long>();
                return Convert<long>(ReadArray<long>(attribute, mem, count, name), scalar);
            }
            case H5T.ClassFloat:
            {
                using var mem = H5Type.Memory<double>();
                return Convert<double>(ReadArray<double>(attribute, mem, count, name), scalar);
            }
            case H5T.ClassString when scalar:
                return ReadString(attribute, type, name);
            default:
                throw new NotSupportedException($"Attribute {Where(name)} has unsupported type {type.Describe()}");
        }
    }

    /// <summary>Names of all attributes, in name order.</summary>
    public unsafe IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string>();
            var gc = GCHandle.Alloc(names);
            try
            {
                ulong index = 0;
                H5Error.Check(H5A.Iterate(_owner, H5L.IndexName, H5L.IterInc, ref index, &CollectName, (void*)GCHandle.ToIntPtr(gc)), "H5Aiterate2", _path);
            }
            finally
            {
                gc.Free();
            }
            return names;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe int CollectName(long location, byte* name, void* info, void* data)
    {
        try
        {
            ((List<string>)GCHandle.FromIntPtr((nint)data).Target!).Add(Marshal.PtrToStringUTF8((nint)name) ?? "");
            return 0;
        }
        catch
        {
            return -1;
        }
    }

    private unsafe void WriteScalar(string name, H5Type fileType, H5Type memType, void* value)
    {
        // Replacing rather than rewriting in place: an attribute's type cannot change, and callers may change it.
        Delete(name);
        using var space = H5Space.Scalar();
        using var attribute = H5Error.Check(H5A.Create(_owner, name, fileType.Handle, space.Handle, H5PropertyListHandle.Default, H5PropertyListHandle.Default), "H5Acreate2", Where(name));
        H5Error.Check(H5A.Write(attribute, memType.Handle, value), "H5Awrite", Where(name));
    }

    private unsafe T[] ReadArray<T>(H5AttributeHandle attribute, H5Type memType, long count, string name) where T : unmanaged
    {
        var values = new T[count];
        fixed (T* p = values)
            H5Error.Check(H5A.Read(attribute, memType.Handle, p), "H5Aread", Where(name));
        return values;
    }

    private unsafe string ReadString(H5AttributeHandle attribute, H5Type fileType, string name)
    {
        if (fileType.IsVariableString)
        {
            using var mem = H5Type.Utf8String();
            nint text = 0;
            H5Error.Check(H5A.Read(attribute, mem.Handle, &text), "H5Aread", Where(name));
            try
            {
                return text == 0 ? "" : Marshal.PtrToStringUTF8(text) ?? "";
            }
            finally
            {
                // The library allocated the string; it must also free it.
                if (text != 0) H5.FreeMemory(text);
            }
        }
        var buffer = new byte[fileType.Size];
        fixed (byte* p = buffer)
            H5Error.Check(H5A.Read(attribute, fileType.Handle, p), "H5Aread", Where(name));
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end).TrimEnd(' ');
    }

    private static object Convert<T>(T[] values, bool scalar) => scalar ? values[0]! : values;

    private string Where(string name) => $"{_path}@{name}";
}
