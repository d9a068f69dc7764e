using System.Buffers;
using MlffData.Hdf5;
using MlffData.Hdf5.Filters;

namespace MlffData.Format;

/// <summary>
/// One writer's pipeline of whole chunks compressed on worker threads (shuffle then deflate, see
/// <see cref="DeflateCodec"/>) and stored, in the order they were submitted, by the writer thread: libhdf5 is not
/// thread-safe, so only the thread that submits ever calls it. At most <see cref="MaxInFlight"/> chunks are in flight;
/// a submit beyond that waits for the oldest one and stores it first, which bounds the memory.
/// </summary>
/// <remarks>Not thread-safe: one thread submits, drains and discards. A chunk whose compression failed makes
/// <see cref="Submit"/> or <see cref="Drain"/> throw that exception as it was thrown on the worker.</remarks>
internal sealed class ChunkCompressor
{
    private readonly Queue<Job> _inFlight = new();

    /// <summary>Chunks that may be in flight at once: two per processor, so every core has the next one queued.</summary>
    internal int MaxInFlight { get; } = 2 * Environment.ProcessorCount;

    /// <summary>Chunks submitted and not yet stored or discarded.</summary>
    internal int InFlight => _inFlight.Count;

    /// <summary>Chunks stored so far.</summary>
    internal long Stored { get; private set; }

    /// <summary>Called on the worker before each chunk is compressed; for tests (a delay or an injected failure).</summary>
    internal Action? BeforeCompress { get; set; }

    /// <summary>Whether chunks of a dataset with these filters can be compressed here: deflate, with or without the
    /// shuffle before it and the fletcher32 checksum after it, and nothing else.</summary>
    internal static bool Supports(H5FilterPipeline filters) =>
        filters is { DeflateLevel: > 0, Lzf: false } && filters.OtherFilters is not { Count: > 0 };

    /// <summary>
    /// Queues one whole chunk for compression; store is called later on this thread with the compressed bytes. The
    /// raw bytes are copied, so the caller may reuse its buffer at once. With <see cref="MaxInFlight"/> in flight, waits
    /// for the oldest and stores it first.
    /// </summary>
    /// <param name="raw">The chunk's elements as bytes, row-major.</param>
    /// <param name="chunkBytes">The full chunk's size: a shorter raw (the last rows of a dataset) is padded with
    /// zeros to it.</param>
    /// <param name="elementSize">Bytes per element (the shuffle's plane count).</param>
    /// <param name="filters">The dataset's filters (see <see cref="Supports"/>).</param>
    /// <param name="store">Stores the compressed chunk (e.g. <see cref="H5Dataset{T}.WriteChunk"/>).</param>
    internal void Submit(ReadOnlySpan<byte> raw, int chunkBytes, int elementSize, H5FilterPipeline filters, ChunkStore store)
    {
        if (raw.Length > chunkBytes) throw new ArgumentException($"{raw.Length} bytes do not fit a chunk of {chunkBytes}", nameof(raw));
        while (_inFlight.Count >= MaxInFlight) StoreOldest();
        var copy = ArrayPool<byte>.Shared.Rent(chunkBytes);
        raw.CopyTo(copy);
        copy.AsSpan(raw.Length, chunkBytes - raw.Length).Clear();
        int length = chunkBytes;
        bool shuffle = filters.Shuffle;
        int level = filters.DeflateLevel;
        bool checksum = filters.Fletcher32;
        var hook = BeforeCompress;
        var task = Task.Run(() =>
        {
            try
            {
                hook?.Invoke();
                var compressed = DeflateCodec.Compress(copy.AsSpan(0, length), elementSize, shuffle, level);
                return checksum ? WithChecksum(compressed) : compressed;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        });
        // Chunks are stored only when the queue is full or drained, never as soon as one happens to be ready: the order
        // of libhdf5's calls, so the file's layout, then depends on the data alone and not on the threads' timing.
        _inFlight.Enqueue(new Job(task, store));
    }

    /// <summary>
    /// Queues a chunk that is already compressed (copied as it was stored in another file with the same filters), to
    /// be stored in order after the chunks submitted before it. The bytes are copied, so the caller may reuse its buffer.
    /// </summary>
    internal void SubmitStored(ReadOnlySpan<byte> stored, ChunkStore store)
    {
        while (_inFlight.Count >= MaxInFlight) StoreOldest();
        var copy = ArrayPool<byte>.Shared.Rent(stored.Length);
        stored.CopyTo(copy);
        _inFlight.Enqueue(new Job(Task.FromResult((copy, stored.Length)), store));
    }

    /// <summary>Waits for every chunk in flight and stores them in order.</summary>
    internal void Drain()
    {
        while (_inFlight.Count > 0) StoreOldest();
    }

    /// <summary>
    /// Waits for the workers to finish with every chunk in flight and drops them unstored (their buffers go back to
    /// the pool); their failures are dropped too. Never throws.
    /// </summary>
    internal void Discard()
    {
        while (_inFlight.Count > 0)
        {
            var job = _inFlight.Dequeue();
            // A worker may still be reading its copy of the rows: wait, so no buffer is returned while in use.
            try
            {
                job.Task.Wait();
            }
            catch (AggregateException)
            {
                // The writer is already failing or aborting: the caller has the exception that matters.
                continue;
            }
            ArrayPool<byte>.Shared.Return(job.Task.Result.Buffer);
        }
    }

    /// <summary>The compressed bytes with their fletcher32 checksum after them (the last filter of the pipeline).</summary>
    private static (byte[] Buffer, int Length) WithChecksum((byte[] Buffer, int Length) compressed)
    {
        var (buffer, length) = compressed;
        if (buffer.Length >= length + Fletcher32.Length)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(length), Fletcher32.Compute(buffer.AsSpan(0, length)));
            return (buffer, length + Fletcher32.Length);
        }
        var larger = ArrayPool<byte>.Shared.Rent(length + Fletcher32.Length);
        int total = Fletcher32.CopyWithChecksum(buffer.AsSpan(0, length), larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return (larger, total);
    }

    private void StoreOldest()
    {
        var job = _inFlight.Dequeue();
        // GetResult rethrows a worker's exception as it was thrown, not wrapped in an AggregateException.
        var (buffer, length) = job.Task.GetAwaiter().GetResult();
        try
        {
            job.Store(buffer.AsSpan(0, length));
            Stored++;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Stores one compressed chunk; runs on the thread that submitted it.</summary>
    internal delegate void ChunkStore(ReadOnlySpan<byte> compressed);

    private sealed record Job(Task<(byte[] Buffer, int Length)> Task, ChunkStore Store);
}
