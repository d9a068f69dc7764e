namespace MlffData.Format;

/// <summary>A file does not follow FORMAT.md; the message names the file, the dataset and what is wrong.</summary>
public sealed class DatasetFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatasetFormatException(string file, string? dataset, string problem, Exception? inner = null)
        : base($"{file}: {(dataset is null ? "" : dataset + ": ")}{problem}", inner)
    {
        File = file;
        Dataset = dataset;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>The dataset or group at fault, when one is.</summary>
    public string? Dataset { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
