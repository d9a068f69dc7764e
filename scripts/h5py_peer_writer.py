#!/usr/bin/python3
"""The h5py peer for benchmarks: writes N structures in FORMAT.md's layout with plain h5py.

Loads a dataset in our format (e.g. data/samples/reference_930.h5), repeats its structures up to --count
with small random position perturbations (all prepared in memory before the clock starts), then writes
them to --output in one of two styles:
  seed   the seed's incremental writer: per structure, resize every dataset by one structure and
         assign into the new rows (what a naive h5py writer does)
  batch  numpy arrays for everything, one create_dataset(data=...) per dataset
Chunks (whole rows, about 64 KiB), compression filters, units and /metadata are those of
make_reference_dataset.py, so both styles and the C# writer produce comparable files.
Prints one JSON line; "seconds" is the write time only (open to close), not loading or preparing.

Run with Debian's /usr/bin/python3 (scripts/bootstrap installs h5py, numpy and ASE).
"""
import argparse
import json
import os
import sys
import time

import h5py
import numpy as np

# The layout, chunking and metadata come from the reference writer; no __pycache__ left in scripts/.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference_dataset import LAYOUT, create_dataset, write_metadata  # noqa: E402

WRITER = f"h5py_peer_writer.py (h5py {h5py.__version__})"


def load(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in LAYOUT}


def repeat(source, count, rng):
    """count structures: source's structures in turn, positions moved by N(0, 0.01 Ang) each time."""
    splits = source["structures/atomic_numbers_splits"]
    sizes = np.diff(splits)
    picked = np.arange(count) % len(sizes)
    new_splits = np.concatenate([[0], np.cumsum(sizes[picked])]).astype(np.int64)
    # Row of the source atom behind each output atom.
    atoms = np.repeat(splits[:-1][picked] - new_splits[:-1], sizes[picked]) + np.arange(new_splits[-1])
    arrays = {}
    for name, (_, _, kind) in LAYOUT.items():
        if kind == "split":
            arrays[name] = new_splits
        elif name == "labels/structure_indices":
            arrays[name] = np.arange(count, dtype=np.int64)
        else:
            arrays[name] = source[name][picked if kind == "structure" else atoms]
    arrays["structures/positions"] += rng.normal(0.0, 0.01, arrays["structures/positions"].shape)
    return arrays


def write_seed(path, arrays, compression):
    """Per structure: grow every dataset by that structure's rows and assign them."""
    splits = arrays["structures/atomic_numbers_splits"]
    with h5py.File(path, "w") as f:
        datasets = {name: create_dataset(f, name, compression) for name in LAYOUT}
        for i in range(len(splits) - 1):
            begin, end = splits[i], splits[i + 1]
            for name, dataset in datasets.items():
                source, kind = arrays[name], LAYOUT[name][2]
                if kind == "split":
                    rows = source[i + 1:i + 2]
                elif kind == "structure":
                    rows = source[i:i + 1]
                else:
                    rows = source[begin:end]
                old = dataset.shape[0]
                dataset.resize(old + len(rows), axis=0)
                dataset[old:] = rows
        write_metadata(f, arrays["labels/energy"], arrays["labels/forces"], arrays["structures/atomic_numbers"],
                       compression, WRITER)


def write_batch(path, arrays, compression):
    with h5py.File(path, "w") as f:
        for name, data in arrays.items():
            create_dataset(f, name, compression, data)
        write_metadata(f, arrays["labels/energy"], arrays["labels/forces"], arrays["structures/atomic_numbers"],
                       compression, WRITER)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a dataset in FORMAT.md's layout, e.g. data/samples/reference_930.h5")
    parser.add_argument("output", help="the file to write (overwritten)")
    parser.add_argument("--count", type=int, default=20000, help="structures to write (default 20000)")
    parser.add_argument("--style", choices=["seed", "batch"], default="seed")
    parser.add_argument("--compression", choices=["none", "lzf"] + [f"gzip-{n}" for n in range(1, 10)],
                        default="none")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the perturbations")
    args = parser.parse_args()

    arrays = repeat(load(args.input), args.count, np.random.default_rng(args.seed))
    write = write_seed if args.style == "seed" else write_batch
    start = time.perf_counter()
    write(args.output, arrays, args.compression)
    seconds = time.perf_counter() - start
    print(json.dumps({"style": args.style, "compression": args.compression, "structures": args.count,
                      "atoms": int(arrays["structures/atomic_numbers_splits"][-1]), "seconds": round(seconds, 4),
                      "structures_per_s": round(args.count / seconds, 1), "bytes": os.path.getsize(args.output)}))


if __name__ == "__main__":
    main()
