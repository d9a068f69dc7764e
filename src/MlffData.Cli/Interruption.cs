using System.Runtime.InteropServices;

namespace MlffData.Cli;

/// <summary>
/// SIGINT and SIGTERM caught for the length of a command, so that it stops at a safe point instead of dying with its
/// output half-written: label completes what it has, convert and merge throw their output away (the old file stays,
/// an append is rolled back). The exit code then says which signal it was, as a shell expects: 130 or 143.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private const int ExitAfterSigint = 130;
    private const int ExitAfterSigterm = 143;

    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;
    private PosixSignal? _signal;

    /// <summary>Catches both signals from now until Dispose.</summary>
    internal Interruption()
    {
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    /// <summary>Cancelled at the first signal.</summary>
    internal CancellationToken Token => _cancel.Token;

    /// <summary>Whether a signal came.</summary>
    internal bool Interrupted => _signal is not null;

    /// <summary>The exit code for the signal that came: 130 for SIGINT, 143 for SIGTERM.</summary>
    internal int ExitCode => _signal == PosixSignal.SIGTERM ? ExitAfterSigterm : ExitAfterSigint;

    private void Stop(PosixSignalContext context)
    {
        // Handled here: the process stays alive to reach its safe point.
        context.Cancel = true;
        _signal ??= context.Signal;
        _cancel.Cancel();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _cancel.Dispose();
    }
}
