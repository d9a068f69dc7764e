namespace MlffData.Converters.Pickle;

/// <summary>
/// An object of one of the allowed classes, never constructed as the class: only its state is kept (what BUILD gave its
/// <c>__dict__</c>, and for Parameters, a dict subclass, its items), so the mapping reads plain values and nothing of
/// the class runs, as safe_pickle.clean() reads <c>vars(obj)</c>.
/// </summary>
internal sealed class PyInstance
{
    /// <summary>Creates an object with an empty state.</summary>
    /// <param name="class">The allowed class (a class kind of <see cref="PyGlobal"/>).</param>
    public PyInstance(PyGlobalKind @class)
    {
        Class = @class;
        State = @class == PyGlobalKind.Object ? null : new PyDict();
    }

    /// <summary>The class.</summary>
    public PyGlobalKind Class { get; }

    /// <summary>The instance's <c>__dict__</c>; null for a plain <c>object()</c>, which has none.</summary>
    public PyDict? State { get; }

    /// <summary>The dict items of a Parameters object (a dict subclass); empty for other classes (made on first use:
    /// a pickle holds hundreds of thousands of objects).</summary>
    public PyDict Items => _items ??= new PyDict();

    private PyDict? _items;
}
