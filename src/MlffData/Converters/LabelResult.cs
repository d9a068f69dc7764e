using MlffData.Format;

namespace MlffData.Converters;

/// <summary>
/// What a teacher calculator gave for one structure: its labels, or the error that labelling it raised. A batch
/// returns one per structure, so one structure that fails does not lose the others.
/// </summary>
/// <param name="Labels">Energy (eV), forces (eV/Å) and stress (eV/Å³, Voigt; null unless the structure is periodic on
/// all three axes and the calculator computes stress); null when labelling failed.</param>
/// <param name="Error">Why labelling failed, with the Python traceback as its inner exception; null on success.</param>
public sealed record LabelResult(Labels? Labels, LabelingException? Error)
{
    /// <summary>True when the structure was labelled.</summary>
    public bool Succeeded => Labels is not null;

    /// <summary>The labels of a structure that was labelled.</summary>
    /// <exception cref="LabelingException">Labelling this structure failed (the stored <see cref="Error"/>).</exception>
    public Labels GetLabels() => Labels ?? throw Error!;

    /// <summary>A labelled structure.</summary>
    public static LabelResult Success(Labels labels) => new(labels ?? throw new ArgumentNullException(nameof(labels)), null);

    /// <summary>A structure whose labelling failed.</summary>
    public static LabelResult Failure(LabelingException error) => new(null, error ?? throw new ArgumentNullException(nameof(error)));
}
