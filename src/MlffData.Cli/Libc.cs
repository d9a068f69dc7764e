using System.Runtime.InteropServices;

namespace MlffData.Cli;

/// <summary>
/// The libc calls the worker process needs and .NET does not expose: sending a signal other than SIGKILL, and asking
/// the kernel to kill the worker when the tool that started it dies. Declared here, not in the library's Native layer,
/// because starting and supervising processes is the CLI's business only.
/// </summary>
internal static partial class Libc
{
    internal const int SigInt = 2;
    internal const int SigIll = 4;
    internal const int SigAbrt = 6;
    internal const int SigBus = 7;
    internal const int SigFpe = 8;
    internal const int SigKill = 9;
    internal const int SigSegv = 11;
    internal const int SigTerm = 15;

    // prctl(2) option: the signal this process gets when the thread that started it ends.
    private const int PrSetPdeathsig = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    internal static partial int GetParentProcessId();

    // prctl is variadic in C; glibc reads the four unsigned longs after the option whatever the option.
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>Has the kernel send <paramref name="signal"/> to this process when its parent ends; false when refused.</summary>
    internal static bool SetParentDeathSignal(int signal) => Prctl(PrSetPdeathsig, (nuint)signal, 0, 0, 0) == 0;
}
