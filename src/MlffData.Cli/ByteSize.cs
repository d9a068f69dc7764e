using System.Globalization;

namespace MlffData.Cli;

/// <summary>Byte counts as people read them (binary units), for summaries and tables.</summary>
internal static class ByteSize
{
    internal static string Format(long bytes) =>
        bytes >= 1 << 30 ? Scaled(bytes, 1 << 30, "F2", "GiB")
        : bytes >= 1 << 20 ? Scaled(bytes, 1 << 20, "F2", "MiB")
        : bytes >= 1 << 10 ? Scaled(bytes, 1 << 10, "F1", "KiB")
        : $"{bytes} B";

    private static string Scaled(long bytes, long unit, string format, string name) =>
        $"{(bytes / (double)unit).ToString(format, CultureInfo.InvariantCulture)} {name}";
}
