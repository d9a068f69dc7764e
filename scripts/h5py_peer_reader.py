#!/usr/bin/python3
"""The h5py peer for the read benchmark: what a training script does with plain h5py.

Random access: structure i from a file and datasets opened once (splits[i:i+2], then the rows of every dataset), timed one by
one over --samples random indices after a warm-up scan (with h5py's default chunk cache, as a plain
h5py.File opens, or --cache-mb as ours has); prints median and p99 in microseconds. Full scan: every
dataset read in blocks of 4096 structures, as MB/s of uncompressed arrays. Prints one JSON line.

Run with Debian's /usr/bin/python3 (scripts/bootstrap installs h5py and numpy).
"""
import argparse
import json
import time

import h5py
import numpy as np

PER_ATOM = ["structures/atomic_numbers", "structures/positions", "labels/forces"]
PER_STRUCTURE = ["structures/cells", "structures/pbc", "labels/energy", "labels/stress", "labels/stress_mask",
                 "labels/structure_indices"]


def read_one(datasets, splits, i):
    a, b = splits[i:i + 2]
    return [datasets[n][a:b] for n in PER_ATOM] + [datasets[n][i] for n in PER_STRUCTURE]


def scan(f, block=4096):
    splits = f["structures/atomic_numbers_splits"]
    count = len(splits) - 1
    nbytes = 0
    for start in range(0, count, block):
        end = min(count, start + block)
        s = splits[start:end + 1]
        arrays = [f[n][s[0]:s[-1]] for n in PER_ATOM] + [f[n][start:end] for n in PER_STRUCTURE]
        nbytes += sum(x.nbytes for x in arrays) + s.nbytes * 2
    return nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-mb", type=float, default=0,
                        help="chunk cache per dataset (rdcc_nbytes); 0 keeps h5py's default of 1 MiB")
    args = parser.parse_args()
    cache = dict(rdcc_nbytes=int(args.cache_mb * 2**20), rdcc_nslots=10007) if args.cache_mb else {}
    with h5py.File(args.input, "r", **cache) as f:
        scan(f)  # warm, as ours is
        # Datasets opened once, as a careful loader does: f[name] per read reopens the dataset and so starts its
        # chunk cache empty every time.
        datasets = {n: f[n] for n in PER_ATOM + PER_STRUCTURE}
        splits = f["structures/atomic_numbers_splits"]
        count = len(splits) - 1
        rng = np.random.default_rng(args.seed)
        times = []
        for i in rng.integers(0, count, args.samples):
            start = time.perf_counter()
            read_one(datasets, splits, int(i))
            times.append((time.perf_counter() - start) * 1e6)
        times.sort()
        start = time.perf_counter()
        nbytes = scan(f)
        seconds = time.perf_counter() - start
    print(json.dumps({"median_us": times[len(times) // 2], "p99_us": times[int(len(times) * 0.99)],
                      "scan_mb_per_s": nbytes / 1e6 / seconds}))


if __name__ == "__main__":
    main()
