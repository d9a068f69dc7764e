"""Writes the bad-input corpus (issue 7): small hostile or broken inputs, each with the error mlff-data must give.

Usage: /usr/bin/python3 tests/corpus/make_corpus.py [MLFF_DATA_DLL]
Needs ASE 3.22.1, numpy and h5py. The HDF5 cases start from a small file written by mlff-data itself (convert of
files/valid.extxyz), so MLFF_DATA_DLL is the built tool (default: the unit-test build output under artifacts/).
Writes tests/corpus/files/ (every file under 64 KiB) and tests/corpus/expected.json, which BadInputCorpusTests
(tests/unit/Cli/) runs: for each case the arguments ({files} is the files directory, {out} an output path in a
fresh temp directory), the exit code, the stream the message is on and the substrings it must contain. A case
with "known_bug" is a misbehaviour of the tool to fix; the test skips it until then.
The tool runs with the files directory as its working directory, so secret.txt, named relatively by the external
storage case, resolves; its contents must never appear in any output.
"""
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys

import h5py
import numpy as np
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.singlepoint import SinglePointCalculator

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
REPO = os.path.dirname(os.path.dirname(HERE))
DLL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "artifacts", "bin", "MlffData.UnitTests", "release", "mlff-data.dll")
SECRET = "MLFF-CORPUS-SECRET-4b1d7e0c9a"

cases = []


def case(name, kind, file_name, args, exit_code, contains, stream=None, known_bug=None):
    entry = {"name": name, "kind": kind, "file": file_name, "args": args, "exit": exit_code,
             "stream": stream or ("stdout" if exit_code == 0 else "stderr"), "contains": contains}
    if known_bug:
        entry["known_bug"] = known_bug
    cases.append(entry)


def write(name, data):
    path = os.path.join(FILES, name)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def convert(file_name):
    return ["convert", "-i", "{files}/" + file_name, "-o", "{out}"]


# ---------------------------------------------------------------------------------------------------------------
# extxyz
# ---------------------------------------------------------------------------------------------------------------
PROPS = "Properties=species:S:1:pos:R:3:forces:R:3"
LATTICE = 'Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0"'
ATOMS = ["O 0.0 0.0 0.0 0.1 0.2 0.3", "H 0.9 0.0 0.0 -0.1 0.0 0.0", "H 0.0 0.9 0.0 0.0 -0.2 -0.3"]


def frame(comment=f'{LATTICE} {PROPS} energy=-1.5 pbc="T T T"', atoms=ATOMS, count=None):
    return "\n".join([str(len(atoms)) if count is None else count, comment, *atoms]) + "\n"


def xyz(name, text, exit_code, contains, **kw):
    write(name, text)
    case(name, "extxyz", name, convert(name), exit_code, contains, **kw)


VALID = frame() + frame(f'{LATTICE} {PROPS} energy=-1.25 pbc="T T T"')

xyz("valid.extxyz", VALID, 0, ["Wrote 2 structures (6 atoms)"])
xyz("crlf_line_ends.extxyz", VALID.replace("\n", "\r\n"), 0, ["Wrote 2 structures (6 atoms)"])
xyz("utf8_bom.extxyz", "\ufeff" + VALID, 0, ["Wrote 2 structures (6 atoms)"])
xyz("truncated_frame.extxyz", VALID + frame()[:-len(ATOMS[2]) - 1 - len(ATOMS[1]) - 1], 1,
    ["truncated_frame.extxyz:11", "structure 2", "atom count"])
xyz("count_not_a_number.extxyz", frame(count="three"), 1, ["count_not_a_number.extxyz:1", "structure 0", "atom count", "three"])
xyz("count_negative.extxyz", frame(count="-5"), 1, ["count_negative.extxyz:1", "atom count", "negative"])
xyz("count_absurd.extxyz", frame(count="1000000000000"), 1, ["count_absurd.extxyz:1", "atom count", "exceeds"])
xyz("count_absurd_second_frame.extxyz", VALID + frame(count="999999999"), 1,
    ["count_absurd_second_frame.extxyz:11", "structure 2", "atom count", "exceeds"])
xyz("count_too_large_for_file.extxyz", frame(count="99999999"), 1,
    ["count_too_large_for_file.extxyz:1", "structure 0", "atom count", "99999999"])
xyz("missing_properties.extxyz", frame(f'{LATTICE} energy=-1.5 pbc="T T T"', atoms=[" ".join(a.split()[:4]) for a in ATOMS]), 1,
    ["missing_properties.extxyz", "structure 0", "forces"])
xyz("properties_unknown_type.extxyz", frame(f'{LATTICE} Properties=species:S:1:pos:X:3:forces:R:3 energy=-1.5 pbc="T T T"'), 1,
    ["properties_unknown_type.extxyz:2", "structure 0", "Properties"])
xyz("properties_odd_fields.extxyz", frame(f'{LATTICE} Properties=species:S:1:pos:R energy=-1.5 pbc="T T T"'), 1,
    ["properties_odd_fields.extxyz:2", "structure 0", "Properties"])
xyz("column_count_mismatch.extxyz", frame(atoms=[ATOMS[0], ATOMS[1] + " 7.0", ATOMS[2]]), 1,
    ["column_count_mismatch.extxyz:4", "structure 0"])
xyz("column_missing.extxyz", frame(atoms=[ATOMS[0], ATOMS[1], "H 0.0 0.9 0.0 0.0 -0.2"]), 1,
    ["column_missing.extxyz:5", "structure 0"])
xyz("non_numeric_coordinate.extxyz", frame(atoms=[ATOMS[0], "H 0.9 zero 0.0 -0.1 0.0 0.0", ATOMS[2]]), 1,
    ["non_numeric_coordinate.extxyz:4", "structure 0", "zero"])
xyz("unknown_element.extxyz", frame(atoms=[ATOMS[0], "Xq 0.9 0.0 0.0 -0.1 0.0 0.0", ATOMS[2]]), 1,
    ["unknown_element.extxyz:4", "structure 0", "species"])
xyz("nan_energy.extxyz", VALID + frame(f'{LATTICE} {PROPS} energy=nan pbc="T T T"'), 1,
    ["nan_energy.extxyz", "structure 2", "energy"])
xyz("inf_energy.extxyz", frame(f'{LATTICE} {PROPS} energy=inf pbc="T T T"'), 1,
    ["inf_energy.extxyz", "structure 0", "energy"])
xyz("nan_force.extxyz", frame(atoms=[ATOMS[0], "H 0.9 0.0 0.0 NaN 0.0 0.0", ATOMS[2]]), 1,
    ["nan_force.extxyz", "structure 0", "forces"])
xyz("forces_wrong_width.extxyz", frame(f'{LATTICE} Properties=species:S:1:pos:R:3:forces:R:2 energy=-1.5 pbc="T T T"',
                                        atoms=[" ".join(a.split()[:6]) for a in ATOMS]), 1,
    ["forces_wrong_width.extxyz:2", "structure 0", "forces"])
# The native reader reads what ASE reads: a repeated key's last value wins, and an unterminated quote takes the rest
# of the line, as in ASE 3.22, so these convert.
xyz("duplicate_keys.extxyz", frame(f'{LATTICE} {PROPS} energy=-1.5 energy=-2.5 pbc="T T T"'), 0, [])
xyz("unterminated_quote.extxyz", frame(f'{LATTICE} {PROPS} energy=-1.5 config_type="bulk pbc=T'), 0, [])
xyz("lattice_8_numbers.extxyz", frame(f'Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0" {PROPS} energy=-1.5 pbc="T T T"'), 1,
    ["lattice_8_numbers.extxyz:2", "structure 0", "Lattice"])
xyz("pbc_2_values.extxyz", frame(f'{LATTICE} {PROPS} energy=-1.5 pbc="T T"'), 1,
    ["pbc_2_values.extxyz:2", "structure 0", "pbc"])
xyz("energy_not_a_number.extxyz", frame(f'{LATTICE} {PROPS} energy=low pbc="T T T"'), 1,
    ["energy_not_a_number.extxyz:2", "structure 0", "energy"])
xyz("missing_energy_second.extxyz", VALID + frame(f'{LATTICE} {PROPS} pbc="T T T"'), 1,
    ["missing_energy_second.extxyz", "structure 2", "energy"])
xyz("empty.extxyz", "", 1, ["empty.extxyz", "holds no structure"])
xyz("only_blank_lines.extxyz", "\n\n   \n\t\n\n", 1, ["only_blank_lines.extxyz", "holds no structure"])
xyz("binary_garbage.extxyz", bytes((i * 73 + 41) % 256 for i in range(2048)), 1, ["binary_garbage.extxyz:1"])
xyz("long_line.extxyz", frame(comment=f'{LATTICE} {PROPS} energy=-1.5 pbc="T T T" note=' + "x" * 60000), 0, ["Wrote 1 structures (3 atoms)"])

# ---------------------------------------------------------------------------------------------------------------
# pickles (loaded by safe_pickle.py in the embedded Python: an allowlist, an opcode pre-scan, plain arrays)
# ---------------------------------------------------------------------------------------------------------------
CANARY = "/tmp/mlff-corpus-canary"


def labelled(a, energy=-1.0, forces=None):
    a.calc = SinglePointCalculator(a, energy=energy, forces=np.zeros((len(a), 3)) if forces is None else forces)
    return a


def pkl(name, data, exit_code, contains, **kw):
    if not isinstance(data, bytes):
        data = pickle.dumps(data, protocol=4)
    write(name, data)
    case(name, "pickle", name, convert(name), exit_code, contains, **kw)


class SystemCall:
    def __reduce__(self):
        return (os.system, (f"touch {CANARY}",))


class Subprocess:
    def __reduce__(self):
        return (subprocess.Popen, (["touch", CANARY],))


class Eval:
    def __reduce__(self):
        return (eval, (f"open({CANARY!r}, 'w')",))


pkl("os_system.pkl", [SystemCall()], 1, ["os_system.pkl", "posix.system"])
pkl("os_system_protocol0.pkl", pickle.dumps([SystemCall()], protocol=0), 1, ["os_system_protocol0.pkl", "system"])
pkl("subprocess_popen.pkl", [Subprocess()], 1, ["subprocess_popen.pkl", "subprocess.Popen"])
pkl("builtins_eval.pkl", Eval(), 1, ["builtins_eval.pkl", "eval"])
pkl("getattr_chain.pkl", b"\x80\x04" + b"\x8c\x08builtins\x8c\x07getattr\x93" + b"\x8c\x08builtins\x8c\x07getattr\x93"
    + b"\x8c\tase.atoms\x8c\x05Atoms\x93" + b"\x8c\x08__init__\x86R" + b"\x8c\x0b__globals__\x86R" + b".", 1,
    ["getattr_chain.pkl", "getattr"])
pkl("codecs_encode.pkl", b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R.", 1,
    ["codecs_encode.pkl", "encode"])
pkl("memo_bomb.pkl", b"\x80\x04N" + b"r" + struct.pack("<I", 2**31 - 1) + b".", 1, ["memo_bomb.pkl", "memo"])
pkl("bytearray8_huge.pkl", b"\x80\x05\x96" + struct.pack("<Q", 657 * 10**9) + b"xx.", 1, ["bytearray8_huge.pkl"])
pkl("deep_nesting.pkl", b"\x80\x04" + b"]" * 30000 + b"a" * 29999 + b".", 1, ["deep_nesting.pkl"])
pkl("mark_flood.pkl", b"\x80\x04" + b"(" * 60000 + b".", 1, ["mark_flood.pkl"])
pkl("persistent_id.pkl", b"\x80\x04\x8c\x01x\x94Q.", 1, ["persistent_id.pkl"])
pkl("ext1_opcode.pkl", b"\x80\x02\x82\x01.", 1, ["ext1_opcode.pkl"])
pkl("out_of_band_buffer.pkl", b"\x80\x05\x97.", 1, ["out_of_band_buffer.pkl"])
pkl("truncated.pkl", pickle.dumps([labelled(molecule("H2O"))], protocol=4)[:300], 1, ["truncated.pkl"])
pkl("not_a_pickle.pkl", b"energy=1.0 forces=...\n", 1, ["not_a_pickle.pkl"])
pkl("empty.pkl", b"", 1, ["empty.pkl"])
pkl("dict.pkl", {"energy": 1.0, "forces": [[0.0, 0.0, 0.0]]}, 1, ["dict.pkl", "dict"])
pkl("list_with_int.pkl", [labelled(molecule("H2O")), 3], 1, ["list_with_int.pkl", "1"])

a = labelled(molecule("H2O"))
a.arrays["positions"] = np.zeros((3, 2))
pkl("positions_wrong_shape.pkl", [a], 1, ["positions_wrong_shape.pkl", "structure 0", "positions"])

a = labelled(molecule("H2O"))
a.arrays["numbers"] = np.array(["8", "1", "1"])
pkl("numbers_as_strings.pkl", [labelled(molecule("H2O")), a], 1, ["numbers_as_strings.pkl", "structure 1", "numbers"])

a = labelled(molecule("H2O"))
a._cellobj.array = np.eye(2)
pkl("cell_2x2.pkl", [a], 1, ["cell_2x2.pkl", "structure 0", "cell"])

a = labelled(molecule("H2O"))
a.calc.results["forces"] = np.zeros((3, 2))
pkl("forces_wrong_shape.pkl", [labelled(molecule("H2O")), labelled(molecule("H2O")), a], 1,
    ["forces_wrong_shape.pkl", "structure 2", "forces"])

a = labelled(molecule("H2O"), energy=float("nan"))
pkl("nan_energy.pkl", [a], 1, ["nan_energy.pkl", "structure 0", "energy"])

a = molecule("H2O")
pkl("no_calculator.pkl", [labelled(molecule("H2O")), a], 1, ["no_calculator.pkl", "structure 1", "energy"])

# An array whose pickled shape claims 2**31-1 rows over the 72 bytes it carries.
data = pickle.dumps([labelled(molecule("H2O"))], protocol=2)
shape = b"K\x03K\x03\x86"  # the (3, 3) of positions, the first array in the pickle
assert shape in data
pkl("array_shape_bomb.pkl", data.replace(shape, b"J\xff\xff\xff\x7fK\x03\x86", 1), 1, ["array_shape_bomb.pkl"])

# Byte order and memory order are representation, not content: these must convert.
a = bulk("Cu", cubic=True)
a.arrays["positions"] = np.asfortranarray(a.positions.astype(">f8"))
a.arrays["numbers"] = a.numbers.astype(">i8")
labelled(a, energy=np.float64(-3.5), forces=np.asfortranarray(np.arange(12.0).reshape(4, 3).astype(">f8")))
pkl("big_endian_fortran.pkl", [a], 0, ["Wrote 1 structures (4 atoms)"])

# A separate labels pickle (convert --labels): lengths that do not match the structures.
write("labels_short.pkl", pickle.dumps({"energies": [-1.0], "forces": [np.zeros((3, 3))]}, protocol=4))
case("labels_short", "pickle", "labels_short.pkl", convert("valid.extxyz") + ["--labels", "{files}/labels_short.pkl"], 1,
     ["labels_short.pkl"])
write("labels_os_system.pkl", pickle.dumps({"energies": [SystemCall(), -1.0], "forces": []}, protocol=4))
case("labels_os_system", "pickle", "labels_os_system.pkl", convert("valid.extxyz") + ["--labels", "{files}/labels_os_system.pkl"], 1,
     ["labels_os_system.pkl", "system"])

# ---------------------------------------------------------------------------------------------------------------
# HDF5 (info / verify / merge of files we did not write)
# ---------------------------------------------------------------------------------------------------------------
write("secret.txt", (SECRET + "\n") * 8)
base = os.path.join(FILES, "base.h5")
for suffix in ("", ".partial", ".lock", ".journal"):
    if os.path.exists(base + suffix):
        os.remove(base + suffix)
subprocess.run(["dotnet", DLL, "convert", "-i", os.path.join(FILES, "valid.extxyz"), "-o", base, "--no-progress"], check=True)
BASE = open(base, "rb").read()
case("base_info", "hdf5", "base.h5", ["info", "{files}/base.h5"], 0, ["Structures"])
case("base_verify", "hdf5", "base.h5", ["verify", "{files}/base.h5"], 0, ["base.h5"])


def h5(name, args, exit_code, contains, make=None, data=None, **kw):
    path = os.path.join(FILES, name)
    if data is not None:
        write(name, data)
    else:
        shutil.copyfile(base, path)
        with h5py.File(path, "r+") as f:
            make(f)
    # verify reports what it finds on standard output (one line per problem) and exits 1; the others say error: ...
    kw.setdefault("stream", "stdout" if args[0] == "verify" else "stderr")
    case(name, "hdf5", name, [a.replace("FILE", "{files}/" + name) for a in args], exit_code, contains, **kw)


INFO = ["info", "FILE"]
VERIFY = ["verify", "FILE"]
MERGE = ["merge", "-o", "{out}", "{files}/base.h5", "FILE"]

for cut in (96, len(BASE) // 2, len(BASE) - 64):
    h5(f"truncated_{cut}.h5", INFO, 1, [f"truncated_{cut}.h5"], data=BASE[:cut])
h5(f"truncated_verify.h5", VERIFY, 1, ["truncated_verify.h5"], data=BASE[:len(BASE) // 2])
h5("truncated_merge.h5", MERGE, 1, ["truncated_merge.h5"], data=BASE[:len(BASE) // 2])
h5("not_hdf5.h5", INFO, 1, ["not_hdf5.h5"], data=b"this is a text file, not HDF5\n" * 10)
h5("empty.h5", INFO, 1, ["empty.h5"], data=b"")
h5("zeros.h5", VERIFY, 1, ["zeros.h5"], data=bytes(4096))
flipped = bytearray(BASE)
flipped[13] ^= 0xFF  # superblock: size of lengths
h5("superblock_flipped.h5", INFO, 1, ["superblock_flipped.h5"], data=bytes(flipped))
flipped = bytearray(BASE)
flipped[24] ^= 0x10  # superblock: base address
h5("superblock_base_address.h5", VERIFY, 1, ["superblock_base_address.h5"], data=bytes(flipped))

# One byte of an attribute's datatype message: the float (version 1, class 1) of /metadata's max_abs_force becomes a
# variable-length type (class 9) with no base type. libhdf5 1.10.8 dereferences garbage reading it: SIGSEGV. The tool
# reads user files in a worker process, so the crash ends the worker: "FILE: invalid HDF5 file: libhdf5 crashed
# reading it (SIGSEGV)" on standard error (verify's too), exit 65.
# Found by a mutation run (make_corpus.py only places it: the offset follows the attribute's name).
crash = bytearray(BASE)
at = BASE.index(b"max_abs_force\0") + 16
assert crash[at] == 0x11, hex(crash[at])
crash[at] = 0x19
CRASHED = "invalid HDF5 file: libhdf5 crashed reading it (SIGSEGV)"
for command, args in (("info", INFO), ("verify", VERIFY), ("merge", MERGE)):
    h5(f"attribute_type_vlen_{command}.h5", args, 65, [f"attribute_type_vlen_{command}.h5", CRASHED], data=bytes(crash),
       stream="stderr")

# The datatype size (20 bytes) in the message header of /metadata's energy_mean attribute set to 180: SIGSEGV.
crash = bytearray(BASE)
at = BASE.index(b"energy_mean\0") - 4
assert crash[at] == 0x14, hex(crash[at])
crash[at] = 0xB4
h5("attribute_message_size.h5", INFO, 65, ["attribute_message_size.h5", CRASHED], data=bytes(crash))

# The top byte of the 8-byte length of the global-heap object holding /metadata's elements string (["H","O"]): SIGSEGV.
crash = bytearray(BASE)
at = BASE.index(b'["H","O"]') - 1
assert crash[at - 7:at + 1] == bytes([9, 0, 0, 0, 0, 0, 0, 0]), crash[at - 7:at + 1]
crash[at] = 0xCC
h5("global_heap_object_length.h5", INFO, 65, ["global_heap_object_length.h5", CRASHED], data=bytes(crash))

h5("missing_energy.h5", INFO, 1, ["missing_energy.h5", "/labels/energy"], lambda f: f.__delitem__("labels/energy"))
h5("missing_energy_merge.h5", MERGE, 1, ["missing_energy_merge.h5", "/labels/energy"], lambda f: f.__delitem__("labels/energy"))


def energy_float32(f):
    e = f["labels/energy"][:]
    del f["labels/energy"]
    f.create_dataset("labels/energy", data=e.astype("<f4"), maxshape=(None,), chunks=True)


h5("energy_float32.h5", VERIFY, 1, ["energy_float32.h5", "/labels/energy"], energy_float32)


def splits_decreasing(f):
    for name in ("structures/atomic_numbers_splits", "labels/forces_splits"):
        s = f[name]
        v = s[:]
        v[1], v[2] = v[2], v[1]
        s[:] = v


h5("splits_decreasing.h5", VERIFY, 1, ["splits_decreasing.h5", "splits"], splits_decreasing, stream="stdout")
h5("splits_decreasing_info.h5", INFO, 1, ["splits_decreasing_info.h5", "splits"], splits_decreasing)


def num_structures(f):
    f["metadata"].attrs["num_structures"] = np.int64(7)


h5("num_structures_mismatch.h5", VERIFY, 1, ["num_structures_mismatch.h5", "num_structures"], num_structures, stream="stdout")


def external_storage(f):
    rows = f["labels/energy"].shape[0]
    del f["labels/energy"]
    # Relative: resolved against the reader's working directory, which the test sets to files/.
    f.create_dataset("labels/energy", shape=(rows,), dtype="<f8", external=[("secret.txt", 0, h5py.h5f.UNLIMITED)])


h5("external_storage.h5", INFO, 1, ["external_storage.h5", "external"], external_storage)
h5("external_storage_verify.h5", VERIFY, 1, ["external_storage_verify.h5", "external"], external_storage)
h5("external_storage_merge.h5", MERGE, 1, ["external_storage_merge.h5", "external"], external_storage)


def external_link(f):
    f["info/linked"] = h5py.ExternalLink("base.h5", "/labels/energy")


def external_storage_info(f):
    rows = f["labels/energy"].shape[0]
    f.create_dataset("info/secret", shape=(rows,), dtype="u1", external=[("secret.txt", 0, h5py.h5f.UNLIMITED)])


h5("external_storage_info_merge.h5", MERGE, 1, ["external_storage_info_merge.h5", "/info/secret", "external"], external_storage_info)


h5("external_link.h5", INFO, 1, ["external_link.h5", "external link"], external_link)
h5("external_link_merge.h5", MERGE, 1, ["external_link_merge.h5", "external link"], external_link)


def virtual_dataset(f):
    rows = f["labels/energy"].shape[0]
    layout = h5py.VirtualLayout(shape=(rows,), dtype="<f8")
    layout[:] = h5py.VirtualSource("base.h5", "labels/energy", shape=(rows,))
    f.create_virtual_dataset("info/virtual", layout)


h5("virtual_dataset.h5", INFO, 1, ["virtual_dataset.h5", "virtual"], virtual_dataset)


def unknown_filter(f):
    rows = f["labels/energy"].shape[0]
    grp = f.require_group("info")
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((max(rows, 1),))
    dcpl.set_filter(32015, h5py.h5z.FLAG_OPTIONAL, (3,))
    space = h5py.h5s.create_simple((rows,), (h5py.h5s.UNLIMITED,))
    h5py.h5d.create(grp.id, b"filtered", h5py.h5t.IEEE_F64LE, space, dcpl=dcpl).close()


h5("unknown_filter.h5", VERIFY, 1, ["unknown_filter.h5", "filter"], unknown_filter)
h5("unknown_filter_info.h5", INFO, 1, ["unknown_filter_info.h5", "/info/filtered", "filter"], unknown_filter)


def compound(f):
    rows = f["labels/energy"].shape[0]
    f.create_dataset("info/compound", shape=(rows,), dtype=np.dtype([("a", "<i4"), ("b", "<f8")]))


h5("compound_dataset.h5", MERGE, 1, ["compound_dataset.h5", "/info/compound"], compound)


def reference_attribute(f):
    f["metadata"].attrs.create("pointer", f["labels"].ref, dtype=h5py.ref_dtype)


h5("reference_attribute.h5", INFO, 1, ["reference_attribute.h5", "reference"], reference_attribute)


def forces_rows(f):
    v = f["labels/forces"][:]
    f["labels/forces"].resize((v.shape[0] - 1, 3))


h5("forces_rows_short.h5", VERIFY, 1, ["forces_rows_short.h5", "/labels/forces"], forces_rows)


# One flipped bit in the stored (checksummed) chunk of /labels/energy: verify must find it.
def chunk_flip(name, dataset):
    path = os.path.join(FILES, name)
    shutil.copyfile(base, path)
    with h5py.File(path, "r") as f:
        info = f[dataset].id.get_chunk_info(0)
    data = bytearray(open(path, "rb").read())
    data[info.byte_offset + info.size // 2] ^= 0x04
    write(name, bytes(data))


chunk_flip("bitflip_energy_chunk.h5", "labels/energy")
case("bitflip_energy_chunk", "hdf5", "bitflip_energy_chunk.h5", ["verify", "{files}/bitflip_energy_chunk.h5"], 1,
     ["bitflip_energy_chunk.h5", "/labels/energy"], stream="stdout")
chunk_flip("bitflip_positions_chunk.h5", "structures/positions")
case("bitflip_positions_chunk", "hdf5", "bitflip_positions_chunk.h5", ["verify", "{files}/bitflip_positions_chunk.h5"], 1,
     ["bitflip_positions_chunk.h5", "/structures/positions"], stream="stdout")

# ---------------------------------------------------------------------------------------------------------------
for name in os.listdir(FILES):
    size = os.path.getsize(os.path.join(FILES, name))
    assert size < 64 * 1024, f"{name} is {size} bytes"
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump({"secret": "secret.txt", "cases": cases}, f, indent=1)
    f.write("\n")
print(f"{len(cases)} cases, {len(os.listdir(FILES))} files")
