using MlffData.Converters;
using MlffData.Format;
using MlffData.Labeling;
using MlffData.Native;
using MlffData.Python;

namespace MlffData.Cli;

/// <summary>
/// Turns an exception into one line on standard error and an exit code; the stack trace only with -v.
/// </summary>
internal static class ErrorReporter
{
    /// <summary>Exit code for bad input or a failed write.</summary>
    internal const int Failure = 1;

    internal static int Report(Exception e, bool verbose)
    {
        if (e is PythonNotFoundException)
        {
            // The one multi-line error: each interpreter tried gets its own line, then the fix.
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e.ToString());
            return Failure;
        }
        string message = e switch
        {
            ConversionException or DatasetFormatException or ValidationException or LabelingStoppedException or TeacherSetupException => e.Message,
            FileNotFoundException f => $"{f.FileName ?? f.Message}: no such file",
            DirectoryNotFoundException or UnauthorizedAccessException or IOException => e.Message,
            H5Exception h => SystemError(h) is { } system ? system : $"HDF5: {h.Message}",
            NativeLibraryLoadException => e.Message,
            ArgumentException or InvalidOperationException => e.Message,
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        Console.Error.WriteLine($"error: {OneLine(message)}");
        if (verbose) Console.Error.WriteLine(e.ToString());
        return Failure;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary>
    /// A failed write or read of the file system (a full disk, an I/O error) said plainly: libhdf5 words it as one long
    /// line of its own state ("file write failed: time = ..., errno = 28, error message = 'No space left on device',
    /// ..."). The output was not written (a new file's partial file is deleted, an append is cut back), which the
    /// message says too.
    /// </summary>
    private static string? SystemError(H5Exception e)
    {
        var match = System.Text.RegularExpressions.Regex.Match(e.Message,
            @"file (?<what>write|read) failed: .*?filename = '(?<file>[^']*)'.*?errno = (?<errno>\d+), error message = '(?<text>[^']*)'", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (!match.Success) return null;
        string file = match.Groups["file"].Value;
        if (file.EndsWith(Format.HDF5DatasetWriter.PartialSuffix, StringComparison.Ordinal)) file = file[..^Format.HDF5DatasetWriter.PartialSuffix.Length];
        string where = e.ObjectPath is { Length: > 0 } path ? $" ({path})" : "";
        return match.Groups["what"].Value == "write"
            ? $"{file}: {match.Groups["text"].Value} (errno {match.Groups["errno"].Value}) while writing{where}; the output was not written, and a file that was there is unchanged"
            : $"{file}: {match.Groups["text"].Value} (errno {match.Groups["errno"].Value}) while reading{where}";
    }
}
