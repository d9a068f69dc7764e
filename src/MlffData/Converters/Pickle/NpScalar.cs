namespace MlffData.Converters.Pickle;

/// <summary>
/// A numpy scalar (np.float64, np.int32, np.bool_, ...), pickled as <c>numpy.core.multiarray.scalar(dtype, bytes)</c>:
/// one element of <see cref="Dtype"/> held as an array of one, so it converts as numpy converts.
/// </summary>
/// <param name="Value">A 0-d array holding the element.</param>
internal sealed record NpScalar(NdArray Value)
{
    /// <summary>The scalar's dtype.</summary>
    public NpDtype Dtype => Value.Dtype;
}
