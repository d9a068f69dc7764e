using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MlffData.Converters.Pickle;

/// <summary>
/// A restricted pickle virtual machine over a whole file held in memory, for ASE pickles (protocols 0-5 as CPython
/// writes them). It does what safe_pickle.py does, in one pass: the opcode checks of its prescan (denied opcodes,
/// memo indices that skip ahead, GETs of undefined slots, lengths past the end, worded as pickletools words them), and
/// the load of its SafeUnpickler, where a global is looked up in the same allowlist and is never imported or called:
/// each allowed call gives the typed value numpy or ASE would (see <see cref="NdArray"/>, <see cref="PyInstance"/>).
/// </summary>
/// <remarks>
/// Python checks every opcode up to STOP before it loads anything, so a malformed opcode late in a file wins over an
/// unsafe global early in it: when loading fails, the scan goes on to STOP and the first scan error, if any, is
/// thrown instead. Anything this machine does not reproduce exactly, down to the error message, throws
/// <see cref="PickleNotSupportedException"/> so the caller can use Python for the file.
/// </remarks>
internal sealed class PickleMachine
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    // Boxes shared by every small integer and bool: an ASE pickle pushes millions of them (BININT1, NEWFALSE).
    private static readonly object[] SmallIntegers = Enumerable.Range(-256, 512).Select(i => (object)(long)i).ToArray();
    private static readonly object True = true, False = false;

    // The pickle, pinned for the machine's life; read through Data, a bounds-checked span over it.
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly unsafe byte* _bytes;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly List<object?> _memo = [];
    private int _pos;
    private int _at;
    private long _memoCount;
    private bool _inLoad;
    private Exception? _loadFailure;

    // The first pass only scans (every check, nothing executed) and marks the memo slots some GET reads; the second
    // keeps only those in the memo, so the intermediate tuples of every array die young instead of living to the end.
    private readonly bool _scanOnly;
    private byte[] _read;

    private unsafe PickleMachine(ReadOnlyMemory<byte> data, byte* bytes, bool scanOnly, byte[] read)
    {
        _memory = data;
        _bytes = bytes;
        _scanOnly = scanOnly;
        _read = read;
    }

    /// <summary>The object a pickle holds, as plain values (see <see cref="PyValues"/>).</summary>
    /// <param name="data">The whole pickle.</param>
    /// <exception cref="PickleRefusedException">The pickle is malformed or unsafe (safe_pickle.py's message).</exception>
    /// <exception cref="PickleNotSupportedException">The pickle needs something this machine does not model.</exception>
    public static unsafe object? Load(ReadOnlyMemory<byte> data)
    {
        using var pin = data.Pin();
        var scan = new PickleMachine(data, (byte*)pin.Pointer, true, new byte[64]);
        scan.Run();
        var load = new PickleMachine(data, (byte*)pin.Pointer, false, scan._read);
        load._memo.Capacity = (int)Math.Min(scan._memoCount, int.MaxValue);
        return load.Run();
    }

    private unsafe ReadOnlySpan<byte> Data => new(_bytes, _memory.Length);

    private int Remaining => _memory.Length - _pos;

    private object? Run()
    {
        while (true)
        {
            try
            {
                return Loop();
            }
            catch (Exception e) when (_inLoad)
            {
                // A load failure: Python would have scanned the whole pickle first; keep scanning after this opcode.
                _inLoad = false;
                _loadFailure = e as PickleRefusedException ?? e as PickleNotSupportedException
                    ?? (Exception)new PickleNotSupportedException($"{e.GetType().Name}: {e.Message}", _at);
            }
        }
    }

    // The opcodes up to STOP: each argument is read and checked as pickletools.genops and safe_pickle.prescan do, then,
    // unless an earlier opcode failed to load, the opcode is executed (Load() marks that part). One loop, optimised at
    // once: a conversion runs it once for millions of opcodes, before tiered compilation would step in.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object? Loop()
    {
      while (true)
      {
        _inLoad = false;
        _at = _pos;
        if (_pos >= _memory.Length) throw Invalid("pickle exhausted before seeing STOP");
        byte op = Data[_pos++];
        switch (op)
        {
            case 0x80: // PROTO
            {
                byte version = ReadUInt1();
                if (Load() && version > 5) throw NotSupported($"protocol {version}");
                break;
            }
            case 0x95: // FRAME
            {
                ulong length = ReadUInt8();
                if (Load() && length > (ulong)Remaining) throw NotSupported("a frame longer than the rest of the file");
                break;
            }
            case (byte)'.': // STOP
                if (_scanOnly) return null;
                if (_loadFailure is not null) throw _loadFailure;
                if (_stack.Count <= Fence) throw NotSupported("STOP with an empty stack");
                return Pop();
            case (byte)'(': if (Load()) _marks.Add(_stack.Count); break;
            case (byte)'0': if (Load()) PopOne(); break;
            case (byte)'1': if (Load()) PopMark(); break;
            case (byte)'2': if (Load()) Push(Top()); break;

            // Integers, floats, constants.
            case (byte)'I': { var v = ReadDecimal("INT"); if (Load()) Push(v); break; }
            case (byte)'J': { int v = ReadInt4(); if (Load()) Push(Box(v)); break; }
            case (byte)'K': { byte v = ReadUInt1(); if (Load()) Push(Box(v)); break; }
            case (byte)'M': { ushort v = ReadUInt2(); if (Load()) Push(Box(v)); break; }
            case (byte)'L': { var v = ReadDecimal("LONG"); if (Load()) Push(v); break; }
            case 0x8a: // LONG1
            {
                byte n = ReadUInt1();
                if (n > Remaining) throw Invalid("not enough data in stream to read long1");
                var bytes = Take(n);
                if (Load()) Push(LittleEndianInteger(bytes.Span));
                break;
            }
            case 0x8b: // LONG4
            {
                int n = ReadInt4();
                if (n < 0) throw Invalid($"long4 byte count < 0: {n}");
                if (n > Remaining) throw Invalid("not enough data in stream to read long4");
                var bytes = Take(n);
                if (Load()) Push(LittleEndianInteger(bytes.Span));
                break;
            }
            case (byte)'F': { double v = ReadFloatLine(); if (Load()) Push(v); break; }
            case (byte)'G':
            {
                double v = BinaryPrimitives.ReadDoubleBigEndian(Fixed(8, "float8"));
                if (Load()) Push(v);
                break;
            }
            case (byte)'N': if (Load()) Push(null); break;
            case 0x88: if (Load()) Push(True); break;
            case 0x89: if (Load()) Push(False); break;

            // Text and bytes.
            case (byte)'S': { string v = ReadQuotedString(); if (Load()) Push(v); break; }
            case (byte)'T':
            {
                int n = ReadInt4();
                if (n < 0) throw Invalid($"string4 byte count < 0: {n}");
                var bytes = Counted((ulong)n, "string4");
                if (Load()) Push(Ascii(bytes.Span));
                break;
            }
            case (byte)'U': { var bytes = Counted(ReadUInt1(), "string1"); if (Load()) Push(Ascii(bytes.Span)); break; }
            case (byte)'V': { string v = RawUnicodeEscape(ReadLine("unicodestringnl")); if (Load()) Push(v); break; }
            case 0x8c: { string v = Utf8(Counted(ReadUInt1(), "unicodestring1")); if (Load()) Push(v); break; }
            case (byte)'X': { string v = Utf8(Counted(ReadUInt4(), "unicodestring4")); if (Load()) Push(v); break; }
            case 0x8d: { string v = Utf8(Counted(ReadSize8("unicodestring8"), "unicodestring8")); if (Load()) Push(v); break; }
            case (byte)'C': { var v = Counted(ReadUInt1(), "bytes1"); if (Load()) Push(new PyBytes(v)); break; }
            case (byte)'B': { var v = Counted(ReadUInt4(), "bytes4"); if (Load()) Push(new PyBytes(v)); break; }
            case 0x8e: { var v = Counted(ReadSize8("bytes8"), "bytes8"); if (Load()) Push(new PyBytes(v)); break; }
            case 0x96: { var v = Counted(ReadSize8("bytearray8"), "bytearray8"); if (Load()) Push(new PyBytes(v, true)); break; }

            // Containers.
            case (byte)']': if (Load()) Push(new List<object?>()); break;
            case (byte)'l': if (Load()) Push(new List<object?>(PopMark())); break;
            case (byte)'a': if (Load()) { var v = Pop(); AppendTo(Top(), [v]); } break;
            case (byte)'e': if (Load()) { var items = PopMark(); AppendTo(Top(), items); } break;
            case (byte)')': if (Load()) Push(PyTuple.Empty); break;
            case (byte)'t': if (Load()) Push(new PyTuple(PopMark())); break;
            case 0x85: if (Load()) Push(new PyTuple(PopN(1))); break;
            case 0x86: if (Load()) Push(new PyTuple(PopN(2))); break;
            case 0x87: if (Load()) Push(new PyTuple(PopN(3))); break;
            case (byte)'}': if (Load()) Push(new PyDict()); break;
            case (byte)'d':
                if (Load())
                {
                    var items = PopMark();
                    var dict = new PyDict();
                    SetItems(dict, items);
                    Push(dict);
                }
                break;
            case (byte)'s': if (Load()) { var v = Pop(); var k = Pop(); SetItems(Top(), [k, v]); } break;
            case (byte)'u': if (Load()) { var items = PopMark(); SetItems(Top(), items); } break;
            case 0x8f: if (Load()) Push(new PySet(false)); break;
            case 0x90:
                if (Load())
                {
                    var items = PopMark();
                    if (Top() is not PySet { IsFrozen: false } set) throw NotSupported("ADDITEMS to something other than a set");
                    foreach (var item in items) set.Add(item, _at);
                }
                break;
            case 0x91:
                if (Load())
                {
                    var set = new PySet(true);
                    foreach (var item in PopMark()) set.Add(item, _at);
                    Push(set);
                }
                break;

            // Memo.
            case (byte)'p': Put(ReadDecimalIndex()); break;
            case (byte)'q': Put(ReadUInt1()); break;
            case (byte)'r': Put(ReadUInt4()); break;
            case 0x94:
                if (Load()) _memo.Add(Retained(_memoCount, Top()));
                _memoCount++;
                break;
            case (byte)'g': Get(ReadDecimalIndex()); break;
            case (byte)'h': Get(ReadUInt1()); break;
            case (byte)'j': Get(ReadUInt4()); break;

            // Globals and objects.
            case (byte)'c':
            {
                string module = ReadAsciiLine(), name = ReadAsciiLine();
                if (Load()) Push(FindClass(module, name));
                break;
            }
            case 0x93:
                if (Load())
                {
                    var name = Pop();
                    var module = Pop();
                    if (module is not string m || name is not string n) throw NotSupported("STACK_GLOBAL of something other than text");
                    Push(FindClass(m, n));
                }
                break;
            case (byte)'R':
                if (Load())
                {
                    var args = Pop();
                    var callable = Pop();
                    if (args is not PyTuple tuple) throw NotSupported("REDUCE with arguments that are not a tuple");
                    Push(Call(callable, tuple.Items));
                }
                break;
            case 0x81:
                if (Load())
                {
                    var args = Pop();
                    var cls = Pop();
                    Push(New(cls, args));
                }
                break;
            case 0x92:
                if (Load())
                {
                    var kwargs = Pop();
                    var args = Pop();
                    var cls = Pop();
                    if (kwargs is not PyDict { Items.Count: 0 }) throw NotSupported("NEWOBJ_EX with keyword arguments");
                    Push(New(cls, args));
                }
                break;
            case (byte)'b':
                if (Load())
                {
                    var state = Pop();
                    Build(Top(), state);
                }
                break;
            case (byte)'i': // INST: Python 3 never writes it
                ReadAsciiLine();
                ReadAsciiLine();
                if (Load()) throw NotSupported("opcode INST");
                break;
            case (byte)'o': if (Load()) throw NotSupported("opcode OBJ"); break;

            // What no ASE pickle holds: each a way around find_class or a way to allocate from a declared size.
            case (byte)'P': ReadAsciiLine(); throw Denied("PERSID");
            case (byte)'Q': throw Denied("BINPERSID");
            case 0x82: ReadUInt1(); throw Denied("EXT1");
            case 0x83: ReadUInt2(); throw Denied("EXT2");
            case 0x84: ReadInt4(); throw Denied("EXT4");
            case 0x97: throw Denied("NEXT_BUFFER");
            case 0x98: throw Denied("READONLY_BUFFER");
            default:
                throw Invalid($"at position {_at}, opcode {PyValues.BytesRepr([op])} unknown");
        }
      }
    }

    // A memo slot no GET reads holds nothing: the value lives only as long as the object graph needs it.
    private object? Retained(long index, object? value) => index < _read.Length && _read[index] != 0 ? value : null;

    private static object Box(long value) => value is >= -256 and < 256 ? SmallIntegers[value + 256] : value;

    // True when the opcode is to be executed (nothing failed to load before it); marks what follows as load.
    private bool Load()
    {
        if (_scanOnly || _loadFailure is not null) return false;
        _inLoad = true;
        return true;
    }

    private PickleRefusedException Invalid(string detail) => new($"not a valid pickle: {detail}", _at, false);

    private PickleRefusedException Unsafe(string detail) => new($"{detail} ({PickleRefusedException.Hint})", _at, true);

    private PickleRefusedException Denied(string opcode) =>
        Unsafe($"opcode {opcode} at byte {_at} is not allowed in an ASE pickle");

    private PickleNotSupportedException NotSupported(string what) => new(what, _at);

    // ---- Arguments (pickletools' readers and their messages) ----

    private byte ReadUInt1()
    {
        if (Remaining < 1) throw Invalid("not enough data in stream to read uint1");
        return Data[_pos++];
    }

    // A fixed-size argument; pickletools names the reader in its message.
    private ReadOnlySpan<byte> Fixed(int size, string reader)
    {
        if (Remaining < size) throw Invalid($"not enough data in stream to read {reader}");
        var bytes = Data.Slice(_pos, size);
        _pos += size;
        return bytes;
    }

    private ushort ReadUInt2() => BinaryPrimitives.ReadUInt16LittleEndian(Fixed(2, "uint2"));

    private int ReadInt4() => BinaryPrimitives.ReadInt32LittleEndian(Fixed(4, "int4"));

    private uint ReadUInt4() => BinaryPrimitives.ReadUInt32LittleEndian(Fixed(4, "uint4"));

    private ulong ReadUInt8() => BinaryPrimitives.ReadUInt64LittleEndian(Fixed(8, "uint8"));

    private ulong ReadSize8(string kind)
    {
        ulong n = ReadUInt8();
        if (n > long.MaxValue) throw Invalid($"{kind} byte count > sys.maxsize: {n}");
        return n;
    }

    // A counted argument: never allocated, a slice of the file, and refused before reading when longer than what is left.
    private ReadOnlyMemory<byte> Counted(ulong n, string kind)
    {
        if (n > (ulong)Remaining) throw Invalid($"expected {n} bytes in a {kind}, but only {Remaining} remain");
        return Take((int)n);
    }

    private ReadOnlyMemory<byte> Take(int n)
    {
        var slice = _memory.Slice(_pos, n);
        _pos += n;
        return slice;
    }

    private ReadOnlySpan<byte> ReadLine(string kind)
    {
        int newline = Data[_pos..].IndexOf((byte)'\n');
        if (newline < 0) throw Invalid($"no newline found when trying to read {kind}");
        newline += _pos;
        var line = Data.Slice(_pos, newline - _pos);
        _pos = newline + 1;
        return line;
    }

    // stringnl_noescape (GLOBAL, INST, PERSID): Python unescapes and decodes ASCII; escapes and other bytes are not modelled.
    private string ReadAsciiLine()
    {
        var line = ReadLine("stringnl");
        foreach (byte b in line)
            if (b is (byte)'\\' or >= 0x80) throw new PickleNotSupportedException("a GLOBAL name with escapes or non-ASCII bytes", _at);
        return Encoding.ASCII.GetString(line);
    }

    // decimalnl_short / decimalnl_long: "00" and "01" are False and True (INT of protocol 0), else an integer.
    private object ReadDecimal(string opcode)
    {
        var line = ReadLine("stringnl");
        if (opcode == "INT" && line.SequenceEqual("00"u8)) return false;
        if (opcode == "INT" && line.SequenceEqual("01"u8)) return true;
        if (opcode == "LONG" && line.Length > 0 && line[^1] == (byte)'L') line = line[..^1];
        return ParseDecimal(line);
    }

    private long ReadDecimalIndex()
    {
        var line = ReadLine("stringnl");
        if (line.SequenceEqual("00"u8) || line.SequenceEqual("01"u8))
            throw new PickleNotSupportedException("a memo index written as a bool", _at);
        long index = ParseDecimal(line);
        if (index < 0) throw new PickleNotSupportedException("a negative memo index", _at);
        return index;
    }

    private long ParseDecimal(ReadOnlySpan<byte> text)
    {
        int start = text.Length > 0 && text[0] == (byte)'-' ? 1 : 0;
        bool digits = text.Length > start;
        for (int i = start; i < text.Length; i++) digits &= text[i] is >= (byte)'0' and <= (byte)'9';
        if (!digits || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new PickleNotSupportedException($"the decimal {PyValues.BytesRepr(text)}", _at);
        return value;
    }

    private double ReadFloatLine()
    {
        var line = ReadLine("stringnl");
        string text = Encoding.ASCII.GetString(line);
        switch (text)
        {
            case "inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            case "nan": return double.NaN;
        }
        foreach (char c in text)
            if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.' or 'e' or 'E'))
                throw new PickleNotSupportedException($"the float {PyValues.BytesRepr(line)}", _at);
        if (!double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out double value))
            throw new PickleNotSupportedException($"the float {PyValues.BytesRepr(line)}", _at);
        return value;
    }

    // STRING (protocol 0 bytes of Python 2): a quoted repr; the unpickler decodes it as ASCII.
    private string ReadQuotedString()
    {
        var line = ReadLine("stringnl");
        byte q = line.Length > 0 ? line[0] : (byte)0;
        if (q is not ((byte)'"' or (byte)'\''))
            throw Invalid($"no string quotes around {PyValues.BytesRepr(line)}");
        if (line.Length < 2 || line[^1] != q)
            throw Invalid($"strinq quote {PyValues.BytesRepr([q])} not found at both ends of {PyValues.BytesRepr(line)}");
        var inner = line[1..^1];
        if (inner.Contains((byte)'\\')) throw new PickleNotSupportedException("a STRING with escapes", _at);
        return Ascii(inner);
    }

    private string Ascii(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b >= 0x80) throw new PickleNotSupportedException("a Python 2 string that is not ASCII", _at);
        return Encoding.ASCII.GetString(bytes);
    }

    private string Utf8(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            // Python decodes with surrogatepass, and its error message is not modelled.
            throw new PickleNotSupportedException("text that is not strict UTF-8", _at);
        }
    }

    // Python's raw-unicode-escape decoder: bytes are Latin-1 code points, except \uXXXX and \UXXXXXXXX after an odd
    // number of backslashes.
    private string RawUnicodeEscape(ReadOnlySpan<byte> line)
    {
        var sb = new StringBuilder(line.Length);
        int i = 0;
        while (i < line.Length)
        {
            if (line[i] != (byte)'\\')
            {
                sb.Append((char)line[i++]);
                continue;
            }
            int start = i;
            while (i < line.Length && line[i] == (byte)'\\')
            {
                sb.Append('\\');
                i++;
            }
            if (((i - start) & 1) == 0 || i >= line.Length || line[i] is not ((byte)'u' or (byte)'U'))
                continue;
            sb.Length--;
            int count = line[i] == (byte)'u' ? 4 : 8;
            i++;
            if (i + count > line.Length) throw new PickleNotSupportedException("a truncated \\u escape", _at);
            if (!uint.TryParse(Encoding.ASCII.GetString(line.Slice(i, count)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint code)
                || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                throw new PickleNotSupportedException("an invalid \\u escape", _at);
            sb.Append(char.ConvertFromUtf32((int)code));
            i += count;
        }
        return sb.ToString();
    }

    private long LittleEndianInteger(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return 0;
        if (bytes.Length > 8) throw NotSupported("an integer wider than 64 bits");
        long value = (sbyte)bytes[^1];
        for (int i = bytes.Length - 2; i >= 0; i--) value = (value << 8) | bytes[i];
        return value;
    }

    // ---- Stack and memo ----

    private int Fence => _marks.Count > 0 ? _marks[^1] : 0;

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count <= Fence) throw NotSupported("unpickling stack underflow");
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Top()
    {
        if (_stack.Count <= Fence) throw NotSupported("unpickling stack underflow");
        return _stack[^1];
    }

    // POP: CPython pops the mark itself when the stack is empty above it.
    private void PopOne()
    {
        if (_marks.Count > 0 && _marks[^1] == _stack.Count) _marks.RemoveAt(_marks.Count - 1);
        else Pop();
    }

    private object?[] PopN(int n)
    {
        if (_stack.Count - n < Fence) throw NotSupported("unpickling stack underflow");
        return Cut(_stack.Count - n);
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw NotSupported("could not find MARK");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        return Cut(mark);
    }

    // The stack items from start to the top, removed from the stack.
    private object?[] Cut(int start)
    {
        int n = _stack.Count - start;
        if (n == 0) return [];
        var items = new object?[n];
        _stack.CopyTo(start, items, 0, n);
        _stack.RemoveRange(start, n);
        return items;
    }

    private void Put(long index)
    {
        // safe_pickle.prescan: a PUT past the next free slot is how a few bytes make CPython allocate gigabytes.
        if (index > _memoCount)
            throw new PickleRefusedException($"memo index {index} at byte {_at} skips ahead of {_memoCount} (a memory bomb; {PickleRefusedException.Hint})", _at, true);
        bool added = index == _memoCount;
        if (added) _memoCount++;
        if (!Load()) return;
        var value = Retained(index, Top());
        if (added) _memo.Add(value);
        else _memo[(int)index] = value;
    }

    private void Get(long index)
    {
        if (index >= _memoCount) throw Invalid($"memo index {index} at byte {_at} was never stored");
        if (_scanOnly)
        {
            if (index >= _read.Length) Array.Resize(ref _read, (int)Math.Min(Math.Max(_read.Length * 2L, index + 1), Array.MaxLength));
            _read[index] = 1;
        }
        if (Load()) Push(_memo[(int)index]);
    }

    private void AppendTo(object? target, object?[] items)
    {
        if (target is not List<object?> list) throw NotSupported($"APPEND to a {PyValues.TypeName(target)}");
        list.AddRange(items);
    }

    private void SetItems(object? target, object?[] items)
    {
        if (items.Length % 2 != 0) throw NotSupported("an odd number of items for SETITEMS");
        var dict = target switch
        {
            PyDict d => d,
            // Parameters is a dict subclass: protocol 2+ pickles its items with SETITEMS.
            PyInstance { Class: PyGlobalKind.Parameters } p => p.Items,
            _ => throw NotSupported($"SETITEM on a {PyValues.TypeName(target)}"),
        };
        dict.EnsureCapacity(dict.Count + items.Length / 2);
        for (int i = 0; i < items.Length; i += 2) dict.Set(items[i], items[i + 1], _at);
    }

    // ---- Globals, calls, objects ----

    private PyGlobal FindClass(string module, string name) =>
        PyGlobal.Find(module, name) ?? throw Unsafe($"global '{module}.{name}' is forbidden in an ASE pickle");

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PyGlobal g) throw NotSupported($"calling a {PyValues.TypeName(callable)}");
        switch (g.Kind)
        {
            case PyGlobalKind.Getattr:
                // ASE 3.22's Calculator.__init__ stores one bound method; nothing else is allowed.
                if (args.Length < 2) throw NotSupported("getattr with fewer than two arguments");
                if (args.Length == 2 && args[0] is PyInstance { Class: PyGlobalKind.SinglePointCalculator } calc
                    && args[1] is "_deprecated_get_spin_polarized")
                    return new PyBoundMethod(calc, "_deprecated_get_spin_polarized");
                throw Unsafe($"getattr({Known(PyValues.TypeName(args[0]))}, {Known(PyValues.Repr(args[1]))}) is not allowed in an ASE pickle");
            case PyGlobalKind.Encode:
            {
                // Protocols 0-2 carry bytes as codecs.encode(text, 'latin1'); other codecs (zlib, base64...) are refused.
                if (args.Length is 0 or > 3) throw NotSupported("_codecs.encode with a wrong argument count");
                object? encoding = args.Length > 1 ? args[1] : "utf-8", errors = args.Length > 2 ? args[2] : "strict";
                if (args[0] is string text && encoding is "latin1" && errors is "strict")
                {
                    if (text.Any(c => c > '\u00ff')) throw NotSupported("latin1 text with a character above U+00FF");
                    return new PyBytes(Encoding.Latin1.GetBytes(text));
                }
                throw Unsafe($"_codecs.encode(..., {Known(PyValues.Repr(encoding))}) is not allowed in an ASE pickle");
            }
            case PyGlobalKind.Reconstructor:
            {
                if (args.Length != 3) throw NotSupported("copyreg._reconstructor with a wrong argument count");
                if (args[0] is PyGlobal { Kind: PyGlobalKind.Atoms or PyGlobalKind.Cell or PyGlobalKind.FixAtoms or PyGlobalKind.SinglePointCalculator } cls
                    && args[1] is PyGlobal { Kind: PyGlobalKind.Object } && args[2] is null)
                    return new PyInstance(cls.Kind);
                var state = args[2] switch
                {
                    PyDict d => d,
                    PyInstance { Class: PyGlobalKind.Parameters } p => p.Items,
                    _ => null,
                };
                if (args[0] is PyGlobal { Kind: PyGlobalKind.Parameters } && args[1] is PyGlobal { Kind: PyGlobalKind.Dict } && state is not null)
                {
                    var parameters = new PyInstance(PyGlobalKind.Parameters);
                    foreach (var (key, value) in state.Items) parameters.Items.Set(key, value);
                    return parameters;
                }
                string? name = args[0] switch
                {
                    PyGlobal other => other.Name,
                    PyBoundMethod m => m.Name,
                    var v => PyValues.Str(v) ?? (v is null ? "None" : null),
                };
                throw Unsafe($"copyreg._reconstructor({Known(name)}, ...) is not allowed in an ASE pickle");
            }
            case PyGlobalKind.Object when args.Length == 0:
                return new PyInstance(PyGlobalKind.Object);
            case PyGlobalKind.Dict when args.Length == 0:
                return new PyDict();
            case PyGlobalKind.Dtype when args.Length is >= 1 and <= 3 && args[0] is string code
                                         && (args.Length < 2 || args[1] is bool or long) && (args.Length < 3 || args[2] is bool or long):
                return NpDtype.FromCode(code, _at);
            case PyGlobalKind.Reconstruct when args.Length == 3 && args[0] is PyGlobal { Kind: PyGlobalKind.NdArray }:
                return NdArray.Placeholder();
            case PyGlobalKind.Scalar when args.Length == 2 && args[0] is NpDtype { Kind: not 'O' } dtype
                                          && args[1] is PyBytes bytes && bytes.Data.Length == dtype.ItemSize:
                return new NpScalar(NdArray.Scalar(dtype, bytes.Data));
            case PyGlobalKind.FromBuffer:
                return NdArray.FromBuffer(args, _at);
            default:
                throw NotSupported($"calling {g.Name} with these arguments");
        }
    }

    // A name or repr this machine does not model: Python's message would differ, so Python must give it.
    private string Known(string? text) => text ?? throw NotSupported("a value whose Python text is not modelled");

    // NEWOBJ: cls.__new__(cls): an empty object of an allowed class, or an empty dict.
    private object New(object? cls, object? args)
    {
        if (args is not PyTuple { Length: 0 } || cls is not PyGlobal { IsClass: true } g)
            throw NotSupported("NEWOBJ other than cls.__new__(cls) of an allowed class");
        return g.Kind switch
        {
            PyGlobalKind.Dict => new PyDict(),
            PyGlobalKind.NdArray or PyGlobalKind.Dtype => throw NotSupported($"{g.Name}.__new__"),
            var kind => new PyInstance(kind),
        };
    }

    // BUILD: numpy's __setstate__ for arrays and dtypes; for the ASE classes (none defines __setstate__) the state
    // dict's items go into the instance's __dict__, as CPython's load_build does.
    private void Build(object? target, object? state)
    {
        switch (target)
        {
            case NdArray array:
                array.SetState(state, _at);
                break;
            case NpDtype dtype:
                dtype.SetState(state, _at);
                break;
            case PyInstance { State: { } dict } when state is null:
                break;
            case PyInstance { State: { } dict } when state is PyDict items:
                foreach (var (key, value) in items.Items) dict.Set(key, value);
                break;
            default:
                throw NotSupported($"BUILD of a {PyValues.TypeName(target)} with a {PyValues.TypeName(state)}");
        }
    }
}
