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
3. frames(): the loaded objects are never used as ASE objects (BUILD can set any attribute on them); their
   __dict__ is read and every value checked and turned into plain numeric arrays.
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


class FrameError(ValueError):
    """A loaded object is not what an ASE pickle holds; args: (index, field, detail)."""

    def __init__(self, index, field, detail):
        super().__init__(f"structure {index}: {field}: {detail}")
        self.index, self.field, self.detail = index, field, detail


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
    return value


def _number(value, index, field):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FrameError(index, field, f"is {type(value).__name__}, expected a number")
    return float(value)


def frame(atoms, index):
    """One structure as plain data: a dict of bytes (C order, little-endian) and floats, every value checked."""
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

    out = {
        "numbers": np.ascontiguousarray(numbers, "<i8").tobytes(),
        "positions": np.ascontiguousarray(positions, "<f8").tobytes(),
        "cell": np.ascontiguousarray(cell, "<f8").tobytes(),
        "pbc": np.ascontiguousarray(pbc, "?").tobytes(),
        "energy": None, "forces": None, "stress": None, "fixed": None,
    }
    calc = d.get("_calc")
    if calc is not None:
        if type(calc) is not SinglePointCalculator:
            raise FrameError(index, "calc", f"is a {type(calc).__name__}, expected a SinglePointCalculator")
        results = vars(calc).get("results")
        if type(results) is not dict:
            raise FrameError(index, "calc", "has no results")
        if results.get("energy") is not None:
            out["energy"] = _number(results["energy"], index, "energy")
        if results.get("forces") is not None:
            out["forces"] = np.ascontiguousarray(_array(results["forces"], index, "forces", "fiu", (n, 3)), "<f8").tobytes()
        if results.get("stress") is not None:
            stress = results["stress"]
            shape = (3, 3) if isinstance(stress, np.ndarray) and stress.ndim == 2 else (6,)
            out["stress"] = np.ascontiguousarray(_array(stress, index, "stress", "fiu", shape), "<f8").tobytes()
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
        out["fixed"] = fixed.tobytes()
    return out


def read_frames(path, allow_unsafe=False):
    """Every structure of an ASE pickle file as plain data (see frame)."""
    with open(path, "rb") as f:
        data = f.read()
    return [frame(atoms, i) for i, atoms in enumerate(atoms_list(load(data, allow_unsafe)))]
