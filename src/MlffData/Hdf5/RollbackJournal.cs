using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using MlffData.Hdf5.Filters;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// The rollback journal of a file written in place (<c>FILE.rollback</c>), as SQLite keeps one: before libhdf5 first
/// overwrites any byte the file held at its last checkpoint, the old bytes are appended here and made durable
/// (<see cref="RollbackFileDriver"/> calls <see cref="Protect"/> from inside libhdf5's writes). <see cref="Apply"/> puts
/// them back and cuts the file to its checkpointed size, which gives back the checkpointed file byte for byte whatever
/// happened after: a kill in the middle of a flush, a full disk that failed some of libhdf5's writes and not others
/// (measured: one failed flush left an appended-to file that libhdf5 could no longer open), an I/O error.
/// </summary>
/// <remarks>
/// Layout: a header (magic, the file's size at the checkpoint, checksum), then records (offset, length, the bytes that
/// were there, checksum), each fdatasync-ed before the write it protects goes ahead. A record that fails its checksum
/// was torn by a crash while it was being written, so the write it protects never happened: it and everything after it
/// are ignored. Bytes at or past the checkpointed size need no record; the cut removes them. Each range is saved once per
/// checkpoint: the first old bytes are the checkpoint's, later writes to the same range change nothing to restore.
/// </remarks>
public sealed class RollbackJournal : IDisposable
{
    /// <summary>Suffix of the journal beside its file.</summary>
    public const string Suffix = ".rollback";

    private static ReadOnlySpan<byte> Magic => "MLFFRBK1"u8;
    private const int HeaderSize = 8 + 8 + 4;
    private const int RecordHead = 8 + 4;
    // Records are at most this long, so their length fits the field and their buffer stays small.
    private const int MaxRecord = 1 << 22;

    // The journal, written with plain pwrite/fdatasync so that a failure keeps its errno.
    private SafeFileHandle? _journal;
    private string _file = "";
    private string _path = "";
    private long _checkpointSize;
    private long _end;
    // Ranges of the file saved since the checkpoint, sorted and disjoint.
    private readonly List<(long Start, long End)> _saved = [];

    /// <summary>Whether in-place writes are being saved (from <see cref="Begin"/> to <see cref="Delete"/> or
    /// <see cref="Dispose"/>).</summary>
    public bool IsActive => _journal is not null;

    /// <summary>Whether <see cref="Begin"/> succeeded (the journal may be closed since, its file still there).</summary>
    public bool Begun => _path.Length > 0;

    /// <summary>The data file this journal protects (empty until <see cref="Begin"/>).</summary>
    public string FileName => _file;

    /// <summary>The journal's path for a file.</summary>
    public static string PathOf(string file) => System.IO.Path.GetFullPath(file) + Suffix;

    /// <summary>Whether a file has a rollback journal: its writer did not finish, and <see cref="Apply"/> is due.</summary>
    public static bool Exists(string file) => File.Exists(PathOf(file));

    /// <summary>
    /// Starts protecting <paramref name="file"/> as it is now, which must be a consistent, durable state (just created
    /// and fsynced, or checkpointed): creates its journal, durably, before libhdf5 may overwrite anything.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already active, or an old journal of the file was not applied.</exception>
    /// <exception cref="PosixException">The journal cannot be written (a full disk).</exception>
    public void Begin(string file)
    {
        if (_path.Length > 0) throw new InvalidOperationException($"The rollback journal of {_file} was begun already");
        _file = System.IO.Path.GetFullPath(file);
        _path = PathOf(_file);
        if (File.Exists(_path))
            throw new InvalidOperationException($"{_path} exists: it must be applied (RollbackJournal.Apply) before {_file} is written again");
        _journal = File.OpenHandle(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            StartCheckpoint();
            Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(_path)!);
        }
        catch
        {
            Close();
            File.Delete(_path);
            _path = "";
            throw;
        }
    }

    /// <summary>
    /// Called when the file was made durable at a new checkpoint (flushed and fsynced): what was saved is no longer
    /// needed, and from now on the file is protected at its new size. A crash in the middle leaves an empty or
    /// header-only journal, which restores nothing: the file is at the new checkpoint.
    /// </summary>
    /// <exception cref="PosixException">The journal cannot be cut or written.</exception>
    public void Commit()
    {
        if (_journal is null) return;
        Posix.SetLength(Descriptor, 0, _path);
        Posix.SyncData(Descriptor, _path);
        StartCheckpoint();
    }

    /// <summary>
    /// Called when the file is complete and durable: the journal is removed (the directory fsynced, so that it stays
    /// removed), and nothing more is saved.
    /// </summary>
    /// <exception cref="IOException">The journal cannot be removed.</exception>
    public void Delete()
    {
        Close();
        if (_path.Length == 0) return;
        File.Delete(_path);
        Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(_path)!);
    }

    /// <summary>
    /// Removes a journal left beside <paramref name="file"/> by a writer killed before it was applied, when the file
    /// itself is being replaced (renamed over): the journal belongs to the old file and must not be applied to the new.
    /// </summary>
    public static void Discard(string file) => File.Delete(PathOf(file));

    /// <summary>Stops saving without removing the journal: a writer that failed leaves it for <see cref="Apply"/>.</summary>
    public void Dispose() => Close();

    /// <summary>
    /// Saves what the file holds in [offset, offset + length) below its checkpointed size and not saved yet, durably,
    /// before libhdf5 overwrites it (or cuts it off) through <paramref name="fd"/>, the descriptor it writes with.
    /// </summary>
    /// <exception cref="PosixException">The old bytes cannot be read, or the journal cannot be written or synced.</exception>
    internal void Protect(int fd, long offset, long length)
    {
        if (_journal is null) return;
        long end = length >= _checkpointSize - offset ? _checkpointSize : offset + length;
        if (offset >= end) return;
        bool wrote = false;
        long at = offset;
        int index = FirstEndingAfter(at);
        while (at < end)
        {
            // The next saved range at or after `at` bounds the gap to save.
            long gapEnd = end;
            if (index < _saved.Count)
            {
                var (start, stop) = _saved[index];
                if (start <= at)
                {
                    at = stop;
                    index++;
                    continue;
                }
                gapEnd = Math.Min(end, start);
            }
            SaveRange(fd, at, gapEnd);
            wrote = true;
            at = gapEnd;
        }
        if (!wrote) return;
        Posix.SyncData(Descriptor, _path);
        AddSaved(offset, end);
    }

    /// <summary>
    /// Puts back what a file's journal saved and cuts the file to its checkpointed size, fsyncs it, and removes the
    /// journal: the file is then the one of its last checkpoint. Call with nothing else writing the file (under its
    /// <see cref="Format.OutputLock"/>).
    /// </summary>
    /// <returns>Bytes put back, or null when the file has no journal.</returns>
    /// <exception cref="IOException">The journal or the file cannot be read or written; the journal stays.</exception>
    public static long? Apply(string file)
    {
        string path = PathOf(file);
        if (!File.Exists(path)) return null;
        long restored = 0;
        using (var journal = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            // Shorter than a header, or a header that does not check: torn while Begin or Commit wrote it, before
            // anything it would protect was written.
            if (journal.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) == HeaderSize
                && header[..8].SequenceEqual(Magic)
                && BinaryPrimitives.ReadUInt32LittleEndian(header[16..]) == Fletcher32.Compute(header[..16]))
            {
                long size = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
                using var data = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                var buffer = ArrayPool<byte>.Shared.Rent(RecordHead + MaxRecord + 4);
                try
                {
                    while (true)
                    {
                        if (journal.ReadAtLeast(buffer.AsSpan(0, RecordHead), RecordHead, throwOnEndOfStream: false) < RecordHead) break;
                        long offset = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                        int length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(8));
                        if (length <= 0 || length > MaxRecord || offset < 0 || offset + length > size) break;
                        if (journal.ReadAtLeast(buffer.AsSpan(RecordHead, length + 4), length + 4, throwOnEndOfStream: false) < length + 4) break;
                        if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(RecordHead + length)) != Fletcher32.Compute(buffer.AsSpan(0, RecordHead + length))) break;
                        data.Position = offset;
                        data.Write(buffer, RecordHead, length);
                        restored += length;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                data.SetLength(size);
                data.Flush(flushToDisk: true);
            }
        }
        File.Delete(path);
        Posix.FsyncDirectory(System.IO.Path.GetDirectoryName(path)!);
        return restored;
    }

    private void StartCheckpoint()
    {
        _checkpointSize = new FileInfo(_file).Length;
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], _checkpointSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], Fletcher32.Compute(header[..16]));
        Posix.WriteAt(Descriptor, header, 0, _path);
        Posix.SyncData(Descriptor, _path);
        _end = HeaderSize;
        _saved.Clear();
    }

    private void SaveRange(int fd, long start, long end)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(RecordHead + (int)Math.Min(end - start, MaxRecord) + 4);
        try
        {
            for (long at = start; at < end;)
            {
                int length = (int)Math.Min(end - at, MaxRecord);
                int read = Posix.ReadAt(fd, buffer.AsSpan(RecordHead, length), at, _file);
                // Past the file's end (it was cut shorter than its checkpoint) there is nothing to save: the size is.
                if (read == 0) return;
                BinaryPrimitives.WriteInt64LittleEndian(buffer, at);
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(8), read);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(RecordHead + read), Fletcher32.Compute(buffer.AsSpan(0, RecordHead + read)));
                Posix.WriteAt(Descriptor, buffer.AsSpan(0, RecordHead + read + 4), _end, _path);
                _end += RecordHead + read + 4;
                at += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Index of the first saved range that ends after <paramref name="at"/>.</summary>
    private int FirstEndingAfter(long at)
    {
        int low = 0, high = _saved.Count;
        while (low < high)
        {
            int middle = (low + high) / 2;
            if (_saved[middle].End <= at) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    /// <summary>Adds [start, end) to the saved ranges, merging it with those it touches.</summary>
    private void AddSaved(long start, long end)
    {
        int first = FirstEndingAfter(start - 1);
        int last = first;
        while (last < _saved.Count && _saved[last].Start <= end)
        {
            start = Math.Min(start, _saved[last].Start);
            end = Math.Max(end, _saved[last].End);
            last++;
        }
        _saved.RemoveRange(first, last - first);
        _saved.Insert(first, (start, end));
    }

    private int Descriptor => (int)_journal!.DangerousGetHandle();

    private void Close()
    {
        _journal?.Dispose();
        _journal = null;
    }
}
