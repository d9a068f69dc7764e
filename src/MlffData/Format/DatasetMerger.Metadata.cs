using System.Collections;
using System.Text.Json.Nodes;

namespace MlffData.Format;

// The metadata of a merge: what all inputs agree on stays as it was, what they disagree on is kept for each input
// (a JSON list in input order), and merged_from says which files, with how many structures, made the output.
public static partial class DatasetMerger
{
    private static Dictionary<string, object?> CombineMetadata(Source[] sources, long[]? offsets, IReadOnlyDictionary<string, object?> callers)
    {
        var combined = new Dictionary<string, object?>(StringComparer.Ordinal);
        // The writer recomputes its own keys for the merged rows; an input's merged_from goes into its merged_from entry.
        var keys = sources.SelectMany(s => s.Metadata.Keys)
            .Where(k => !FormatNames.ReservedMetadata.Contains(k) && k != MergedFromKey)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var values = sources.Select(s => s.Metadata.GetValueOrDefault(key)).ToArray();
            if (values.All(v => v is not null && Same(v, values[0]!))) combined[key] = values[0];
            else combined[key] = new JsonArray(values.Select(ToJson).ToArray()).ToJsonString();
        }

        var mergedFrom = new JsonArray();
        for (int k = 0; k < sources.Length; k++)
        {
            var source = sources[k];
            var entry = new JsonObject
            {
                ["file"] = Path.GetFullPath(source.Path),
                ["num_structures"] = source.Count,
                ["num_atoms"] = source.Atoms,
            };
            if (offsets is not null) entry["structure_index_offset"] = offsets[k];
            if (source.Metadata.GetValueOrDefault(FormatNames.Created) is string created) entry[FormatNames.Created] = created;
            // A merge of merges keeps its whole history.
            if (source.Metadata.GetValueOrDefault(MergedFromKey) is string nested && TryParse(nested) is { } history)
                entry[MergedFromKey] = history;
            mergedFrom.Add(entry);
        }
        combined[MergedFromKey] = mergedFrom.ToJsonString();

        foreach (var (key, value) in callers) combined[key] = value;
        return combined;
    }

    private static bool Same(object a, object b) =>
        a is Array || b is Array ? StructuralComparisons.StructuralEqualityComparer.Equals(a, b) : a.Equals(b);

    /// <summary>An attribute value as JSON: numbers, bools and strings as themselves, arrays as lists, NaN and the
    /// infinities (which JSON lacks) as the strings "NaN", "Infinity", "-Infinity", as Python's json module reads them back.</summary>
    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        double d when !double.IsFinite(d) => JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        double d => JsonValue.Create(d),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        Array array => new JsonArray(array.Cast<object?>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };

    private static JsonNode? TryParse(string json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not ours after all (another tool's attribute of that name): left out rather than refusing the merge.
            return null;
        }
    }
}
