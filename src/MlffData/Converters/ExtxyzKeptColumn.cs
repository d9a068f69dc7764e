namespace MlffData.Converters;

/// <summary>
/// A per-atom array of <c>Atoms.arrays</c> the reader keeps: its own Properties columns, read into a buffer while the
/// atom lines are parsed, or one the reader reads anyway (positions, numbers, the forces) and copies.
/// </summary>
/// <param name="Name">The Atoms.arrays name it is kept under (ASE's: "positions", "numbers", "initial_charges", ...).</param>
/// <param name="Role">KeptReal, KeptInteger or KeptBool for its own columns; PositionX, AtomicNumber or ForceX when it
/// is a copy of the positions, the atomic numbers or the forces.</param>
/// <param name="Type">The Properties type letter of its columns: R, I or L.</param>
/// <param name="Count">Columns per atom: 1 stores one value per atom, k a row of k.</param>
/// <param name="First">Its first column on an atom line; -1 for a copy.</param>
/// <param name="Buffer">Index of its buffer while atom lines are read; -1 for a copy.</param>
/// <param name="AsFloat">Integers stored as float64 (ASE's initial_charges from an I column).</param>
internal sealed record ExtxyzKeptColumn(string Name, ExtxyzColumnRole Role, string Type, int Count, int First, int Buffer, bool AsFloat = false);
