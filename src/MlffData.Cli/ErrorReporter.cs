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
            H5Exception h => $"HDF5: {h.Message}",
            NativeLibraryLoadException => e.Message,
            ArgumentException or InvalidOperationException => e.Message,
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        Console.Error.WriteLine($"error: {OneLine(message)}");
        if (verbose) Console.Error.WriteLine(e.ToString());
        return Failure;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
