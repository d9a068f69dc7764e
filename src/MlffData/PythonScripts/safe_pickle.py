"""Loads ASE pickles without running the code a pickle can carry.

Pickle runs code. ../shared/research/RELIABILITY.md section 4 measured, with ASE 3.22.1, numpy 1.24 and
CPython 3.11, what a pickled list of ase.Atoms needs, and how restricted unpicklers fail. So:

1. prescan(): a static pass over the opcodes (pickletools.genops, allocation bounded by the input) rejects
   what no ASE pickle holds and what makes CPython allocate before find_class is ever asked: persistent ids,
   extension codes, out-of-band buffers, memo indices that skip ahead (a 9-byte pickle otherwise allocates
   about 2 GiB), GETs of undefined slots, and length fields longer than the remaining bytes.
2. SafeUnpickler: find_class returns only the 18 globals an ASE pickle needs. The dangerous ones are
   narrowed: getattr only for the bound method ASE stores in every calculator (the real getattr reaches
   eval through __init__.__globals__), _codecs.encode only for latin1 text, copyreg._reconstructor only in
   the shapes ASE produces. Anything else is refused before it runs, naming the module and callable.
3. clean(): the loaded objects are never used as ASE objects (BUILD can set any attribute on them); their
   __dict__ is read, every value checked and copied into a fresh Atoms, which ase_frames then reads.
"""
import codecs
import copyreg
import io
import pickle
import pickletools

import numpy as np
from ase.atoms import Atoms
from ase.calculators.calculator import Calculator, Parameters
from ase.calculators.singlepoint import SinglePointCalculator
from ase.cell import Cell
from ase.constraints import FixAtoms

import ase_frames
from ase_frames import LabelError


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle holds something an ASE pickle never does; nothing of it ran."""


HINT = "refused before it ran; pass --allow-unsafe-pickle only for a file you trust"

# Opcodes no ASE pickle uses, each a way around find_class or a way to allocate from a declared size.
DENIED_OPCODES = {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4", "NEXT_BUFFER", "READONLY_BUFFER"}
PUT_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT"}
GET_OPCODES = {"GET", "BINGET", "LONG_BINGET"}


def prescan(data):
    """Raises UnsafePickleError unless data is a well-formed pickle of opcodes an ASE pickle may use."""
    memo = 0
    try:
        for opcode, arg, pos in pickletools.genops(data):
            name = opcode.name
            if name in DENIED_OPCODES:
                raise UnsafePickleError(f"opcode {name} at byte {pos} is not allowed in an ASE pickle ({HINT})")
            if name in PUT_OPCODES:
                if arg > memo:
                    raise UnsafePickleError(f"memo index {arg} at byte {pos} skips ahead of {memo} (a memory bomb; {HINT})")
                if arg == memo:
                    memo += 1
            elif name == "MEMOIZE":
                memo += 1
            elif name in GET_OPCODES and arg >= memo:
                raise ValueError(f"memo index {arg} at byte {pos} was never stored")
    except UnsafePickleError:
        raise
    except Exception as e:  # genops raises ValueError for truncated data and lengths past the end
        raise pickle.UnpicklingError(f"not a valid pickle: {e}") from None


def _safe_getattr(obj, name, *default):
    # ASE 3.22's Calculator.__init__ stores self.get_spin_polarized = self._deprecated_get_spin_polarized, a bound
    # method, which pickle writes as getattr(calc, '_deprecated_get_spin_polarized'). Nothing else is allowed.
    if not default and isinstance(obj, Calculator) and name == "_deprecated_get_spin_polarized":
        return getattr(obj, name)
    raise UnsafePickleError(f"getattr({type(obj).__name__}, {name!r}) is not allowed in an ASE pickle ({HINT})")


def _safe_encode(obj, encoding="utf-8", errors="strict"):
    # Protocols 0-2 carry array bytes as codecs.encode(text, 'latin1'); other codecs (zlib, base64...) are refused.
    if isinstance(obj, str) and encoding == "latin1" and errors == "strict":
        return codecs.encode(obj, "latin1")
    raise UnsafePickleError(f"_codecs.encode(..., {encoding!r}) is not allowed in an ASE pickle ({HINT})")


_RECONSTRUCTED = (Atoms, Cell, FixAtoms, SinglePointCalculator)


def _safe_reconstructor(cls, base, state):
    # Protocols 0-1 build objects through copyreg._reconstructor; only the two shapes ASE pickles produce.
    if (cls in _RECONSTRUCTED and base is object and state is None) or (cls is Parameters and base is dict and isinstance(state, dict)):
        return copyreg._reconstructor(cls, base, state)
    raise UnsafePickleError(f"copyreg._reconstructor({getattr(cls, '__name__', cls)}, ...) is not allowed in an ASE pickle ({HINT})")


def _numpy(path):
    # numpy 2 spells these numpy._core.*; numpy 1.x cannot import that spelling, so map both to the local numpy.
    module, _, name = path.rpartition(".")
    module = module.replace("numpy._core", "numpy.core")
    return getattr(__import__(module, fromlist=[name]), name)


ALLOWED = {
    ("ase.atoms", "Atoms"): Atoms,
    ("ase.cell", "Cell"): Cell,
    ("ase.constraints", "FixAtoms"): FixAtoms,
    ("ase.calculators.singlepoint", "SinglePointCalculator"): SinglePointCalculator,
    ("ase.calculators.calculator", "Parameters"): Parameters,
    ("builtins", "getattr"): _safe_getattr,
    ("__builtin__", "getattr"): _safe_getattr,
    ("_codecs", "encode"): _safe_encode,
    ("copy_reg", "_reconstructor"): _safe_reconstructor,
    ("copyreg", "_reconstructor"): _safe_reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "dict"): dict,
    ("builtins", "dict"): dict,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
for _path in ("multiarray._reconstruct", "multiarray.scalar", "numeric._frombuffer"):
    for _root in ("numpy.core.", "numpy._core."):
        _module, _, _name = (_root + _path).rpartition(".")
        ALLOWED[(_module, _name)] = _numpy(_root + _path)


class SafeUnpickler(pickle.Unpickler):
    """find_class answers only from ALLOWED (names as they appear in the pickle, before Python 2 mapping)."""

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(f"global '{module}.{name}' is forbidden in an ASE pickle ({HINT})") from None


def load(data, allow_unsafe=False):
    """The object a pickle holds: checked and restricted, or plain pickle.loads when allow_unsafe."""
    if allow_unsafe:
        return pickle.loads(data)
    prescan(data)
    return SafeUnpickler(io.BytesIO(data)).load()


class FrameError(LabelError):
    """A loaded object is not what an ASE pickle holds; args: (index, field, detail)."""


def atoms_list(obj):
    """The structures of a loaded pickle: one Atoms, or a list or tuple of them."""
    if type(obj) is Atoms:
        return [obj]
    if type(obj) in (list, tuple):
        for i, item in enumerate(obj):
            if type(item) is not Atoms:
                raise FrameError(i, "atoms", f"is a {type(item).__name__}, expected ase.Atoms")
        return list(obj)
    raise FrameError(0, "atoms", f"the pickle holds a {type(obj).__name__}, expected an ase.Atoms or a list of them")


def _array(value, index, field, kinds, shape):
    """value as a plain array of a numeric kind and shape (None in shape: any length); object arrays refused."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds:
        kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise FrameError(index, field, f"is {kind}, expected a numeric array")
    if value.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, value.shape)):
        raise FrameError(index, field, f"has shape {value.shape}, expected {tuple('n' if s is None else s for s in shape)}")
    return np.array(value)


def _number(value, index, field):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FrameError(index, field, f"is {type(value).__name__}, expected a number")
    return float(value)


def _plain(value):
    """A copy of value when it is plain data an extra can hold (text, number, bool, numeric array); else None."""
    if type(value) is str:
        return str(value)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)) and type(value).__module__ in ("builtins", "numpy"):
        return value.item() if isinstance(value, np.generic) else type(value)(value)
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return np.array(value)
    if type(value) in (list, tuple):
        try:
            a = np.array(value)
        except Exception:
            return None
        return a if a.dtype.kind in "biuf" else None
    return None


def clean(atoms, index):
    """A fresh Atoms built only from checked plain values of a loaded one (numbers, positions, cell, pbc, the
    SinglePointCalculator's results, FixAtoms, plain info and arrays entries), so no loaded object is ever used."""
    d = vars(atoms)
    arrays = d.get("arrays")
    if type(arrays) is not dict:
        raise FrameError(index, "arrays", "missing")
    numbers = _array(arrays.get("numbers"), index, "numbers", "iu", (None,))
    n = len(numbers)
    positions = _array(arrays.get("positions"), index, "positions", "fiu", (n, 3))
    cell = d.get("_cellobj")
    if type(cell) is not Cell:
        raise FrameError(index, "cell", "missing")
    cell = _array(vars(cell).get("array"), index, "cell", "fiu", (3, 3))
    pbc = _array(d.get("_pbc"), index, "pbc", "b", (3,))
    out = Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc)

    for key, value in arrays.items():
        if type(key) is str and key not in ("numbers", "positions"):
            value = _plain(value)
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
                out.arrays[key] = value
    info = d.get("info")
    if type(info) is dict:
        for key, value in info.items():
            if type(key) is str and (value := _plain(value)) is not None:
                out.info[key] = value

    calc = d.get("_calc")
    if calc is not None:
        if type(calc) is not SinglePointCalculator:
            raise FrameError(index, "calc", f"is a {type(calc).__name__}, expected a SinglePointCalculator")
        results = vars(calc).get("results")
        if type(results) is not dict:
            raise FrameError(index, "calc", "has no results")
        checked = {}
        for key, value in results.items():
            if type(key) is not str or value is None:
                continue
            if key == "energy":
                checked[key] = _number(value, index, "energy")
            elif key == "forces":
                checked[key] = _array(value, index, "forces", "fiu", (n, 3))
            elif key == "stress":
                shape = (3, 3) if isinstance(value, np.ndarray) and value.ndim == 2 else (6,)
                checked[key] = _array(value, index, "stress", "fiu", shape)
            elif (value := _plain(value)) is not None:
                checked[key] = value
        out.calc = SinglePointCalculator(out)
        out.calc.results.update(checked)

    constraints = d.get("_constraints") or []
    if type(constraints) is not list:
        raise FrameError(index, "constraints", f"is a {type(constraints).__name__}, expected a list")
    fixed = np.zeros(n, bool)
    for c in constraints:
        if type(c) is not FixAtoms:
            raise FrameError(index, "constraints", f"holds a {type(c).__name__}; only FixAtoms is read")
        indices = _array(vars(c).get("index"), index, "constraints", "iub", (None,))
        if indices.dtype.kind == "b":
            if len(indices) != n:
                raise FrameError(index, "constraints", f"FixAtoms mask of {len(indices)} for {n} atoms")
            fixed |= indices
        else:
            if len(indices) and (indices.min() < 0 or indices.max() >= n):
                raise FrameError(index, "constraints", f"FixAtoms index out of range for {n} atoms")
            fixed[indices] = True
    if constraints:
        out.set_constraint(FixAtoms(mask=fixed))
    return out


def frame(atoms, index, **keys):
    """One loaded structure as ase_frames.frame gives it, read from its checked copy (clean)."""
    return ase_frames.frame(clean(atoms, index), index, **keys)


def _read(path, allow_unsafe):
    with open(path, "rb") as f:
        return load(f.read(), allow_unsafe)


def iter_frames(path, allow_unsafe=False, **keys):
    """Every structure of an ASE pickle file as ase_frames.frame gives it. The pickle is loaded whole (the format
    cannot be streamed); frames are made one at a time. allow_unsafe: plain pickle.loads, any calculator."""
    structures = atoms_list(_read(path, allow_unsafe))
    if not allow_unsafe:
        structures = (clean(a, i) for i, a in enumerate(structures))
    return ase_frames.frames(structures, **keys)


def read_frames(path, allow_unsafe=False, **keys):
    """Every structure of an ASE pickle file as plain data (see iter_frames), in a list."""
    return list(iter_frames(path, allow_unsafe, **keys))


def _per_structure(value, field):
    """A sequence of per-structure values: a list or tuple, or an array's rows."""
    if type(value) in (list, tuple):
        return list(value)
    if type(value) is np.ndarray and value.ndim >= 1:
        return list(value)
    raise FrameError(None, field, f"is {type(value).__name__}, expected a list or an array with one entry per structure")


def labels(path, allow_unsafe=False):
    """A labels pickle: a dict with energies, forces and optionally stresses, or a tuple (energies, forces[,
    stresses]), one entry per structure. Returns {"energies": [float], "forces": [bytes <f8 (n, 3)],
    "stresses": [bytes <f8 Voigt or None] or None}; the C# side checks counts and atom counts."""
    obj = _read(path, allow_unsafe)
    if type(obj) is dict:
        for key in ("energies", "forces"):
            if key not in obj:
                raise FrameError(None, key, f"missing: the labels dict has {sorted(map(str, obj))}, expected energies, forces and optionally stresses")
        energies, forces, stresses = obj["energies"], obj["forces"], obj.get("stresses")
    elif type(obj) in (tuple, list) and len(obj) in (2, 3):
        energies, forces, stresses = (*obj, None)[:3]
    else:
        raise FrameError(None, "labels", f"the pickle holds a {type(obj).__name__}, expected a dict with energies, forces[, stresses] or a tuple (energies, forces[, stresses])")
    out = {"energies": [], "forces": [], "stresses": None}
    for i, e in enumerate(_per_structure(energies, "energies")):
        out["energies"].append(_number(e.item() if type(e) is np.ndarray and e.ndim == 0 else e, i, "energies"))
    for i, f in enumerate(_per_structure(forces, "forces")):
        f = _plain(f)
        if not isinstance(f, np.ndarray) or f.ndim != 2 or f.shape[1] != 3:
            raise FrameError(i, "forces", f"has shape {getattr(f, 'shape', None)}, expected (n, 3) numbers")
        out["forces"].append(np.ascontiguousarray(f, "<f8").tobytes())
    if stresses is not None:
        out["stresses"] = []
        for i, s in enumerate(_per_structure(stresses, "stresses")):
            s = None if s is None else _plain(s)
            out["stresses"].append(None if s is None else np.ascontiguousarray(ase_frames.voigt(s, i, "stresses"), "<f8").tobytes())
    return out
