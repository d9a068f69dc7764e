using System.Collections.Concurrent;
using MlffData.Python;

namespace MlffData.UnitTests.Python;

/// <summary>The GIL as a scope: any .NET thread may call into Python inside one, nested scopes are fine.</summary>
[Collection(PythonCollection.Name)]
public sealed class GilScopeTests
{
    private readonly PythonFixture _python;

    public GilScopeTests(PythonFixture python) => _python = python;

    [Fact]
    public void Enter_ManyThreadsAtOnce_EachCallIsCorrect()
    {
        var results = new double[400];
        var threads = new ConcurrentDictionary<int, bool>();

        // Dedicated threads, not Parallel.For: with work this short the pool may run every call on one thread.
        var workers = Enumerable.Range(0, 8).Select(w => new Thread(() =>
        {
            threads[Environment.CurrentManagedThreadId] = true;
            for (int i = w; i < results.Length; i += 8)
            {
                using var gil = GilScope.Enter();
                using var sum = _python.Cases.Call("thread_work", i);
                results[i] = sum.AsDouble();
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        results.Select((r, i) => r == i * (i + 1) / 2.0).Should().AllBeEquivalentTo(true);
        threads.Count.Should().Be(8);
    }

    [Fact]
    public void Enter_DedicatedThreads_ReadStructuresInParallel()
    {
        var volumes = new double[8];
        var threads = Enumerable.Range(0, volumes.Length).Select(i => new Thread(() =>
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                using var gil = GilScope.Enter();
                using var result = _python.Cases.Call("bulk_arrays", i % 2 == 0 ? "Cu" : "Al", true);
                using var volume = result.GetItem(4);
                volumes[i] = volume.AsDouble();
            }
        })).ToList();

        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        volumes.Where((_, i) => i % 2 == 0).Distinct().Should().ContainSingle().Which.Should().BeApproximately(3.61 * 3.61 * 3.61, 1e-9);
        volumes.Where((_, i) => i % 2 == 1).Distinct().Should().ContainSingle().Which.Should().BeApproximately(4.05 * 4.05 * 4.05, 1e-9);
    }

    [Fact]
    public void Enter_Nested_HeldUntilTheOuterScopeEnds()
    {
        GilScope.IsHeld.Should().BeFalse();
        using (GilScope.Enter())
        {
            using (GilScope.Enter())
                GilScope.IsHeld.Should().BeTrue();
            GilScope.IsHeld.Should().BeTrue();
        }
        GilScope.IsHeld.Should().BeFalse();
    }
}
