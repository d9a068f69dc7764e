"""Reads structures and labels from anything ASE reads, as plain data for the C# writer.

Frames are streamed with ase.io.iread (never the whole input in memory where the format allows streaming) and
each becomes the same dict of little-endian bytes and floats as safe_pickle.frame, so one C# path takes both.

Labels, the way MACE users name them: a key asked for (energy_key, forces_key, stress_key, virials_key) is looked
up in Atoms.info / Atoms.arrays and in the calculator's results (ASE 3.23 moved extxyz labels into a
SinglePointCalculator, 3.22 keeps custom keys in info/arrays: look in both). An energy or forces key missing from
a structure is an error naming it; a stress or virials key may be missing from some structures, not from all. Without keys the calculator's energy/forces/stress are used. Stress is kept only when all three
axes are periodic; 6 (Voigt) or 9 numbers; virials become stress = -virial / volume.
"""
import numpy as np

EXTRA_INFO = (("config_type", ("config_type",)), ("total_charge", ("total_charge", "charge")),
              ("total_spin", ("total_spin", "spin")), ("config_weight", ("config_weight",)))


class LabelError(ValueError):
    """A label is missing or malformed; args: (index, field, detail)."""

    def __init__(self, index, field, detail):
        super().__init__(f"structure {index}: {field}: {detail}")
        self.index, self.field, self.detail = index, field, detail


def _results(atoms):
    calc = atoms.calc
    return getattr(calc, "results", None) or {}


def _lookup(atoms, index, key, per_atom):
    """The value stored under key in info/arrays or the calculator's results; LabelError when it is nowhere."""
    where = atoms.arrays if per_atom else atoms.info
    if key in where:
        return where[key]
    results = _results(atoms)
    if key in results:
        return results[key]
    raise LabelError(index, key, f"key '{key}' is in neither Atoms.{'arrays' if per_atom else 'info'} nor the calculator's results")


def _optional(atoms, key):
    if key in atoms.info:
        return atoms.info[key]
    return _results(atoms).get(key)


def _voigt(value, index, field):
    a = np.asarray(value, dtype=float)
    if a.shape in ((3, 3), (9,)):
        m = a.reshape(3, 3)
        # ASE's full_3x3_to_voigt_6_stress: xx yy zz yz xz xy, off-diagonals averaged.
        return np.array([m[0, 0], m[1, 1], m[2, 2], (m[1, 2] + m[2, 1]) / 2, (m[0, 2] + m[2, 0]) / 2, (m[0, 1] + m[1, 0]) / 2])
    if a.shape == (6,):
        return a
    raise LabelError(index, field, f"has shape {a.shape}, expected 6 or 9 numbers")


def frame(atoms, index, energy_key=None, forces_key=None, stress_key=None, virials_key=None):
    """One structure as plain data (see safe_pickle.frame), plus the FORMAT.md extras found in Atoms.info."""
    n = len(atoms)
    out = {
        "numbers": np.ascontiguousarray(atoms.numbers, "<i8").tobytes(),
        "positions": np.ascontiguousarray(atoms.positions, "<f8").tobytes(),
        "cell": np.ascontiguousarray(atoms.cell.array, "<f8").tobytes(),
        "pbc": np.ascontiguousarray(atoms.pbc, "?").tobytes(),
        "energy": None, "forces": None, "stress": None, "fixed": None,
    }
    results = _results(atoms)

    energy = _lookup(atoms, index, energy_key, False) if energy_key else results.get("energy")
    if energy is not None:
        out["energy"] = float(energy)

    forces = _lookup(atoms, index, forces_key, True) if forces_key else results.get("forces")
    if forces is not None:
        f = np.asarray(forces, dtype=float)
        if f.shape != (n, 3):
            raise LabelError(index, forces_key or "forces", f"has shape {f.shape}, expected ({n}, 3)")
        out["forces"] = np.ascontiguousarray(f, "<f8").tobytes()

    # Stress is optional per structure (slabs and molecules have none), so a stress or virials key may be absent
    # from some; iter_frames refuses a key that no structure holds.
    if virials_key:
        virial = _optional(atoms, virials_key)
        stress = None if virial is None or not atoms.pbc.all() else -_voigt(virial, index, virials_key) / atoms.get_volume()
    elif stress_key:
        stress = _optional(atoms, stress_key)
        stress = None if stress is None else _voigt(stress, index, stress_key)
    else:
        stress = results.get("stress")
        stress = None if stress is None else _voigt(stress, index, "stress")
    # Stress means something only for a cell periodic on all three axes (the seed's rule).
    if stress is not None and atoms.pbc.all():
        out["stress"] = np.ascontiguousarray(stress, "<f8").tobytes()

    fixed = np.zeros(n, bool)
    for c in atoms.constraints:
        if type(c).__name__ == "FixAtoms":
            fixed[c.get_indices()] = True
    if atoms.constraints:
        out["fixed"] = fixed.tobytes()

    info = {}
    for name, keys in EXTRA_INFO:
        for key in keys:
            if key in atoms.info:
                info[name] = atoms.info[key] if name == "config_type" else float(atoms.info[key])
                break
    out["info"] = info
    return out


def iter_frames(path, format=None, energy_key=None, forces_key=None, stress_key=None, virials_key=None):
    """Every structure of a file ASE reads, streamed, as plain data."""
    import ase.io
    key = virials_key or stress_key
    found, index = False, -1
    for index, atoms in enumerate(ase.io.iread(path, index=":", format=format)):
        if key and not found:
            found = _optional(atoms, key) is not None
        yield frame(atoms, index, energy_key, forces_key, stress_key, virials_key)
    if key and not found and index >= 0:
        raise LabelError(index, key, f"key '{key}' is in no structure's Atoms.info or calculator results")
