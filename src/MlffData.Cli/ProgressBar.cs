using System.Diagnostics;
using Spectre.Console;

namespace MlffData.Cli;

/// <summary>
/// A progress bar on standard error, drawn only when it is a terminal (so logs and pipes stay clean):
/// done/total with rate and ETA. Updates are throttled so drawing never costs measurable time.
/// </summary>
internal sealed class ProgressBar : IDisposable
{
    private readonly IAnsiConsole? _console;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _unit;
    private long _lastDraw = -1;

    internal ProgressBar(string unit, bool enabled)
    {
        _unit = unit;
        if (!enabled || Console.IsErrorRedirected) return;
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    }

    /// <summary>Shows progress: fraction done of the input (null when the reader cannot tell), and a count of items.</summary>
    internal void Report(double? known, long items)
    {
        if (_console is null) return;
        long now = _clock.ElapsedMilliseconds;
        if (_lastDraw >= 0 && now - _lastDraw < 200) return;
        _lastDraw = now;
        double seconds = Math.Max(1e-3, _clock.Elapsed.TotalSeconds);
        double rate = items / seconds;
        if (known is not { } part)
        {
            _console.Markup($"\r{items:N0} {_unit}  {rate:N0}/s  {_clock.Elapsed:hh\\:mm\\:ss} ");
            return;
        }
        double fraction = Math.Clamp(part, 0, 1);
        const int width = 30;
        int filled = (int)(fraction * width);
        string eta = fraction > 0.001 ? TimeSpan.FromSeconds(seconds * (1 - fraction) / fraction).ToString(@"hh\:mm\:ss") : "--:--:--";
        _console.Markup($"\r[green]{new string('#', filled)}[/]{new string('-', width - filled)} {fraction * 100,5:F1}%  {items:N0} {_unit}  {rate:N0}/s  ETA {eta} ");
    }

    /// <summary>Clears the bar's line.</summary>
    public void Dispose()
    {
        if (_console is null || _lastDraw < 0) return;
        _console.Write("\r" + new string(' ', 100) + "\r");
    }
}
