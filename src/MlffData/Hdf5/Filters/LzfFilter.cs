using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MlffData.Native;

namespace MlffData.Hdf5.Filters;

/// <summary>
/// h5py's LZF filter (id 32000) registered with libhdf5 through H5Zregister, so that we read h5py's lzf files and
/// h5py reads ours with no plugin. The codec is <see cref="LzfCodec"/>; this class is only the H5Z glue.
/// </summary>
internal static class LzfFilter
{
    // Decompressing into a buffer that keeps growing must stop somewhere: a hostile file could claim anything.
    private const long MaxChunkBytes = 1L << 31;

    private static bool _registered;

    /// <summary>Registers the filter once per process; libhdf5 must be loaded.</summary>
    internal static unsafe void Register()
    {
        if (_registered) return;
        var filterClass = new H5Z.Class2
        {
            Version = H5Z.ClassVersion,
            Id = H5Z.FilterLzf,
            EncoderPresent = 1,
            DecoderPresent = 1,
            // libhdf5 keeps this pointer for the life of the process: the string is never freed on purpose.
            Name = (byte*)Marshal.StringToCoTaskMemUTF8("lzf"),
            Filter = &Run,
        };
        H5Error.Check(H5Z.Register(&filterClass), "H5Zregister", "lzf");
        _registered = true;
    }

    /// <summary>H5Z_func_t: returns the number of valid bytes in *buffer, or 0 for failure.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe nuint Run(uint flags, nuint valueCount, uint* values, nuint bytes, nuint* bufferSize, void** buffer)
    {
        // Runs inside libhdf5: any exception must become the failure return, never unwind through native frames.
        try
        {
            if (bytes > int.MaxValue) return 0;
            var input = new ReadOnlySpan<byte>(*buffer, (int)bytes);
            return (flags & H5Z.FlagReverse) == 0
                ? Compress(input, bufferSize, buffer)
                : Decompress(input, valueCount >= 3 ? values[2] : 0, bufferSize, buffer);
        }
        catch
        {
            return 0;
        }
    }

    private static unsafe nuint Compress(ReadOnlySpan<byte> input, nuint* bufferSize, void** buffer)
    {
        // Output no larger than the input: when LZF cannot shrink a chunk the filter fails, and because it is
        // optional libhdf5 stores that chunk uncompressed (h5py's filter behaves the same way).
        nuint capacity = (nuint)input.Length;
        if (capacity == 0) return 0;
        nint output = H5.AllocateMemory(capacity, false);
        if (output == 0) return 0;
        int written = LzfCodec.Compress(input, new Span<byte>((void*)output, (int)capacity));
        if (written <= 0)
        {
            H5.FreeMemory(output);
            return 0;
        }
        H5.FreeMemory((nint)(*buffer));
        *buffer = (void*)output;
        *bufferSize = capacity;
        return (nuint)written;
    }

    private static unsafe nuint Decompress(ReadOnlySpan<byte> input, uint chunkBytes, nuint* bufferSize, void** buffer)
    {
        // h5py and we record the chunk's byte size in the filter's parameters. A chunk never holds more than that,
        // so output that does not fit is corruption, not a reason to grow (a hostile file could claim gigabytes).
        // Files without the size (other writers) are grown as h5py does, up to a fixed cap.
        long capacity = chunkBytes != 0 ? chunkBytes : (long)*bufferSize;
        while (capacity > 0 && capacity <= MaxChunkBytes)
        {
            nint output = H5.AllocateMemory((nuint)capacity, false);
            if (output == 0) return 0;
            int written = LzfCodec.Decompress(input, new Span<byte>((void*)output, (int)Math.Min(capacity, int.MaxValue)));
            if (written >= 0)
            {
                H5.FreeMemory((nint)(*buffer));
                *buffer = (void*)output;
                *bufferSize = (nuint)capacity;
                return (nuint)written;
            }
            H5.FreeMemory(output);
            if (chunkBytes != 0) return 0;
            capacity += Math.Max((long)*bufferSize, 1);
        }
        return 0;
    }
}
