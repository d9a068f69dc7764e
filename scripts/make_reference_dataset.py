#!/usr/bin/python3
"""Builds the reference dataset in data/samples/: 930 structures labelled by ASE's EMT calculator.

Writes the same structures three ways, holding identical values:
  reference_930.h5      FORMAT.md's layout, written with h5py (the independent writer the C# code is checked against)
  reference_930.extxyz  ase.io.write(format="extxyz")
  reference_930.pkl     pickle of the list of ase.Atoms, labels in a SinglePointCalculator
and sample.extxyz, the first 50 structures, for the README's example.

ASE's extxyz writer prints positions and forces with %16.8f, so the structures go through extxyz once
(write, read back) and the read-back values feed all outputs. Deterministic: a fixed seed, and EMT has no
randomness, so two runs give the same arrays (only the created/modified attributes differ).

Run with Debian's /usr/bin/python3 (ASE 3.22, h5py 3.7, numpy 1.24; scripts/bootstrap installs them).
"""
import argparse
import io
import json
import os
import pickle
from datetime import datetime, timezone

import ase
import ase.io
import h5py
import numpy as np
from ase.build import add_adsorbate, bulk, fcc111, molecule
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.cluster import Decahedron, Icosahedron, Octahedron
from ase.data import atomic_numbers, covalent_radii

SEED = 930
METALS = ["Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"]
LIGHT = ["H", "C", "N", "O"]
# Molecules from ase.build.molecule made of H, C, N, O only (EMT has parameters for these, roughly).
MOLECULES = ["H2", "N2", "O2", "CO", "NO", "CO2", "H2O", "NH3", "CH4", "HCN", "H2CO", "N2O",
             "C2H2", "C2H4", "C2H6", "CH3OH", "CH3CH2OH", "C6H6"]
# Structures per kind, in the order they are generated (then shuffled so any prefix holds every kind).
COUNTS = {"bulk": 480, "slab": 240, "molecule": 90, "cluster": 60, "atom": 11, "dimer": 49}
SAMPLE_SIZE = 50


def make_bulk(rng):
    """Rattled, strained fcc supercell of one metal or a random binary alloy; periodic, with stress."""
    host = rng.choice(METALS)
    # Cells of 1 to 108 atoms, the larger ones more often.
    cells = [(False, (1, 1, 1)), (True, (1, 1, 1)), (False, (2, 2, 2)), (False, (3, 3, 3)), (True, (2, 2, 2)),
             (True, (2, 2, 3)), (False, (4, 4, 4)), (True, (2, 2, 4)), (True, (3, 3, 2)), (True, (3, 3, 3))]
    weights = np.array([1, 1, 1, 2, 2, 3, 5, 5, 6, 8], dtype=float)
    cubic, repeat = cells[rng.choice(len(cells), p=weights / weights.sum())]
    atoms = bulk(host, "fcc", cubic=bool(cubic)).repeat(repeat)
    if rng.random() < 0.3:
        guest = rng.choice([m for m in METALS if m != host])
        swap = rng.random(len(atoms)) < rng.uniform(0.1, 0.5)
        atoms.symbols[swap] = guest
    strain = rng.uniform(-0.03, 0.03, (3, 3))
    strain = 0.5 * (strain + strain.T) + np.eye(3) * rng.uniform(-0.04, 0.04)
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + strain), scale_atoms=True)
    atoms.positions += rng.normal(0.0, rng.uniform(0.02, 0.12), atoms.positions.shape)
    return atoms


def make_slab(rng):
    """fcc(111) slab with one adsorbate (an atom or CO); periodic in x and y only, no stress."""
    metal = rng.choice(METALS)
    size = [(2, 2, 3), (2, 2, 4), (3, 3, 3), (3, 3, 4), (4, 4, 3), (5, 5, 3), (4, 4, 4), (4, 4, 5),
            (4, 4, 6), (5, 5, 4)][rng.integers(10)]
    slab = fcc111(metal, size=size, vacuum=float(rng.uniform(5.0, 8.0)))
    adsorbate = rng.choice(LIGHT + ["CO"])
    site = rng.choice(["ontop", "bridge", "fcc", "hcp"])
    # Heights near the usual bond lengths: higher on top of an atom than in a hollow.
    height = {"ontop": (1.6, 2.0), "bridge": (1.3, 1.7), "fcc": (1.0, 1.4), "hcp": (1.0, 1.4)}[site]
    if adsorbate == "CO":
        # ASE's CO lists O first; mol_index=1 puts C at the height, O above it.
        add_adsorbate(slab, molecule("CO"), height=float(rng.uniform(*height)), position=site, mol_index=1)
    else:
        add_adsorbate(slab, adsorbate, height=float(rng.uniform(*height)), position=site)
    slab.positions += rng.normal(0.0, 0.05, slab.positions.shape)
    return slab


def make_molecule(rng):
    atoms = molecule(rng.choice(MOLECULES))
    atoms.positions += rng.normal(0.0, rng.uniform(0.01, 0.08), atoms.positions.shape)
    return atoms


def make_cluster(rng):
    """Small metal cluster (13 to 55 atoms), rattled; no cell, no periodicity."""
    metal = rng.choice(METALS)
    atoms = [lambda: Icosahedron(metal, 2), lambda: Icosahedron(metal, 3), lambda: Octahedron(metal, 3),
             lambda: Octahedron(metal, 4, 1), lambda: Decahedron(metal, 2, 2, 0),
             lambda: Decahedron(metal, 3, 1, 0)][rng.integers(6)]()
    atoms.positions += rng.normal(0.0, 0.06, atoms.positions.shape)
    return atoms


def make_atom(index):
    return ase.Atoms([(METALS + LIGHT)[index]], positions=[(0.0, 0.0, 0.0)])


def make_dimer(rng):
    first, second = rng.choice(METALS + LIGHT, 2)
    bond = (covalent_radii[atomic_numbers[first]] + covalent_radii[atomic_numbers[second]]) * rng.uniform(0.8, 1.6)
    return ase.Atoms([first, second], positions=[(0.0, 0.0, 0.0), (0.0, 0.0, float(bond))])


def build_structures(rng):
    """Every structure, labelled by EMT, shuffled."""
    makers = {"bulk": make_bulk, "slab": make_slab, "molecule": make_molecule, "cluster": make_cluster,
              "dimer": make_dimer}
    kinds, structures = [], []
    for kind, count in COUNTS.items():
        for index in range(count):
            built = make_atom(index) if kind == "atom" else makers[kind](rng)
            # Only numbers, positions, cell and pbc: builders leave tags, magmoms and info (fcc111's
            # adsorbate_info) that extxyz would carry as extra columns and keys.
            atoms = ase.Atoms(built.numbers, built.positions, cell=built.cell.array, pbc=built.pbc)
            atoms.calc = EMT()
            results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
            if atoms.pbc.all():
                results["stress"] = atoms.get_stress()
            atoms.calc = SinglePointCalculator(atoms, **results)
            kinds.append(kind)
            structures.append(atoms)
    order = rng.permutation(len(structures))
    return [kinds[i] for i in order], [structures[i] for i in order]


def extxyz_round_trip(structures):
    """Values as ASE's extxyz writer prints them (positions and forces to 8 decimals)."""
    text = io.StringIO()
    ase.io.write(text, structures, format="extxyz")
    text.seek(0)
    structures = []
    # The reader also leaves energy in info and forces in arrays; keep only the calculator's copy.
    for atoms in ase.io.read(text, index=":", format="extxyz"):
        clean = ase.Atoms(atoms.numbers, atoms.positions, cell=atoms.cell.array, pbc=atoms.pbc)
        clean.calc = SinglePointCalculator(clean, **atoms.calc.results)
        structures.append(clean)
    return structures


def to_arrays(structures):
    """The datasets of FORMAT.md, as numpy arrays."""
    counts = np.array([len(atoms) for atoms in structures], dtype=np.int64)
    splits = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    stress = np.zeros((len(structures), 6), dtype=np.float64)
    stress_mask = np.zeros(len(structures), dtype=bool)
    for i, atoms in enumerate(structures):
        if "stress" in atoms.calc.results:
            stress[i] = atoms.calc.results["stress"]
            stress_mask[i] = True
    return {
        "structures/atomic_numbers": np.concatenate([a.numbers for a in structures]).astype(np.int64),
        "structures/atomic_numbers_splits": splits,
        "structures/positions": np.concatenate([a.positions for a in structures]).astype(np.float64),
        "structures/cells": np.stack([a.cell.array for a in structures]).astype(np.float64),
        "structures/pbc": np.stack([a.pbc for a in structures]).astype(bool),
        "labels/energy": np.array([a.calc.results["energy"] for a in structures], dtype=np.float64),
        "labels/forces": np.concatenate([a.calc.results["forces"] for a in structures]).astype(np.float32),
        "labels/forces_splits": splits.copy(),
        "labels/stress": stress,
        "labels/stress_mask": stress_mask,
        "labels/structure_indices": np.arange(len(structures), dtype=np.int64),
    }


# FORMAT.md's datasets: dtype, the shape of one row, and what a row is (an atom, a structure, a split).
LAYOUT = {
    "structures/atomic_numbers": (np.int64, (), "atom"),
    "structures/atomic_numbers_splits": (np.int64, (), "split"),
    "structures/positions": (np.float64, (3,), "atom"),
    "structures/cells": (np.float64, (3, 3), "structure"),
    "structures/pbc": (np.bool_, (3,), "structure"),
    "labels/energy": (np.float64, (), "structure"),
    "labels/forces": (np.float32, (3,), "atom"),
    "labels/forces_splits": (np.int64, (), "split"),
    "labels/stress": (np.float64, (6,), "structure"),
    "labels/stress_mask": (np.bool_, (), "structure"),
    "labels/structure_indices": (np.int64, (), "structure"),
}
UNITS = {"structures/positions": "Ang", "structures/cells": "Ang", "labels/energy": "eV",
         "labels/forces": "eV Ang-1", "labels/stress": "eV Ang-3"}
CHUNK_BYTES = 64 * 1024


def create_dataset(f, name, compression, data=None):
    """One of LAYOUT's datasets, extensible along axis 0; empty (0 rows, or splits = [0]) without data.

    Chunks hold whole rows, about CHUNK_BYTES each (h5py's own guess would split the xyz axis).
    compression: "none", "gzip-N" (deflate level N after the shuffle filter) or "lzf".
    """
    dtype, row, kind = LAYOUT[name]
    if data is None:
        data = np.zeros((1 if kind == "split" else 0,) + row, dtype=dtype)
    rows = max(1, CHUNK_BYTES // (np.dtype(dtype).itemsize * int(np.prod(row, dtype=np.int64))))
    options = {}
    if compression == "lzf":
        options = {"compression": "lzf"}
    elif compression.startswith("gzip-"):
        options = {"compression": "gzip", "compression_opts": int(compression[5:]), "shuffle": True}
    elif compression != "none":
        raise ValueError(f"unknown compression {compression!r}")
    dataset = f.create_dataset(name, data=data, dtype=dtype, chunks=(rows,) + row, maxshape=(None,) + row,
                               **options)
    if name in UNITS:
        dataset.attrs["units"] = UNITS[name]
    return dataset


def write_metadata(f, energy, forces, atomic_numbers, compression, writer, **extra):
    """/metadata with FORMAT.md's attributes; statistics from energy (eV) and forces (eV/Ang)."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    metadata = f.create_group("metadata")
    metadata.attrs["num_structures"] = np.int64(len(energy))
    metadata.attrs["num_atoms"] = np.int64(len(forces))
    metadata.attrs["format_version"] = "1.0"
    metadata.attrs["created"] = now
    metadata.attrs["modified"] = now
    metadata.attrs["writer"] = writer
    metadata.attrs["compression"] = compression
    if len(energy):
        metadata.attrs["energy_min"] = np.float64(energy.min())
        metadata.attrs["energy_max"] = np.float64(energy.max())
        metadata.attrs["energy_mean"] = np.float64(energy.mean())
        metadata.attrs["energy_std"] = np.float64(energy.std())
        metadata.attrs["max_abs_force"] = np.float64(np.abs(forces.astype(np.float64)).max())
    numbers = np.unique(atomic_numbers)
    metadata.attrs["elements"] = json.dumps([ase.data.chemical_symbols[z] for z in numbers], separators=(",", ":"))
    for key, value in extra.items():
        metadata.attrs[key] = value


def write_h5(path, arrays, compression="gzip-4", writer=f"make_reference_dataset.py (h5py {h5py.__version__})"):
    """The whole file in one go: one create_dataset with data= per dataset."""
    with h5py.File(path, "w") as f:
        for name, data in arrays.items():
            create_dataset(f, name, compression, data)
        write_metadata(f, arrays["labels/energy"], arrays["labels/forces"], arrays["structures/atomic_numbers"],
                       compression, writer, teacher_model="ase.calculators.emt.EMT")


def check_same(arrays, structures, what):
    """Exits unless the structures hold exactly the values in arrays (forces after the float32 cast)."""
    again = to_arrays(structures)
    for name, data in arrays.items():
        if again[name].dtype != data.dtype or not np.array_equal(again[name], data):
            raise SystemExit(f"{what}: {name} differs from the h5 file")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out-dir", default=os.path.join(root, "data", "samples"))
    out = parser.parse_args().out_dir
    os.makedirs(out, exist_ok=True)
    paths = {ext: os.path.join(out, f"reference_930.{ext}") for ext in ("h5", "extxyz", "pkl")}
    sample_path = os.path.join(out, "sample.extxyz")

    kinds, structures = build_structures(np.random.default_rng(SEED))
    structures = extxyz_round_trip(structures)
    arrays = to_arrays(structures)

    write_h5(paths["h5"], arrays)
    ase.io.write(paths["extxyz"], structures, format="extxyz")
    ase.io.write(sample_path, structures[:SAMPLE_SIZE], format="extxyz")
    with open(paths["pkl"], "wb") as f:
        pickle.dump(structures, f, protocol=4)

    # Every output read back independently must equal the h5 file.
    with h5py.File(paths["h5"], "r") as f:
        stored = {name: f[name][()] for name in arrays}
    check_same(stored, ase.io.read(paths["extxyz"], index=":"), "reference_930.extxyz")
    with open(paths["pkl"], "rb") as f:
        check_same(stored, pickle.load(f), "reference_930.pkl")
    end = stored["structures/atomic_numbers_splits"][SAMPLE_SIZE]
    rows = {"atom": end, "structure": SAMPLE_SIZE, "split": SAMPLE_SIZE + 1}
    check_same({name: data[:rows[LAYOUT[name][2]]] for name, data in stored.items()},
               ase.io.read(sample_path, index=":"), "sample.extxyz")

    sizes = np.diff(arrays["structures/atomic_numbers_splits"])
    print(f"{len(structures)} structures, {sizes.sum()} atoms (per structure {sizes.min()} to {sizes.max()}, "
          f"mean {sizes.mean():.1f}), {arrays['labels/stress_mask'].sum()} with stress")
    for kind in COUNTS:
        chosen = sizes[[i for i, k in enumerate(kinds) if k == kind]]
        print(f"  {kind:9s}{len(chosen):4d} structures {chosen.sum():6d} atoms ({chosen.min()} to {chosen.max()})")
    energy = arrays["labels/energy"]
    print(f"energy {energy.min():.3f} to {energy.max():.3f} eV, max |force| "
          f"{np.abs(arrays['labels/forces']).max():.3f} eV/Ang")
    for path in list(paths.values()) + [sample_path]:
        print(f"  {os.path.relpath(path, root)}: {os.path.getsize(path) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
