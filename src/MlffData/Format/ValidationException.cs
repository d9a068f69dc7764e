namespace MlffData.Format;

/// <summary>
/// A structure or its labels failed validation; nothing of it was written. The message is the seed's
/// ("Invalid energy: NaN") prefixed with the structure's index.
/// </summary>
public sealed class ValidationException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public ValidationException(long structureIndex, string field, string reason)
        : base($"Structure {structureIndex}: {reason}")
    {
        StructureIndex = structureIndex;
        Field = field;
        Reason = reason;
    }

    /// <summary>0-based index of the structure among those given to this writer.</summary>
    public long StructureIndex { get; }

    /// <summary>The field that failed: atomic_numbers, positions, cell, pbc, energy, forces or stress, or an extra
    /// named as info/NAME or arrays/NAME.</summary>
    public string Field { get; }

    /// <summary>The seed's message, without the index.</summary>
    public string Reason { get; }
}
