"""ASE 3.22.1 and numpy as the oracle for ExtxyzKeysTests and ExtxyzCellVolumeTests.

Usage: python3 extxyz_keys_oracle.py REQUEST.json  (answer as JSON on stdout)

REQUEST may hold:
  "reads": [{"path", "energy_key", "forces_key", "stress_key", "virials_key", "keep_info", "keep_arrays"}]
      read each file with ase.io.iread(path, ":", format="extxyz") and answer per frame what ase_frames.frame makes of
      it: energy, forces and stress under the keys (virials: -voigt(virial) / atoms.get_volume(), ASE's own volume),
      and the extras as ASE typed them in Atoms.info / Atoms.arrays: config_type as str(), total_charge / total_spin /
      config_weight as float(), each kept key as {"kind": b|i|f|s, "shape", "values"}, "fixed" from FixAtoms.
  "ase_frames": [same as reads, label keys only]  the labels ase_frames.iter_frames itself gives
  "dets": [[9 float bits]]   np.linalg.det of each row-major 3 x 3 matrix
  "reprs": [float bits]      repr() of each float

Floats are answered as the 64 bits of the double (a signed integer), so the comparison is exact.
"""
import json
import os
import struct
import sys

import numpy as np

EXTRA_INFO = (("config_type", ("config_type",)), ("total_charge", ("total_charge", "charge")),
              ("total_spin", ("total_spin", "spin")), ("config_weight", ("config_weight",)))
KINDS = {"b": "b", "i": "i", "u": "i", "f": "f"}


def bits(x):
    return struct.unpack('<q', struct.pack('<d', float(x)))[0]


def from_bits(b):
    return struct.unpack('<d', struct.pack('<q', b))[0]


def bits_list(a):
    return None if a is None else [bits(x) for x in np.asarray(a, dtype=float).ravel()]


def describe(value, per_atom):
    """A value of Atoms.info or Atoms.arrays as its numpy kind, the shape of one row and the values."""
    if isinstance(value, str):
        return {"kind": "s", "shape": [], "values": [value]}
    a = np.asarray(value)
    kind = KINDS.get(a.dtype.kind, "?" + a.dtype.str)
    values = a.ravel().tolist()
    if kind == "f":
        values = [bits(x) for x in values]
    elif kind == "s" or kind.startswith("?"):
        values = [str(x) for x in values]
    return {"kind": kind, "shape": list(a.shape[1:] if per_atom else a.shape), "values": values}


def voigt(value):
    a = np.asarray(value, dtype=float)
    if a.shape in ((3, 3), (9,)):
        m = a.reshape(3, 3)
        return np.array([m[0, 0], m[1, 1], m[2, 2], (m[1, 2] + m[2, 1]) / 2, (m[0, 2] + m[2, 0]) / 2, (m[0, 1] + m[1, 0]) / 2])
    if a.shape == (6,):
        return a
    raise ValueError(f"shape {a.shape}")


def frame(atoms, job):
    results = atoms.calc.results if atoms.calc is not None else {}
    energy_key, forces_key = job.get("energy_key"), job.get("forces_key")
    stress_key, virials_key = job.get("stress_key"), job.get("virials_key")
    energy = atoms.info[energy_key] if energy_key else results.get("energy")
    forces = atoms.arrays[forces_key] if forces_key else results.get("forces")
    periodic = bool(atoms.pbc.all())
    if virials_key:
        virial = atoms.info.get(virials_key)
        stress = None if virial is None or not periodic else -voigt(virial) / atoms.get_volume()
    elif stress_key:
        stress = atoms.info.get(stress_key)
        stress = None if stress is None else voigt(stress)
    else:
        stress = results.get("stress")
    info = {}
    for name, keys in EXTRA_INFO:
        for key in keys:
            if key in atoms.info:
                value = atoms.info[key]
                info[name] = describe(str(value) if name == "config_type" else float(value), False)
                break
    for key in job.get("keep_info", []):
        if atoms.info.get(key) is not None:
            info[key] = describe(atoms.info[key], False)
    arrays = {}
    if atoms.constraints:
        fixed = np.zeros(len(atoms), bool)
        for c in atoms.constraints:
            if type(c).__name__ == "FixAtoms":
                fixed[c.get_indices()] = True
        arrays["fixed"] = describe(fixed, True)
    for key in job.get("keep_arrays", []):
        if key in atoms.arrays:
            arrays[key] = describe(atoms.arrays[key], True)
    return {
        "energy": None if energy is None else bits(energy),
        "forces": bits_list(forces),
        "stress": bits_list(stress) if stress is not None and periodic else None,
        "info": info,
        "arrays": arrays,
    }


def read(job):
    import ase.io
    try:
        return {"frames": [frame(a, job) for a in ase.io.iread(job["path"], ":", format="extxyz")]}
    except Exception as e:  # the oracle reports ASE's refusal; the test decides what it means
        return {"error": "%s: %s" % (type(e).__name__, e)}


def via_ase_frames(job):
    """The labels of the converter's own ASE module, src/MlffData/PythonScripts/ase_frames.py."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "..", "src", "MlffData", "PythonScripts"))
    import ase_frames
    keys = {k: job.get(k) for k in ("energy_key", "forces_key", "stress_key", "virials_key")}
    frames = []
    for f in ase_frames.iter_frames(job["path"], "extxyz", **keys):
        frames.append({name: None if f[name] is None else list(struct.unpack("<%dq" % (len(f[name]) // 8), f[name]))
                       for name in ("forces", "stress")})
        frames[-1]["energy"] = None if f["energy"] is None else bits(f["energy"])
    return {"frames": frames}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    answer = {
        "reads": [read(job) for job in request.get("reads", [])],
        "ase_frames": [via_ase_frames(job) for job in request.get("ase_frames", [])],
        "dets": [bits(np.linalg.det(np.array([from_bits(b) for b in m]).reshape(3, 3))) for m in request.get("dets", [])],
        "reprs": [repr(from_bits(b)) for b in request.get("reprs", [])],
    }
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
