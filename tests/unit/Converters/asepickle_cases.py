"""Writes the pickles of AsePickleReaderTests with Debian's python3, numpy 1.24 and ASE 3.22.

Usage: asepickle_cases.py WORK_DIR
Prints one JSON object: case name -> {"file": path, "keys": {energy_key, forces_key, stress_key, virials_key,
keep_info, keep_arrays}}. The C# test reads every file through the native reader and through safe_pickle.py and
compares frames (or errors) exactly.
"""
import json
import os
import pickle
import struct
import sys

import numpy as np
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixAtoms, FixBondLengths

work = sys.argv[1]
cases = {}


def case(name, obj=None, protocol=4, data=None, **keys):
    path = os.path.join(work, name + ".pkl")
    with open(path, "wb") as f:
        f.write(data if data is not None else pickle.dumps(obj, protocol=protocol))
    cases[name] = {"file": path, "keys": keys}


def labelled(a, seed, stress=True, shape6=True):
    rng = np.random.default_rng(seed)
    kw = {"energy": float(rng.normal()), "forces": rng.normal(size=(len(a), 3))}
    if stress:
        s = rng.normal(size=(3, 3))
        kw["stress"] = s.ravel()[[0, 4, 8, 5, 2, 1]] if shape6 else s
    a.calc = SinglePointCalculator(a, **kw)
    return a


def benign():
    """Two structures with the labels and constraints every protocol must carry (cf. safe_pickle_cases.benign)."""
    cell = bulk("Ni", "fcc", a=3.5, cubic=True).repeat((1, 2, 1))
    cell.rattle(0.02, seed=4)
    labelled(cell, 0)
    cell.calc.results["energy"] = np.float64(-2.25)
    cell.set_constraint(FixAtoms(indices=[1, 3, 5]))
    ammonia = molecule("NH3")
    ammonia.calc = SinglePointCalculator(ammonia, energy=-7.5, forces=np.full((4, 3), 0.125))
    ammonia.set_constraint(FixAtoms(mask=[False, True, False, True]))
    ammonia.info["config_type"] = "ammonia"
    return [cell, ammonia]


def extras():
    out = []
    for i in range(4):
        a = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
        a.rattle(0.02, seed=i)
        labelled(a, 10 + i)
        a.calc.results["free_energy"] = np.float32(-2.5) if i == 2 else -1.0 * i
        a.info["config_type"] = ["bulk", "surface", 3, 1.5][i]
        if i % 2 == 0:
            a.info["charge"] = [0, 1.5, -1, 2][i]
        else:
            a.info["total_charge"] = np.float32(0.25)
        a.info["spin"] = np.int64(i)
        a.info["config_weight"] = [1.0, np.float64(0.5), True, "2.5"][i]
        a.info["label_s"] = f"text {i} 'quoted'"
        a.info["label_f"] = 0.1 * i
        a.info["label_i"] = i * 7
        a.info["label_b"] = i % 2 == 0
        a.info["label_v"] = np.array([1.0, 2.0, 3.0 + i])
        a.info["label_l"] = [1, 2, i]
        a.info["label_m"] = np.arange(6, dtype=np.int16).reshape(2, 3) + i
        a.info["ignored"] = {"nested": 1}
        a.arrays["q"] = np.linspace(-1, 1, len(a)) + i
        a.arrays["tag2"] = np.arange(len(a), dtype=np.int32).reshape(-1, 1) * np.array([[1, 2]], dtype=np.int32)
        a.arrays["flag"] = np.arange(len(a)) % 3 == 0
        a.arrays["wrong_length"] = np.zeros(len(a) + 1)
        if i == 1:
            a.set_constraint(FixAtoms(indices=[1, 3]))
        elif i == 2:
            a.set_constraint(FixAtoms(mask=np.arange(len(a)) < 2))
        out.append(a)
    return out


KEEP = dict(keep_info=["label_s", "label_f", "label_i", "label_b", "label_v", "label_l", "label_m", "energy", "free_energy"],
            keep_arrays=["q", "tag2", "flag", "numbers", "forces"])

for p in range(6):
    case(f"protocol_{p}", benign(), protocol=p)
    case(f"extras_protocol_{p}", extras(), protocol=p, **KEEP)

case("single_atoms", benign()[0])
case("tuple", tuple(benign()))
case("empty_list", [])


def no_calc():
    out = benign()
    out[1].calc = None
    return out


case("no_calculator", no_calc())
a = bulk("Si", cubic=True)
a.rattle(0.05, seed=3)
case("stress_3x3", [labelled(a, 5, shape6=False)])


def custom_keys():
    out = []
    for i in range(3):
        a = bulk("Al", cubic=True) * (1, 1, 2)
        a.rattle(0.02, seed=i)
        rng = np.random.default_rng(i)
        a.info["REF_energy"] = float(rng.normal())
        a.arrays["REF_forces"] = rng.normal(size=(len(a), 3))
        if i != 1:
            a.info["REF_stress"] = rng.normal(size=6)
            a.info["REF_virials"] = rng.normal(size=(3, 3))
        a.calc = SinglePointCalculator(a, energy=1.0, forces=np.ones((len(a), 3)), free_energy=2.0)
        out.append(a)
    return out


case("custom_keys_stress", custom_keys(), energy_key="REF_energy", forces_key="REF_forces", stress_key="REF_stress")
case("custom_keys_virials", custom_keys(), energy_key="REF_energy", forces_key="REF_forces", virials_key="REF_virials")
case("custom_keys_protocol_0", custom_keys(), protocol=0, energy_key="REF_energy", forces_key="REF_forces", virials_key="REF_virials")
case("results_key_as_energy", custom_keys(), energy_key="free_energy")


def non_periodic():
    m = molecule("CH4")
    labelled(m, 7)
    s = bulk("Cu") * (1, 1, 1)
    s.pbc = [True, True, False]
    labelled(s, 8)
    return [m, s]


case("non_periodic", non_periodic())
h2 = molecule("H2")
h2.info["virials"] = np.ones(6)
case("non_periodic_virials", [h2], virials_key="virials")


def late_fallback():
    # Two periodic structures the native reader models, then one it leaves to Python (virials, periodic cell of rank 2).
    out = []
    for i in range(2):
        a = bulk("Cu", cubic=True)
        a.rattle(0.02, seed=i)
        labelled(a, 20 + i, stress=False)
        a.info["virials"] = np.full(6, float(i + 1))
        out.append(a)
    flat = bulk("Cu", cubic=True)
    flat.set_cell([[3.6, 0, 0], [0, 3.6, 0], [0, 0, 0]])
    flat.pbc = True
    labelled(flat, 22, stress=False)
    flat.info["virials"] = np.ones(6)
    return out + [flat]


case("fallback_late_virials", late_fallback(), virials_key="virials")


def odd_arrays():
    out = []
    for i in range(3):
        a = bulk("Cu", cubic=True) * (2, 2, 1)
        a.rattle(0.03, seed=i)
        labelled(a, 20 + i)
        if i == 0:
            a.arrays["positions"] = a.arrays["positions"].astype(">f8")
            a.arrays["numbers"] = a.arrays["numbers"].astype(np.int32)
            a.calc.results["forces"] = np.asfortranarray(a.calc.results["forces"])
        elif i == 1:
            a.arrays["positions"] = np.asfortranarray(a.arrays["positions"].astype(np.float32))
            a.arrays["numbers"] = a.arrays["numbers"].astype(">i8")
            a.cell.array[:] = np.asfortranarray(a.cell.array)
            a.calc.results["forces"] = a.calc.results["forces"].astype(">f4")
        else:
            a.arrays["positions"] = a.arrays["positions"].astype(np.float16).astype(np.float64)
            a.arrays["numbers"] = a.arrays["numbers"].astype(np.uint8)
            a.arrays["extra_f"] = np.asfortranarray(np.arange(len(a) * 2, dtype=">f8").reshape(len(a), 2))
        out.append(a)
    out[1]._cellobj.array = np.asfortranarray(out[1].cell.array)
    return out


for p in (2, 4, 5):
    case(f"odd_arrays_protocol_{p}", odd_arrays(), protocol=p, keep_arrays=["extra_f"])

# What the native reader does not model (an integer wider than 64 bits): read whole through Python instead.
w = labelled(molecule("H2O"), 2)
w.info["huge"] = 2**70
case("fallback_big_int", [labelled(molecule("H2"), 1), w])

# Labels pickles (LabelsPickle): dict, tuple, list, numpy rows, 3 x 3 and missing stresses, and the errors.
rng = np.random.default_rng(9)
E = [float(x) for x in rng.normal(size=3)]
F = [rng.normal(size=(n, 3)) for n in (2, 3, 4)]
S = [rng.normal(size=6), None, rng.normal(size=(3, 3))]
case("labels_dict", {"energies": E, "forces": F, "stresses": S})
case("labels_dict_protocol_0", {"energies": E, "forces": F, "stresses": S}, protocol=0)
case("labels_tuple", (np.array(E), F, S))
case("labels_list_no_stress", [E, [f.astype(np.float32) for f in F]])
case("labels_array_rows", {"energies": np.array(E), "forces": np.stack([F[0], F[0] + 1]), "stresses": np.ones((2, 6))})
case("labels_err_missing", {"energies": E, "stress": S})
case("labels_err_type", "energies")
case("labels_err_forces", {"energies": E, "forces": F[:2] + [np.zeros((4, 2))]})
case("labels_err_energy", {"energies": [1.0, "x"], "forces": F[:2]})
case("labels_err_per_structure", {"energies": 1.5, "forces": F})
case("labels_err_stress_shape", {"energies": E, "forces": F, "stresses": [np.zeros(6), np.zeros(5), None]})

# Errors: each must give the same ConversionException through both paths.


class SystemCall:
    def __reduce__(self):
        return (os.system, ("true",))


class Eval:
    def __reduce__(self):
        return (eval, ("1",))


for p in (0, 2, 4, 5):
    case(f"err_os_system_protocol_{p}", [SystemCall()], protocol=p)
case("err_eval", Eval())
chain = (b"\x80\x04" + b"\x8c\x08builtins\x8c\x07getattr\x93" + b"\x8c\x08builtins\x8c\x07getattr\x93"
         + b"\x8c\tase.atoms\x8c\x05Atoms\x93" + b"\x8c\x08__init__\x86R" + b"\x8c\x0b__globals__\x86R" + b".")
case("err_getattr_chain", data=chain)
case("err_zlib_codec", data=b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R.")
case("err_memo_bomb", data=b"\x80\x04N" + b"r" + struct.pack("<I", 2**27) + b".")
case("err_bytearray8_657GB", data=b"\x80\x05\x96" + struct.pack("<Q", 657 * 10**9) + b"xx.")
case("err_persistent_id", data=b"\x80\x04\x8c\x01x\x94Q.")
case("err_get_undefined", data=b"\x80\x04N\x94h\x05.")
case("err_ext", data=b"\x80\x02\x82\x01.")
full = pickle.dumps(benign())
case("err_truncated", data=full[:200])
case("err_truncated_half", data=full[: len(full) // 2])
case("err_not_a_pickle", data=b"energy=1.0 forces=...\n")
case("err_text_pickle", data=b"3\nenergy=1.0\nO 0 0 0\n")
case("err_unknown_opcode_high", data=b"\x80\x04\xff.")
case("err_forbidden_then_truncated", data=b"\x80\x02cposix\nsystem\nK")
case("err_something_else", {"energy": 1.0})
case("err_list_with_other", [benign()[0], 3])
case("err_emt_calculator", [bulk("Cu")])
cu = bulk("Cu")
cu.calc = EMT()
case("err_emt", [cu])
w = molecule("H2O")
w.arrays["positions"] = w.positions.astype(object)
case("err_object_array_positions", [w])
w = molecule("H2O")
w.set_constraint(FixBondLengths([(0, 1)]))
case("err_other_constraint", [w])
w = molecule("H2O")
w.arrays["numbers"] = w.numbers.astype(float)
case("err_float_numbers", [labelled(molecule("H2"), 1), w])
w = molecule("H2O")
w.arrays["positions"] = w.positions[:2]
case("err_positions_shape", [w])
w = labelled(molecule("H2O"), 2)
w.calc.results["energy"] = "high"
case("err_text_energy", [w])
w = labelled(molecule("H2O"), 2)
w.calc.results["forces"] = np.zeros((2, 3))
case("err_forces_shape", [labelled(molecule("H2"), 1), w])
w = molecule("H2O")
w.constraints = [FixAtoms(indices=[0])]
w.constraints[0].index = np.array([5])
case("err_fixatoms_range", [w])
case("err_missing_energy_key", custom_keys()[:1] + [labelled(molecule("H2"), 3)], energy_key="REF_energy")
case("err_stress_key_nowhere", [labelled(molecule("H2"), 3)], stress_key="REF_stress")
case("err_keep_array_nowhere", [labelled(molecule("H2"), 3)], keep_arrays=["nothing"])
w = labelled(molecule("H2O"), 2)
w.info["config_weight"] = "heavy"
case("err_config_weight_text", [w])
w = labelled(molecule("H2O"), 2)
w.info["charge"] = np.array([1.0, 2.0])
case("err_charge_array", [w])
w = labelled(molecule("H2O"), 2)
w.info["txt"] = "abc"
case("err_text_array_extra", [w], keep_arrays=["txt"])
w = labelled(molecule("H2O"), 2)
w.info["short"] = np.zeros(2)
case("err_short_array_extra", [w], keep_arrays=["short"])
w = labelled(bulk("Cu"), 2)
w.info["REF_stress"] = np.zeros(5)
case("err_stress_key_shape", [w], stress_key="REF_stress")
w = labelled(molecule("H2O"), 2)
w.info["empty"] = np.zeros(0)
case("err_empty_extra", [w], keep_info=["empty"])

print(json.dumps(cases))
