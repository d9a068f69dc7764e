using System.Runtime.InteropServices;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// A datatype: the memory and file types of the element types we store, and FORMAT.md's two special types,
/// h5py's bool (an enum over int8 with FALSE = 0, TRUE = 1) and the variable-length UTF-8 string.
/// </summary>
public sealed class H5Type : IDisposable
{
    internal H5Type(H5TypeHandle handle) => Handle = handle;

    internal H5TypeHandle Handle { get; }

    /// <summary>The type a .NET element type has in memory (H5T_NATIVE_*, or the bool enum).</summary>
    /// <exception cref="NotSupportedException">T is not one of long, int, sbyte, byte, double, float, bool.</exception>
    public static H5Type Memory<T>() where T : unmanaged
    {
        Hdf5Library.EnsureLoaded();
        if (typeof(T) == typeof(bool)) return Bool();
        return new H5Type(Predefined<T>(file: false));
    }

    /// <summary>The type a .NET element type has in a file, exactly as h5py writes numpy's (little-endian standard types).</summary>
    /// <exception cref="NotSupportedException">T is not one of long, int, sbyte, byte, double, float, bool.</exception>
    public static H5Type File<T>() where T : unmanaged
    {
        Hdf5Library.EnsureLoaded();
        if (typeof(T) == typeof(bool)) return Bool();
        return new H5Type(Predefined<T>(file: true));
    }

    /// <summary>h5py's numpy-bool type: an enum over a signed 8-bit integer with members FALSE = 0 then TRUE = 1.</summary>
    public static unsafe H5Type Bool()
    {
        Hdf5Library.EnsureLoaded();
        var handle = H5Error.Check(H5T.EnumCreate(Hdf5Library.NativeInt8), "H5Tenum_create");
        try
        {
            sbyte value = 0;
            H5Error.Check(H5T.EnumInsert(handle, "FALSE", &value), "H5Tenum_insert");
            value = 1;
            H5Error.Check(H5T.EnumInsert(handle, "TRUE", &value), "H5Tenum_insert");
            return new H5Type(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A variable-length, null-terminated UTF-8 string: what h5py writes for <c>attrs['k'] = 'text'</c>.</summary>
    public static H5Type Utf8String()
    {
        Hdf5Library.EnsureLoaded();
        var handle = H5Error.Check(H5T.Copy(Hdf5Library.CString), "H5Tcopy");
        try
        {
            H5Error.Check(H5T.SetSize(handle, H5T.Variable), "H5Tset_size");
            H5Error.Check(H5T.SetCset(handle, H5T.CsetUtf8), "H5Tset_cset");
            H5Error.Check(H5T.SetStrpad(handle, H5T.StrNullTerm), "H5Tset_strpad");
            return new H5Type(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The type class (H5T_INTEGER, H5T_FLOAT, ...).</summary>
    internal int Class => (int)H5Error.Check(H5T.GetClass(Handle), "H5Tget_class");

    /// <summary>Size of one element in bytes (for a variable-length string, the size of its pointer).</summary>
    public int Size => (int)H5T.GetSize(Handle);

    /// <summary>True for a variable-length string.</summary>
    public bool IsVariableString => Class == H5T.ClassString && H5Error.Check(H5T.IsVariableStr(Handle), "H5Tis_variable_str") > 0;

    /// <summary>True when this is exactly h5py's bool: an enum over int8 whose members are FALSE = 0 then TRUE = 1.</summary>
    public unsafe bool IsBool
    {
        get
        {
            if (Class != H5T.ClassEnum || Size != 1) return false;
            if (H5T.GetNmembers(Handle) != 2) return false;
            using (var super = H5Error.Check(H5T.GetSuper(Handle), "H5Tget_super"))
                if (H5T.GetSign(super) != H5T.Sign2) return false;
            for (uint i = 0; i < 2; i++)
            {
                nint name = H5T.GetMemberName(Handle, i);
                if (name == 0) return false;
                string? text = Marshal.PtrToStringUTF8(name);
                H5.FreeMemory(name);
                sbyte value = -1;
                H5Error.Check(H5T.GetMemberValue(Handle, i, &value), "H5Tget_member_value");
                if (text != (i == 0 ? "FALSE" : "TRUE") || value != i) return false;
            }
            return true;
        }
    }

    /// <summary>True when values of this file type read into T without loss of meaning (same class, size and signedness).</summary>
    public bool Matches<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(bool)) return IsBool;
        using var expected = File<T>();
        return Class == expected.Class && Size == expected.Size
            && (Class != H5T.ClassInteger || H5T.GetSign(Handle) == H5T.GetSign(expected.Handle));
    }

    /// <summary>True when this file type is exactly T's file type (<see cref="File{T}"/>: the same class, size, sign and
    /// byte order), so stored elements are T's little-endian bytes.</summary>
    public bool IsExactly<T>() where T : unmanaged
    {
        using var expected = File<T>();
        return H5Error.Check(H5T.Equal(Handle, expected.Handle), "H5Tequal") > 0;
    }

    /// <summary>A short numpy-like name: int64, float32, bool, string, enum, ...</summary>
    public string Describe()
    {
        int size = Size;
        return Class switch
        {
            H5T.ClassInteger => (H5T.GetSign(Handle) == H5T.SignNone ? "uint" : "int") + (size * 8),
            H5T.ClassFloat => "float" + (size * 8),
            H5T.ClassString => IsVariableString ? "string (variable length)" : $"string ({size} bytes)",
            H5T.ClassEnum => IsBool ? "bool" : $"enum ({size} bytes)",
            _ => $"HDF5 class {Class} ({size} bytes)",
        };
    }

    private static H5TypeHandle Predefined<T>(bool file)
    {
        if (typeof(T) == typeof(long)) return file ? Hdf5Library.StdI64Le : Hdf5Library.NativeInt64;
        if (typeof(T) == typeof(int)) return file ? Hdf5Library.StdI32Le : Hdf5Library.NativeInt32;
        if (typeof(T) == typeof(sbyte)) return file ? Hdf5Library.StdI8Le : Hdf5Library.NativeInt8;
        if (typeof(T) == typeof(byte)) return file ? Hdf5Library.StdU8Le : Hdf5Library.NativeUInt8;
        if (typeof(T) == typeof(double)) return file ? Hdf5Library.IeeeF64Le : Hdf5Library.NativeDouble;
        if (typeof(T) == typeof(float)) return file ? Hdf5Library.IeeeF32Le : Hdf5Library.NativeFloat;
        throw new NotSupportedException($"No HDF5 type for {typeof(T).Name}");
    }

    /// <inheritdoc />
    public void Dispose() => Handle.Dispose();
}
