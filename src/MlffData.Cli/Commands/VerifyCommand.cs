using System.CommandLine;
using MlffData.Format;

namespace MlffData.Cli.Commands;

/// <summary>
/// <c>mlff-data verify FILE...</c>: reads everything in each file, so that every chunk's checksum is checked, and its
/// consistency (see <see cref="DatasetVerifier"/>). Prints one line per file, then one per problem; exits 0 when every
/// file is sound and 1 otherwise.
/// </summary>
internal static class VerifyCommand
{
    internal static Command Create()
    {
        var files = new Argument<FileInfo[]>("FILE") { Description = "HDF5 dataset files", Arity = ArgumentArity.OneOrMore };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print problems only" };
        var verbose = CliOptions.Verbose();
        var command = new Command("verify", "Read every chunk of a dataset file, checking its checksums, layout and statistics")
        {
            files, quiet, verbose,
        };
        command.SetAction(result =>
        {
            bool isVerbose = result.GetValue(verbose);
            try
            {
                var plan = new WorkerPlan([.. result.GetValue(files)!.Select(f => f.FullName)]) { BytesPerSecond = WorkerPlan.ReadingRate };
                if (WorkerProcess.RunInWorker(plan) is { } code) return code;
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, isVerbose);
            }
            int exit = 0;
            foreach (var file in result.GetValue(files)!)
            {
                try
                {
                    var report = DatasetVerifier.Verify(file.FullName);
                    if (!report.Ok || !result.GetValue(quiet)) Console.Out.WriteLine(Line(file.ToString(), report));
                    foreach (var problem in report.Problems) Console.Out.WriteLine($"  {problem}");
                    if (!report.Ok) exit = ErrorReporter.Failure;
                }
                catch (Exception e)
                {
                    exit = ErrorReporter.Report(e, isVerbose);
                }
            }
            return exit;
        });
        return command;
    }

    private static string Line(string file, VerificationReport report)
    {
        string what = report.Structures >= 0 ? $"{report.Structures:N0} structures, {report.Atoms:N0} atoms; " : "";
        string read = $"{report.Datasets} datasets, {report.Chunks:N0} chunks read";
        string checksums = report.WithoutChecksum.Count == 0 ? "every chunk checksummed"
            : report.WithoutChecksum.Count == report.Datasets ? "no checksums (written by another tool or an older version): values read, not verifiable"
            : $"without checksum: {string.Join(", ", report.WithoutChecksum)}";
        return report.Ok
            ? $"{file}: ok ({what}{read}; {checksums})"
            : $"{file}: FAILED, {report.Problems.Count} problem(s) ({what}{read}; {checksums})";
    }
}
