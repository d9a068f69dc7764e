namespace MlffData.Converters.Pickle;

/// <summary>
/// The native pickle reader met something it does not reproduce exactly (an opcode shape, a call, a value or an error
/// message of CPython's that it does not model), while the Python loader would give a defined result. Thrown before any
/// structure is returned, so the caller can read the whole file through the Python path instead.
/// </summary>
public sealed class PickleNotSupportedException : NotSupportedException
{
    /// <summary>Creates the exception; the message names what was met and where.</summary>
    /// <param name="what">What the native reader does not handle.</param>
    /// <param name="offset">The byte offset of the opcode, or -1 when the value is not tied to one.</param>
    public PickleNotSupportedException(string what, long offset = -1)
        : base(offset >= 0 ? $"{what} (at byte {offset})" : what)
    {
        Offset = offset;
    }

    /// <summary>The byte offset of the opcode concerned, or -1.</summary>
    public long Offset { get; }
}
