using MlffData.Converters;
using MlffData.Format;
using MlffData.Hdf5;
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
            IOException io when DotnetSystemError(io) is { } system => system,
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
            ? $"{file}: {match.Groups["text"].Value} (errno {match.Groups["errno"].Value}) while writing{where}; {Aftermath(file)}"
            : $"{file}: {match.Groups["text"].Value} (errno {match.Groups["errno"].Value}) while reading{where}";
    }

    /// <summary>
    /// .NET's own words for a failed write of a file beside the output (a journal, the lock): "No space left on device :
    /// 'PATH'", said the way libhdf5's are above. Null for any other I/O error.
    /// </summary>
    private static string? DotnetSystemError(IOException e)
    {
        var match = System.Text.RegularExpressions.Regex.Match(e.Message, @"^(?<text>No space left on device|Input/output error|Disk quota exceeded) : '(?<file>[^']*)'");
        if (!match.Success) return null;
        string file = match.Groups["file"].Value;
        foreach (var suffix in new[] { ".tmp", CheckpointJournal.Suffix, RollbackJournal.Suffix, OutputLock.Suffix, HDF5DatasetWriter.PartialSuffix })
            if (file.EndsWith(suffix, StringComparison.Ordinal)) file = file[..^suffix.Length];
        return $"{match.Groups["file"].Value}: {match.Groups["text"].Value} while writing; {Aftermath(file)}";
    }

    /// <summary>
    /// What a failed write left of <paramref name="output"/>: a new file is never renamed into place, and an append
    /// puts the file back by itself; when it could not (the disk is still failing), its journals are there and a
    /// repair does it.
    /// </summary>
    private static string Aftermath(string output) =>
        RollbackJournal.Exists(output) || CheckpointJournal.Exists(output)
            ? $"{output} is put back to its last checkpoint by `mlff-data repair {output}` (or the next append), once the disk can be written"
            : "the output was not written, and a file that was there is unchanged";
}
