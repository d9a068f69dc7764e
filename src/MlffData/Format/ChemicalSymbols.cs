namespace MlffData.Format;

/// <summary>Chemical symbols of Z = 1..118, spelled as ASE's <c>ase.data.chemical_symbols</c> spells them.</summary>
public static class ChemicalSymbols
{
    private static readonly string[] Symbols =
    ("X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr " +
     "Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt " +
     "Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og")
        .Split(' ');

    private static readonly Dictionary<string, int> Numbers =
        Symbols.Select((symbol, z) => (symbol, z)).ToDictionary(p => p.symbol, p => p.z, StringComparer.Ordinal);

    private static readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> SpanLookup =
        Numbers.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The symbol of atomic number z; "X" (ASE's dummy atom) for 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">z is outside 0..118.</exception>
    public static string Of(int z) =>
        z >= 0 && z < Symbols.Length ? Symbols[z] : throw new ArgumentOutOfRangeException(nameof(z), z, "atomic number must be 0..118");

    /// <summary>The atomic number of a symbol (case-sensitive, as ASE), or -1 when it is no element.</summary>
    public static int NumberOf(ReadOnlySpan<char> symbol) => SpanLookup.TryGetValue(symbol, out int z) ? z : -1;
}
