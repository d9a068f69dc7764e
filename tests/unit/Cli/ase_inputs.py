"""Writes the inputs of ConvertAseInputTests with Debian's python3 and ASE 3.22, from the reference pickle.

Usage: ase_inputs.py REFERENCE_PKL WORK_DIR MARKER
Files written into WORK_DIR:
  bare.pkl               the reference structures without calculators (labels come from a labels pickle)
  labels_dict.pkl        {"energies", "forces", "stresses"} of the reference (stress None where it has none)
  labels_tuple.pkl       (energies, forces, stresses) as numpy arrays / lists
  labels_short.pkl       the dict with one structure fewer
  labels_bad_forces.pkl  the dict with structure 5's forces one atom short
  reference.traj         the reference as an ASE trajectory (read through ase.io.iread)
  malicious.pkl          a pickle whose load would run `touch MARKER`
  truncated.pkl          the reference pickle cut short
  not_a_pickle.pkl       text
  dict.pkl               a pickle of a dict, not of Atoms
  unlabelled.pkl         three water molecules, the middle one without a calculator
  extras.extxyz          20 labelled structures with extras: config_type, charge (not on every structure), a kept
                         int info key, a kept 3-vector info key, a kept per-atom float column (ASE's extxyz
                         writer drops their FixAtoms)
  extras.pkl             the same structures pickled, FixAtoms on every other one
"""
import os
import pickle
import sys

import numpy as np
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

reference, work, marker = sys.argv[1:4]
with open(reference, "rb") as f:
    data = f.read()
structures = pickle.loads(data)


def dump(name, obj):
    with open(os.path.join(work, name), "wb") as f:
        pickle.dump(obj, f, protocol=4)


energies = [a.calc.results["energy"] for a in structures]
forces = [a.calc.results["forces"] for a in structures]
stresses = [a.calc.results.get("stress") for a in structures]
bare = [a.copy() for a in structures]
for a in bare:
    a.calc = None
dump("bare.pkl", bare)
dump("labels_dict.pkl", {"energies": energies, "forces": forces, "stresses": stresses})
dump("labels_tuple.pkl", (np.array(energies), forces, stresses))
dump("labels_short.pkl", {"energies": energies[:-1], "forces": forces[:-1]})
dump("labels_bad_forces.pkl", {"energies": energies, "forces": forces[:5] + [forces[5][:-1]] + forces[6:]})
write(os.path.join(work, "reference.traj"), structures)


class Touch:
    def __reduce__(self):
        return (os.system, (f"touch {marker}",))


dump("malicious.pkl", [Touch()])
with open(os.path.join(work, "truncated.pkl"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(work, "not_a_pickle.pkl"), "w") as f:
    f.write("3\nenergy=1.0\nO 0 0 0\n")
dump("dict.pkl", {"energy": 1.0})

water = []
for i in range(3):
    m = molecule("H2O")
    if i != 1:
        m.calc = SinglePointCalculator(m, energy=-14.0 - i, forces=np.full((3, 3), 0.1 * i))
    water.append(m)
dump("unlabelled.pkl", water)

from ase.constraints import FixAtoms  # noqa: E402

extras = []
for i, a in enumerate(structures[:20]):
    a = a.copy()
    a.calc = SinglePointCalculator(a, **structures[i].calc.results)
    a.info["config_type"] = "bulk" if a.pbc.all() else "surface"
    if i % 3:
        a.info["charge"] = float(i % 2)
    a.info["REF_step"] = i * 10
    a.info["REF_dipole"] = np.array([0.1 * i, -0.2, 0.3])
    a.arrays["REF_q"] = np.linspace(-1, 1, len(a))
    if i % 2 == 0:
        a.set_constraint(FixAtoms(indices=[0]))
    extras.append(a)
write(os.path.join(work, "extras.extxyz"), extras)
dump("extras.pkl", extras)
print("ok")
