"""Makes HDF5 files that use features a reader must refuse, each a copy of a valid dataset plus one feature.

Usage: hostile_files.py BASE.h5 OUTDIR SECRET.txt
BASE.h5 is a file in FORMAT.md's layout; SECRET.txt is a local file that must never reach any output.
Prints one JSON object: case name -> {"file": path, "object": path of the offending object in the file}.
The feature goes where the reader would meet it (/info, which readers and merge copy, or a dataset it reads),
so a check that missed it would let the data through.
"""
import json
import os
import shutil
import sys

import h5py
import numpy as np

base, outdir, secret = sys.argv[1], sys.argv[2], sys.argv[3]
cases = {}


def case(name, obj):
    def wrap(make):
        path = os.path.join(outdir, f"{name}.h5")
        shutil.copyfile(base, path)
        with h5py.File(path, "r+") as f:
            rows = f["labels/energy"].shape[0]
            make(f, rows)
        cases[name] = {"file": path, "object": obj}
        return make
    return wrap


# A dataset whose raw data is an arbitrary local file (RELIABILITY.md 3.4: the reader returned its bytes).
@case("external_storage", "/info/secret")
def _(f, rows):
    f.create_dataset("info/secret", shape=(rows,), dtype="u1", external=[(secret, 0, h5py.h5f.UNLIMITED)])


# The same, replacing a dataset of the layout itself, so the reader would read it as energies.
@case("external_storage_energy", "/labels/energy")
def _(f, rows):
    del f["labels/energy"]
    f.create_dataset("labels/energy", shape=(rows,), dtype="<f8", external=[(secret, 0, h5py.h5f.UNLIMITED)])


other = os.path.join(outdir, "other.h5")
with h5py.File(other, "w") as o:
    o["data"] = np.arange(1000, dtype="<f8")


@case("external_link", "/info/linked")
def _(f, rows):
    f["info/linked"] = h5py.ExternalLink(other, "/data")


# A soft link is only a second name for an object in the file; one that leads nowhere, or through an external link,
# is not.
@case("dangling_soft_link", "/info/alias")
def _(f, rows):
    f.require_group("info")
    f["info/alias"] = h5py.SoftLink("/nowhere/data")


@case("soft_link_through_external_link", "/info/zz_outside")
def _(f, rows):
    f.require_group("info")
    f["info/aa_alias"] = h5py.SoftLink("/info/zz_outside/data")
    f["info/zz_outside"] = h5py.ExternalLink(other, "/")


@case("virtual_dataset", "/info/virtual")
def _(f, rows):
    layout = h5py.VirtualLayout(shape=(rows,), dtype="<f8")
    layout[:] = h5py.VirtualSource(other, "data", shape=(1000,))[:rows]
    f.create_virtual_dataset("info/virtual", layout)


# A filter id libhdf5 does not have built in (32015 is zstd's registered id). Optional, so that libhdf5 lets the
# dataset be created without the filter present; a reader meeting it would look for a plugin.
@case("unknown_filter", "/info/filtered")
def _(f, rows):
    grp = f.require_group("info")
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((max(rows, 1),))
    dcpl.set_filter(32015, h5py.h5z.FLAG_OPTIONAL, (3,))
    space = h5py.h5s.create_simple((rows,), (h5py.h5s.UNLIMITED,))
    h5py.h5d.create(grp.id, b"filtered", h5py.h5t.IEEE_F64LE, space, dcpl=dcpl).close()


@case("compound_dataset", "/info/compound")
def _(f, rows):
    f.create_dataset("info/compound", shape=(rows,), dtype=np.dtype([("a", "<i4"), ("b", "<f8")]))


@case("reference_attribute", "/metadata")
def _(f, rows):
    f["metadata"].attrs.create("pointer", f["labels"].ref, dtype=h5py.ref_dtype)


@case("reference_dataset", "/info/refs")
def _(f, rows):
    data = np.empty((rows,), dtype=h5py.ref_dtype)
    for i in range(rows):
        data[i] = f["labels"].ref
    f.create_dataset("info/refs", data=data, dtype=h5py.ref_dtype)


@case("enum_dataset", "/info/colour")
def _(f, rows):
    f.create_dataset("info/colour", shape=(rows,), dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i1"))


@case("vlen_int_dataset", "/info/ragged")
def _(f, rows):
    f.create_dataset("info/ragged", shape=(rows,), dtype=h5py.vlen_dtype(np.dtype("<i4")))


@case("opaque_dataset", "/info/blob")
def _(f, rows):
    f.create_dataset("info/blob", shape=(rows,), dtype=np.dtype("V8"))


json.dump(cases, sys.stdout)
