namespace MlffData.Converters.Pickle;

/// <summary>
/// The one bound method an ASE pickle holds: ASE 3.22's <c>Calculator.__init__</c> stores
/// <c>self.get_spin_polarized = self._deprecated_get_spin_polarized</c>, pickled as getattr(calc, name). Never called.
/// </summary>
/// <param name="Owner">The calculator object.</param>
/// <param name="Name">The method's name.</param>
internal sealed record PyBoundMethod(PyInstance Owner, string Name);
