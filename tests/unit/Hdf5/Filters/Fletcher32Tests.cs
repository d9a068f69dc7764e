using System.Text.Json;
using MlffData.Hdf5.Filters;
using MlffData.UnitTests.TestSupport;

namespace MlffData.UnitTests.Hdf5.Filters;

/// <summary>
/// Tests <see cref="Fletcher32"/> against libhdf5 itself: h5py stores each buffer as one chunk of a fletcher32 dataset,
/// and the checksum libhdf5 appended to the stored chunk is what ours must equal, for lengths around the SIMD block
/// and word boundaries and for contents whose sums land on the edge cases of the folding (0 and multiples of 65535).
/// </summary>
public sealed class Fletcher32Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Compute_EqualsTheChecksumLibhdf5Stores()
    {
        string listing = PythonScript.Run("""
            import json, sys, h5py, numpy as np
            out = sys.argv[1]
            rng = np.random.default_rng(7)
            cases = []
            lengths = [1, 2, 3, 4, 31, 32, 33, 63, 64, 65, 511, 512, 513, 719, 720, 721, 1023, 1024, 8159, 8160, 8161,
                       16320, 16321, 65535, 65536, 100001, (1 << 20) + 3]
            for n in lengths:
                cases.append((f"random-{n}", rng.integers(0, 256, n, dtype=np.uint8)))
            for n in (1, 2, 7, 720, 8160, 100000):
                cases.append((f"zeros-{n}", np.zeros(n, np.uint8)))
                cases.append((f"ones-{n}", np.full(n, 0xFF, np.uint8)))
            # Sums that are exact multiples of 65535: one word 0xFFFF, then many.
            cases.append(("ffff-word", np.array([0xFF, 0xFF], np.uint8)))
            cases.append(("ffff-after-zeros", np.concatenate([np.zeros(4000, np.uint8), np.full(2, 0xFF, np.uint8)])))
            cases.append(("zeros-after-ffff", np.concatenate([np.full(2, 0xFF, np.uint8), np.zeros(9000, np.uint8)])))
            cases.append(("ramp", (np.arange(300000) % 251).astype(np.uint8)))
            listing = []
            with h5py.File(f"{out}/checksums.h5", "w") as f:
                for name, data in cases:
                    d = f.create_dataset(name, data=data, chunks=(len(data),), fletcher32=True)
                    _, raw = d.id.read_direct_chunk((0,))
                    assert raw[:-4] == data.tobytes()
                    data.tofile(f"{out}/{name}.bin")
                    listing.append({"name": name, "checksum": int.from_bytes(raw[-4:], "little")})
            print(json.dumps(listing))
            """, _dir.Path);

        var cases = JsonDocument.Parse(listing).RootElement.EnumerateArray().ToList();
        cases.Should().HaveCountGreaterThan(40);
        foreach (var c in cases)
        {
            string name = c.GetProperty("name").GetString()!;
            byte[] data = File.ReadAllBytes(Path.Combine(_dir.Path, name + ".bin"));
            Fletcher32.Compute(data).Should().Be(c.GetProperty("checksum").GetUInt32(), name);
        }
    }

    [Fact]
    public void CopyWithChecksum_AppendsItLittleEndian()
    {
        byte[] data = [1, 2, 3, 4, 5];
        var destination = new byte[data.Length + Fletcher32.Length];

        int written = Fletcher32.CopyWithChecksum(data, destination);

        written.Should().Be(9);
        destination[..5].Should().Equal(data);
        BitConverter.ToUInt32(destination, 5).Should().Be(Fletcher32.Compute(data));
    }
}
