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
}
