"""A small torch teacher for tests and scripts/gpu-check: a Morse pair potential with a smooth cutoff, as an ASE
calculator that runs on any torch device.

Energy (eV) in float64: E = 1/2 sum over pairs (i, j, image) of V(r) s(r), with the Morse term
V(r) = D [(1 - exp(-a (r - r0)))^2 - 1] and the switch s(r) = 1 - x^3 (6 x^2 - 15 x + 10), x = (r - r_on) /
(r_cut - r_on) clipped to [0, 1], so energy, forces and their first derivative go smoothly to zero at r_cut.
Pairs: every atom j and periodic image within r_cut of atom i, found by trying all cell translations that can
reach r_cut (after wrapping atoms into the cell), so small and skewed cells are right, not just minimum image.

Forces are -dE/dpositions and stress is (1/V) dE/d(strain) (ASE's convention and Voigt order xx yy zz yz xz xy),
both by autograd of the same energy: positions and cell are deformed by (I + strain) with strain = 0.

label_batch(list_of_atoms) is MlffData's batched-API protocol (src/MlffData/PythonScripts/teacher.py): one call
per batch, one (energy, forces, stress_or_None) per structure. It counts calls in `batch_calls` and structures in
`batched_structures`, so tests can see that the batched path was taken.

Usable as `--calculator tests/teacher/torch_pair.py:TorchPair --calculator-args '{"cutoff": 5.0}' --device cuda`.
"""
import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes
from ase.geometry import complete_cell


class TorchPair(Calculator):
    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, device="cpu", depth=0.35, alpha=1.4, r0=2.6, cutoff=5.0, cuton=None, **kwargs):
        """depth D (eV), alpha a (1/Å), r0 (Å), cutoff r_cut (Å), cuton r_on (Å, default 0.8 r_cut)."""
        Calculator.__init__(self, **kwargs)
        self.device = torch.device(device)
        self.depth, self.alpha, self.r0 = float(depth), float(alpha), float(r0)
        self.cutoff = float(cutoff)
        self.cuton = float(cuton) if cuton is not None else 0.8 * self.cutoff
        if not 0 <= self.cuton < self.cutoff:
            raise ValueError(f"cuton {self.cuton} must lie in [0, cutoff {self.cutoff})")
        self.batch_calls = 0
        self.batched_structures = 0

    # ---- the model -------------------------------------------------------------------------------------------

    def _pair_energy(self, r):
        morse = self.depth * ((1 - torch.exp(-self.alpha * (r - self.r0))) ** 2 - 1)
        x = ((r - self.cuton) / (self.cutoff - self.cuton)).clamp(0, 1)
        switch = 1 - x ** 3 * (6 * x ** 2 - 15 * x + 10)
        return morse * switch

    def _shifts(self, cell, pbc):
        """Integer cell translations that can bring an atom of the (wrapped) cell within the cutoff of another."""
        reciprocal = np.linalg.inv(cell).T  # rows: reciprocal vectors b_k, |b_k| = 1 / (layer spacing k)
        reach = [int(np.ceil(self.cutoff * np.linalg.norm(reciprocal[k]))) + 1 if pbc[k] else 0 for k in range(3)]
        ranges = [np.arange(-n, n + 1) for n in reach]
        return np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1).T.astype(np.float64)

    def evaluate(self, atoms, stress=True):
        """(energy, forces (n, 3), Voigt stress or None) of one Atoms, as numpy float64 on the host."""
        pbc = np.asarray(atoms.pbc, bool)
        cell = complete_cell(atoms.cell.array)
        positions = np.asarray(atoms.positions, np.float64)
        if pbc.any():
            # Wrapping moves atoms by lattice vectors: the energy is the same, and every pair is then reached by
            # the few translations of _shifts.
            fractional = np.linalg.solve(cell.T, positions.T).T
            positions = positions - (np.floor(fractional) * pbc) @ cell
        shifts = self._shifts(cell, pbc)

        dev, f64 = self.device, torch.float64
        r = torch.tensor(positions, dtype=f64, device=dev, requires_grad=True)
        h = torch.tensor(cell, dtype=f64, device=dev)
        strain = torch.zeros(3, 3, dtype=f64, device=dev, requires_grad=True)
        deform = torch.eye(3, dtype=f64, device=dev) + strain
        r_strained = r @ deform
        translations = torch.tensor(shifts, dtype=f64, device=dev) @ (h @ deform)  # (m, 3)

        n = len(atoms)
        energy = torch.zeros((), dtype=f64, device=dev)
        # Chunks of translations bound the (m, n, n) pair arrays for larger cells.
        chunk = max(1, 2_000_000 // max(1, n * n))
        zero_shift = torch.tensor(np.all(shifts == 0, axis=1), device=dev)
        same = torch.eye(n, dtype=torch.bool, device=dev)
        for start in range(0, len(shifts), chunk):
            t = translations[start:start + chunk]
            d = r_strained[None, None, :, :] - r_strained[None, :, None, :] + t[:, None, None, :]  # (m, n, n, 3)
            r2 = (d * d).sum(-1)
            self_pair = zero_shift[start:start + chunk, None, None] & same[None]
            inside = (r2 < self.cutoff ** 2) & ~self_pair
            # sqrt at 0 has an infinite gradient: pairs outside the cutoff (and i with itself) see a safe 1.
            distance = torch.sqrt(torch.where(inside, r2, torch.ones_like(r2)))
            energy = energy + 0.5 * torch.where(inside, self._pair_energy(distance), torch.zeros_like(r2)).sum()

        wanted = [r, strain] if stress and pbc.all() else [r]
        gradients = torch.autograd.grad(energy, wanted)
        forces = (-gradients[0]).detach().cpu().numpy()
        voigt = None
        if len(gradients) == 2:
            sigma = gradients[1].detach().cpu().numpy() / abs(np.linalg.det(atoms.cell.array))
            sigma = 0.5 * (sigma + sigma.T)
            voigt = np.array([sigma[0, 0], sigma[1, 1], sigma[2, 2], sigma[1, 2], sigma[0, 2], sigma[0, 1]])
        return float(energy.item()), forces, voigt

    # ---- ASE and the batched protocol --------------------------------------------------------------------------

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        energy, forces, stress = self.evaluate(self.atoms)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}
        if stress is not None:
            self.results["stress"] = stress

    def label_batch(self, structures):
        """One (energy, forces, stress or None) per Atoms; stress for cells periodic on all three axes."""
        self.batch_calls += 1
        self.batched_structures += len(structures)
        return [self.evaluate(atoms) for atoms in structures]
