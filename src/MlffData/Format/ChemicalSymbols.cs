namespace MlffData.Format;

/// <summary>
/// Chemical symbols and atomic numbers for Z = 1..118, spelled as ASE's <c>ase.data.chemical_symbols</c>.
/// Lookups are case-sensitive, as ASE's <c>atomic_numbers</c> dictionary is: "Cu" is copper, "CU" and "cu" are unknown.
/// </summary>
public static class ChemicalSymbols
{
    /// <summary>The largest atomic number in the table (oganesson).</summary>
    public const int MaxAtomicNumber = 118;

    // Index 0 is ASE's dummy "X"; it is kept only so that symbol i has atomic number i, and is never looked up.
    private static readonly string[] SymbolTable =
    [
        "X",
        "H", "He",
        "Li", "Be", "B", "C", "N", "O", "F", "Ne",
        "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
        "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
        "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe",
        "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
        "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
        "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
        "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
    ];

    // Every symbol is an upper-case letter optionally followed by a lower-case one, so a 26 x 27 table indexed by
    // the two characters finds a symbol without hashing or allocating; this runs once per atom line.
    private const int SecondLetterSlots = 27;
    private static readonly byte[] NumberTable = BuildNumberTable();

    /// <summary>The chemical symbol of an atomic number, e.g. 29 gives "Cu".</summary>
    /// <exception cref="ArgumentOutOfRangeException">atomicNumber is not in 1..118.</exception>
    public static string Symbol(int atomicNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(atomicNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(atomicNumber, MaxAtomicNumber);
        return SymbolTable[atomicNumber];
    }

    /// <summary>Finds the atomic number of a chemical symbol, case-sensitively.</summary>
    /// <param name="symbol">A symbol such as "Cu".</param>
    /// <param name="atomicNumber">1..118 when found, otherwise 0.</param>
    /// <returns>Whether the symbol is one of the 118 elements.</returns>
    public static bool TryGetAtomicNumber(ReadOnlySpan<char> symbol, out int atomicNumber)
    {
        atomicNumber = symbol.Length switch
        {
            1 => Lookup(symbol[0], '\0'),
            2 => Lookup(symbol[0], symbol[1]),
            _ => 0,
        };
        return atomicNumber != 0;
    }

    /// <summary>The atomic number of a chemical symbol, case-sensitively.</summary>
    /// <exception cref="ArgumentException">symbol is not one of the 118 elements.</exception>
    public static int AtomicNumber(string symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        if (!TryGetAtomicNumber(symbol, out var z))
            throw new ArgumentException($"Unknown chemical symbol \"{symbol}\"", nameof(symbol));
        return z;
    }

    private static int Lookup(char first, char second)
    {
        uint row = (uint)(first - 'A');
        if (row >= 26)
            return 0;
        uint column;
        if (second == '\0')
            column = 0;
        else if ((uint)(second - 'a') < 26)
            column = (uint)(second - 'a') + 1;
        else
            return 0;
        return NumberTable[row * SecondLetterSlots + column];
    }

    private static byte[] BuildNumberTable()
    {
        var table = new byte[26 * SecondLetterSlots];
        for (int z = 1; z <= MaxAtomicNumber; z++)
        {
            var s = SymbolTable[z];
            int column = s.Length == 1 ? 0 : s[1] - 'a' + 1;
            table[(s[0] - 'A') * SecondLetterSlots + column] = (byte)z;
        }
        return table;
    }
}
