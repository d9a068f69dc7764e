"""Inputs and calculators for LabelCommandTests, written with Debian's python3 and ASE 3.22.

Usage: label_inputs.py WORK_DIR        writes WORK_DIR/emt.extxyz (no labels) and WORK_DIR/other.extxyz
       label_inputs.py --check H5 XYZ  recomputes EMT for every structure of XYZ and compares with H5; prints "ok"
The calculators for module:callable specs live here too: label_inputs.py:SlowEMT, label_inputs.py:FailingEMT,
label_inputs.py:CrashingEMT.
"""
import os
import sys
import time

import numpy as np
from ase.calculators.emt import EMT


class SlowEMT(EMT):
    """EMT that takes `delay` seconds per structure, so a test can kill a run mid-way."""

    def __init__(self, delay=0.05, **kwargs):
        super().__init__(**kwargs)
        self.delay = delay

    def calculate(self, *args, **kwargs):
        time.sleep(self.delay)
        super().calculate(*args, **kwargs)


class FailingEMT(EMT):
    """EMT that raises on structures of the given atom counts."""

    def __init__(self, fail_sizes=(), **kwargs):
        super().__init__(**kwargs)
        self.fail_sizes = set(fail_sizes)

    def calculate(self, atoms=None, *args, **kwargs):
        if atoms is not None and len(atoms) in self.fail_sizes:
            raise ValueError(f"refusing {len(atoms)} atoms")
        super().calculate(atoms, *args, **kwargs)


class CrashingEMT(EMT):
    """EMT that crashes the process with SIGSEGV (a read of address 0) when MLFF_TEST_TEACHER_CRASH is set: a teacher's
    native code failing, as a CUDA or torch extension can."""

    def calculate(self, *args, **kwargs):
        if os.environ.get("MLFF_TEST_TEACHER_CRASH"):
            import ctypes
            ctypes.string_at(0)
        super().calculate(*args, **kwargs)


def structures(seed):
    from ase.build import bulk, fcc111
    from ase.cluster import Octahedron
    rng = np.random.default_rng(seed)
    out = []
    for i in range(12):
        a = bulk("Cu", cubic=True) * (1 + i % 2, 1, 1)
        a.rattle(0.05, seed=int(rng.integers(1 << 30)))
        out.append(a)
        s = fcc111("Al", size=(2, 2, 2 + i % 2), vacuum=5.0)
        s.rattle(0.05, seed=int(rng.integers(1 << 30)))
        out.append(s)
        c = Octahedron("Pt", 2 + i % 2)
        c.rattle(0.05, seed=int(rng.integers(1 << 30)))
        out.append(c)
    return out


def write_inputs(work):
    from ase.io import write
    write(f"{work}/emt.extxyz", structures(1))
    write(f"{work}/other.extxyz", structures(2))


def check(h5, xyz):
    import h5py
    from ase.io import read
    frames = read(xyz, ":")
    with h5py.File(h5, "r") as f:
        s = f["structures/atomic_numbers_splits"][:]
        idx = f["labels/structure_indices"][:]
        assert sorted(idx) == list(range(len(frames))), idx
        for row, i in enumerate(idx):
            a = frames[i]
            a.calc = EMT()
            e = a.get_potential_energy()
            forces = a.get_forces()
            assert abs(f["labels/energy"][row] - e) <= 1e-9, (row, f["labels/energy"][row], e)
            assert np.array_equal(f["labels/forces"][s[row]:s[row + 1]], forces.astype(np.float32)), row
            if a.pbc.all():
                assert f["labels/stress_mask"][row], row
                assert np.allclose(f["labels/stress"][row], a.get_stress(), rtol=0, atol=1e-12), row
            else:
                assert not f["labels/stress_mask"][row], row
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    else:
        write_inputs(sys.argv[1])
