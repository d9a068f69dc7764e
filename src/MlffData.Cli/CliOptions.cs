using System.CommandLine;

namespace MlffData.Cli;

/// <summary>Options several commands share, declared once.</summary>
internal static class CliOptions
{
    /// <summary>-v: show warnings in full and stack traces on errors.</summary>
    internal static Option<bool> Verbose() => new("--verbose", "-v") { Description = "Print stack traces on errors and every warning" };

    /// <summary>--no-progress: never draw a progress bar.</summary>
    internal static Option<bool> NoProgress() => new("--no-progress") { Description = "Do not draw a progress bar (it is only drawn on a terminal anyway)" };

    /// <summary>-m key=value, repeatable.</summary>
    internal static Option<string[]> Metadata() => new("--metadata", "-m")
    {
        Description = "Extra metadata key=value (repeatable); numbers, true/false and JSON objects keep their type",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>--file-locking on|off|best-effort: libhdf5's flock on the output (our own lock file is always taken).</summary>
    internal static Option<string?> FileLocking()
    {
        var option = new Option<string?>("--file-locking")
        {
            Description = "libhdf5's lock on the output: on, off or best-effort (default: HDF5_USE_FILE_LOCKING, else on; the variable wins when both are set). " +
                          "Our own OUTPUT.lock file, which keeps a second writer out, is taken in every mode",
        };
        option.AcceptOnlyFromAmong("on", "off", "best-effort");
        return option;
    }
}
