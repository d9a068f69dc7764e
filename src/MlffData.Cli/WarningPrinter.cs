namespace MlffData.Cli;

/// <summary>Prints the writer's warnings to standard error: the first few in full (all with -v), then a count.</summary>
internal sealed class WarningPrinter(bool verbose)
{
    private const int Shown = 10;
    private long _count;

    internal void Add(string message)
    {
        if (verbose || _count < Shown) Console.Error.WriteLine($"warning: {message}");
        _count++;
    }

    internal void Summarize()
    {
        if (!verbose && _count > Shown) Console.Error.WriteLine($"warning: {_count - Shown:N0} more warnings not shown (use -v to see all)");
    }
}
