"""Cases for safe_pickle.py (src/MlffData/PythonScripts), run by SafePickleTests with Debian's python3.

Prints one JSON object: for each case, what happened ("ok", or the exception type and message), and whether the
canary file that every attack tries to create exists afterwards.
Usage: safe_pickle_cases.py MODULE_DIR WORK_DIR REFERENCE_PKL REFERENCE_H5
"""
import json
import os
import pickle
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import safe_pickle as sp  # noqa: E402
from ase.build import bulk, molecule  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402
from ase.constraints import FixAtoms, FixBondLengths  # noqa: E402

work = sys.argv[2]
canary = os.path.join(work, "canary")
results = {}


def outcome(name, fn):
    try:
        fn()
        results[name] = "ok"
    except Exception as e:  # the test asserts on type and message
        results[name] = f"{type(e).__name__}: {e}"


def benign():
    a = bulk("Cu", cubic=True) * (2, 1, 1)
    a.rattle(0.01, seed=1)
    rng = np.random.default_rng(0)
    a.calc = SinglePointCalculator(a, energy=np.float64(-1.5), forces=rng.random((len(a), 3)), stress=rng.random(6))
    a.set_constraint(FixAtoms(indices=[0, 2]))
    m = molecule("H2O")
    m.calc = SinglePointCalculator(m, energy=-3.0, forces=np.zeros((3, 3)))
    m.set_constraint(FixAtoms(mask=[True, False, False]))
    m.info["config_type"] = "water"
    return [a, m]


def same_as_pickle(protocol):
    data = pickle.dumps(benign(), protocol=protocol)
    ours = [sp.frame(x, i) for i, x in enumerate(sp.atoms_list(sp.load(data)))]
    ref = pickle.loads(data)
    for f, r in zip(ours, ref):
        assert np.frombuffer(f["numbers"], "<i8").tolist() == r.numbers.tolist()
        assert np.frombuffer(f["positions"], "<f8").tolist() == r.positions.ravel().tolist()
        assert np.frombuffer(f["cell"], "<f8").tolist() == r.cell.array.ravel().tolist()
        assert np.frombuffer(f["pbc"], "?").tolist() == r.pbc.tolist()
        assert f["energy"] == r.calc.results["energy"]
        # get_forces() would zero the fixed atoms (constraints apply); the stored labels are what we keep.
        assert np.frombuffer(f["forces"], "<f8").tolist() == r.calc.results["forces"].ravel().tolist()
        if "stress" in r.calc.results:
            assert np.frombuffer(f["stress"], "<f8").tolist() == r.calc.results["stress"].tolist()
        else:
            assert f["stress"] is None
        fixed = np.zeros(len(r), bool)
        fixed[r.constraints[0].get_indices()] = True
        assert f["arrays"]["fixed"] == ("b", fixed.tobytes(), ()), f["arrays"]


for p in range(6):
    outcome(f"benign_protocol_{p}", lambda p=p: same_as_pickle(p))


class SystemCall:
    def __reduce__(self):
        return (os.system, (f"touch {canary}",))


class Eval:
    def __reduce__(self):
        return (eval, (f"open({canary!r}, 'w')",))


for p in (0, 2, 4, 5):
    outcome(f"os_system_protocol_{p}", lambda p=p: sp.load(pickle.dumps([SystemCall()], protocol=p)))
outcome("eval", lambda: sp.load(pickle.dumps(Eval(), protocol=4)))

# getattr(Atoms, '__init__').__globals__['__builtins__']['eval'](...): what a naive getattr allowlist runs.
chain = (b"\x80\x04" + b"\x8c\x08builtins\x8c\x07getattr\x93" + b"\x8c\x08builtins\x8c\x07getattr\x93"
         + b"\x8c\tase.atoms\x8c\x05Atoms\x93" + b"\x8c\x08__init__\x86R" + b"\x8c\x0b__globals__\x86R"
         + b".")
outcome("getattr_chain", lambda: sp.load(chain))
outcome("zlib_codec", lambda: sp.load(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R."))
outcome("memo_bomb", lambda: sp.load(b"\x80\x04N" + b"r" + struct.pack("<I", 2**27) + b"."))
outcome("bytearray8_657GB", lambda: sp.load(b"\x80\x05\x96" + struct.pack("<Q", 657 * 10**9) + b"xx."))
outcome("persistent_id", lambda: sp.load(b"\x80\x04\x8c\x01x\x94Q."))
outcome("truncated", lambda: sp.load(pickle.dumps(benign())[:200]))
outcome("not_a_pickle", lambda: sp.load(b"energy=1.0 forces=...\n"))
outcome("something_else", lambda: sp.atoms_list(sp.load(pickle.dumps({"energy": 1.0}))))
outcome("list_with_other", lambda: sp.atoms_list(sp.load(pickle.dumps([benign()[0], 3]))))


def other_constraint():
    a = molecule("H2O")
    a.set_constraint(FixBondLengths([(0, 1)]))
    sp.load(pickle.dumps([a]))


outcome("other_constraint", other_constraint)


def emt_calculator_unsafe():
    # An unsafe load reads anything; the frame check still refuses a live calculator.
    a = bulk("Cu")
    a.calc = EMT()
    a.get_potential_energy()
    sp.frame(sp.atoms_list(sp.load(pickle.dumps([a]), allow_unsafe=True))[0], 0)


outcome("emt_calculator_unsafe", emt_calculator_unsafe)


def object_array_positions():
    a = molecule("H2O")
    a.arrays["positions"] = a.positions.astype(object)
    sp.frame(sp.atoms_list(sp.load(pickle.dumps([a])))[0], 0)


outcome("object_array_positions", object_array_positions)

def reference_pickle():
    # The committed reference pickle (ASE 3.22 + SinglePointCalculator) through the safe path equals the h5py file.
    import h5py
    frames = sp.read_frames(sys.argv[3])
    with h5py.File(sys.argv[4], "r") as f:
        s = f["structures/atomic_numbers_splits"][:]
        assert len(frames) == len(s) - 1 == 930
        for i, fr in enumerate(frames):
            a, b = s[i], s[i + 1]
            assert np.array_equal(np.frombuffer(fr["numbers"], "<i8"), f["structures/atomic_numbers"][a:b])
            assert np.array_equal(np.frombuffer(fr["positions"], "<f8").reshape(-1, 3), f["structures/positions"][a:b])
            assert fr["energy"] == f["labels/energy"][i]
            assert np.array_equal(np.frombuffer(fr["forces"], "<f8").reshape(-1, 3).astype(np.float32), f["labels/forces"][a:b])
            assert (fr["stress"] is not None) == bool(f["labels/stress_mask"][i])


outcome("reference_pickle", reference_pickle)

print(json.dumps({"results": results, "canary": os.path.exists(canary)}))
