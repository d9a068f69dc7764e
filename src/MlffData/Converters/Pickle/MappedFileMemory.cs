using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace MlffData.Converters.Pickle;

/// <summary>
/// A whole file mapped read-only into memory (mmap) as <see cref="ReadOnlyMemory{T}"/>, so that a pickle is decoded
/// straight from the page cache. Reading it into an array instead costs a page fault per fresh 4 KiB of memory, which
/// was a fifth of a conversion's time here (about 0.4 s for a 100 MB pickle, against 0.06 s to touch the mapping).
/// </summary>
/// <remarks>
/// Unmapped on <see cref="IDisposable.Dispose"/>: no slice of <see cref="MemoryManager{T}.Memory"/> may be used
/// after that. The file is opened read-only and shared, so another process may still write to it: a pickle is not
/// expected to change while it is read, and a change shows as changed bytes, never as a fault, unless the file is
/// truncated under the mapping (SIGBUS), which the same change would make the Python path fail on as well.
/// </remarks>
internal sealed unsafe class MappedFileMemory : MemoryManager<byte>
{
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private readonly int _length;
    private bool _released;

    private MappedFileMemory(MemoryMappedViewAccessor? view, byte* pointer, int length)
    {
        _view = view;
        _pointer = pointer;
        _length = length;
    }

    /// <summary>Maps the file at <paramref name="path"/>; an empty file gives empty memory (mmap refuses length 0).</summary>
    /// <exception cref="IOException">The file cannot be opened or mapped, or is 2 GiB or more.</exception>
    public static MappedFileMemory Map(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1);
        long length = stream.Length;
        if (length > Array.MaxLength) throw new IOException($"{path}: a pickle of {length} bytes is more than this reader maps");
        if (length == 0) return new MappedFileMemory(null, null, 0);
        // The mapping keeps its own reference to the file; the descriptor is closed when this returns.
        using var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        return new MappedFileMemory(view, pointer + view.PointerOffset, (int)length);
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    // Mapped memory does not move: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || _released || _view is null) return;
        _released = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }
}
