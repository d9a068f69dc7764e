using System.Globalization;
using System.Text.Json;
using MlffData.Hdf5;

namespace MlffData.Format;

/// <summary>
/// Turns a caller's metadata value into FORMAT.md's attribute types: integers as int64, reals as float64, bools as
/// h5py's bool, strings as UTF-8, anything nested (dictionaries, lists, records) as a JSON string.
/// </summary>
internal static class MetadataValues
{
    internal static void Write(H5Attributes attributes, string key, object? value)
    {
        switch (value)
        {
            case null: attributes.Set(key, "null"); break;
            case bool b: attributes.Set(key, b); break;
            case string s: attributes.Set(key, s); break;
            case sbyte or byte or short or ushort or int or uint or long: attributes.Set(key, Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case ulong u when u <= long.MaxValue: attributes.Set(key, (long)u); break;
            case float or double or decimal: attributes.Set(key, Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
            case DateTime t: attributes.Set(key, t.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture)); break;
            case DateTimeOffset t: attributes.Set(key, t.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture)); break;
            case JsonElement e: WriteJson(attributes, key, e); break;
            default: attributes.Set(key, JsonSerializer.Serialize(value)); break;
        }
    }

    private static void WriteJson(H5Attributes attributes, string key, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.True or JsonValueKind.False: attributes.Set(key, e.GetBoolean()); break;
            case JsonValueKind.String: attributes.Set(key, e.GetString()!); break;
            case JsonValueKind.Number when e.TryGetInt64(out long l): attributes.Set(key, l); break;
            case JsonValueKind.Number: attributes.Set(key, e.GetDouble()); break;
            default: attributes.Set(key, e.GetRawText()); break;
        }
    }
}
