using MlffData.Hdf5;
using MlffData.Native;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5;

/// <summary>
/// The rollback journal with the real libhdf5 writing through <see cref="RollbackFileDriver"/>: whatever libhdf5
/// overwrites after <see cref="RollbackJournal.Begin"/> (or the last <see cref="RollbackJournal.Commit"/>) comes back
/// byte for byte, and a torn journal restores only what it holds whole.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class RollbackJournalTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _path;

    public RollbackJournalTests() => _path = _dir.File("data.h5");

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0);
        _dir.Dispose();
    }

    /// <summary>A small file with one chunked dataset of 1000 rows and an attribute.</summary>
    private void CreateFile()
    {
        using var file = H5File.Create(_path);
        using var data = file.CreateDataset<double>("values", [], chunkRows: 256);
        data.Append(Enumerable.Range(0, 1000).Select(i => (double)i).ToArray());
        file.Attributes.Set("count", 1000L);
    }

    /// <summary>Opens the file for writing through the driver, bound to the journal.</summary>
    private H5File OpenBound(RollbackJournal journal)
    {
        // libhdf5's flock off: a test reads the bytes of the file while it is open.
        using var access = H5File.FileAccess(useFileLocking: false, ignoreWhenDisabled: false, rollback: true);
        using (RollbackFileDriver.Bind(_path, journal))
            return H5File.Open(_path, readOnly: false, access);
    }

    /// <summary>Overwrites rows in place, grows the dataset and rewrites the attribute: metadata and raw data both change.</summary>
    private static void Change(H5File file, double value)
    {
        using var data = file.OpenDataset<double>("values");
        data.Write(10, Enumerable.Repeat(value, 300).ToArray());
        data.Append(Enumerable.Repeat(value, 700).ToArray());
        file.Attributes.Set("count", 1700L);
    }

    [Fact]
    public void Apply_AfterInPlaceChanges_FileBackByteForByte()
    {
        // Arrange
        CreateFile();
        var before = File.ReadAllBytes(_path);
        using (var journal = new RollbackJournal())
        {
            journal.Begin(_path);
            using var file = OpenBound(journal);
            Change(file, -1);
        }
        File.ReadAllBytes(_path).Should().NotEqual(before, "the changes reached the file");

        // Act
        long? restored = RollbackJournal.Apply(_path);

        // Assert
        restored.Should().BeGreaterThan(0);
        File.ReadAllBytes(_path).Should().Equal(before);
        RollbackJournal.Exists(_path).Should().BeFalse();
        using var reopened = H5File.Open(_path);
        using var values = reopened.OpenDataset<double>("values");
        values.Read(0, 1000)[10].Should().Be(10);
    }

    [Fact]
    public void Apply_AfterCommit_GivesBackTheCommittedState()
    {
        CreateFile();
        byte[] committed;
        using (var journal = new RollbackJournal())
        {
            journal.Begin(_path);
            using (var file = OpenBound(journal))
            {
                Change(file, -1);
                file.FlushToDisk();
                journal.Commit();
                committed = File.ReadAllBytes(_path);
                Change(file, -2);
            }
        }

        RollbackJournal.Apply(_path);

        File.ReadAllBytes(_path).Should().Equal(committed);
    }

    [Fact]
    public void Delete_CompletedFile_KeepsChangesAndRemovesJournal()
    {
        CreateFile();
        var journal = new RollbackJournal();
        journal.Begin(_path);
        using (var file = OpenBound(journal)) Change(file, -1);
        var changed = File.ReadAllBytes(_path);

        journal.Delete();

        RollbackJournal.Exists(_path).Should().BeFalse();
        RollbackJournal.Apply(_path).Should().BeNull();
        File.ReadAllBytes(_path).Should().Equal(changed);
    }

    [Fact]
    public void Protect_SameRangeTwice_SavedOnce()
    {
        File.WriteAllBytes(_path, Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray());
        using var journal = new RollbackJournal();
        journal.Begin(_path);
        using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite);
        int fd = (int)handle.DangerousGetHandle();

        journal.Protect(fd, 100, 200);
        long once = new FileInfo(RollbackJournal.PathOf(_path)).Length;
        journal.Protect(fd, 150, 100);
        journal.Protect(fd, 100, 200);
        long twice = new FileInfo(RollbackJournal.PathOf(_path)).Length;
        journal.Protect(fd, 50, 300);

        twice.Should().Be(once);
        // Only the two new ends, [50, 100) and [300, 350), were added: 100 bytes and two record heads and checksums.
        new FileInfo(RollbackJournal.PathOf(_path)).Length.Should().Be(once + 100 + 2 * 16);
    }

    [Fact]
    public void Apply_TornLastRecord_RestoresTheWholeOnesOnly()
    {
        // Arrange: two saved ranges, both then overwritten; the second record is cut short, as a crash while writing
        // it would leave it (its overwrite then never happened, but here it did, which shows what is restored).
        var original = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(_path, original);
        using (var journal = new RollbackJournal())
        {
            journal.Begin(_path);
            using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite);
            journal.Protect((int)handle.DangerousGetHandle(), 0, 100);
            journal.Protect((int)handle.DangerousGetHandle(), 1000, 100);
            RandomAccess.Write(handle, new byte[100], 0);
            RandomAccess.Write(handle, new byte[100], 1000);
        }
        string journalPath = RollbackJournal.PathOf(_path);
        using (var stream = new FileStream(journalPath, FileMode.Open)) stream.SetLength(stream.Length - 3);

        // Act
        RollbackJournal.Apply(_path);

        // Assert
        var now = File.ReadAllBytes(_path);
        now.AsSpan(0, 100).ToArray().Should().Equal(original.AsSpan(0, 100).ToArray());
        now.AsSpan(1000, 100).ToArray().Should().OnlyContain(b => b == 0);
        now.Length.Should().Be(original.Length);
    }

    [Fact]
    public void Apply_GrownFile_CutBackToCheckpointSize()
    {
        var original = new byte[1000];
        Random.Shared.NextBytes(original);
        File.WriteAllBytes(_path, original);
        using (var journal = new RollbackJournal()) journal.Begin(_path);
        using (var stream = new FileStream(_path, FileMode.Append)) stream.Write(new byte[5000]);

        RollbackJournal.Apply(_path).Should().Be(0);

        File.ReadAllBytes(_path).Should().Equal(original);
    }

    [Fact]
    public void Apply_JournalTornInItsHeader_NothingRestoredJournalRemoved()
    {
        File.WriteAllBytes(_path, new byte[1000]);
        File.WriteAllBytes(RollbackJournal.PathOf(_path), "MLFFRB"u8.ToArray());

        RollbackJournal.Apply(_path).Should().Be(0);

        RollbackJournal.Exists(_path).Should().BeFalse();
        new FileInfo(_path).Length.Should().Be(1000);
    }

    [Fact]
    public void Begin_JournalLeftByAKilledWriter_Refused()
    {
        File.WriteAllBytes(_path, new byte[10]);
        File.WriteAllBytes(RollbackJournal.PathOf(_path), new byte[3]);

        var act = () => new RollbackJournal().Begin(_path);

        act.Should().Throw<InvalidOperationException>().WithMessage("*must be applied*");
    }
}
