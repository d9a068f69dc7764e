"""Cases for ase_frames.py (src/MlffData/PythonScripts), run by AseFramesTests with Debian's python3 and ASE 3.22.

Prints one JSON object: case name -> "ok" or "ExceptionType: message".
Usage: ase_frames_cases.py MODULE_DIR WORK_DIR REFERENCE_EXTXYZ REFERENCE_H5 EXPORTED_REF_EXTXYZ
"""
import json
import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import ase_frames as af  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.build import bulk, molecule  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402

work, extxyz, h5, exported = sys.argv[2:6]
results = {}


def outcome(name, fn):
    try:
        fn()
        results[name] = "ok"
    except Exception as e:  # the test asserts on type and message
        results[name] = f"{type(e).__name__}: {e}"


def equals_reference(path, **keys):
    frames = list(af.iter_frames(path, **keys))
    with h5py.File(h5, "r") as f:
        s = f["structures/atomic_numbers_splits"][:]
        assert len(frames) == len(s) - 1 == 930, len(frames)
        for i, fr in enumerate(frames):
            a, b = s[i], s[i + 1]
            assert np.array_equal(np.frombuffer(fr["numbers"], "<i8"), f["structures/atomic_numbers"][a:b]), i
            assert np.array_equal(np.frombuffer(fr["positions"], "<f8").reshape(-1, 3), f["structures/positions"][a:b]), i
            assert np.array_equal(np.frombuffer(fr["cell"], "<f8").reshape(3, 3), f["structures/cells"][i]), i
            assert np.array_equal(np.frombuffer(fr["pbc"], "?"), f["structures/pbc"][i]), i
            assert fr["energy"] == f["labels/energy"][i], i
            assert np.array_equal(np.frombuffer(fr["forces"], "<f8").reshape(-1, 3).astype(np.float32), f["labels/forces"][a:b]), i
            if f["labels/stress_mask"][i]:
                assert np.array_equal(np.frombuffer(fr["stress"], "<f8"), f["labels/stress"][i]), i
            else:
                assert fr["stress"] is None, i


outcome("reference_extxyz", lambda: equals_reference(extxyz))
outcome("exported_ref_keys", lambda: equals_reference(exported, energy_key="REF_energy", forces_key="REF_forces", stress_key="REF_stress"))


def virials():
    a = bulk("Cu", cubic=True)
    v = np.arange(9.0).reshape(3, 3) + np.eye(3) * 10
    v = (v + v.T) / 2
    a.info["REF_virial"] = v
    a.calc = SinglePointCalculator(a, energy=-1.0, forces=np.zeros((len(a), 3)))
    fr = af.frame(a, 0, virials_key="REF_virial")
    expected = -np.array([v[0, 0], v[1, 1], v[2, 2], v[1, 2], v[0, 2], v[0, 1]]) / a.get_volume()
    assert np.allclose(np.frombuffer(fr["stress"], "<f8"), expected, rtol=0, atol=1e-15), fr["stress"]


outcome("virials", virials)


def missing_key():
    a = molecule("H2O")
    a.calc = SinglePointCalculator(a, energy=-1.0, forces=np.zeros((3, 3)))
    af.frame(a, 4, energy_key="REF_energy")


outcome("missing_key", missing_key)


def stress_key_in_no_structure():
    from ase.io import write
    path = os.path.join(work, "no_stress.extxyz")
    a = molecule("H2O")
    a.calc = SinglePointCalculator(a, energy=-1.0, forces=np.zeros((3, 3)))
    write(path, [a, a])
    list(af.iter_frames(path, stress_key="REF_stress"))


outcome("stress_key_in_no_structure", stress_key_in_no_structure)


def molecule_stress_dropped_and_extras():
    a = molecule("H2O")
    a.info.update(config_type="water", charge=-1, spin=2)
    a.calc = SinglePointCalculator(a, energy=-1.0, forces=np.zeros((3, 3)), stress=np.ones(6))
    fr = af.frame(a, 0)
    assert fr["stress"] is None
    f8 = lambda x: np.array(x, "<f8").tobytes()  # noqa: E731
    assert fr["info"] == {"config_type": ("s", "water", ()), "total_charge": ("f", f8(-1.0), ()), "total_spin": ("f", f8(2.0), ())}, fr["info"]
    assert fr["arrays"] == {}, fr["arrays"]


outcome("molecule_stress_dropped_and_extras", molecule_stress_dropped_and_extras)


def bad_forces_shape():
    a = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    a.arrays["REF_forces"] = np.zeros((2, 2))
    a.info["REF_energy"] = 1.0
    af.frame(a, 7, energy_key="REF_energy", forces_key="REF_forces")


outcome("bad_forces_shape", bad_forces_shape)

print(json.dumps(results))
