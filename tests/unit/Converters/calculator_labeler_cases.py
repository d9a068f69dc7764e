"""Calculators and references for tests/unit/Converters/CalculatorLabeler*Tests.cs.

As a module (spec "/path/calculator_labeler_cases.py:NAME"): calculators that the labeler loads from this file.
As a script: `reference IN.json` labels the structures of IN.json ({"structures": [{numbers, positions, cell,
pbc}]}) in this separate process, with ASE's EMT (default) or tests/teacher/torch_pair.py (`--torch-pair`), through
ASE directly, and prints {"labels": [{energy, forces, stress or null}]}; json writes floats exactly (repr).
"""
import importlib.util
import json
import os
import sys

import numpy as np
from ase import Atoms
from ase.calculators.calculator import all_changes
from ase.calculators.emt import EMT

TORCH_PAIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "teacher", "torch_pair.py")


def _torch_pair():
    """tests/teacher/torch_pair.py's TorchPair, loaded by path: this file also runs inside the labeler's embedded
    interpreter, whose sys.path the Python tests check, so it must not add to sys.path."""
    module = sys.modules.get("_labeler_cases_torch_pair")
    if module is None:
        spec = importlib.util.spec_from_file_location("_labeler_cases_torch_pair", TORCH_PAIR)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[spec.name] = module
    return module.TorchPair


class ShiftedEMT(EMT):
    """EMT whose energy is moved by `shift` eV, and which raises for structures whose atom count is in fail_sizes."""

    def __init__(self, shift=0.0, fail_sizes=(), **kwargs):
        EMT.__init__(self, **kwargs)
        self.shift = float(shift)
        self.fail_sizes = set(fail_sizes)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if atoms is not None and len(atoms) in self.fail_sizes:
            raise ValueError(f"refusing a structure of {len(atoms)} atoms")
        EMT.calculate(self, atoms, properties, system_changes)
        self.results["energy"] += self.shift
        self.results["free_energy"] += self.shift


def make_shifted(device, shift=0.0, fail_sizes=()):
    """A factory that declares a device, as GPU calculators do: without a default, so it fails unless the labeler
    passes one; the device it got is kept in `given_device`."""
    calc = ShiftedEMT(shift=shift, fail_sizes=fail_sizes)
    calc.given_device = device
    return calc


def not_a_calculator():
    return 42


def make_recording_torch_pair(log, device="cpu", **kwargs):
    """tests/teacher/torch_pair.py's TorchPair that appends to `log` one line per call: the batch size of each
    label_batch call, or "calculate" for each call through ASE."""
    TorchPair = _torch_pair()

    class Recording(TorchPair):
        def calculate(self, *args, **kw):
            with open(log, "a") as f:
                f.write("calculate\n")
            return TorchPair.calculate(self, *args, **kw)

        def label_batch(self, structures):
            with open(log, "a") as f:
                f.write(f"{len(structures)}\n")
            return TorchPair.label_batch(self, structures)

    return Recording(device=device, **kwargs)


def reference(path, torch_pair=False):
    with open(path) as f:
        structures = json.load(f)["structures"]
    if torch_pair:
        calc = _torch_pair()()
    else:
        calc = EMT()
    labels = []
    for s in structures:
        n = len(s["numbers"])
        atoms = Atoms(numbers=s["numbers"], positions=np.array(s["positions"]).reshape(n, 3),
                      cell=np.array(s["cell"]).reshape(3, 3), pbc=s["pbc"])
        atoms.calc = calc
        stress = atoms.get_stress().tolist() if atoms.pbc.all() else None
        labels.append({"energy": atoms.get_potential_energy(), "forces": atoms.get_forces().ravel().tolist(),
                       "stress": stress})
    print(json.dumps({"labels": labels}))


if __name__ == "__main__":
    if sys.argv[1] == "reference":
        reference(sys.argv[2], torch_pair="--torch-pair" in sys.argv[3:])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
