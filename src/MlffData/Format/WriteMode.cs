namespace MlffData.Format;

/// <summary>How <see cref="HDF5DatasetWriter"/> treats an existing file at its path.</summary>
public enum WriteMode
{
    /// <summary>Write a new file beside the target and rename it over the target on Complete().</summary>
    Overwrite,

    /// <summary>Continue an existing file of this format in place; create it when missing.</summary>
    Append,
}
