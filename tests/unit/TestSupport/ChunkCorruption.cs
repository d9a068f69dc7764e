namespace MlffData.UnitTests.TestSupport;

/// <summary>Damage to one stored chunk, as a flipped bit on disk would do, found through h5py's chunk index.</summary>
public static class ChunkCorruption
{
    /// <summary>XORs the byte in the middle of a chunk's stored bytes with mask.</summary>
    /// <param name="path">The file.</param>
    /// <param name="dataset">The dataset's path in it.</param>
    /// <param name="chunk">The chunk's index in h5py's chunk order (along the first axis for our datasets).</param>
    /// <param name="mask">The bits to flip.</param>
    public static void FlipByte(string path, string dataset, int chunk, byte mask = 0x10) =>
        PythonScript.Run("""
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    info = f[sys.argv[2]].id.get_chunk_info(int(sys.argv[3]))
with open(sys.argv[1], "r+b") as f:
    f.seek(info.byte_offset + info.size // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ int(sys.argv[4])]))
""", path, dataset, chunk.ToString(), mask.ToString());
}
