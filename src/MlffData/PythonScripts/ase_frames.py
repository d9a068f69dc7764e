"""Reads structures and labels from anything ASE reads, as plain data for the C# writer.

Frames are streamed with ase.io.iread (never the whole input in memory where the format allows streaming); each
becomes a dict of little-endian bytes, floats and extras (see frame), so one C# path takes every format.

Labels, the way MACE users name them: a key asked for (energy_key, forces_key, stress_key, virials_key) is looked
up in Atoms.info / Atoms.arrays and in the calculator's results (ASE 3.23 moved extxyz labels into a
SinglePointCalculator, 3.22 keeps custom keys in info/arrays: look in both). An energy or forces key missing from
a structure is an error naming it; a stress or virials key may be missing from some structures, not from all.
Without keys the calculator's energy/forces/stress are used. Stress is kept only when all three axes are periodic;
6 (Voigt) or 9 numbers; virials become stress = -virial / volume.

Extras (FORMAT.md's /info and /arrays): config_type, total_charge (or charge), total_spin (or spin) and
config_weight when present, FixAtoms as the per-atom bool "fixed", and any key the caller keeps. Each is encoded
as (kind, data, row_shape): kind "f" float64, "i" int64, "b" bool (data: little-endian bytes of all rows) or "s"
(data: the text); row_shape is the shape of one row (per structure for info, per atom for arrays).
"""
import numpy as np

EXTRA_INFO = (("config_type", ("config_type",)), ("total_charge", ("total_charge", "charge")),
              ("total_spin", ("total_spin", "spin")), ("config_weight", ("config_weight",)))

_CODES = {"b": ("b", "?"), "i": ("i", "<i8"), "u": ("i", "<i8"), "f": ("f", "<f8")}


class LabelError(ValueError):
    """A label or extra is missing or malformed; args: (index, field, detail). index None: the whole file."""

    def __init__(self, index, field, detail):
        where = "" if index is None else f"structure {index}: "
        super().__init__(f"{where}{field}: {detail}")
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


def _optional(atoms, key, per_atom=False):
    where = atoms.arrays if per_atom else atoms.info
    if key in where:
        return where[key]
    return _results(atoms).get(key)


def voigt(value, index, field):
    """6 (Voigt xx yy zz yz xz xy) or 9 numbers (3 x 3) as the 6 Voigt numbers; LabelError otherwise."""
    a = np.asarray(value, dtype=float)
    if a.shape in ((3, 3), (9,)):
        m = a.reshape(3, 3)
        # ASE's full_3x3_to_voigt_6_stress: xx yy zz yz xz xy, off-diagonals averaged.
        return np.array([m[0, 0], m[1, 1], m[2, 2], (m[1, 2] + m[2, 1]) / 2, (m[0, 2] + m[2, 0]) / 2, (m[0, 1] + m[1, 0]) / 2])
    if a.shape == (6,):
        return a
    raise LabelError(index, field, f"has shape {a.shape}, expected 6 or 9 numbers")


def extra(value, index, name, rows=None):
    """value encoded as (kind, data, row_shape); rows: the atom count for a per-atom array, None for info."""
    if isinstance(value, str):
        if rows is not None:
            raise LabelError(index, name, "is text; only per-structure (info) values can be text")
        return ("s", value, ())
    try:
        a = np.asarray(value)
    except Exception:
        a = None
    if a is None or a.dtype.kind not in _CODES:
        kind = a.dtype if a is not None and a.dtype.kind != "O" else type(value).__name__
        raise LabelError(index, name, f"is {kind}, which cannot be stored (numbers, bools or text only)")
    if a.size == 0:
        raise LabelError(index, name, "is empty")
    code, dtype = _CODES[a.dtype.kind]
    if rows is None:
        shape = a.shape
    else:
        if a.ndim == 0 or a.shape[0] != rows:
            raise LabelError(index, name, f"has shape {a.shape}, expected ({rows}, ...) for {rows} atoms")
        shape = a.shape[1:]
    return (code, np.ascontiguousarray(a, dtype).tobytes(), tuple(int(d) for d in shape))


def _fixed_extra(value, index, key, name):
    """config_type as text, total_charge / total_spin / config_weight as one float64 (FORMAT.md's types)."""
    if isinstance(value, (list, tuple, dict, np.ndarray)) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        raise LabelError(index, key, f"is {type(value).__name__}, expected one {'text' if name == 'config_type' else 'number'}")
    if name == "config_type":
        return ("s", str(value), ())
    try:
        return ("f", np.array(float(value), "<f8").tobytes(), ())
    except (TypeError, ValueError):
        raise LabelError(index, key, f"is {value!r}, expected a number") from None


def frame(atoms, index, energy_key=None, forces_key=None, stress_key=None, virials_key=None, keep_info=(), keep_arrays=()):
    """One structure as plain data: numbers <i8, positions <f8, cell <f8, pbc ?, energy float or None, forces <f8 or
    None, stress (Voigt) <f8 or None, and the extras: info {name: extra}, arrays {name: extra}."""
    n = len(atoms)
    out = {
        "numbers": np.ascontiguousarray(atoms.numbers, "<i8").tobytes(),
        "positions": np.ascontiguousarray(atoms.positions, "<f8").tobytes(),
        "cell": np.ascontiguousarray(atoms.cell.array, "<f8").tobytes(),
        "pbc": np.ascontiguousarray(atoms.pbc, "?").tobytes(),
        "energy": None, "forces": None, "stress": None,
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
    # from some; frames() refuses a key that no structure holds.
    if virials_key:
        virial = _optional(atoms, virials_key)
        stress = None if virial is None or not atoms.pbc.all() else -voigt(virial, index, virials_key) / atoms.get_volume()
    elif stress_key:
        stress = _optional(atoms, stress_key)
        stress = None if stress is None else voigt(stress, index, stress_key)
    else:
        stress = results.get("stress")
        stress = None if stress is None else voigt(stress, index, "stress")
    # Stress means something only for a cell periodic on all three axes (the seed's rule).
    if stress is not None and atoms.pbc.all():
        out["stress"] = np.ascontiguousarray(stress, "<f8").tobytes()

    info = {}
    for name, keys in EXTRA_INFO:
        for key in keys:
            if key in atoms.info:
                info[name] = _fixed_extra(atoms.info[key], index, key, name)
                break
    for key in keep_info:
        value = _optional(atoms, key)
        if value is not None:
            info[key] = extra(value, index, key)

    arrays = {}
    if atoms.constraints:
        fixed = np.zeros(n, bool)
        for c in atoms.constraints:
            if type(c).__name__ == "FixAtoms":
                fixed[c.get_indices()] = True
        arrays["fixed"] = ("b", fixed.tobytes(), ())
    for key in keep_arrays:
        value = _optional(atoms, key, per_atom=True)
        if value is not None:
            arrays[key] = extra(value, index, key, rows=n)
    out["info"], out["arrays"] = info, arrays
    return out


def frames(structures, energy_key=None, forces_key=None, stress_key=None, virials_key=None, keep_info=(), keep_arrays=()):
    """frame() of every Atoms of an iterable, streamed; a stress, virials or kept key found in no structure is an error."""
    label = virials_key or stress_key
    wanted = {k: False for k in (label, *keep_info) if k}
    wanted_arrays = {k: False for k in keep_arrays}
    index = -1
    for index, atoms in enumerate(structures):
        for key in wanted:
            if not wanted[key]:
                wanted[key] = _optional(atoms, key) is not None
        for key in wanted_arrays:
            if not wanted_arrays[key]:
                wanted_arrays[key] = _optional(atoms, key, per_atom=True) is not None
        yield frame(atoms, index, energy_key, forces_key, stress_key, virials_key, keep_info, keep_arrays)
    if index < 0:
        return
    for key, found in wanted.items():
        if not found:
            raise LabelError(index, key, f"key '{key}' is in no structure's Atoms.info or calculator results")
    for key, found in wanted_arrays.items():
        if not found:
            raise LabelError(index, key, f"key '{key}' is in no structure's Atoms.arrays or calculator results")


def iter_frames(path, format=None, energy_key=None, forces_key=None, stress_key=None, virials_key=None, keep_info=(), keep_arrays=()):
    """Every structure of a file ASE reads, streamed, as plain data."""
    import ase.io
    return frames(ase.io.iread(path, index=":", format=format), energy_key, forces_key, stress_key, virials_key, keep_info, keep_arrays)
