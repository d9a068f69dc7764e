using System.Text;
using MlffData.Native;

namespace MlffData.Hdf5;

/// <summary>
/// The filters of a chunked dataset, in h5py's order: shuffle, then deflate or lzf, then fletcher32.
/// </summary>
/// <param name="Shuffle">Byte shuffle before compression (helps deflate on numeric data).</param>
/// <param name="DeflateLevel">gzip level 1-9, or 0 for no deflate.</param>
/// <param name="Lzf">h5py's LZF filter (id 32000).</param>
/// <param name="Fletcher32">Checksum of each chunk, verified on read.</param>
/// <param name="OtherFilters">Ids of any other filters found in a file (never written by us).</param>
public sealed record H5FilterPipeline(bool Shuffle = false, int DeflateLevel = 0, bool Lzf = false, bool Fletcher32 = false, IReadOnlyList<int>? OtherFilters = null)
{
    /// <summary>
    /// Whether the filters run in the order above (shuffle, then deflate or lzf, then fletcher32), as h5py and this
    /// library create them; a file from another writer may order them otherwise, and its chunks then cannot be decoded
    /// by <see cref="Filters.ChunkDecoder"/>.
    /// </summary>
    public bool InStandardOrder { get; init; } = true;

    /// <summary>No filters.</summary>
    public static H5FilterPipeline None { get; } = new();

    /// <summary>FORMAT.md's name of the compression: "none", "gzip-N" or "lzf".</summary>
    public string CompressionName => DeflateLevel > 0 ? $"gzip-{DeflateLevel}" : Lzf ? "lzf" : "none";

    internal void Apply(H5PropertyListHandle dcpl, long chunkBytes)
    {
        if (DeflateLevel > 0 && Lzf) throw new ArgumentException("deflate and lzf cannot both be used");
        if (DeflateLevel is < 0 or > 9) throw new ArgumentOutOfRangeException(nameof(DeflateLevel), DeflateLevel, "gzip level must be 1-9");
        if (OtherFilters is { Count: > 0 }) throw new NotSupportedException("Only shuffle, deflate, lzf and fletcher32 can be written");
        if (Shuffle) H5Error.Check(H5P.SetShuffle(dcpl), "H5Pset_shuffle");
        if (DeflateLevel > 0) H5Error.Check(H5P.SetDeflate(dcpl, (uint)DeflateLevel), "H5Pset_deflate");
        if (Lzf)
        {
            // h5py's own set_local fills these three values: filter revision 4, liblzf 1.5, and the chunk's byte
            // size, which its decompressor uses as the output size. We fill them ourselves.
            uint[] values = [4, 0x0105, (uint)Math.Min(chunkBytes, uint.MaxValue)];
            H5Error.Check(H5P.SetFilter(dcpl, H5Z.FilterLzf, H5Z.FlagOptional, (nuint)values.Length, values), "H5Pset_filter");
        }
        if (Fletcher32) H5Error.Check(H5P.SetFletcher32(dcpl), "H5Pset_fletcher32");
    }

    internal static unsafe H5FilterPipeline Read(H5PropertyListHandle dcpl)
    {
        int count = (int)H5Error.Check(H5P.GetNfilters(dcpl), "H5Pget_nfilters");
        bool shuffle = false, lzf = false, fletcher = false;
        int level = 0;
        List<int>? others = null;
        int last = -1;
        bool ordered = true;
        uint* values = stackalloc uint[16];
        byte* name = stackalloc byte[64];
        for (uint i = 0; i < count; i++)
        {
            nuint n = 16;
            int id = (int)H5Error.Check(H5P.GetFilter(dcpl, i, out _, ref n, values, 64, name, out _), "H5Pget_filter2");
            switch (id)
            {
                case H5Z.FilterShuffle: shuffle = true; break;
                case H5Z.FilterDeflate: level = n > 0 ? (int)values[0] : 6; break;
                case H5Z.FilterLzf: lzf = true; break;
                case H5Z.FilterFletcher32: fletcher = true; break;
                default: (others ??= []).Add(id); break;
            }
            int rank = id switch { H5Z.FilterShuffle => 0, H5Z.FilterDeflate or H5Z.FilterLzf => 1, H5Z.FilterFletcher32 => 2, _ => 3 };
            ordered &= rank > last;
            last = rank;
        }
        return new H5FilterPipeline(shuffle, level, lzf, fletcher, others) { InStandardOrder = ordered };
    }

    /// <summary>A readable summary, e.g. "shuffle, gzip-4, fletcher32".</summary>
    public override string ToString()
    {
        var parts = new StringBuilder();
        void Add(string s) => parts.Append(parts.Length > 0 ? ", " : "").Append(s);
        if (Shuffle) Add("shuffle");
        if (DeflateLevel > 0) Add($"gzip-{DeflateLevel}");
        if (Lzf) Add("lzf");
        if (Fletcher32) Add("fletcher32");
        foreach (var id in OtherFilters ?? []) Add($"filter {id}");
        return parts.Length == 0 ? "none" : parts.ToString();
    }
}
