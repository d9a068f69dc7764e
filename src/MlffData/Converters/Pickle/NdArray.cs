using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MlffData.Converters.Pickle;

/// <summary>
/// A numpy array from a pickle, kept as numpy keeps it: a dtype (with its byte order), a shape, C or Fortran order and
/// the raw bytes (a slice of the file, not a copy; an object array keeps its items). Conversions read it as numpy's
/// <c>np.ascontiguousarray(a, "&lt;f8")</c> and kin would: C order, little-endian, widened or wrapped as numpy casts.
/// </summary>
/// <remarks>
/// Sizes come from the data: a shape is accepted only when its element count times the item size equals the bytes the
/// file holds, so nothing is allocated from a declared size alone.
/// </remarks>
internal sealed class NdArray
{
    private NdArray(NpDtype dtype, long[] shape, bool fortran, ReadOnlyMemory<byte> data, object?[]? objects)
    {
        Dtype = dtype;
        Shape = shape;
        Fortran = fortran;
        Data = data;
        Objects = objects;
    }

    /// <summary>The element type.</summary>
    public NpDtype Dtype { get; private set; }

    /// <summary>The shape.</summary>
    public long[] Shape { get; private set; }

    /// <summary>True when the bytes are in Fortran (column-major) order.</summary>
    public bool Fortran { get; private set; }

    /// <summary>The raw elements (empty for an object array).</summary>
    public ReadOnlyMemory<byte> Data { get; private set; }

    /// <summary>The items of an object array (dtype 'O'); null otherwise.</summary>
    public object?[]? Objects { get; private set; }

    /// <summary>numpy's kind of the dtype.</summary>
    public char Kind => Dtype.Kind;

    /// <summary>Number of dimensions.</summary>
    public int Ndim => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Size => Dtype.Kind == 'O' ? Objects!.Length : Data.Length / Dtype.ItemSize;

    /// <summary>Python's repr of the shape tuple: "()", "(3,)", "(2, 3)".</summary>
    public string ShapeRepr => PyValues.TupleRepr(Shape);

    /// <summary>What <c>numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')</c> gives before BUILD: an empty int8 array.</summary>
    public static NdArray Placeholder() => new(PlaceholderDtype, PlaceholderShape, false, ReadOnlyMemory<byte>.Empty, null);

    // Shared by every placeholder (BUILD replaces them, never changes them): a pickle makes hundreds of thousands.
    private static readonly NpDtype PlaceholderDtype = NpDtype.Of('i', 1);
    private static readonly long[] PlaceholderShape = [0];

    /// <summary>A C-order float64 array of the given shape (a cleaned array, e.g. positions).</summary>
    public static NdArray FromDoubles(double[] values, params long[] shape) =>
        new(NpDtype.Of('f', 8), shape, false, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), null);

    /// <summary>A C-order int64 array of the given shape (a cleaned array, e.g. numbers).</summary>
    public static NdArray FromInt64s(long[] values, params long[] shape) =>
        new(NpDtype.Of('i', 8), shape, false, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), null);

    /// <summary>One row of a C-order array (<c>a[r]</c>): its dtype, the shape less the first dimension, the row's bytes.</summary>
    public static NdArray Row(NdArray a, ReadOnlyMemory<byte> data) => new(a.Dtype, a.Shape[1..], false, data, null);

    /// <summary>A C-order array of one element (a numpy scalar's value).</summary>
    public static NdArray Scalar(NpDtype dtype, ReadOnlyMemory<byte> data) => new(dtype, [], false, data, null);

    /// <summary>A C-order array from Python values already known to be numbers of one kind (np.array of a list).</summary>
    public static NdArray FromValues(char kind, object?[] values, long[] shape)
    {
        var bytes = new byte[values.Length * (kind == 'b' ? 1 : 8)];
        for (int i = 0; i < values.Length; i++)
        {
            object? v = values[i];
            switch (kind)
            {
                case 'b': bytes[i] = (bool)v! ? (byte)1 : (byte)0; break;
                case 'i': BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), v is bool b ? (b ? 1 : 0) : (long)v!); break;
                default: BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), v switch { bool flag => flag ? 1 : 0, long whole => whole, _ => (double)v! }); break;
            }
        }
        return new NdArray(NpDtype.Of(kind, kind == 'b' ? 1 : 8), shape, false, bytes, null);
    }

    /// <summary>
    /// numpy's <c>_frombuffer(buf, dtype, shape, order)</c> (protocol 5): <c>frombuffer(buf, dtype).reshape(shape, order=order)</c>.
    /// </summary>
    /// <exception cref="PickleNotSupportedException">Arguments numpy would refuse or that are not modelled.</exception>
    public static NdArray FromBuffer(object?[] args, long offset)
    {
        if (args.Length != 4 || args[0] is not PyBytes buffer || args[1] is not NpDtype dtype || dtype.Kind == 'O'
            || args[3] is not ("C" or "F") || ParseShape(args[2], offset) is not { } shape)
            throw new PickleNotSupportedException("numpy _frombuffer arguments other than (bytes, dtype, shape, 'C' or 'F')", offset);
        CheckSize(shape, dtype, buffer.Data.Length, offset);
        return new NdArray(dtype, shape, (string)args[3]! == "F" && shape.Length > 1, buffer.Data, null);
    }

    /// <summary>numpy's <c>ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))</c> (BUILD after _reconstruct).</summary>
    /// <exception cref="PickleNotSupportedException">A state numpy would refuse or that is not modelled.</exception>
    public void SetState(object? state, long offset)
    {
        if (state is not PyTuple { Length: 4 or 5 } t)
            throw new PickleNotSupportedException("a numpy array state other than (version, shape, dtype, is_fortran, data)", offset);
        int first = t.Length - 4;
        if (ParseShape(t.Items[first], offset) is not { } shape || t.Items[first + 1] is not NpDtype dtype
            || t.Items[first + 2] is not (bool or long))
            throw new PickleNotSupportedException("a numpy array state with an unexpected shape, dtype or order", offset);
        bool fortran = t.Items[first + 2] is true or (long and not 0L);
        object? raw = t.Items[first + 3];
        if (dtype.Kind == 'O')
        {
            if (raw is not List<object?> items || Product(shape, offset) != items.Count)
                throw new PickleNotSupportedException("an object array whose items do not match its shape", offset);
            (Dtype, Shape, Fortran, Data, Objects) = (dtype, shape, fortran && shape.Length > 1, ReadOnlyMemory<byte>.Empty, items.ToArray());
            return;
        }
        ReadOnlyMemory<byte> data = raw switch
        {
            PyBytes b => b.Data,
            // Python 2 era state: the bytes as latin-1 text.
            string s when s.All(c => c <= '\u00ff') => Encoding.Latin1.GetBytes(s),
            _ => throw new PickleNotSupportedException("numpy array data that is neither bytes nor latin-1 text", offset),
        };
        CheckSize(shape, dtype, data.Length, offset);
        (Dtype, Shape, Fortran, Data, Objects) = (dtype, shape, fortran && shape.Length > 1, data, null);
    }

    /// <summary>The elements as float64, C order (<c>np.ascontiguousarray(a, "&lt;f8")</c>); bool as 0 or 1.</summary>
    /// <exception cref="PickleNotSupportedException">Complex, long double or object elements.</exception>
    public double[] ToDoubles()
    {
        var span = Data.Span;
        if (Kind == 'f' && Dtype.ItemSize == 8 && !Dtype.BigEndian && !Fortran)
            return MemoryMarshal.Cast<byte, double>(span).ToArray();
        return Elements<double>(ElementAsDouble);
    }

    /// <summary>The elements as int64, C order (<c>np.ascontiguousarray(a, "&lt;i8")</c>): uint64 wraps, bool is 0 or 1.</summary>
    /// <exception cref="PickleNotSupportedException">Float, complex or object elements.</exception>
    public long[] ToInt64s()
    {
        if (Kind is not ('b' or 'i' or 'u'))
            throw new PickleNotSupportedException($"a {Dtype.Str} array where integers are read");
        var span = Data.Span;
        if (Kind == 'i' && Dtype.ItemSize == 8 && !Dtype.BigEndian && !Fortran)
            return MemoryMarshal.Cast<byte, long>(span).ToArray();
        return Elements<long>(ElementAsInt64);
    }

    private delegate T ElementReader<T>(ReadOnlySpan<byte> data, int index);

    // Every element in C order, read one by one (the slow path: another byte order, item size or Fortran order).
    private T[] Elements<T>(ElementReader<T> read)
    {
        var span = Data.Span;
        var result = new T[Size];
        var order = StorageOrder();
        for (int i = 0; i < result.Length; i++)
            result[i] = read(span, order is null ? i : order[i]);
        return result;
    }

    /// <summary>The elements of a bool array, C order.</summary>
    /// <exception cref="PickleNotSupportedException">Not a bool array, or a bool byte other than 0 and 1.</exception>
    public bool[] ToBools() => Kind == 'b'
        ? Array.ConvertAll(ToInt64s(), v => v != 0)
        : throw new PickleNotSupportedException($"a {Dtype.Str} array where bools are read");

    /// <summary>The first element as float64 (Python's <c>float(a)</c> of a one-element array).</summary>
    public double FirstAsDouble() => ElementAsDouble(Data.Span, 0);

    /// <summary>The first element as int64.</summary>
    public long FirstAsInt64() => ElementAsInt64(Data.Span, 0);

    // For a Fortran-ordered array of two or more dimensions: the storage index of each C-order element.
    private int[]? StorageOrder()
    {
        if (!Fortran || Shape.Length < 2) return null;
        int n = Size;
        var order = new int[n];
        int ndim = Shape.Length;
        var strides = new long[ndim];
        long stride = 1;
        for (int d = 0; d < ndim; d++)
        {
            strides[d] = stride;
            stride *= Shape[d];
        }
        var index = new long[ndim];
        for (int c = 0; c < n; c++)
        {
            long s = 0;
            for (int d = 0; d < ndim; d++) s += index[d] * strides[d];
            order[c] = (int)s;
            for (int d = ndim - 1; d >= 0; d--)
            {
                if (++index[d] < Shape[d]) break;
                index[d] = 0;
            }
        }
        return order;
    }

    private double ElementAsDouble(ReadOnlySpan<byte> data, int i)
    {
        if (Kind is 'b' or 'i' || (Kind == 'u' && Dtype.ItemSize < 8)) return ElementAsInt64(data, i);
        // numpy converts uint64 to float64 as unsigned.
        if (Kind == 'u') return (ulong)ElementAsInt64(data, i);
        if (Kind != 'f' || Dtype.ItemSize > 8) throw new PickleNotSupportedException($"converting {Dtype.Str} to float64");
        var e = data.Slice(i * Dtype.ItemSize, Dtype.ItemSize);
        if (Dtype.ItemSize == 2) return (double)(Dtype.BigEndian ? BinaryPrimitives.ReadHalfBigEndian(e) : BinaryPrimitives.ReadHalfLittleEndian(e));
        if (Dtype.ItemSize == 4) return Dtype.BigEndian ? BinaryPrimitives.ReadSingleBigEndian(e) : BinaryPrimitives.ReadSingleLittleEndian(e);
        return Dtype.BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(e) : BinaryPrimitives.ReadDoubleLittleEndian(e);
    }

    private long ElementAsInt64(ReadOnlySpan<byte> data, int i)
    {
        int size = Dtype.ItemSize;
        var e = data.Slice(i * size, size);
        bool big = Dtype.BigEndian;
        return (Kind, size) switch
        {
            ('b', 1) => e[0] <= 1 ? e[0] : throw new PickleNotSupportedException($"a bool byte of {e[0]}"),
            ('i', 1) => (sbyte)e[0],
            ('u', 1) => e[0],
            ('i', 2) => big ? BinaryPrimitives.ReadInt16BigEndian(e) : BinaryPrimitives.ReadInt16LittleEndian(e),
            ('u', 2) => big ? BinaryPrimitives.ReadUInt16BigEndian(e) : BinaryPrimitives.ReadUInt16LittleEndian(e),
            ('i', 4) => big ? BinaryPrimitives.ReadInt32BigEndian(e) : BinaryPrimitives.ReadInt32LittleEndian(e),
            ('u', 4) => big ? BinaryPrimitives.ReadUInt32BigEndian(e) : BinaryPrimitives.ReadUInt32LittleEndian(e),
            ('i', 8) => big ? BinaryPrimitives.ReadInt64BigEndian(e) : BinaryPrimitives.ReadInt64LittleEndian(e),
            // numpy's unsafe cast of uint64 to int64 keeps the bits.
            ('u', 8) => unchecked((long)(big ? BinaryPrimitives.ReadUInt64BigEndian(e) : BinaryPrimitives.ReadUInt64LittleEndian(e))),
            _ => throw new PickleNotSupportedException($"converting {Dtype.Str} to int64"),
        };
    }

    private static long[]? ParseShape(object? value, long offset)
    {
        var items = value switch
        {
            PyTuple t => t.Items,
            List<object?> l => l.ToArray(),
            long => [value],
            _ => null,
        };
        if (items is null) return null;
        var shape = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not long d || d < 0)
                throw new PickleNotSupportedException("a numpy shape with a negative or non-integer dimension", offset);
            shape[i] = d;
        }
        return shape;
    }

    private static long Product(long[] shape, long offset)
    {
        long n = 1;
        try
        {
            foreach (long d in shape) n = checked(n * d);
        }
        catch (OverflowException)
        {
            throw new PickleNotSupportedException("a numpy shape whose size overflows", offset);
        }
        return n;
    }

    private static void CheckSize(long[] shape, NpDtype dtype, int bytes, long offset)
    {
        long n = Product(shape, offset);
        if (n > bytes || n * dtype.ItemSize != bytes)
            throw new PickleNotSupportedException($"a numpy array of {n} elements of {dtype.ItemSize} bytes with {bytes} bytes of data", offset);
    }
}
