namespace MlffData.Converters.Pickle;

/// <summary>
/// A pickle the native reader refuses, worded exactly as safe_pickle.py words the same refusal (an unsafe global or
/// opcode, a memo bomb, a length past the end), so a user sees one message whichever path read the file. Nothing the
/// file carries has run.
/// </summary>
public sealed class PickleRefusedException : Exception
{
    /// <summary>The hint safe_pickle.py appends to every refusal of something unsafe.</summary>
    internal const string Hint = "refused before it ran; pass --allow-unsafe-pickle only for a file you trust";

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message, as Python's loader gives it.</param>
    /// <param name="offset">The byte offset of the opcode refused.</param>
    /// <param name="unsafe">True for a refusal of something unsafe (Python's UnsafePickleError), false for a malformed pickle.</param>
    public PickleRefusedException(string message, long offset, bool @unsafe)
        : base(message)
    {
        Offset = offset;
        IsUnsafe = @unsafe;
    }

    /// <summary>The byte offset of the opcode refused.</summary>
    public long Offset { get; }

    /// <summary>True when the pickle holds something unsafe; false when it is malformed.</summary>
    public bool IsUnsafe { get; }
}
