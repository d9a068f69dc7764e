using System.Runtime.CompilerServices;

namespace MlffData.Converters;

/// <summary>
/// Splits a <see cref="TextReader"/> into lines the way Python's text mode does (\n, \r\n or a lone \r end a line),
/// handing out each line as a span over one reused buffer, so reading a line allocates nothing.
/// Owns the reader.
/// </summary>
internal sealed class TextLineReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly int _maxLineLength;
    private char[] _buffer;
    private int _start;   // first character not yet returned
    private int _end;     // one past the last character read from _reader
    private bool _endOfInput;

    /// <summary>Wraps a reader; the buffer starts at initialCapacity characters and grows up to maxLineLength.</summary>
    public TextLineReader(TextReader reader, int initialCapacity = 1 << 16, int maxLineLength = 1 << 26)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        _reader = reader;
        _maxLineLength = maxLineLength;
        _buffer = new char[initialCapacity];
    }

    /// <summary>1-based number of the line last returned; 0 before the first.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Reads the next line without its terminator. The span is valid until the next call.</summary>
    /// <returns>False at the end of the input.</returns>
    /// <exception cref="InvalidDataException">A line is longer than the maximum line length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadLine(out ReadOnlySpan<char> line)
    {
        int searched = _start;
        while (true)
        {
            int found = _buffer.AsSpan(searched, _end - searched).IndexOfAny('\r', '\n');
            if (found >= 0)
            {
                int terminator = searched + found;
                // A \r at the very end of the buffer may be the first half of \r\n: read on before deciding.
                if (_buffer[terminator] == '\r' && terminator + 1 == _end && !_endOfInput)
                {
                    searched = terminator;
                    searched -= Fill();
                    continue;
                }
                int length = terminator - _start;
                if (length > _maxLineLength)
                    throw LineTooLong();
                line = _buffer.AsSpan(_start, length);
                int skip = _buffer[terminator] == '\r' && terminator + 1 < _end && _buffer[terminator + 1] == '\n' ? 2 : 1;
                _start = terminator + skip;
                LineNumber++;
                return true;
            }
            if (_endOfInput)
            {
                if (_start == _end)
                {
                    line = default;
                    return false;
                }
                // The last line has no terminator; Python still returns it.
                line = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                LineNumber++;
                return true;
            }
            if (_end - _start > _maxLineLength)
                throw LineTooLong();
            searched = _end;
            searched -= Fill();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();

    // Moves the unread tail to the front (growing the buffer when the tail fills it) and reads more.
    // Returns how far the unread characters moved towards the front, so callers can shift their indices.
    private int Fill()
    {
        int shift = _start;
        int pending = _end - _start;
        if (pending == _buffer.Length)
        {
            var bigger = new char[(int)Math.Min((long)_buffer.Length * 2, (long)_maxLineLength + 2)];
            if (bigger.Length <= _buffer.Length)
                throw LineTooLong();
            _buffer.AsSpan(_start, pending).CopyTo(bigger);
            _buffer = bigger;
        }
        else if (shift > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        _start = 0;
        _end = pending;
        int read = _reader.Read(_buffer.AsSpan(_end));
        if (read == 0)
            _endOfInput = true;
        _end += read;
        return shift;
    }

    private InvalidDataException LineTooLong() =>
        new($"line {LineNumber + 1} is longer than {_maxLineLength} characters");
}
