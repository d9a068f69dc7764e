using System.Text.Json;
using MlffData.Format;
using MlffData.Hdf5;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Format;

/// <summary>
/// <see cref="DatasetVerifier"/> and <c>mlff-data verify</c>: single bit flips in the stored chunks of a file we wrote
/// are all caught (fletcher32), layout and statistics damage is reported, and files without checksums still read.
/// </summary>
[Collection(NativeStateCollection.Name)]
public sealed class DatasetVerifierTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        H5File.OpenObjectCount().Should().Be(0, "every HDF5 id must be closed once verification is done");
        _dir.Dispose();
    }

    private string Write(string name, Compression compression, int count = 400)
    {
        string path = _dir.File(name);
        // Small chunks: every dataset has several, so flips land in first, middle and edge chunks.
        using var writer = new HDF5DatasetWriter(path, options: Samples.Collecting([], new WriteOptions { Compression = compression, ChunkBytes = 8192 }));
        for (int i = 0; i < count; i++)
        {
            var item = Samples.Labelled(i, i);
            // Text in /info (vlen: no checksum possible) and a number per atom in /arrays (checksummed).
            var extras = new StructureExtras(
                new Dictionary<string, ExtraValue> { ["config_type"] = ExtraValue.String(i % 2 == 0 ? "bulk" : "slab") },
                new Dictionary<string, ExtraValue> { ["charges"] = ExtraValue.FloatRows(Enumerable.Range(0, item.Structure.NumAtoms).Select(a => 0.1 * a).ToArray()) });
            writer.AddStructure(item with { Extras = extras });
        }
        return path;
    }

    [Theory]
    [InlineData("none")]
    [InlineData("lzf")]
    [InlineData("gzip-4")]
    public void Verify_EverySingleBitFlipInStoredData_IsDetected(string compression)
    {
        string original = Write("original.h5", Compression.Parse(compression));
        DatasetVerifier.Verify(original).Ok.Should().BeTrue();
        // h5py lists where every chunk of every checksummed dataset lies in the file; the checksum is the last 4 bytes.
        string listing = PythonScript.Run("""
            import json, sys, h5py
            chunks = []
            with h5py.File(sys.argv[1], "r") as f:
                def visit(name, d):
                    if isinstance(d, h5py.Dataset) and d.fletcher32:
                        for i in range(d.id.get_num_chunks()):
                            info = d.id.get_chunk_info(i)
                            chunks.append({"dataset": "/" + name, "offset": info.byte_offset, "size": info.size})
                f.visititems(visit)
            print(json.dumps(chunks))
            """, original);
        var chunks = JsonDocument.Parse(listing).RootElement.EnumerateArray()
            .Select(c => (Dataset: c.GetProperty("dataset").GetString()!, Offset: c.GetProperty("offset").GetInt64(), Size: c.GetProperty("size").GetInt64()))
            .ToList();
        chunks.Select(c => c.Dataset).Distinct().Should().HaveCount(12, "every numeric dataset, /info's text excepted, carries checksums");

        var bytes = File.ReadAllBytes(original);
        var random = new Random(17);
        string flipped = _dir.File("flipped.h5");
        int flips = 0;
        // Every chunk once at a random bit, then random chunks: at least 100 flips per compression.
        foreach (var chunk in chunks.Concat(Enumerable.Range(0, 100).Select(_ => chunks[random.Next(chunks.Count)])).Take(Math.Max(100, chunks.Count)))
        {
            long position = chunk.Offset + random.NextInt64(chunk.Size - 4);
            int bit = random.Next(8);
            bytes[position] ^= (byte)(1 << bit);
            File.WriteAllBytes(flipped, bytes);
            bytes[position] ^= (byte)(1 << bit);

            var report = DatasetVerifier.Verify(flipped);

            report.Ok.Should().BeFalse($"a flip of bit {bit} at byte {position} in {chunk.Dataset} must be caught");
            report.Problems.Should().Contain(p => p.StartsWith(chunk.Dataset + ":"), $"the flip at byte {position} lies in {chunk.Dataset}");
            flips++;
        }
        flips.Should().BeGreaterThanOrEqualTo(100);
    }

    [Fact]
    public void Verify_StatisticsThatDisagreeWithTheValues_Reported()
    {
        string path = Write("stats.h5", Compression.Gzip(4), 20);
        PythonScript.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r+") as f:
                f["metadata"].attrs["energy_min"] = 123.0
            """, path);

        var report = DatasetVerifier.Verify(path);

        report.Problems.Should().ContainSingle().Which.Should().Contain("energy_min is 123");
    }

    [Fact]
    public void Verify_LayoutDamage_ReportedAndTheChunksStillRead()
    {
        string path = Write("layout.h5", Compression.None, 20);
        PythonScript.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r+") as f:
                f["labels/forces_splits"][3] += 1
            """, path);

        var report = DatasetVerifier.Verify(path);

        report.Ok.Should().BeFalse();
        report.Problems[0].Should().Contain("forces_splits");
        report.Datasets.Should().Be(13, "every dataset is still read");
    }

    [Fact]
    public void Verify_FileWithoutChecksums_ReadsEverythingAndListsThem()
    {
        var report = DatasetVerifier.Verify(RepoPaths.Of("data", "samples", "reference_930.h5"));

        report.Ok.Should().BeTrue();
        report.Structures.Should().Be(930);
        report.WithoutChecksum.Should().HaveCount(11, "h5py wrote the reference without fletcher32");
    }

    [Fact]
    public void Cli_Verify_ExitsZeroForSoundFilesAndOneNamingTheProblem()
    {
        string good = Write("good.h5", Compression.Gzip(4), 50);
        string bad = _dir.File("bad.h5");
        File.Copy(good, bad);
        PythonScript.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r") as f:
                info = f["structures/positions"].id.get_chunk_info(0)
            with open(sys.argv[1], "r+b") as raw:
                raw.seek(info.byte_offset + 10)
                b = raw.read(1)
                raw.seek(info.byte_offset + 10)
                raw.write(bytes([b[0] ^ 0x10]))
            """, bad);

        var ok = CliRunner.Run("verify", good);
        var failed = CliRunner.Run("verify", good, bad);

        ok.ExitCode.Should().Be(0, ok.Stderr);
        ok.Stdout.Should().Contain("good.h5: ok (50 structures").And.Contain("without checksum: /info/config_type");
        failed.ExitCode.Should().Be(1);
        failed.Stdout.Should().Contain("bad.h5: FAILED, 1 problem(s)").And.Contain("/structures/positions: rows 0..");
        failed.Stdout.Should().Contain("Fletcher32");
    }
}
