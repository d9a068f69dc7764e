"""Helpers for the embedded-Python tests (tests/unit/Python), loaded into the test process with PythonModule.FromSource."""
import sys
import time

import numpy as np
from ase.build import bulk

SENTINEL = object()


def sentinel():
    return SENTINEL


def sentinel_refcount():
    # Less one for getrefcount's own argument.
    return sys.getrefcount(SENTINEL) - 1


def boom():
    raise ValueError("boom")


def describe(*args, **kwargs):
    """type:repr of each argument, to check the .NET -> Python conversions."""
    parts = [f"{type(a).__name__}:{a!r}" for a in args]
    parts += [f"{k}={type(v).__name__}:{v!r}" for k, v in sorted(kwargs.items())]
    return " ".join(parts)


def text():
    return "Cu \u2013 \u00c5\u00b3"


def big_int():
    return 2 ** 70


def bulk_arrays(symbol, cubic):
    """numbers, positions, cell and pbc of ase.build.bulk as bytes: one copy per array, as the converters do."""
    atoms = bulk(symbol, cubic=cubic)
    return (np.ascontiguousarray(atoms.numbers, "<i8").tobytes(),
            np.ascontiguousarray(atoms.positions, "<f8").tobytes(),
            np.ascontiguousarray(atoms.cell.array, "<f8").tobytes(),
            np.ascontiguousarray(atoms.pbc, "?").tobytes(),
            float(atoms.get_volume()))


def float64_array():
    return np.arange(6, dtype=np.float64).reshape(2, 3) * 0.5


def int32_array():
    return np.arange(4, dtype=np.int32)


def strided_array():
    return np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2]


def frames(count, fail_at=-1):
    """A generator of frame dicts, like the converters' iter_frames."""
    for i in range(count):
        if i == fail_at:
            raise RuntimeError(f"frame {i} is broken")
        yield {"index": i, "energy": -1.5 * i, "positions": np.full((2, 3), i, "<f8").tobytes()}


def thread_work(i):
    # sleep lets Python hand the GIL to another waiting thread in the middle of this call.
    time.sleep(0.001)
    return float(np.arange(i + 1, dtype=np.float64).sum())


def numpy_extension_file():
    from numpy.core import _multiarray_umath
    return _multiarray_umath.__file__
