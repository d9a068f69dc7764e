namespace MlffData.Converters.Pickle;

/// <summary>
/// Reads ASE pickles (a pickled Atoms, or a list or tuple of them, with SinglePointCalculator labels) without Python:
/// a restricted pickle machine (<see cref="PickleMachine"/>) with safe_pickle.py's allowlist and checks, then the
/// mapping of safe_pickle.clean() and ase_frames.frame() (<see cref="AsePickleFrames"/>). The frames, and the
/// errors, are those of the Python path, bit for bit and word for word; it is several times faster than plain
/// <c>pickle.load</c>, since no Python object is made per value.
/// </summary>
/// <remarks>
/// The file is mapped (not copied) and decoded whole before the first frame is returned. <see cref="Read"/> makes
/// every frame first too, so a file with something the native reader does not model fails with
/// <see cref="PickleNotSupportedException"/> before any frame; <see cref="AseReader.ReadPickle"/> uses
/// <see cref="Stream"/>, which makes each frame when asked for, and goes on through Python from the frame it fails on.
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
        using var mapped = Map(path);
        return new AsePickleFrames(path, SourceKeys.Default).ReadLabels(Load(path, mapped));
    }

    /// <summary>Every frame up to the first error, and that error (null when none); nothing is returned lazily.</summary>
    /// <exception cref="ConversionException">The pickle is refused before any object is made (safe_pickle's message).</exception>
    /// <exception cref="PickleNotSupportedException">The file needs something only the Python path models.</exception>
    internal static (List<SourceFrame> Frames, ConversionException? Error) Decode(string path, SourceKeys? keys)
    {
        using var mapped = Map(path);
        return new AsePickleFrames(path, keys ?? SourceKeys.Default).Read(Load(path, mapped));
    }

    /// <summary>
    /// The frames of an ASE pickle, decoded whole first (so a refused pickle fails before any frame), then each
    /// made when asked for, so that writing the first ones can overlap making the rest.
    /// </summary>
    /// <exception cref="ConversionException">As <see cref="Read"/>.</exception>
    /// <exception cref="PickleNotSupportedException">The file needs something only the Python path models; unlike
    /// <see cref="Read"/>, perhaps after some frames, which the Python path gives the same.</exception>
    internal static IEnumerable<SourceFrame> Stream(string path, SourceKeys? keys)
    {
        // The decoded objects are slices of the mapping and the frames are copies: it is unmapped after the last.
        using var mapped = Map(path);
        foreach (var frame in new AsePickleFrames(path, keys ?? SourceKeys.Default).Frames(Load(path, mapped)))
            yield return frame;
    }

    private static MappedFileMemory Map(string path)
    {
        try
        {
            return MappedFileMemory.Map(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Python words the file errors (FileNotFoundError, ...) its own way.
            throw new PickleNotSupportedException($"reading the file: {e.Message}");
        }
    }

    // The object the file holds; a refused pickle as the ConversionException the Python path gives.
    private static object? Load(string path, MappedFileMemory mapped)
    {
        try
        {
            return PickleMachine.Load(mapped.Memory);
        }
        catch (PickleRefusedException e)
        {
            throw new ConversionException(path, null, null, e.Message, e);
        }
    }
}
