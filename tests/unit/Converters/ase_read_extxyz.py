"""ASE 3.22.1 as the oracle for ExtxyzReaderTests.

Usage: python3 ase_read_extxyz.py REQUEST.json  (answer as JSON on stdout)

REQUEST may hold:
  "generate": path   write labelled structures there with ASE's extxyz writer (EMT labels)
  "read": [paths]    read each file with ase.io.read(path, ":", format="extxyz")
  "floats": [str]    Python's float() of each string
  "ints": [str]      Python's int() of each string
  "comments": [str]  the raw key/value pairs key_val_str_to_dict splits each comment line into
  "symbols": true    ase.data.chemical_symbols

Floats are answered as the 64 bits of the double (a signed integer), so the comparison is exact.
"""
import json
import struct
import sys

import numpy as np


def bits(x):
    return struct.unpack('<q', struct.pack('<d', float(x)))[0]


def bits_list(a):
    if a is None:
        return None
    return [bits(x) for x in np.asarray(a, dtype=float).ravel()]


def generate(path):
    from ase import Atoms
    from ase.build import bulk, fcc111, molecule
    from ase.calculators.emt import EMT
    import ase.io

    rng = np.random.RandomState(42)
    images = []

    # Bulk alloy in a sheared (non-symmetric) cell, rattled: energy, forces and stress,
    # plus extra columns the reader must count past (initial_charges R:1, tags I:1, momenta R:3).
    a = bulk('Cu', 'fcc', a=3.6, cubic=True).repeat((2, 2, 1))
    cell = a.cell.array.copy()
    cell[1, 0] += 0.31
    cell[2, 1] -= 0.17
    cell[2, 0] += 0.05
    a.set_cell(cell, scale_atoms=True)
    a.rattle(stdev=0.05, seed=1)
    symbols = a.get_chemical_symbols()
    for i in (1, 5, 9):
        symbols[i] = 'Au'
    symbols[3] = 'Ni'
    a.set_chemical_symbols(symbols)
    a.set_initial_charges(rng.uniform(-1, 1, len(a)))
    a.set_tags(np.arange(len(a)) % 3)
    a.set_momenta(rng.normal(size=(len(a), 3)))
    a.info['config_type'] = 'bulk "alloy" sheared'
    a.info['step'] = 3
    a.info['converged'] = True
    a.calc = EMT()
    a.get_potential_energy()
    a.get_forces()
    a.get_stress()
    images.append(a)

    # Molecule without a cell: energy and forces, pbc F F F, an extra masses column.
    m = molecule('CH4')
    m.rattle(stdev=0.02, seed=2)
    m.set_masses(m.get_masses() * 1.5)
    m.calc = EMT()
    m.get_potential_energy()
    m.get_forces()
    images.append(m)

    # Slab with pbc T T F: energy, forces and stress.
    s = fcc111('Cu', size=(2, 2, 3), vacuum=6.0)
    s.rattle(stdev=0.03, seed=3)
    s.calc = EMT()
    s.get_potential_energy()
    s.get_forces()
    s.get_stress()
    images.append(s)

    # A single atom without a cell.
    g = Atoms('Au', positions=[[0.123456789, -1.5, 2.25]])
    g.calc = EMT()
    g.get_potential_energy()
    g.get_forces()
    images.append(g)

    # A periodic structure without labels.
    u = bulk('Ni', 'hcp', a=2.5, c=4.1)
    u.rattle(stdev=0.01, seed=4)
    images.append(u)

    ase.io.write(path, images, format='extxyz')


def frame(atoms):
    results = atoms.calc.results if atoms.calc is not None else {}
    energy = results.get('energy')
    return {
        'numbers': [int(z) for z in atoms.numbers],
        'positions': bits_list(atoms.positions),
        'cell': bits_list(atoms.cell.array),
        'pbc': [bool(p) for p in atoms.pbc],
        'energy': None if energy is None else bits(energy),
        'forces': bits_list(results.get('forces')),
        'stress': bits_list(results.get('stress')),
    }


def read(path):
    import ase.io
    try:
        return {'frames': [frame(a) for a in ase.io.read(path, ':', format='extxyz')]}
    except Exception as e:  # the oracle reports ASE's refusal; the test decides what it means
        return {'error': '%s: %s' % (type(e).__name__, e)}


def parse_float(s):
    try:
        return bits(float(s))
    except ValueError:
        return None


def parse_int(s):
    try:
        return str(int(s))
    except ValueError:
        return None


def comment_pairs(line):
    import ase.io.extxyz as extxyz

    class Everything:
        def __contains__(self, key):
            return True

    # With every key "unprocessed", key_val_str_to_dict returns the raw value strings it split out.
    saved = extxyz.UNPROCESSED_KEYS
    extxyz.UNPROCESSED_KEYS = Everything()
    try:
        return {'pairs': extxyz.key_val_str_to_dict(line)}
    except Exception as e:
        return {'error': '%s: %s' % (type(e).__name__, e)}
    finally:
        extxyz.UNPROCESSED_KEYS = saved


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        request = json.load(f)
    answer = {}
    if request.get('generate'):
        generate(request['generate'])
    answer['read'] = {p: read(p) for p in request.get('read', [])}
    answer['floats'] = [parse_float(s) for s in request.get('floats', [])]
    answer['ints'] = [parse_int(s) for s in request.get('ints', [])]
    answer['comments'] = [comment_pairs(s) for s in request.get('comments', [])]
    if request.get('symbols'):
        from ase.data import chemical_symbols
        answer['symbols'] = list(chemical_symbols)
    json.dump(answer, sys.stdout)


if __name__ == '__main__':
    main()
