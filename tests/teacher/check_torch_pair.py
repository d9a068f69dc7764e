"""Checks tests/teacher/torch_pair.py against finite differences, on the CPU (or the device given as argv[1]).

Forces must equal -dE/dx by central differences (ASE's calculate_numerical_forces) and stress (1/V) dE/d(strain)
(ASE's calculate_numerical_stress), for a small skewed cell whose neighbours lie several cells away, a cubic
supercell, a slab periodic on two axes (no stress) and a molecule; atoms are moved out of the cell first, so the
wrapping is exercised. label_batch must give what ASE's path gives. Prints one JSON object: per case the largest
differences; the caller (tests/unit/Converters/CalculatorLabelerTorchPairTests.cs) holds the tolerances.
"""
import json
import os
import sys

import numpy as np
from ase.build import bulk, fcc111, molecule

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_pair import TorchPair  # noqa: E402


def cases():
    skewed = bulk("Cu", "fcc", a=3.6)  # one atom, primitive cell: every neighbour is an image
    skewed.rattle(0.05, seed=1)
    cubic = bulk("Cu", cubic=True).repeat(2)
    cubic.rattle(0.1, seed=2)
    slab = fcc111("Cu", (2, 2, 3), vacuum=5.0)
    slab.rattle(0.1, seed=3)
    water = molecule("H2O")
    water.positions *= 1.8  # within the cutoff, away from the repulsive wall
    for atoms in (skewed, cubic, slab):
        atoms.positions += atoms.cell.array.sum(axis=0) * 1.3  # outside the cell: wrapping must not change anything
    return {"skewed_primitive": skewed, "cubic_supercell": cubic, "slab": slab, "molecule": water}


def main():
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    calc = TorchPair(device=device)
    out = {}
    for name, atoms in cases().items():
        atoms.calc = calc
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces()
        numerical = calc.calculate_numerical_forces(atoms, d=1e-5)
        result = {"atoms": len(atoms), "energy": energy, "force_error": float(np.abs(forces - numerical).max()),
                  "force_scale": float(np.abs(forces).max())}
        if atoms.pbc.all():
            stress = atoms.get_stress()
            numerical_stress = calc.calculate_numerical_stress(atoms, d=1e-6)
            result["stress_error"] = float(np.abs(stress - numerical_stress).max())
            result["stress_scale"] = float(np.abs(stress).max())
        wrapped = atoms.copy()
        wrapped.wrap()
        wrapped.calc = TorchPair(device=device)
        result["wrap_energy_difference"] = abs(wrapped.get_potential_energy() - energy)
        batch_energy, batch_forces, batch_stress = calc.label_batch([atoms.copy()])[0]
        result["batch_energy_difference"] = abs(batch_energy - energy)
        result["batch_force_difference"] = float(np.abs(batch_forces - forces).max())
        result["batch_stress"] = batch_stress is not None
        out[name] = result
    out["batch_calls"] = calc.batch_calls
    print(json.dumps(out))


if __name__ == "__main__":
    main()
