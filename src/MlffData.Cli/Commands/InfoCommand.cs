using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlffData.Format;
using MlffData.Hdf5;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data info</c>: counts, elements, periodicity, stress coverage, energy and force statistics, every dataset's
/// storage, the metadata and the FORMAT.md layout check of one file, as text or as one JSON object. A file that fails
/// the check is still described as far as it can be, and the command exits 1 with the problem on standard error.
/// </summary>
internal static class InfoCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        // Metadata is free text (units such as Å): keep it readable; the output goes to a terminal or a file, not HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "HDF5 dataset file" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var verbose = CliOptions.Verbose();

        var command = new Command("info", "Describe a dataset file: counts, elements, statistics, storage, metadata and the layout check")
        {
            file, json, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            string path = result.GetValue(file)!.FullName;
            try
            {
                if (WorkerProcess.RunInWorker(new WorkerPlan([path]) { BytesPerSecond = WorkerPlan.ReadingRate }) is { } exit) return exit;
                var summary = DatasetSummary.Read(path);
                Console.Out.Write(result.GetValue(json) ? ToJson(summary).ToJsonString(JsonOptions) + "\n" : ToText(summary));
                Console.Out.Flush();
                return summary.LayoutError is { } problem ? ErrorReporter.Report(problem, isVerbose) : 0;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
        });
        return command;
    }

    private static string ToText(DatasetSummary summary)
    {
        var text = new StringBuilder();
        void Line(string label, string value) => text.Append(CultureInfo.InvariantCulture, $"{label,-18}{value}\n");

        Line("File", $"{summary.FileName} ({ByteSize.Format(summary.FileSize)})");
        if (summary.Contents is { } c)
        {
            Line("Structures", $"{c.NumStructures:N0}");
            string perStructure = c.AtomsPerStructureMin is null ? ""
                : $" (per structure: min {c.AtomsPerStructureMin:N0}, mean {c.AtomsPerStructureMean:F1}, max {c.AtomsPerStructureMax:N0})";
            Line("Atoms", $"{c.NumAtoms:N0}{perStructure}");
            Line("Elements", c.Elements.Count == 0 ? "none" : $"{c.Elements.Count} (atoms, structures)");
            foreach (var e in c.Elements)
                text.Append(CultureInfo.InvariantCulture, $"  {e.Symbol,-6}{e.Atoms,14:N0}{e.Structures,12:N0}\n");
            Line("PBC", c.PbcKinds.Count == 0 ? "none"
                : string.Join(", ", c.PbcKinds.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value:N0}")));
            Line("Stress", $"{c.StressCount:N0} of {c.NumStructures:N0} structures{Percent(c.StressCount, c.NumStructures)}");
            Line("Energy (eV)", c.EnergyMin is null ? "none"
                : $"min {Number(c.EnergyMin)}, max {Number(c.EnergyMax)}, mean {Number(c.EnergyMean)}, std {Number(c.EnergyStd)}");
            if (c.EnergyPerAtomMean is not null)
                Line("  per atom", $"mean {Number(c.EnergyPerAtomMean)}, std {Number(c.EnergyPerAtomStd)}");
            Line("Forces (eV/Å)", c.MaxAbsForce is null ? "none"
                : $"max |component| {Number(c.MaxAbsForce)}, max |F| {Number(c.MaxForceNorm)}, RMS {Number(c.RmsForce)}");
        }

        text.Append("Datasets\n");
        string[] header = ["path", "dtype", "shape", "chunks", "filters", "stored", "ratio"];
        var rows = summary.Datasets.Select(d => new[]
        {
            d.Path, d.DType, Shape(d.Shape), d.Chunks is null ? "contiguous" : Shape(d.Chunks), d.Filters.ToString(),
            ByteSize.Format(d.StorageBytes), d.CompressionRatio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-",
        }).Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            // Sizes and ratios read best right-aligned; the rest left-aligned.
            var cells = row.Select((cell, i) => i >= 5 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
            text.Append("  ").Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }

        text.Append("Metadata\n");
        if (summary.Metadata.Count == 0) text.Append("  none\n");
        int keyWidth = summary.Metadata.Count == 0 ? 0 : summary.Metadata.Keys.Max(k => k.Length);
        foreach (var (key, value) in summary.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
            text.Append("  ").Append(key.PadRight(keyWidth)).Append("  ").Append(MetadataText(value)).Append('\n');

        Line("Layout", summary.LayoutError is { } problem ? $"FAILED: {problem.Message}" : "ok (FORMAT.md)");
        return text.ToString();
    }

    private static JsonObject ToJson(DatasetSummary summary)
    {
        var c = summary.Contents;
        var root = new JsonObject
        {
            ["file"] = summary.FileName,
            ["file_size"] = summary.FileSize,
            ["num_structures"] = c?.NumStructures,
            ["num_atoms"] = c?.NumAtoms,
        };
        if (c is not null)
        {
            root["atoms_per_structure"] = new JsonObject
            {
                ["min"] = c.AtomsPerStructureMin,
                ["mean"] = Json(c.AtomsPerStructureMean),
                ["max"] = c.AtomsPerStructureMax,
            };
            var elements = new JsonObject();
            foreach (var e in c.Elements)
                elements[e.Symbol] = new JsonObject { ["atomic_number"] = e.AtomicNumber, ["atoms"] = e.Atoms, ["structures"] = e.Structures };
            root["elements"] = elements;
            var pbc = new JsonObject();
            foreach (var (kind, count) in c.PbcKinds) pbc[kind] = count;
            root["pbc"] = pbc;
            root["stress_coverage"] = new JsonObject
            {
                ["structures"] = c.StressCount,
                ["fraction"] = c.NumStructures > 0 ? Json((double)c.StressCount / c.NumStructures) : null,
            };
            root["energy"] = new JsonObject
            {
                ["min"] = Json(c.EnergyMin), ["max"] = Json(c.EnergyMax), ["mean"] = Json(c.EnergyMean), ["std"] = Json(c.EnergyStd),
                ["per_atom_mean"] = Json(c.EnergyPerAtomMean), ["per_atom_std"] = Json(c.EnergyPerAtomStd),
            };
            root["forces"] = new JsonObject
            {
                ["max_abs_component"] = Json(c.MaxAbsForce), ["max_norm"] = Json(c.MaxForceNorm), ["rms"] = Json(c.RmsForce),
            };
        }
        else
        {
            foreach (var key in new[] { "atoms_per_structure", "elements", "pbc", "stress_coverage", "energy", "forces" }) root[key] = null;
        }

        var datasets = new JsonArray();
        foreach (var d in summary.Datasets)
            datasets.Add(new JsonObject
            {
                ["path"] = d.Path,
                ["dtype"] = d.DType,
                ["shape"] = new JsonArray(d.Shape.Select(n => (JsonNode?)n).ToArray()),
                ["chunks"] = d.Chunks is null ? null : new JsonArray(d.Chunks.Select(n => (JsonNode?)n).ToArray()),
                ["filters"] = d.Filters.ToString(),
                ["compression"] = d.Filters.CompressionName,
                ["storage_bytes"] = d.StorageBytes,
                ["logical_bytes"] = d.LogicalBytes,
            });
        root["datasets"] = datasets;

        var metadata = new JsonObject();
        foreach (var (key, value) in summary.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) metadata[key] = MetadataJson(value);
        root["metadata"] = metadata;
        root["layout"] = new JsonObject
        {
            ["ok"] = summary.LayoutOk,
            ["problem"] = summary.LayoutError?.Message,
        };
        return root;
    }

    // JSON has no NaN or infinity: spell them as strings, as System.Text.Json's named floating-point literals do.
    private static JsonNode? Json(double? value) => value switch
    {
        null => null,
        { } v when double.IsFinite(v) => v,
        { } v => v.ToString(CultureInfo.InvariantCulture),
    };

    private static JsonNode? MetadataJson(object value) => value switch
    {
        long l => l,
        double d => Json(d),
        bool b => b,
        string s => s,
        long[] a => new JsonArray(a.Select(x => (JsonNode?)x).ToArray()),
        double[] a => new JsonArray(a.Select(x => Json(x)).ToArray()),
        bool[] a => new JsonArray(a.Select(x => (JsonNode?)x).ToArray()),
        _ => value.ToString(),
    };

    private static string MetadataText(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        long[] a => $"[{string.Join(", ", a)}]",
        double[] a => $"[{string.Join(", ", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))}]",
        bool[] a => $"[{string.Join(", ", a.Select(x => x ? "true" : "false"))}]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Number(double? value) => value?.ToString("F4", CultureInfo.InvariantCulture) ?? "-";

    private static string Percent(long part, long whole) =>
        whole == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({100.0 * part / whole:F1}%)");

    // numpy's spelling: (930,) for one axis, () for a scalar.
    private static string Shape(IReadOnlyList<ulong> dims) =>
        dims.Count == 1 ? $"({dims[0]},)" : $"({string.Join(", ", dims)})";
}
