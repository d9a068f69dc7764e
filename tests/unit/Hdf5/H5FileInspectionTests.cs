using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;
using Xunit.Abstractions;

namespace MlffData.UnitTests.Hdf5;

/// <summary>
/// Hostile HDF5 files made by h5py (hostile_files.py: external storage mapping a secret file, external links, soft
/// links that lead nowhere or through an external link, a virtual dataset, an unknown filter, compound, reference, enum, vlen and opaque types) are refused, naming the file
/// and the object, by the reader, merge and append before any data is read, and the secret's bytes reach no output.
/// Our own files (every compression, with extras) and h5py's files in our layout still pass.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class H5FileInspectionTests : IDisposable, IClassFixture<H5FileInspectionTests.HostileFiles>
{
    private const string Secret = "TOP-SECRET-TOKEN-1234567890";

    private readonly HostileFiles _files;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _dir = new();

    public H5FileInspectionTests(HostileFiles files, ITestOutputHelper output)
    {
        _files = files;
        _output = output;
    }

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed, also after a refusal");
        _dir.Dispose();
    }

    /// <summary>A valid dataset with /info (string + mask, float) and /arrays extras, the hostile files made from it.</summary>
    public sealed class HostileFiles : IDisposable
    {
        public HostileFiles()
        {
            Base = Path.Combine(Dir.Path, "base.h5");
            WriteDataset(Base, Compression.Gzip(4));
            SecretFile = Path.Combine(Dir.Path, "secret.txt");
            File.WriteAllText(SecretFile, Secret + "\n");
            string json = PythonScript.RunFile(RepoPaths.Of("tests", "unit", "Hdf5", "hostile_files.py"), Base, Dir.Path, SecretFile);
            using var doc = JsonDocument.Parse(json);
            foreach (var entry in doc.RootElement.EnumerateObject())
                Cases[entry.Name] = (entry.Value.GetProperty("file").GetString()!, entry.Value.GetProperty("object").GetString()!);
        }

        public TempDirectory Dir { get; } = new();
        public string Base { get; }
        public string SecretFile { get; }
        public Dictionary<string, (string File, string Object)> Cases { get; } = [];

        public void Dispose() => Dir.Dispose();
    }

    public static TheoryData<string> CaseNames() =>
    [
        "external_storage", "external_storage_energy", "external_link", "dangling_soft_link", "soft_link_through_external_link",
        "virtual_dataset", "unknown_filter",
        "compound_dataset", "reference_attribute", "reference_dataset", "enum_dataset", "vlen_int_dataset", "opaque_dataset",
    ];

    internal static void WriteDataset(string path, Compression compression, int count = 12)
    {
        using var writer = new HDF5DatasetWriter(path, WriteMode.Overwrite, new WriteOptions { Compression = compression, Warning = _ => { } });
        for (int i = 0; i < count; i++)
        {
            var item = Samples.Labelled(i, i);
            var info = new Dictionary<string, ExtraValue> { ["total_charge"] = ExtraValue.Float(i) };
            // config_type on every other structure only, so the file has config_type_mask (a bool mask).
            if (i % 2 == 0) info["config_type"] = ExtraValue.String($"type {i}");
            var charges = ExtraValue.FloatRows(Enumerable.Range(0, item.Structure.NumAtoms).Select(k => k / 10.0).ToArray());
            var fixedAtoms = ExtraValue.BoolRows(Enumerable.Range(0, item.Structure.NumAtoms).Select(k => k == 0).ToArray());
            writer.AddStructure(item with { Extras = new StructureExtras(info, new Dictionary<string, ExtraValue> { ["charges"] = charges, ["fixed"] = fixedAtoms }) });
        }
        writer.Complete(new Dictionary<string, object?> { ["teacher_model"] = "emt", ["nested"] = new Dictionary<string, object?> { ["a"] = 1 } });
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Reader_HostileFile_RefusedNamingFileAndObject(string name)
    {
        var (file, obj) = _files.Cases[name];

        var act = () => new HDF5DatasetReader(file).Dispose();

        var e = act.Should().Throw<DatasetFormatException>().Which;
        e.Dataset.Should().Be(obj);
        e.Message.Should().StartWith($"{file}: {obj}: ");
        e.Message.Should().NotContain(Secret);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Merge_HostileInput_RefusedAndSecretInNoOutput(string name)
    {
        var (file, obj) = _files.Cases[name];
        string output = _dir.File("merged.h5");

        var act = () => DatasetMerger.Merge(output, [_files.Base, file], new MergeOptions { Warning = _ => { } });

        act.Should().Throw<DatasetFormatException>().Which.Dataset.Should().Be(obj);
        File.Exists(output).Should().BeFalse();
        File.Exists(output + OutputLock.Suffix).Should().BeFalse();
        ShouldHoldNoSecret(_dir.Path);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Append_HostileTarget_RefusedUntouchedAndUnlocked(string name)
    {
        var (source, obj) = _files.Cases[name];
        string target = _dir.File("target.h5");
        File.Copy(source, target);
        var before = File.ReadAllBytes(target);

        var act = () =>
        {
            using var writer = new HDF5DatasetWriter(target, WriteMode.Append, new WriteOptions { Warning = _ => { } });
            writer.AddStructure(Samples.Labelled(1));
        };

        var e = act.Should().Throw<DatasetFormatException>().Which;
        e.Dataset.Should().Be(obj);
        e.Message.Should().Contain(obj);
        File.ReadAllBytes(target).Should().Equal(before);
        File.Exists(target + OutputLock.Suffix).Should().BeFalse();
        ShouldHoldNoSecret(_dir.Path);
    }

    [Fact]
    public void Info_HostileFile_OneLineErrorNamingTheObject()
    {
        var (file, obj) = _files.Cases["external_storage"];

        var (exitCode, stdout, stderr) = CliRunner.Run("info", file);

        exitCode.Should().NotBe(0);
        stderr.Should().Contain($"{file}: {obj}: stores its data in external files");
        (stdout + stderr).Should().NotContain(Secret);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("lzf")]
    public void FindUnsafeFeature_OurFileWithExtras_None(string compression)
    {
        string path = _dir.File($"ours-{compression}.h5");
        WriteDataset(path, Compression.Parse(compression));

        using var file = H5File.Open(path);
        H5FileInspection.FindUnsafeFeature(file).Should().BeNull();
        using var reader = new HDF5DatasetReader(path);
        reader.Count.Should().Be(12);
    }

    [Fact]
    public void FindUnsafeFeature_ReferenceSample_NoneAndCheap()
    {
        string path = RepoPaths.Of("data", "samples", "reference_930.h5");
        // JIT first, on another file, so that the timing is the check's own.
        using (var warm = H5File.Open(_files.Base)) H5FileInspection.FindUnsafeFeature(warm);
        using var file = H5File.Open(path);
        // The first run on a fresh open reads the object headers; later runs find them in libhdf5's metadata cache.
        var clock = Stopwatch.StartNew();
        H5FileInspection.FindUnsafeFeature(file).Should().BeNull();
        double first = clock.Elapsed.TotalMilliseconds;

        const int runs = 20;
        clock.Restart();
        for (int i = 0; i < runs; i++) H5FileInspection.FindUnsafeFeature(file);
        double cached = clock.Elapsed.TotalMilliseconds / runs;
        _output.WriteLine($"inspection of reference_930.h5: {first:F2} ms on a fresh open, {cached:F2} ms per run after");
        first.Should().BeLessThan(50, "the check runs on every open and must cost a few ms");
    }

    [Theory]
    [InlineData("seed", "gzip-4")]
    [InlineData("batch", "lzf")]
    public void FindUnsafeFeature_H5pyPeerWriterFile_None(string style, string compression)
    {
        string path = _dir.File($"peer-{style}.h5");
        PythonScript.RunFile(RepoPaths.Of("scripts", "h5py_peer_writer.py"), RepoPaths.Of("data", "samples", "reference_930.h5"), path,
            "--count", "40", "--style", style, "--compression", compression);

        using (var file = H5File.Open(path))
            H5FileInspection.FindUnsafeFeature(file).Should().BeNull();
        using var reader = new HDF5DatasetReader(path);
        reader.Count.Should().Be(40);
    }

    [Fact]
    public void FindUnsafeFeature_HardLinkCycle_VisitsOnceAndAccepts()
    {
        string path = _dir.File("cycle.h5");
        File.Copy(_files.Base, path);
        PythonScript.Run("import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    f['metadata/loop'] = f['metadata']\n    f['labels/energy_again'] = f['labels/energy']\n", path);

        using var file = H5File.Open(path);
        H5FileInspection.FindUnsafeFeature(file).Should().BeNull();
    }

    [Fact]
    public void FindUnsafeFeature_SoftLinkWithinFile_Accepted()
    {
        string path = _dir.File("soft.h5");
        File.Copy(_files.Base, path);
        PythonScript.Run("import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    f['info/energy_alias'] = h5py.SoftLink('/labels/energy')\n    f['up'] = h5py.SoftLink('/')\n", path);

        using (var file = H5File.Open(path))
            H5FileInspection.FindUnsafeFeature(file).Should().BeNull();
        using var reader = new HDF5DatasetReader(path);
        reader.Count.Should().Be(12);
    }

    [Fact]
    public void FindUnsafeFeature_TooDeep_Refused()
    {
        string path = _dir.File("deep.h5");
        File.Copy(_files.Base, path);
        PythonScript.Run("import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f:\n    f.create_group('/'.join(['d'] * 40))\n", path);

        using var file = H5File.Open(path);
        var finding = H5FileInspection.FindUnsafeFeature(file);
        finding.Should().NotBeNull();
        finding!.Value.Problem.Should().Contain($"more than {H5FileInspection.MaxDepth} groups deep");
    }

    private void ShouldHoldNoSecret(string directory)
    {
        var needle = Encoding.ASCII.GetBytes(Secret);
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            File.ReadAllBytes(path).AsSpan().IndexOf(needle).Should().Be(-1, $"{path} must not hold the secret file's bytes");
    }
}
