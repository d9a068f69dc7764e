using System.Globalization;
using System.Text.Json;

namespace MlffData.Cli;

/// <summary>Parses <c>-m key=value</c> arguments into typed metadata: int64, float64, bool, JSON object/array, or string.</summary>
internal static class MetadataArguments
{
    /// <exception cref="ArgumentException">An argument has no '=' or an empty key.</exception>
    internal static Dictionary<string, object?> Parse(IEnumerable<string>? arguments)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var argument in arguments ?? [])
        {
            int eq = argument.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"Metadata '{argument}' is not key=value");
            result[argument[..eq]] = Value(argument[(eq + 1)..]);
        }
        return result;
    }

    private static object Value(string text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        if (text is "true" or "True") return true;
        if (text is "false" or "False") return false;
        if (text.StartsWith('{') || text.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON after all: keep the text as it was given.
            }
        }
        return text;
    }
}
