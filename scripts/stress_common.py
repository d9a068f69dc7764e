"""Shared helpers of scripts/stress (run with /usr/bin/python3: h5py, numpy, ASE)."""
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = [shutil.which("dotnet") or "dotnet", os.path.join(ROOT, "artifacts", "cli", "mlff-data.dll")]
SIDECARS = (".journal", ".lock", ".partial")


def cli(*args, timeout=120, **kw):
    """Runs mlff-data to completion; returns CompletedProcess (text)."""
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)


def cli_cmd(*args):
    """The shell form of a mlff-data call, for reproduction lines."""
    return "dotnet artifacts/cli/mlff-data.dll " + " ".join(str(a) for a in args)


def leftovers(path):
    return [path + s for s in SIDECARS if os.path.exists(path + s)] + \
        [os.path.join(os.path.dirname(path), n) for n in os.listdir(os.path.dirname(path) or ".")
         if n.startswith(os.path.basename(path) + ".journal.tmp")]


def read_all(path):
    """Every dataset of a file as numpy arrays (and num_structures)."""
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f.visititems(visit)
        attrs = dict(f["metadata"].attrs) if "metadata" in f else {}
    return out, attrs


def arrays_equal(a, b):
    import numpy as np
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def save_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=str)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)
