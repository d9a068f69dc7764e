using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>The seed's writer behaviours, one test each, plus the crash-safety promise of overwrite mode.</summary>
[Collection(NativeStateCollection.Name)]
public sealed class HDF5DatasetWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _warnings = [];

    private string Output => _dir.File("out.h5");

    private WriteOptions Options(Compression? compression = null) =>
        Samples.Collecting(_warnings, new WriteOptions { Compression = compression ?? Compression.None });

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once writers and files are disposed");
        _dir.Dispose();
    }

    [Fact]
    public void AddStructure_OneMolecule_WritesEveryDatasetWithItsValues()
    {
        var s = Samples.Molecule(3);
        var forces = Samples.Forces(s);
        using (var writer = new HDF5DatasetWriter(Output, options: Options()))
            writer.AddStructure(s, -14.5, forces);

        var stored = StoredDataset.Read(Output);
        stored.AtomicNumbers.Should().Equal(8, 1, 1);
        stored.Splits.Should().Equal(0, 3);
        stored.ForcesSplits.Should().Equal(0, 3);
        stored.Positions.Should().Equal(s.Positions);
        stored.Cells.Should().Equal(new double[9]);
        stored.Pbc.Should().Equal(false, false, false);
        stored.Energy.Should().Equal(-14.5);
        stored.Forces.Should().Equal(forces.Select(f => (float)f));
        stored.Stress.Should().Equal(new double[6]);
        stored.StressMask.Should().Equal(false);
        stored.StructureIndices.Should().Equal(0);
        stored.Metadata[FormatNames.NumStructures].Should().Be(3L - 2L);
        stored.Metadata[FormatNames.NumAtoms].Should().Be(3L);
        stored.Metadata[FormatNames.FormatVersion].Should().Be("1.0");
        stored.Metadata[FormatNames.Compression].Should().Be("none");
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void AddBatch_MixedStructures_MatchesStructureByStructure()
    {
        var batch = Enumerable.Range(0, 25).Select(i => Samples.Labelled(i)).ToList();
        string one = _dir.File("one.h5"), all = _dir.File("all.h5");
        using (var w = new HDF5DatasetWriter(one, options: Options()))
            foreach (var item in batch) w.AddStructure(item);
        var progress = new List<(long, long)>();
        using (var w = new HDF5DatasetWriter(all, options: Options()))
            w.AddBatch(batch, (done, total) => progress.Add((done, total)));

        var a = StoredDataset.Read(one);
        var b = StoredDataset.Read(all);
        b.AtomicNumbers.Should().Equal(a.AtomicNumbers);
        b.Positions.Should().Equal(a.Positions);
        b.Forces.Should().Equal(a.Forces);
        b.Stress.Should().Equal(a.Stress);
        b.Energy.Should().Equal(a.Energy);
        b.Splits.Should().Equal(a.Splits);
        b.Splits[^1].Should().Be(batch.Sum(x => x.Structure.NumAtoms));
        progress.Should().NotBeEmpty();
        progress[^1].Should().Be((25L, 25L));
    }

    [Fact]
    public void Append_OneThenTwoMore_SplitsAndIndicesContinue()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddStructure(Samples.Labelled(0));
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options()))
        {
            w.Count.Should().Be(1);
            w.AddStructure(Samples.Labelled(1));
            w.AddStructure(Samples.Labelled(2));
        }

        var stored = StoredDataset.Read(Output);
        int n0 = Samples.Labelled(0).Structure.NumAtoms, n1 = Samples.Labelled(1).Structure.NumAtoms, n2 = Samples.Labelled(2).Structure.NumAtoms;
        stored.Splits.Should().Equal(0, n0, n0 + n1, n0 + n1 + n2);
        stored.ForcesSplits.Should().Equal(stored.Splits);
        stored.StructureIndices.Should().Equal(0, 1, 2);
        stored.Energy.Should().Equal(-10.0, -10.25, -10.5);
        stored.StressMask.Should().Equal(false, true, false);
        stored.Metadata[FormatNames.NumStructures].Should().Be(3L);
        stored.Metadata[FormatNames.NumAtoms].Should().Be((long)(n0 + n1 + n2));
    }

    [Fact]
    public void Append_MissingFile_CreatesIt()
    {
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options()))
            w.AddStructure(Samples.Labelled(3));
        StoredDataset.Read(Output).Energy.Should().Equal(-10.75);
    }

    [Fact]
    public void Append_StatisticsCoverOldAndNewStructures()
    {
        var items = Enumerable.Range(0, 10).Select(i => Samples.Labelled(i)).ToList();
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddBatch(items.Take(4).ToList());
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options()))
            w.AddBatch(items.Skip(4).ToList());

        var energies = items.Select(i => i.Labels.Energy).ToArray();
        double mean = energies.Average();
        double std = Math.Sqrt(energies.Select(e => (e - mean) * (e - mean)).Sum() / energies.Length);
        var meta = StoredDataset.Read(Output).Metadata;
        ((double)meta[FormatNames.EnergyMean]).Should().BeApproximately(mean, 1e-12);
        ((double)meta[FormatNames.EnergyStd]).Should().BeApproximately(std, 1e-12);
        meta[FormatNames.EnergyMin].Should().Be(energies.Min());
        meta[FormatNames.EnergyMax].Should().Be(energies.Max());
        meta[FormatNames.Elements].Should().Be("[\"H\",\"O\",\"Cu\"]");
        ((double)meta[FormatNames.MaxAbsForce]).Should().Be(items.SelectMany(i => i.Labels.Forces).Max(f => Math.Abs((double)(float)f)));
    }

    [Fact]
    public void Append_FileNotInFormat_ThrowsNamingTheDatasetAndLeavesFileUntouched()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddStructure(Samples.Labelled(0));
        using (var file = H5File.Open(Output, readOnly: false))
        using (var labels = file.OpenGroup(FormatNames.Labels))
        using (var extra = labels.CreateGroup("unrelated")) { }
        // Break the layout: one more energy row than structures.
        using (var file = H5File.Open(Output, readOnly: false))
        using (var labels = file.OpenGroup(FormatNames.Labels))
        using (var energy = labels.OpenDataset<double>(FormatNames.Energy))
            energy.Append([1.0]);
        var before = File.ReadAllBytes(Output);

        var act = () => new HDF5DatasetWriter(Output, WriteMode.Append, Options());

        act.Should().Throw<DatasetFormatException>().Which.Message.Should().Contain("/labels/").And.Contain("rows");
        File.ReadAllBytes(Output).Should().Equal(before);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("lzf")]
    public void Compression_RepetitiveData_SmallerThanNone(string kind)
    {
        var items = Enumerable.Range(0, 400).Select(i => Samples.Labelled(i % 4)).ToList();
        string none = _dir.File("none.h5"), packed = _dir.File("packed.h5");
        using (var w = new HDF5DatasetWriter(none, options: Options(Compression.None))) w.AddBatch(items);
        using (var w = new HDF5DatasetWriter(packed, options: Options(Compression.Parse(kind)))) w.AddBatch(items);

        new FileInfo(packed).Length.Should().BeLessThan(new FileInfo(none).Length * 3 / 4);
        var a = StoredDataset.Read(none);
        var b = StoredDataset.Read(packed);
        b.Positions.Should().Equal(a.Positions);
        b.Forces.Should().Equal(a.Forces);
        b.Metadata[FormatNames.Compression].Should().Be(kind == "gzip" ? "gzip-4" : "lzf");
    }

    [Fact]
    public void AddStructure_NaNEnergy_ThrowsSeedMessageAndAddsNothing()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Molecule();
        var act = () => w.AddStructure(s, double.NaN, Samples.Forces(s));
        act.Should().Throw<ValidationException>().Which.Reason.Should().Be("Invalid energy: NaN");
        w.Count.Should().Be(0);
        w.AddStructure(s, -1.0, Samples.Forces(s));
        w.Complete();
        StoredDataset.Read(Output).Energy.Should().Equal(-1.0);
    }

    [Fact]
    public void AddStructure_WrongForcesShape_ThrowsSeedMessage()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Molecule(5);
        var act = () => w.AddStructure(s, -1.0, new double[10, 3]);
        act.Should().Throw<ValidationException>().Which.Reason.Should().Be("Forces shape (10, 3) doesn't match atoms (5, 3)");
    }

    [Fact]
    public void AddStructure_NaNForces_ThrowsSeedMessage()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Molecule(3);
        var forces = Samples.Forces(s);
        forces[4] = double.NaN;
        var act = () => w.AddStructure(s, -1.0, forces);
        var e = act.Should().Throw<ValidationException>().Which;
        e.Reason.Should().Be("Forces contain NaN");
        e.Field.Should().Be("forces");
        e.Message.Should().Be("Structure 0: Forces contain NaN");
    }

    [Theory]
    [InlineData("positions")]
    [InlineData("cell")]
    [InlineData("stress")]
    public void AddStructure_InfiniteValue_Rejected(string field)
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Bulk();
        var stress = Samples.Stress();
        if (field == "positions") s.Positions[2] = double.PositiveInfinity;
        if (field == "cell") s.Cell[0] = double.NegativeInfinity;
        if (field == "stress") stress[5] = double.PositiveInfinity;
        var act = () => w.AddStructure(s, -1.0, Samples.Forces(s), stress);
        act.Should().Throw<ValidationException>().Which.Field.Should().Be(field);
    }

    [Fact]
    public void AddStructure_ValidationOff_AcceptsInf()
    {
        var s = Samples.Molecule();
        var forces = Samples.Forces(s);
        forces[0] = double.PositiveInfinity;
        using (var w = new HDF5DatasetWriter(Output, options: Options() with { Validate = false }))
            w.AddStructure(s, double.NegativeInfinity, forces);
        var stored = StoredDataset.Read(Output);
        stored.Energy.Should().Equal(double.NegativeInfinity);
        float.IsPositiveInfinity(stored.Forces[0]).Should().BeTrue();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(119)]
    public void AddStructure_AtomicNumberOutOfRange_Rejected(int z)
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Molecule() with { AtomicNumbers = [8, z, 1] };
        var act = () => w.AddStructure(s, -1.0, Samples.Forces(s));
        act.Should().Throw<ValidationException>().Which.Reason.Should().Contain($"Invalid atomic number {z} at atom 1");
    }

    [Fact]
    public void AddStructure_PeriodicAxisWithZeroCellVector_Rejected()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var s = Samples.Molecule() with { Pbc = [false, true, false] };
        var act = () => w.AddStructure(s, -1.0, Samples.Forces(s));
        act.Should().Throw<ValidationException>().Which.Reason.Should().Be("Axis 1 is periodic but cell vector 1 is zero");
    }

    [Fact]
    public void AddStructure_CloseAtomsAcrossPeriodicBoundary_Warns()
    {
        var w = new HDF5DatasetWriter(Output, options: Options());
        // 0.3 Å apart only through the boundary of a 5 Å box (minimum image), 4.7 Å apart directly.
        var s = new Structure([29, 29], [0.1, 1, 1, 4.8, 1, 1], [5, 0, 0, 0, 5, 0, 0, 0, 5], [true, true, true]);
        w.AddStructure(s, -1.0, new double[6]);
        w.AddStructure(s with { Pbc = [false, false, false], Cell = new double[9] }, -1.0, new double[6]);
        // Warnings are worked out on worker threads; Complete delivers every one of them.
        w.Complete();
        _warnings.Should().ContainSingle(m => m.Contains("atoms 0 and 1 are 0.300 Å apart"))
            .Which.Should().StartWith("Structure 0:", "without periodicity the atoms of structure 1 are 4.7 Å apart");
    }

    [Fact]
    public void Warnings_ArriveInStructureOrder_ByCheckpointAndComplete()
    {
        var close = new Structure([29, 29], [0.1, 1, 1, 4.8, 1, 1], [5, 0, 0, 0, 5, 0, 0, 0, 5], [true, true, true]);
        var far = close with { Positions = [0.1, 1, 1, 2.6, 1, 1] };
        var strong = new double[6];
        strong[4] = 80;
        var expected = new List<string>();
        var w = new HDF5DatasetWriter(Output, options: Options());
        // Enough structures for several batches on the workers; every third has close atoms, every fifth a large force.
        for (int i = 0; i < 5000; i++)
        {
            w.AddStructure(i % 3 == 0 ? close : far, -1.0, i % 5 == 0 ? strong : new double[6]);
            if (i % 5 == 0) expected.Add($"Structure {i}: large force on atom 1");
            if (i % 3 == 0) expected.Add($"Structure {i}: atoms 0 and 1 are 0.300 Å apart");
            if (i == 2500)
            {
                w.Checkpoint();
                _warnings.Should().HaveCount(expected.Count, "a checkpoint delivers the warnings of everything before it");
            }
        }
        w.Complete();
        _warnings.Should().HaveCount(expected.Count);
        _warnings.Zip(expected).Should().OnlyContain(p => p.First.StartsWith(p.Second));
    }

    [Fact]
    public void Warnings_ReadTheStructureAsAdded_EvenIfTheCallerReusesItsArrays()
    {
        var positions = new double[] { 0.1, 1, 1, 4.8, 1, 1 };
        var s = new Structure([29, 29], positions, [5, 0, 0, 0, 5, 0, 0, 0, 5], [true, true, true]);
        var w = new HDF5DatasetWriter(Output, options: Options());
        w.AddStructure(s, -1.0, new double[6]);
        // The caller moves the atoms apart for its next structure before the check has run.
        positions[3] = 2.6;
        w.AddStructure(s, -1.0, new double[6]);
        w.Complete();
        _warnings.Should().ContainSingle().Which.Should().StartWith("Structure 0: atoms 0 and 1 are 0.300 Å apart");
    }

    [Fact]
    public void AddStructure_LargeForce_WarnsButWrites()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            var s = Samples.Molecule();
            var forces = Samples.Forces(s);
            forces[3] = 60;
            w.AddStructure(s, -1.0, forces);
        }
        _warnings.Should().ContainSingle(m => m.Contains("large force on atom 1"));
        StoredDataset.Read(Output).Energy.Should().HaveCount(1);
    }

    [Fact]
    public void AddStructure_Stress3x3_StoredAsVoigt()
    {
        var s = Samples.Bulk();
        double[] full = [1, 6, 5, 6, 2, 4, 5, 4, 3];
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddStructure(s, -1.0, Samples.Forces(s), full);
        StoredDataset.Read(Output).Stress.Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void Dispose_WithoutComplete_CompletesTheFile()
    {
        var w = new HDF5DatasetWriter(Output, options: Options());
        w.AddStructure(Samples.Labelled(1));
        File.Exists(Output).Should().BeFalse("nothing is at the target before completion");
        w.Dispose();
        w.IsCompleted.Should().BeTrue();
        StoredDataset.Read(Output).Metadata[FormatNames.NumStructures].Should().Be(1L);
    }

    [Fact]
    public void Complete_Metadata_StoresScalarsNativelyAndNestedAsJson()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Samples.Labelled(0));
            w.Complete(new Dictionary<string, object?>
            {
                ["teacher_model"] = "orb-v2",
                ["generation_config"] = new Dictionary<string, object> { ["temperature"] = 300, ["steps"] = new[] { 1, 2 } },
                ["seed"] = 42,
                ["dft"] = false,
                ["cutoff"] = 5.5,
            });
        }
        var meta = StoredDataset.Read(Output).Metadata;
        meta["teacher_model"].Should().Be("orb-v2");
        meta["generation_config"].Should().Be("{\"temperature\":300,\"steps\":[1,2]}");
        meta["seed"].Should().Be(42L);
        meta["dft"].Should().Be(false);
        meta["cutoff"].Should().Be(5.5);
        meta[FormatNames.NumStructures].Should().Be(1L);
        meta[FormatNames.Writer].Should().BeOfType<string>().Which.Should().StartWith("MlffData ");
        ((string)meta[FormatNames.Created]).Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$");
    }

    [Fact]
    public void Complete_ReservedMetadataKey_Throws()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var act = () => w.Complete(new Dictionary<string, object?> { ["num_structures"] = 5 });
        act.Should().Throw<ArgumentException>().WithMessage("*num_structures*");
        w.Abort();
    }

    [Fact]
    public void Splits_ManyMixedSizes_ConsistentWithAtomCounts()
    {
        var items = Enumerable.Range(0, 300).Select(i => Samples.Labelled(i)).ToList();
        // A tiny chunk size forces many flushes mid-structure.
        using (var w = new HDF5DatasetWriter(Output, options: Options() with { ChunkBytes = 64 }))
            foreach (var item in items) w.AddStructure(item);
        var stored = StoredDataset.Read(Output);
        var expected = new List<long> { 0 };
        foreach (var item in items) expected.Add(expected[^1] + item.Structure.NumAtoms);
        stored.Splits.Should().Equal(expected);
        stored.ForcesSplits.Should().Equal(expected);
        stored.AtomicNumbers.Should().Equal(items.SelectMany(i => i.Structure.AtomicNumbers.Select(z => (long)z)));
        stored.Positions.Should().Equal(items.SelectMany(i => i.Structure.Positions));
    }

    [Fact]
    public void StressMask_PeriodicAndNonPeriodic_MarksOnlyStressed()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            var bulk = Samples.Bulk();
            var stress = Samples.Stress();
            w.AddStructure(bulk, -1, Samples.Forces(bulk), stress);
            var molecule = Samples.Molecule();
            w.AddStructure(molecule, -2, Samples.Forces(molecule));
        }
        var stored = StoredDataset.Read(Output);
        stored.StressMask.Should().Equal(true, false);
        stored.Stress.Take(6).Should().Equal(Samples.Stress());
        stored.Stress.Skip(6).Should().Equal(new double[6]);
    }

    [Fact]
    public void Complete_NoStructures_WritesEmptyLayout()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) { }
        var stored = StoredDataset.Read(Output);
        stored.Splits.Should().Equal(0);
        stored.ForcesSplits.Should().Equal(0);
        stored.Energy.Should().BeEmpty();
        stored.Positions.Should().BeEmpty();
        stored.Metadata[FormatNames.NumStructures].Should().Be(0L);
        stored.Metadata[FormatNames.NumAtoms].Should().Be(0L);
        stored.Metadata.Should().NotContainKey(FormatNames.EnergyMean);
    }

    [Fact]
    public void AddStructure_SingleAtom_Written()
    {
        var s = new Structure([79], [0, 0, 0], new double[9], [false, false, false]);
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
            w.AddStructure(s, -3.0, [0.0, 0.0, 0.0]);
        var stored = StoredDataset.Read(Output);
        stored.Splits.Should().Equal(0, 1);
        stored.AtomicNumbers.Should().Equal(79);
    }

    [Fact]
    public void AddStructure_HundredAtoms_Written()
    {
        var s = Samples.Molecule(100, seed: 7);
        var forces = Samples.Forces(s, 7);
        using (var w = new HDF5DatasetWriter(Output, options: Options(Compression.Gzip(9))))
            w.AddStructure(s, -300.0, forces);
        var stored = StoredDataset.Read(Output);
        stored.Positions.Should().Equal(s.Positions);
        stored.Forces.Should().Equal(forces.Select(f => (float)f));
    }

    [Fact]
    public void Dtypes_FileTypes_AreFormatMdTypes()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(1));
        using var file = H5File.Open(Output);
        using var s = file.OpenGroup(FormatNames.Structures);
        using var l = file.OpenGroup(FormatNames.Labels);
        // Opening with a type checks class, size and sign; a mismatch throws.
        s.Invoking(g => g.OpenDataset<bool>(FormatNames.Pbc).Dispose()).Should().NotThrow();
        l.Invoking(g => g.OpenDataset<float>(FormatNames.Forces).Dispose()).Should().NotThrow();
        l.Invoking(g => g.OpenDataset<double>(FormatNames.Forces).Dispose()).Should().Throw<InvalidDataException>().WithMessage("*float32*");
        s.Invoking(g => g.OpenDataset<sbyte>(FormatNames.Pbc).Dispose()).Should().Throw<InvalidDataException>().WithMessage("*bool*");
        s.MemberNames().Should().BeEquivalentTo(FormatNames.StructureDatasets);
    }

    [Fact]
    public void Complete_Twice_LogsWarningNoError()
    {
        var w = new HDF5DatasetWriter(Output, options: Options());
        w.AddStructure(Samples.Labelled(0));
        w.Complete();
        w.Invoking(x => x.Complete()).Should().NotThrow();
        _warnings.Should().ContainSingle(m => m.Contains("already been called"));
        w.Dispose();
    }

    [Fact]
    public void AddStructure_AfterComplete_ThrowsSeedMessage()
    {
        var w = new HDF5DatasetWriter(Output, options: Options());
        w.Complete();
        var act = () => w.AddStructure(Samples.Labelled(0));
        act.Should().Throw<InvalidOperationException>().WithMessage("Cannot add structures after Complete() has been called");
    }

    [Fact]
    public void Overwrite_ExceptionMidWrite_LeavesOldFileIntactAndNoPartial()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        var before = File.ReadAllBytes(Output);

        var w2 = new HDF5DatasetWriter(Output, options: Options() with { ChunkBytes = 64 });
        w2.AddStructure(Samples.Labelled(1));
        // Take the partial file away under the writer: its next flush fails inside libhdf5, as a full or vanished
        // disk would make it fail.
        File.Delete(Output + HDF5DatasetWriter.PartialSuffix);
        Directory.CreateDirectory(Output + HDF5DatasetWriter.PartialSuffix);
        var act = () =>
        {
            for (int i = 0; i < 2000; i++) w2.AddStructure(Samples.Labelled(i));
            w2.Complete();
        };
        act.Should().Throw<Exception>();
        w2.Invoking(x => x.Dispose()).Should().NotThrow("a faulted writer is released, not completed");
        Directory.Delete(Output + HDF5DatasetWriter.PartialSuffix, recursive: true);

        File.ReadAllBytes(Output).Should().Equal(before);
        StoredDataset.Read(Output).Energy.Should().Equal(-10.0);
    }

    [Fact]
    public void Abort_Overwrite_KeepsOldFileAndRemovesPartial()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddStructure(Samples.Labelled(0));
        var before = File.ReadAllBytes(Output);
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Samples.Labelled(1));
            w.Abort();
        }
        File.ReadAllBytes(Output).Should().Equal(before);
        File.Exists(Output + HDF5DatasetWriter.PartialSuffix).Should().BeFalse();
    }

    [Fact]
    public void Abort_Append_CutsFileBackToItsStructures()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options())) w.AddBatch([Samples.Labelled(0), Samples.Labelled(1)]);
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options() with { ChunkBytes = 64 }))
        {
            for (int i = 2; i < 200; i++) w.AddStructure(Samples.Labelled(i));
            w.Abort();
        }
        var stored = StoredDataset.Read(Output);
        stored.Energy.Should().Equal(-10.0, -10.25);
        stored.Splits.Should().HaveCount(3);
        stored.AtomicNumbers.Should().HaveCount((int)stored.Splits[^1]);
    }

    [Fact]
    public void AddBatch_InvalidStructureInside_AddsNothing()
    {
        using var w = new HDF5DatasetWriter(Output, options: Options());
        var batch = Enumerable.Range(0, 5).Select(i => Samples.Labelled(i)).ToList();
        batch[3] = batch[3] with { Labels = batch[3].Labels with { Energy = double.PositiveInfinity } };
        var act = () => w.AddBatch(batch);
        act.Should().Throw<ValidationException>().Which.StructureIndex.Should().Be(3);
        w.Count.Should().Be(0);
    }

    [Fact]
    public void AddStructure_SourceIndex_Stored()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options()))
        {
            w.AddStructure(Samples.Labelled(0, sourceIndex: 17));
            w.AddStructure(Samples.Labelled(1, sourceIndex: 4));
        }
        StoredDataset.Read(Output).StructureIndices.Should().Equal(17, 4);
    }

    [Fact]
    public void Append_RequestedCompressionDiffers_WarnsAndKeepsFileFilters()
    {
        using (var w = new HDF5DatasetWriter(Output, options: Options(Compression.Lzf))) w.AddStructure(Samples.Labelled(0));
        using (var w = new HDF5DatasetWriter(Output, WriteMode.Append, Options(Compression.Gzip(4))))
        {
            w.Compression.Should().Be(Compression.Lzf);
            w.AddStructure(Samples.Labelled(1));
        }
        _warnings.Should().ContainSingle(m => m.Contains("uses lzf compression"));
        StoredDataset.Read(Output).Metadata[FormatNames.Compression].Should().Be("lzf");
    }
}
