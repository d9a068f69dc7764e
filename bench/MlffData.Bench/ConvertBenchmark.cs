using System.Text;
using MlffData.Converters;
using MlffData.Format;

namespace MlffData.Bench;

/// <summary>
/// End to end: `mlff-data convert` (the Release CLI dll, as a child process) against ASE read + h5py batch write
/// (scripts/ase_h5py_peer_convert.py), on an extxyz and an ASE pickle made once per run from the benchmark data.
/// Both are timed from outside as whole processes (start-up included) and their peak RSS is the kernel's.
/// </summary>
internal static class ConvertBenchmark
{
    internal sealed record Row(string Format, string Compression, long Structures, long Atoms, long InputBytes,
        MeasuredProcess.Result Ours, MeasuredProcess.Result? Peer);

    private static string Cli(string repo)
    {
        string dll = Path.Combine(repo, "artifacts", "cli", "mlff-data.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} not found: run scripts/mlff-data --build-only (scripts/bench does)", dll);
        return dll;
    }

    /// <summary>extxyz and pickle, gzip-4 and none, ours and the peer, each the median of <paramref name="repeats"/> runs.</summary>
    internal static List<Row> Run(string repo, string reference, string work, List<LabelledStructure> data, int repeats)
    {
        long atoms = data.Sum(d => (long)d.Structure.NumAtoms);
        var (extxyz, pickle) = MakeInputs(repo, reference, work, data);
        var rows = new List<Row>();
        foreach (var (format, input) in new[] { ("extxyz", extxyz), ("pickle", pickle) })
            foreach (var compression in new[] { "gzip-4", "none" })
            {
                Console.Error.WriteLine($"convert, {format}, {compression} ...");
                var ours = MeasuredProcess.Median(repeats, () => RunOurs(repo, input, Path.Combine(work, "convert-ours.h5"), compression));
                var peer = MeasuredProcess.Median(repeats, () => RunPeer(repo, input, Path.Combine(work, "convert-peer.h5"), format, compression));
                rows.Add(new Row(format, compression, data.Count, atoms, new FileInfo(input).Length, ours, peer));
            }
        File.Delete(extxyz);
        File.Delete(pickle);
        return rows;
    }

    /// <summary>The two inputs, input.extxyz (our ExtxyzWriter) and input.pkl (the peer's make-pickle), in <paramref name="directory"/>.</summary>
    internal static (string Extxyz, string Pickle) MakeInputs(string repo, string reference, string directory, List<LabelledStructure> data)
    {
        Directory.CreateDirectory(directory);
        string extxyz = Path.Combine(directory, "input.extxyz");
        WriteExtxyz(data, extxyz);
        string pickle = Path.Combine(directory, "input.pkl");
        PeerProcess.Run(repo, "ase_h5py_peer_convert.py", "make-pickle", reference, pickle, "--count", data.Count.ToString());
        return (extxyz, pickle);
    }

    /// <summary>
    /// The memory run: an extxyz of at least <paramref name="targetAtoms"/> atoms, generated streaming into a temp
    /// file, converted once with gzip-4 (and by the peer too when <paramref name="withPeer"/>), then deleted.
    /// </summary>
    internal static Row Large(string repo, string reference, string work, long targetAtoms, bool withPeer)
    {
        string extxyz = Path.Combine(work, "large.extxyz");
        long structures = 0, atoms = 0;
        Console.Error.WriteLine($"generating an extxyz of {targetAtoms:N0} atoms ...");
        using (var writer = new ExtxyzWriter(new StreamWriter(extxyz, false, new UTF8Encoding(false), 1 << 16)))
            foreach (var item in ReferenceData.Stream(reference, seed: 1))
            {
                if (atoms >= targetAtoms) break;
                writer.Write(item);
                structures++;
                atoms += item.Structure.NumAtoms;
            }
        try
        {
            Console.Error.WriteLine($"convert, {structures:N0} structures ({atoms:N0} atoms), gzip-4 ...");
            var ours = RunOurs(repo, extxyz, Path.Combine(work, "large-ours.h5"), "gzip-4");
            File.Delete(Path.Combine(work, "large-ours.h5"));
            MeasuredProcess.Result? peer = null;
            if (withPeer)
            {
                Console.Error.WriteLine("convert, the same with ASE + h5py ...");
                peer = RunPeer(repo, extxyz, Path.Combine(work, "large-peer.h5"), "extxyz", "gzip-4");
                File.Delete(Path.Combine(work, "large-peer.h5"));
            }
            return new Row("extxyz", "gzip-4", structures, atoms, new FileInfo(extxyz).Length, ours, peer);
        }
        finally
        {
            File.Delete(extxyz);
        }
    }

    private static void WriteExtxyz(List<LabelledStructure> data, string path)
    {
        using var writer = new ExtxyzWriter(new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16));
        foreach (var item in data) writer.Write(item);
    }

    private static MeasuredProcess.Result RunOurs(string repo, string input, string output, string compression)
    {
        string[] codec = compression == "none" ? ["-c", "none"] : ["-c", "gzip", "--compression-level", compression["gzip-".Length..]];
        return MeasuredProcess.Run(repo, output, "dotnet", [Cli(repo), "convert", "-i", input, "-o", output, "--no-progress", .. codec]);
    }

    private static MeasuredProcess.Result RunPeer(string repo, string input, string output, string format, string compression) =>
        MeasuredProcess.Run(repo, output, "/usr/bin/python3",
            Path.Combine(repo, "scripts", "ase_h5py_peer_convert.py"), "convert", input, output, "--format", format, "--compression", compression);
}
