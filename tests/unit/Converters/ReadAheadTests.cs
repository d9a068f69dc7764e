using FluentAssertions;
using MlffData.Converters;
using Xunit;

namespace MlffData.UnitTests.Converters;

/// <summary>ReadAhead: the reader on its own thread gives the same items, the same error at the same place, a bounded distance ahead.</summary>
public class ReadAheadTests
{
    // A reader that records how far it got and whether it was disposed, and fails at failAt when given.
    private sealed class Source(int count, int? failAt = null)
    {
        public volatile int Produced;
        public volatile bool Disposed;
        public int ThreadId;

        public IEnumerable<int> Items()
        {
            ThreadId = Environment.CurrentManagedThreadId;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    if (i == failAt) throw new InvalidDataException($"bad item {i}");
                    Produced = i + 1;
                    yield return i;
                }
            }
            finally
            {
                Disposed = true;
            }
        }
    }

    [Fact]
    public void Of_WholeSource_SameItemsInOrderFromAnotherThread()
    {
        // Arrange
        var source = new Source(10_000);

        // Act
        var items = ReadAhead<int>.Of(source.Items(), 16, 1000, _ => 1).ToList();

        // Assert
        items.Should().Equal(Enumerable.Range(0, 10_000));
        source.Disposed.Should().BeTrue();
        source.ThreadId.Should().NotBe(Environment.CurrentManagedThreadId);
    }

    [Fact]
    public void Of_SourceThrows_ItemsBeforeThenTheSameException()
    {
        // Arrange
        var source = new Source(100, failAt: 37);
        var seen = new List<int>();

        // Act
        var act = () =>
        {
            foreach (int i in ReadAhead<int>.Of(source.Items(), 8, 1000, _ => 1))
                seen.Add(i);
        };

        // Assert
        act.Should().Throw<InvalidDataException>().WithMessage("bad item 37");
        seen.Should().Equal(Enumerable.Range(0, 37));
        source.Disposed.Should().BeTrue();
    }

    [Fact]
    public void Of_ConsumerStopsEarly_ReaderStoppedAndDisposedBeforeReturning()
    {
        // Arrange
        var source = new Source(1_000_000);

        // Act: the consumer fails at item 5, as the writer does on a bad structure.
        var act = () =>
        {
            foreach (int i in ReadAhead<int>.Of(source.Items(), 8, 1000, _ => 1))
                if (i == 5) throw new InvalidOperationException("writer failed");
        };

        // Assert: by the time the exception reaches the caller, the reader is done with its file.
        act.Should().Throw<InvalidOperationException>();
        source.Disposed.Should().BeTrue();
        source.Produced.Should().BeLessThan(100);
    }

    [Theory]
    [InlineData(4, 1000, 1, 4)]
    [InlineData(100, 10, 3, 3)]
    [InlineData(100, 10, 50, 1)]
    public void Of_SlowConsumer_ReaderNeverFurtherAheadThanTheBounds(int maxItems, long maxWeight, long weight, int expectedAhead)
    {
        // Arrange
        var source = new Source(200);
        int maxAhead = 0;

        // Act: each item is taken once the reader has had time to fill the queue.
        foreach (int i in ReadAhead<int>.Of(source.Items(), maxItems, maxWeight, _ => weight))
        {
            Thread.Sleep(2);
            maxAhead = Math.Max(maxAhead, source.Produced - (i + 1));
        }

        // Assert: the queue holds at most expectedAhead items (one item however heavy), the one being made aside.
        maxAhead.Should().BeInRange(1, expectedAhead + 1);
    }
}
