"""h5py as the independent LZF oracle for LzfCodecTests (HDF5 filter 32000, liblzf inside h5py).

compress WORK.h5 DTYPE IN.bin OUT.lzf [DTYPE IN.bin OUT.lzf ...]
    Writes each IN.bin (raw DTYPE values) as a one-chunk dataset with compression='lzf', then saves the
    chunk exactly as stored (read_direct_chunk) to OUT.lzf and prints its filter mask, one line each.

decompress WORK.h5 DTYPE IN.lzf COUNT OUT.bin [DTYPE IN.lzf COUNT OUT.bin ...]
    Stores each IN.lzf as the only chunk (COUNT values) of a compression='lzf' dataset with
    write_direct_chunk, reopens the file and saves what h5py reads back to OUT.bin.

Run with /usr/bin/python3 (Debian's python3-h5py); exits non-zero with the reason on any failure.
"""

import sys

import h5py
import numpy as np


def compress(path, samples):
    with h5py.File(path, "w") as f:
        for i, (dtype, source, target) in enumerate(samples):
            data = np.fromfile(source, dtype=dtype)
            dset = f.create_dataset(f"s{i}", data=data, chunks=data.shape, compression="lzf")
            mask, chunk = dset.id.read_direct_chunk((0,))
            with open(target, "wb") as out:
                out.write(chunk)
            print(mask)


def decompress(path, samples):
    with h5py.File(path, "w") as f:
        for i, (dtype, source, count, _) in enumerate(samples):
            dset = f.create_dataset(f"s{i}", shape=(int(count),), dtype=dtype, chunks=(int(count),),
                                    compression="lzf")
            with open(source, "rb") as chunk:
                dset.id.write_direct_chunk((0,), chunk.read(), filter_mask=0)
    # Reading from a reopened file goes through the filter, not through the chunk cache.
    with h5py.File(path, "r") as f:
        for i, sample in enumerate(samples):
            f[f"s{i}"][...].tofile(sample[-1])


def main(argv):
    command, path, rest = argv[1], argv[2], argv[3:]
    width = {"compress": 3, "decompress": 4}.get(command)
    if width is None or not rest or len(rest) % width:
        sys.exit(f"usage: see {__file__}; got {argv[1:]}")
    samples = [tuple(rest[i:i + width]) for i in range(0, len(rest), width)]
    (compress if command == "compress" else decompress)(path, samples)


if __name__ == "__main__":
    main(sys.argv)
