namespace MlffData.Converters;

/// <summary>
/// Picks the reader for an input file (the native extended-XYZ reader, the safe ASE-pickle reader, or ASE's
/// <c>ase.io.iread</c>) and applies a separate labels pickle when one is given.
/// </summary>
public static class InputReader
{
    /// <summary>The reader a file and options lead to: "pickle", "extxyz" (native), or "ase" / "ase:NAME" (ASE's reader, NAME its format).</summary>
    /// <exception cref="ArgumentException">The format name is empty.</exception>
    public static string Resolve(string path, InputOptions options)
    {
        string format = options.Format.Trim().ToLowerInvariant();
        if (format.Length == 0) throw new ArgumentException("The input format is empty; use auto, pickle, extxyz or an ASE format name");
        if (format == "auto")
        {
            format = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".pkl" or ".pickle" => "pickle",
                ".xyz" or ".extxyz" => "extxyz",
                // ASE recognises the rest by name and content (traj, POSCAR, cif, db, ...).
                _ => "ase",
            };
        }
        return format switch
        {
            "pickle" or "pkl" => "pickle",
            // ASE's extxyz reader also reads plain xyz.
            "extxyz" or "xyz" => options.UseAseReader ? "ase:extxyz" : "extxyz",
            "ase" => "ase",
            _ => $"ase:{options.Format.Trim()}",
        };
    }

    /// <summary>The structures of an input file as its reader gives them, labels replaced when a labels pickle is given.</summary>
    /// <param name="path">The input file.</param>
    /// <param name="options">Format, keys, labels, interpreter.</param>
    /// <param name="fraction">How much of the input has been read, 0 to 1, where the reader can tell (the native
    /// extxyz reader); null otherwise.</param>
    /// <exception cref="FileNotFoundException">The input or the labels file does not exist.</exception>
    /// <exception cref="ConversionException">The input is malformed; names the file, the structure and the field.</exception>
    /// <exception cref="MlffData.Python.PythonNotFoundException">The input needs ASE and no interpreter with ASE was found.</exception>
    public static IEnumerable<SourceFrame> Read(string path, InputOptions options, out Func<double?> fraction)
    {
        fraction = () => null;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        if (options.LabelsPath is { } labelsPath && !File.Exists(labelsPath)) throw new FileNotFoundException($"{labelsPath}: no such file", labelsPath);
        string reader = Resolve(path, options);
        var frames = reader switch
        {
            "pickle" => AseReader.ReadPickle(path, options.Keys, options.AllowUnsafePickle, options.Python),
            "extxyz" => ReadExtxyz(path, options.Keys, out fraction),
            "ase" => AseReader.Read(path, null, options.Keys, options.Python),
            _ => AseReader.Read(path, reader["ase:".Length..], options.Keys, options.Python),
        };
        if (options.LabelsPath is null) return frames;
        var labels = LabelsPickle.Read(options.LabelsPath, options.AllowUnsafePickle, options.Python);
        return labels.Apply(frames, path);
    }

    // How far a reader may run ahead of the writer: enough to ride out the writer's pauses (a chunk flush), and a
    // bound on memory (about 60 MB at most) however large the structures are.
    private const int MaxItemsAhead = 256;
    private const long MaxAtomsAhead = 1 << 20;

    /// <summary>A native reader's frames, made on a thread of its own a bounded distance ahead of the caller.</summary>
    internal static IEnumerable<SourceFrame> ReadAhead(IEnumerable<SourceFrame> frames) =>
        ReadAhead<SourceFrame>.Of(frames, MaxItemsAhead, MaxAtomsAhead, frame => frame.Structure.NumAtoms + 1L);

    private static IEnumerable<SourceFrame> ReadExtxyz(string path, SourceKeys keys, out Func<double?> fraction)
    {
        // Opened now rather than at the first frame, so that the progress callback can watch its position.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        // The length once: FileStream.Length asks the kernel (fstat) every time, and this runs for every structure.
        long length = stream.Length;
        fraction = () => stream.CanRead && length > 0 ? (double)stream.Position / length : null;
        // Parsing on a thread of its own, ahead of the writer: the parse is most of a conversion's time.
        return ReadAhead(Frames(stream));

        IEnumerable<SourceFrame> Frames(FileStream stream)
        {
            using var reader = new ExtxyzReader(new StreamReader(stream, bufferSize: 1 << 16), path, keys);
            foreach (var frame in reader.ReadFrames())
                yield return frame;
        }
    }
}
