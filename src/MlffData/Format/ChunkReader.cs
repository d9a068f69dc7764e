using System.Buffers;
using System.Runtime.InteropServices;
using MlffData.Hdf5;
using MlffData.Hdf5.Filters;
using MlffData.Native;

namespace MlffData.Format;

/// <summary>
/// Reads one dataset's chunks front to back as they are stored (<see cref="H5Dataset{T}.ReadChunk"/>) and decodes
/// them on worker threads (<see cref="ChunkDecoder"/>), a few chunks ahead of the caller: the read side of a merge,
/// which with libhdf5's own reads spent its time in one thread's inflate and checksum. Each chunk keeps its stored
/// bytes, so a writer with the same chunks and filters can store it again as it is.
/// </summary>
/// <remarks>Not thread-safe: one thread asks for chunks, and only it calls libhdf5. A chunk given out stays valid until
/// a later row is asked for or the reader is disposed, which return its buffers to the pool.</remarks>
internal sealed class ChunkReader<T> : IDisposable where T : unmanaged
{
    private const int MaxDepth = 8;

    private readonly Queue<Task<Chunk>> _ahead = new();
    private readonly int _depth;
    private readonly long _chunks;
    private long _next;
    private Chunk? _current;

    /// <summary>A reader of dataset's chunks from the one holding startRow on.</summary>
    /// <exception cref="NotSupportedException">The dataset's chunks cannot be read here (see <see cref="Supports"/>).</exception>
    internal ChunkReader(H5Dataset<T> dataset, long startRow = 0)
    {
        if (!Supports(dataset)) throw new NotSupportedException($"{dataset.Path}: chunks with filters {dataset.Filters} are read through libhdf5 only");
        Dataset = dataset;
        _chunks = (dataset.Rows + dataset.ChunkRows - 1) / dataset.ChunkRows;
        _next = Math.Min(startRow / dataset.ChunkRows, _chunks);
        // Enough decoded ahead to keep the cores busy while the caller copies the current chunk, but bounded: each
        // chunk ahead holds up to two chunks' worth of memory, and a merge runs three readers.
        _depth = Math.Min(Environment.ProcessorCount + 1, MaxDepth);
    }

    /// <summary>The dataset read.</summary>
    internal H5Dataset<T> Dataset { get; }

    /// <summary>Whether a dataset's chunks can be read here: chunks of whole rows of T's bytes (<see cref="H5Dataset{T}.RawChunks"/>)
    /// with filters <see cref="ChunkDecoder"/> undoes.</summary>
    internal static bool Supports(H5Dataset<T> dataset) => dataset.RawChunks && dataset.ChunkRows > 0 && ChunkDecoder.Supports(dataset.Filters);

    /// <summary>
    /// The decoded chunk that holds row; rows are asked for front to back, and a row before the previous chunk's is refused.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">row lies outside the dataset or before the current chunk.</exception>
    /// <exception cref="InvalidDataException">The chunk is corrupt: its checksum does not match, or it does not decode
    /// to a chunk's bytes; the message names the dataset and the chunk.</exception>
    /// <exception cref="H5Exception">libhdf5 could not read the chunk.</exception>
    internal Chunk At(long row)
    {
        if (row < 0 || row >= Dataset.Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"row {row} lies outside {Dataset.Path} with {Dataset.Rows} rows");
        long index = row / Dataset.ChunkRows;
        if (_current is { } current)
        {
            if (current.Index == index) return current;
            if (index < current.Index) throw new ArgumentOutOfRangeException(nameof(row), row, $"row {row} lies before chunk {current.Index} of {Dataset.Path}, already read");
            current.Release();
            _current = null;
        }
        if (index >= _next)
        {
            // Past everything read ahead: start again at the chunk asked for.
            DropAhead();
            _next = index;
        }
        while (true)
        {
            while (_ahead.Count < _depth && _next < _chunks) _ahead.Enqueue(Start(_next++));
            // Chunks read ahead and skipped over are dropped.
            var chunk = Take(_ahead.Dequeue());
            if (chunk.Index == index) return _current = chunk;
            chunk.Release();
        }
    }

    /// <summary>Reads chunk index as stored on this thread and starts its decoding on a worker. Never throws: a chunk that
    /// cannot be read is a failed task, so the failure surfaces when that chunk is asked for, not while reading ahead.</summary>
    private Task<Chunk> Start(long index)
    {
        long first = index * Dataset.ChunkRows;
        int rows = (int)Math.Min(Dataset.ChunkRows, Dataset.Rows - first);
        int length = checked((int)(Dataset.ChunkRows * Dataset.RowLength));
        var values = ArrayPool<T>.Shared.Rent(length);
        byte[]? stored = null;
        try
        {
            int size = Dataset.StoredChunkSize(index);
            if (size == 0)
            {
                // Never written (another writer left a gap): libhdf5 reads it as the fill value.
                Dataset.Read(first, values.AsSpan(0, rows * Dataset.RowLength));
                return Task.FromResult(new Chunk(index, first, rows, values, length, null, 0, uint.MaxValue));
            }
            // Deflate and lzf grow incompressible data by well under 1%; a stored size far beyond the chunk's own is a
            // corrupt chunk index, not a chunk to allocate for.
            long raw = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            if (size > raw + raw / 8 + 4096)
                throw new InvalidDataException($"{Dataset.Path}: chunk {index}: stored in {size} bytes, more than a chunk of {raw} bytes can take");
            stored = ArrayPool<byte>.Shared.Rent(size);
            uint mask = Dataset.ReadChunk(index, stored);
            var chunk = new Chunk(index, first, rows, values, length, stored, size, mask);
            var filters = Dataset.Filters;
            string path = Dataset.Path;
            return Task.Run(() =>
            {
                try
                {
                    ChunkDecoder.Decode(chunk.Stored, mask, filters, System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), MemoryMarshal.AsBytes(values.AsSpan(0, length)));
                    return chunk;
                }
                catch (InvalidDataException e)
                {
                    chunk.Release();
                    throw new InvalidDataException($"{path}: chunk {index}: {e.Message}", e);
                }
            });
        }
        catch (Exception e)
        {
            ArrayPool<T>.Shared.Return(values);
            if (stored is not null) ArrayPool<byte>.Shared.Return(stored);
            return Task.FromException<Chunk>(e);
        }
    }

    private static Chunk Take(Task<Chunk> task) => task.GetAwaiter().GetResult();

    /// <summary>Waits for the chunks still being decoded and returns every buffer; never throws.</summary>
    public void Dispose()
    {
        _current?.Release();
        _current = null;
        DropAhead();
    }

    private void DropAhead()
    {
        while (_ahead.Count > 0)
        {
            var task = _ahead.Dequeue();
            // A worker may still be writing into the chunk's buffer: wait, so none is returned while in use. A failed
            // one returned its own.
            try
            {
                task.Wait();
            }
            catch (AggregateException)
            {
                continue;
            }
            task.Result.Release();
        }
    }

    /// <summary>One chunk, decoded, with its stored bytes; its buffers are rented from the pools.</summary>
    /// <param name="index">Its index along the first axis.</param>
    /// <param name="firstRow">Its first row.</param>
    /// <param name="rows">Its rows within the dataset (fewer than ChunkRows only for the last chunk).</param>
    /// <param name="values">The decoded elements, length of them used.</param>
    /// <param name="length">Elements in a whole chunk.</param>
    /// <param name="stored">The stored bytes, storedLength of them used; null when the chunk was never stored.</param>
    /// <param name="storedLength">Bytes stored.</param>
    /// <param name="filterMask">The filters skipped when it was stored.</param>
    internal sealed class Chunk(long index, long firstRow, int rows, T[] values, int length, byte[]? stored, int storedLength, uint filterMask)
    {
        private T[]? _values = values;
        private byte[]? _stored = stored;

        internal long Index { get; } = index;
        internal long FirstRow { get; } = firstRow;
        internal int Rows { get; } = rows;

        /// <summary>The whole chunk's elements: ChunkRows rows, of which only the first <see cref="Rows"/> are the
        /// dataset's (past them, the padding stored, or nothing in particular for a chunk never written).</summary>
        internal ReadOnlySpan<T> Values => _values.AsSpan(0, length);

        /// <summary>The chunk as stored; empty when it was never stored (read as the fill value).</summary>
        internal ReadOnlySpan<byte> Stored => _stored.AsSpan(0, _stored is null ? 0 : storedLength);

        /// <summary>Whether the chunk was stored through every filter of its dataset, so its stored bytes are what the
        /// same pipeline makes of its rows.</summary>
        internal bool FullyFiltered => _stored is not null && filterMask == 0;

        internal void Release()
        {
            if (_values is not null) ArrayPool<T>.Shared.Return(_values);
            if (_stored is not null) ArrayPool<byte>.Shared.Return(_stored);
            _values = null;
            _stored = null;
        }
    }
}
