using System.CommandLine;
using MlffData.Cli.Commands;

namespace MlffData.Cli;

/// <summary>The <c>mlff-data</c> tool: one subcommand per job, each mapping library exceptions to exit codes.</summary>
public static class Program
{
    /// <summary>Runs the tool; returns the exit code.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("mlff-data: write machine-learning force-field datasets into HDF5 (FORMAT.md layout), read back by plain h5py.");
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(LabelCommand.Create());
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        return root.Parse(args).Invoke();
    }
}
