using System.Text.Json;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// The sidecar journal of a file written in place (append, label after its first checkpoint): <c>FILE.journal</c>,
/// holding the structures and atoms that are durable in the file and a copy of every dataset's partial last chunk. It
/// is written only after the file itself was flushed and fsynced, by write to a temporary file, fsync, rename and
/// directory fsync, so it is always either the previous state or the new one, and never claims rows that might not be
/// on disk. Layout: one line of JSON (counts, and for each tail its dataset, first row and byte count or text), then
/// the tails' bytes one after another.
/// </summary>
/// <remarks>
/// The file's own num_structures attribute is written by the same H5Fflush as the rows it counts, and libhdf5 orders
/// nothing within a flush: a process killed in the middle may leave the new count on disk with some of its rows not.
/// The journal is the count that cannot be ahead of the data. While it exists the file is being written in place (or
/// its writer was killed); a completed file has none. <see cref="HDF5DatasetWriter.RecoverToCheckpoint"/> cuts the
/// file back to the journal's count when there is one.
/// <para>The tails are there because appending rewrites a dataset's partial last chunk, and libhdf5 frees the old copy
/// of a chunk whose stored size changes and may give that space to the next thing it allocates, before the chunk
/// index that points at the old copy is on disk: a kill then leaves committed rows overwritten (measured: a killed
/// append failed the checksum of the original file's last chunk). Recovery writes the tails back.</para>
/// </remarks>
public static class CheckpointJournal
{
    /// <summary>Suffix of the journal beside its file.</summary>
    public const string Suffix = ".journal";

    /// <summary>The durable state a journal records.</summary>
    /// <param name="Structures">Structures durable in the file.</param>
    /// <param name="Atoms">Atoms of those structures.</param>
    public sealed record Entry(long Structures, long Atoms);

    /// <summary>The rows of a dataset's partial last chunk: raw little-endian bytes of a numeric dataset, or the text of
    /// a string one.</summary>
    /// <param name="Dataset">The dataset's path in the file.</param>
    /// <param name="Start">Its first row (the chunk's first row).</param>
    /// <param name="Bytes">The rows' bytes (numeric datasets), else null.</param>
    /// <param name="Strings">The rows' text (string datasets), else null.</param>
    public sealed record Tail(string Dataset, long Start, byte[]? Bytes, string[]? Strings);

    /// <summary>The journal's path for a file.</summary>
    public static string PathOf(string file) => System.IO.Path.GetFullPath(file) + Suffix;

    /// <summary>The temporary file a new journal is written to before it is renamed into place (FILE.journal.tmp).</summary>
    public static string TemporaryPathOf(string file) => PathOf(file) + ".tmp";

    /// <summary>Records that the file holds <paramref name="entry"/> durably, with copies of its datasets' partial last
    /// chunks (call only after fsyncing the file).</summary>
    /// <exception cref="IOException">The journal cannot be written or synced.</exception>
    public static void Write(string file, Entry entry, IReadOnlyList<Tail>? tails = null)
    {
        tails ??= [];
        string journal = PathOf(file);
        string temporary = TemporaryPathOf(file);
        var header = new Header(entry.Structures, entry.Atoms,
            [.. tails.Select(t => new TailHeader(t.Dataset, t.Start, t.Bytes?.Length, t.Strings))]);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(header));
                stream.WriteByte((byte)'\n');
                foreach (var tail in tails)
                    if (tail.Bytes is not null) stream.Write(tail.Bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, journal, overwrite: true);
        }
        catch
        {
            // A full disk: the previous journal still stands; the half-written new one must not.
            File.Delete(temporary);
            throw;
        }
        Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(journal)!);
    }

    /// <summary>The tails a file's journal keeps (empty without a journal).</summary>
    /// <exception cref="DatasetFormatException">The journal exists but cannot be understood.</exception>
    public static IReadOnlyList<Tail> ReadTails(string file) => Load(file)?.Tails ?? [];

    /// <summary>The journal of a file, or null when it has none.</summary>
    /// <exception cref="DatasetFormatException">The journal exists but cannot be understood.</exception>
    public static Entry? Read(string file) => Load(file)?.Entry;

    /// <summary>Whether a file has a journal (without reading it).</summary>
    public static bool Exists(string file) => File.Exists(PathOf(file));

    /// <summary>The counts and tails of a file's journal in one read, or null when it has none.</summary>
    /// <exception cref="DatasetFormatException">The journal exists but cannot be understood.</exception>
    internal static (Entry Entry, IReadOnlyList<Tail> Tails)? Load(string file)
    {
        string journal = PathOf(file);
        if (!File.Exists(journal)) return null;
        try
        {
            var bytes = File.ReadAllBytes(journal);
            int newline = Array.IndexOf(bytes, (byte)'\n');
            if (newline < 0) throw new FormatException("no header line");
            var header = JsonSerializer.Deserialize<Header>(bytes.AsSpan(0, newline)) ?? throw new FormatException("empty header");
            if (header.num_structures < 0 || header.num_atoms < 0) throw new FormatException("negative counts");
            var tails = new List<Tail>();
            long offset = newline + 1;
            foreach (var t in header.tails ?? [])
            {
                byte[]? data = null;
                if (t.bytes is { } length)
                {
                    if (length < 0 || offset + length > bytes.Length) throw new FormatException($"the tail of {t.dataset} runs past the end");
                    data = bytes.AsSpan((int)offset, length).ToArray();
                    offset += length;
                }
                tails.Add(new Tail(t.dataset, t.start, data, t.strings));
            }
            return (new Entry(header.num_structures, header.num_atoms), tails);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            // Written by rename, so a torn journal means someone else wrote it: refuse rather than guess.
            throw new DatasetFormatException(file, null, $"its journal {journal} is unreadable ({e.Message}); delete it to fall back to the file's num_structures", e);
        }
    }

    // The JSON line's shape: FORMAT.md's spelling of the counts.
#pragma warning disable IDE1006 // JSON names
    private sealed record Header(long num_structures, long num_atoms, TailHeader[]? tails);

    private sealed record TailHeader(string dataset, long start, int? bytes, string[]? strings);
#pragma warning restore IDE1006

    /// <summary>Removes a file's journal (and a temporary one left by a kill), after the file was completed or repaired.</summary>
    public static void Delete(string file)
    {
        string journal = PathOf(file);
        File.Delete(journal + ".tmp");
        if (!File.Exists(journal)) return;
        File.Delete(journal);
        Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(journal)!);
    }
}
