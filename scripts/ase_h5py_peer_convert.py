#!/usr/bin/python3
"""The end-to-end peer for benchmarks: ASE reads the input, h5py writes FORMAT.md's layout in numpy batch style.

  convert INPUT OUTPUT --format extxyz|pickle --compression C
      reads every frame (ase.io.read(INPUT, ":") or pickle.load of a list of Atoms), gathers atomic numbers,
      positions, cells, pbc and the calculator's energy, forces and stress into numpy arrays, and writes them
      with h5py_peer_writer.py's write_batch (same chunks, filters, units and /metadata as the reference writer).
      Prints one JSON line; "seconds" covers reading and writing, not Python's start-up and imports.
  make-pickle REFERENCE OUTPUT --count N
      the benchmark's pickle input: REFERENCE's structures repeated up to N with perturbed positions (as
      h5py_peer_writer.py prepares them), as a pickled list of Atoms with SinglePointCalculator labels.

Run with Debian's /usr/bin/python3 (scripts/bootstrap installs h5py, numpy and ASE).
"""
import argparse
import json
import os
import pickle
import sys
import time

import ase.io
import h5py
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import full_3x3_to_voigt_6_stress

# No __pycache__ left in scripts/.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5py_peer_writer import load, repeat, write_batch  # noqa: E402


def to_arrays(frames):
    """FORMAT.md's arrays from a list of Atoms whose calculator holds energy, forces and maybe stress."""
    sizes = np.array([len(a) for a in frames], dtype=np.int64)
    splits = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    stress = np.zeros((len(frames), 6))
    mask = np.zeros(len(frames), dtype=np.bool_)
    for i, atoms in enumerate(frames):
        value = atoms.calc.results.get("stress")
        if value is not None:
            value = np.asarray(value, dtype=np.float64)
            stress[i] = full_3x3_to_voigt_6_stress(value.reshape(3, 3)) if value.size == 9 else value
            mask[i] = True
    return {
        "structures/atomic_numbers": np.concatenate([a.numbers for a in frames]).astype(np.int64),
        "structures/atomic_numbers_splits": splits,
        "structures/positions": np.concatenate([a.positions for a in frames]),
        "structures/cells": np.array([a.cell.array for a in frames]),
        "structures/pbc": np.array([a.pbc for a in frames], dtype=np.bool_),
        "labels/energy": np.array([a.calc.results["energy"] for a in frames], dtype=np.float64),
        "labels/forces": np.concatenate([a.calc.results["forces"] for a in frames]).astype(np.float32),
        "labels/forces_splits": splits.copy(),
        "labels/stress": stress,
        "labels/stress_mask": mask,
        "labels/structure_indices": np.arange(len(frames), dtype=np.int64),
    }


def convert(args):
    start = time.perf_counter()
    if args.format == "pickle":
        with open(args.input, "rb") as f:
            frames = pickle.load(f)
    else:
        frames = ase.io.read(args.input, ":", format="extxyz")
    read = time.perf_counter() - start
    arrays = to_arrays(frames)
    write_batch(args.output, arrays, args.compression)
    seconds = time.perf_counter() - start
    print(json.dumps({"format": args.format, "compression": args.compression, "structures": len(frames),
                      "atoms": int(arrays["structures/atomic_numbers_splits"][-1]), "seconds": round(seconds, 4),
                      "read_seconds": round(read, 4), "structures_per_s": round(len(frames) / seconds, 1),
                      "bytes": os.path.getsize(args.output)}))


def make_pickle(args):
    arrays = repeat(load(args.reference), args.count, np.random.default_rng(args.seed))
    splits = arrays["structures/atomic_numbers_splits"]
    frames = []
    for i in range(args.count):
        begin, end = splits[i], splits[i + 1]
        atoms = Atoms(numbers=arrays["structures/atomic_numbers"][begin:end],
                      positions=arrays["structures/positions"][begin:end],
                      cell=arrays["structures/cells"][i], pbc=arrays["structures/pbc"][i])
        labels = {"energy": float(arrays["labels/energy"][i]),
                  "forces": arrays["labels/forces"][begin:end].astype(np.float64)}
        if arrays["labels/stress_mask"][i]:
            labels["stress"] = arrays["labels/stress"][i]
        atoms.calc = SinglePointCalculator(atoms, **labels)
        frames.append(atoms)
    with open(args.output, "wb") as f:
        pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"structures": args.count, "atoms": int(splits[-1]), "bytes": os.path.getsize(args.output)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("convert", help="read INPUT with ASE, write OUTPUT with h5py")
    c.add_argument("input")
    c.add_argument("output", help="the file to write (overwritten)")
    c.add_argument("--format", choices=["extxyz", "pickle"], required=True)
    c.add_argument("--compression", choices=["none", "lzf"] + [f"gzip-{n}" for n in range(1, 10)], default="gzip-4")
    m = commands.add_parser("make-pickle", help="write the benchmark's ASE pickle")
    m.add_argument("reference", help="a dataset in FORMAT.md's layout, e.g. data/samples/reference_930.h5")
    m.add_argument("output")
    m.add_argument("--count", type=int, default=20000)
    m.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    convert(args) if args.command == "convert" else make_pickle(args)


if __name__ == "__main__":
    main()
