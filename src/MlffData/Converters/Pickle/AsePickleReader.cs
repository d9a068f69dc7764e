namespace MlffData.Converters.Pickle;

/// <summary>
/// Reads ASE pickles (a pickled Atoms, or a list or tuple of them, with SinglePointCalculator labels) without Python:
/// a restricted pickle machine (<see cref="PickleMachine"/>) with safe_pickle.py's allowlist and checks, then the
/// mapping of safe_pickle.clean() and ase_frames.frame() (<see cref="AsePickleFrames"/>). The frames, and the
/// errors, are those of the Python path, bit for bit and word for word; it is several times faster than plain
/// <c>pickle.load</c>, since no Python object is made per value.
/// </summary>
/// <remarks>
/// The whole file is read and decoded before the first frame is returned, so a file with something the native reader
/// does not model fails with <see cref="PickleNotSupportedException"/> before any frame, and the caller can read it
/// through Python instead (<see cref="AseReader.ReadPickle"/> does).
/// </remarks>
public static class AsePickleReader
{
    /// <summary>The structures of an ASE pickle, as <see cref="AseReader.ReadPickle"/> gives them.</summary>
    /// <param name="path">The pickle file.</param>
    /// <param name="keys">Label keys and extras to keep; null for the defaults.</param>
    /// <exception cref="ConversionException">The file is no safe ASE pickle, or a structure or label is malformed
    /// (thrown when enumeration reaches it, after the structures before it).</exception>
    /// <exception cref="PickleNotSupportedException">The file needs something only the Python path models; thrown
    /// before the first frame.</exception>
    public static IEnumerable<SourceFrame> Read(string path, SourceKeys? keys = null)
    {
        var (frames, error) = Decode(path, keys);
        foreach (var frame in frames)
            yield return frame;
        if (error is not null) throw error;
    }

    /// <summary>The labels of a labels pickle (see <see cref="LabelsPickle"/>), as safe_pickle.labels gives them.</summary>
    /// <exception cref="ConversionException">The file is no safe labels pickle.</exception>
    /// <exception cref="PickleNotSupportedException">The file needs something only the Python path models.</exception>
    internal static (double[] Energies, double[][] Forces, double[]?[]? Stresses) ReadLabels(string path)
    {
        var mapper = new AsePickleFrames(path, SourceKeys.Default);
        return mapper.ReadLabels(Load(path));
    }

    /// <summary>Every frame up to the first error, and that error (null when none); nothing is returned lazily.</summary>
    /// <exception cref="PickleNotSupportedException">The file needs something only the Python path models.</exception>
    internal static (List<SourceFrame> Frames, ConversionException? Error) Decode(string path, SourceKeys? keys)
    {
        object? root;
        try
        {
            root = Load(path);
        }
        catch (ConversionException e)
        {
            return ([], e);
        }
        return new AsePickleFrames(path, keys ?? SourceKeys.Default).Read(root);
    }

    // The object the file holds; a refused pickle as the ConversionException the Python path gives.
    private static object? Load(string path)
    {
        byte[] data;
        try
        {
            data = ReadAll(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            // Python words the file errors (FileNotFoundError, ...) its own way.
            throw new PickleNotSupportedException($"reading the file: {e.Message}");
        }
        try
        {
            return PickleMachine.Load(data);
        }
        catch (PickleRefusedException e)
        {
            throw new ConversionException(path, null, null, e.Message, e);
        }
    }

    // File.ReadAllBytes without zeroing the buffer first: a pickle of many structures is hundreds of megabytes.
    private static byte[] ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > Array.MaxLength) throw new PickleNotSupportedException($"a pickle of {length} bytes");
        var data = GC.AllocateUninitializedArray<byte>((int)length);
        stream.ReadExactly(data);
        return data;
    }
}
