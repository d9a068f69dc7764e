using System.Runtime.InteropServices;

namespace MlffData.Native;

/// <summary>A libc file call failed; keeps the errno, so that a full disk (28) or an I/O error (5) can be told apart.</summary>
public sealed class PosixException : IOException
{
    /// <summary>Creates the exception: "PATH: TEXT (errno N) while OPERATION-ing".</summary>
    public PosixException(string path, string operation, int errno)
        : base($"{path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}) while {Gerund(operation)} it")
    {
        Path = path;
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What was being done: read, write, sync or truncate.</summary>
    public string Operation { get; }

    /// <summary>The C library's error number.</summary>
    public int Errno { get; }

    /// <summary>The C library's words for the error (strerror).</summary>
    public string Text => Marshal.GetPInvokeErrorMessage(Errno);

    private static string Gerund(string operation) => operation switch
    {
        "write" => "writing",
        "sync" => "syncing",
        "truncate" => "truncating",
        _ => operation + "ing",
    };
}
