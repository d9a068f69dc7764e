namespace MlffData.Converters.Pickle;

/// <summary>A Python bytes or bytearray: a slice of the file's buffer (array data is never copied out of it).</summary>
/// <param name="Data">The bytes.</param>
/// <param name="IsByteArray">True for a bytearray (BYTEARRAY8), false for bytes.</param>
internal sealed record PyBytes(ReadOnlyMemory<byte> Data, bool IsByteArray = false);
