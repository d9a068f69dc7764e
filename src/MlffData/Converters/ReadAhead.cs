using System.Runtime.ExceptionServices;

namespace MlffData.Converters;

/// <summary>
/// Runs a reader on a thread of its own, a bounded distance ahead of its consumer, so that parsing the input and
/// writing the output use two cores instead of taking turns on one. Items, and the reader's exception if it throws,
/// arrive in the reader's order, exactly as plain enumeration would give them.
/// </summary>
/// <remarks>
/// The queue is bounded by items and by weight (atoms), so a file of huge structures stays in bounded memory too.
/// When the consumer stops early (an error, Ctrl-C), the reader is stopped at its next item and waited for, so its
/// file is closed before the consumer's cleanup runs. Only for readers whose items share nothing with the next ones.
/// </remarks>
internal sealed class ReadAhead<T>
{
    // Each item with its weight, worked out once when it is queued.
    private readonly Queue<(T Item, long Weight)> _queue = new();
    private readonly int _maxItems;
    private readonly long _maxWeight;
    private readonly Func<T, long> _weight;
    private long _queuedWeight;
    private bool _done, _stopped;

    // Items a waiting consumer is woken for (or fewer, when the reader ends or must wait for room).
    private const int WakeBatch = 16;

    // Who is waiting on the lock's monitor: a pulse is sent only then, since waking a thread costs more than an item.
    private bool _producerWaiting, _consumerWaiting;
    private ExceptionDispatchInfo? _error;

    private ReadAhead(int maxItems, long maxWeight, Func<T, long> weight)
    {
        _maxItems = maxItems;
        _maxWeight = maxWeight;
        _weight = weight;
    }

    /// <summary>The items of <paramref name="source"/>, read on another thread at most this far ahead.</summary>
    /// <param name="source">The reader; enumerated (and disposed) on the read-ahead thread.</param>
    /// <param name="maxItems">At most this many items are waiting.</param>
    /// <param name="maxWeight">At most this much weight is waiting, apart from one item however heavy.</param>
    /// <param name="weight">An item's weight (its atoms, for structures).</param>
    public static IEnumerable<T> Of(IEnumerable<T> source, int maxItems, long maxWeight, Func<T, long> weight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        return new ReadAhead<T>(maxItems, maxWeight, weight).Run(source);
    }

    private IEnumerable<T> Run(IEnumerable<T> source)
    {
        var thread = new Thread(() => Produce(source)) { IsBackground = true, Name = "mlff-data read-ahead" };
        thread.Start();
        try
        {
            while (Take(out T item))
                yield return item;
            _error?.Throw();
        }
        finally
        {
            lock (_queue)
            {
                _stopped = true;
                Monitor.PulseAll(_queue);
            }
            thread.Join();
        }
    }

    private void Produce(IEnumerable<T> source)
    {
        try
        {
            foreach (var item in source)
                if (!Put(item))
                    break;
        }
        catch (Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            lock (_queue)
            {
                _done = true;
                Monitor.PulseAll(_queue);
            }
        }
    }

    // Waits for room; false when the consumer has stopped.
    private bool Put(T item)
    {
        long weight = _weight(item);
        lock (_queue)
        {
            while (!_stopped && _queue.Count > 0 && (_queue.Count >= _maxItems || _queuedWeight + weight > _maxWeight))
            {
                // Never both asleep: the consumer may be waiting for a batch this queue will not reach.
                if (_consumerWaiting) Monitor.Pulse(_queue);
                _producerWaiting = true;
                Monitor.Wait(_queue);
                _producerWaiting = false;
            }
            if (_stopped) return false;
            _queue.Enqueue((item, weight));
            _queuedWeight += weight;
            // A waiting consumer is woken for a batch, not for every item: a wake-up costs more than a small item.
            if (_consumerWaiting && _queue.Count >= Math.Min(WakeBatch, _maxItems)) Monitor.Pulse(_queue);
            return true;
        }
    }

    // Waits for an item; false when the reader has finished (or failed) and everything before has been taken.
    private bool Take(out T item)
    {
        lock (_queue)
        {
            while (_queue.Count == 0 && !_done)
            {
                _consumerWaiting = true;
                Monitor.Wait(_queue);
                _consumerWaiting = false;
            }
            if (_queue.Count == 0)
            {
                item = default!;
                return false;
            }
            (item, long weight) = _queue.Dequeue();
            _queuedWeight -= weight;
            // Likewise the producer, once half the room is free (or all of it, for an item heavier than half).
            if (_producerWaiting && (_queue.Count == 0 || (_queue.Count <= _maxItems / 2 && _queuedWeight <= _maxWeight / 2)))
                Monitor.Pulse(_queue);
            return true;
        }
    }
}
