"""Teacher models: labels structures with an ASE calculator, for MlffData.Converters.CalculatorLabeler.

make(spec, args_json, device, strict_device) builds the calculator once; label_packed / label_batch label many
structures per call, so the bridge from C# is crossed once per batch, not once per structure or atom.

Calculator specs:
  emt       ase.calculators.emt.EMT (real physics, CPU only; what the tests use)
  orb-v2    orb-models: pretrained.orb_v2 + its ORBCalculator
  orb-v3    orb-models: pretrained.orb_v3_conservative_inf_omat + its ORBCalculator
  mace-mp   mace-torch: mace.calculators.mace_mp (default_dtype "float64" unless the arguments say otherwise)
  module:callable, e.g. mypkg.calcs:MyCalculator, or a file: /path/calc.py:MyCalculator
The JSON arguments (--calculator-args) are keywords: of the pretrained loader (orb: precision, weights_path,
compile; orb's compile defaults to False here, since torch.compile recompiles for every new structure size) or of
mace_mp (model, dispersion, ...), or of the callable. The device is passed as device=... to the presets and to a
callable that declares a `device` parameter, or that takes **kwargs and is not an ase Calculator class (whose
**kwargs are calculator parameters, e.g. EMT's). A preset or module whose package is missing raises
TeacherSetupError naming the package to install.

Devices: "cpu", "cuda" or "cuda:N". When CUDA is asked for and torch cannot give it, the labeler warns and uses the
CPU, or raises TeacherSetupError with strict_device. A calculator that takes no device runs on the CPU: asking it
for CUDA warns (or raises with strict_device).

The batched-API protocol: a calculator object with a method label_batch(list_of_atoms) is given a whole batch of
plain ase.Atoms (no calculator attached) in one call and returns one (energy, forces, stress_or_None) per Atoms,
in order: energy in eV, forces (n, 3) in eV/Å, stress in eV/Å³ as ASE's get_stress() gives it (6 Voigt numbers,
or a 3 x 3 tensor), or None. If that call raises or returns something malformed, each structure of the batch is
retried alone (label_batch([atoms])), so that one bad structure does not fail the others. Any other calculator is
used through ASE: atoms.calc = calc; get_potential_energy(), get_forces(apply_constraint=False), get_stress().

Labels: energy as a Python float (float64), forces and stress as little-endian float64 bytes. Stress is kept only
for structures periodic on all three axes, and only when the calculator implements it (PropertyNotImplementedError
means none). Non-finite or misshapen results are an error for that structure.
"""
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import math
import os
import platform
import re
import sys
import traceback

import numpy as np

PRESETS = {
    # name: (pip package, top-level module, factory name)
    "emt": ("ase", "ase", "_make_emt"),
    "mace-mp": ("mace-torch", "mace", "_make_mace_mp"),
    "orb-v2": ("orb-models", "orb_models", "_make_orb_v2"),
    "orb-v3": ("orb-models", "orb_models", "_make_orb_v3"),
}

# Import names whose pip package is named otherwise, for the install hint of a missing dependency.
_PIP_NAMES = {"orb_models": "orb-models", "mace": "mace-torch", "cached_path": "cached-path", "sklearn": "scikit-learn",
              "yaml": "pyyaml", "torch_geometric": "torch-geometric"}

_DEVICE = re.compile(r"cpu|cuda(?::(\d+))?")


class TeacherSetupError(RuntimeError):
    """The calculator cannot be made: unknown spec, missing package, bad arguments, unavailable device."""


class TeacherOutputError(ValueError):
    """A calculator gave a result that is not a label (wrong shape, NaN)."""


def _install_hint(pip):
    return (f"install it (pip install {pip}) into the interpreter used (--python), "
            f"which is {sys.executable}")


def _missing(spec, package, error):
    """TeacherSetupError for an ImportError: names the missing package, the preset's own or a dependency of it."""
    missing = (getattr(error, "name", None) or "").split(".")[0]
    if not missing or missing == package[1]:
        pip = package[0]
        return TeacherSetupError(f"calculator '{spec}' needs the Python package {pip}: {error}; {_install_hint(pip)}")
    pip = _PIP_NAMES.get(missing, missing)
    return TeacherSetupError(f"calculator '{spec}' needs the Python package {pip} (which {package[0]} imports): "
                             f"{error}; {_install_hint(pip)}")


def _import(spec, package, module):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise _missing(spec, package, e) from e


def _accepts(function, name):
    """True when function(..., name=...) is allowed by its signature."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters) or \
        any(p.kind == p.VAR_KEYWORD for p in parameters)


def _declares(function, name):
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    p = parameters.get(name)
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def _takes_device(target):
    """Whether to pass device=...: a declared `device` parameter, or **kwargs of anything but an ASE Calculator class."""
    if _declares(target, "device"):
        return True
    if not _accepts(target, "device"):
        return False
    try:
        from ase.calculators.calculator import BaseCalculator as _Base
    except ImportError:  # ASE < 3.22 has only Calculator
        from ase.calculators.calculator import Calculator as _Base
    return not (inspect.isclass(target) and issubclass(target, _Base))


# ---- presets -------------------------------------------------------------------------------------------------

def _make_emt(spec, args, device):
    from ase.calculators.emt import EMT
    return EMT(**args), False


def _make_mace_mp(spec, args, device):
    calculators = _import(spec, PRESETS["mace-mp"][:2], "mace.calculators")
    keywords = dict(args)
    # Labels are stored as float64; MACE's own default is float32.
    keywords.setdefault("default_dtype", "float64")
    keywords["device"] = device
    return calculators.mace_mp(**keywords), True


def _orb(spec, loader_name, args, device):
    package = PRESETS[spec][:2]
    pretrained = _import(spec, package, "orb_models.forcefield.pretrained")
    try:
        # orb-models >= 0.6: the calculator moved, and loaders return (model, atoms_adapter).
        calculator_module = importlib.import_module("orb_models.forcefield.inference.calculator")
    except ModuleNotFoundError as e:
        if e.name not in ("orb_models.forcefield.inference", "orb_models.forcefield.inference.calculator"):
            raise _missing(spec, package, e) from e
        calculator_module = _import(spec, package, "orb_models.forcefield.calculator")
    except ImportError as e:
        raise _missing(spec, package, e) from e
    loader = getattr(pretrained, loader_name)
    keywords = dict(args)
    keywords["device"] = device
    if _declares(loader, "compile"):
        keywords.setdefault("compile", False)
    loaded = loader(**keywords)
    ORBCalculator = calculator_module.ORBCalculator
    if isinstance(loaded, tuple):
        model, adapter = loaded
        return ORBCalculator(model, atoms_adapter=adapter, device=device), True
    model = loaded
    extra = {}
    # Older ORBCalculators default to 20 neighbours; the model knows its own graph settings.
    if _declares(ORBCalculator, "system_config") and getattr(model, "system_config", None) is not None:
        extra["system_config"] = model.system_config
    return ORBCalculator(model, device=device, **extra), True


def _make_orb_v2(spec, args, device):
    return _orb(spec, "orb_v2", args, device)


def _make_orb_v3(spec, args, device):
    return _orb(spec, "orb_v3_conservative_inf_omat", args, device)


# ---- module:callable -----------------------------------------------------------------------------------------

def _load_file(spec, path):
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(path):
        raise TeacherSetupError(f"calculator '{spec}': no such file: {path}")
    # One module per file for the life of the process, so the callable's class stays one class.
    name = "_mlff_teacher_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) + \
        f"_{abs(hash(path)) & 0xFFFFFFFF:08x}"
    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except ImportError as e:
        del sys.modules[name]
        missing = (e.name or "").split(".")[0]
        pip = _PIP_NAMES.get(missing, missing) or "it"
        raise TeacherSetupError(f"calculator '{spec}' needs the Python module {missing or '?'} (imported by {path}): "
                                f"{e}; {_install_hint(pip)}") from e
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _resolve_callable(spec):
    module_part, _, attribute = spec.rpartition(":")
    if not module_part or not attribute:
        raise TeacherSetupError(f"calculator '{spec}' is not module:callable (e.g. mypkg.calc:MyCalculator or "
                                f"/path/calc.py:MyCalculator)")
    if module_part.endswith(".py") or os.sep in module_part:
        module = _load_file(spec, module_part)
        package = None
    else:
        package = module_part.split(".")[0]
        try:
            module = importlib.import_module(module_part)
        except ImportError as e:
            missing = (e.name or package).split(".")[0]
            pip = _PIP_NAMES.get(missing, missing)
            raise TeacherSetupError(f"calculator '{spec}' needs the Python module {missing}, which is missing: {e}; "
                                    f"{_install_hint(pip)}") from e
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise TeacherSetupError(f"calculator '{spec}': {module_part} has no attribute '{attribute}'")
        target = getattr(target, part)
    if not callable(target):
        raise TeacherSetupError(f"calculator '{spec}': {attribute} is a {type(target).__name__}, not callable")
    return target, package


def _make_callable(spec, args, device):
    target, package = _resolve_callable(spec)
    keywords = dict(args)
    takes_device = _takes_device(target)
    if takes_device:
        keywords["device"] = device
    return target(**keywords), takes_device, package


# ---- devices and versions ------------------------------------------------------------------------------------

def resolve_device(device, strict_device):
    """(device to use, warnings): cpu, or cuda:N when torch can use it; see the module docstring."""
    requested = (device or "cpu").strip().lower()
    match = _DEVICE.fullmatch(requested)
    if match is None:
        raise TeacherSetupError(f"device '{device}' is not cpu, cuda or cuda:N")
    if requested == "cpu":
        return "cpu", []
    index = int(match.group(1) or 0)
    try:
        import torch
    except ImportError as e:
        reason = f"torch cannot be imported: {e}"
    else:
        if not torch.cuda.is_available():
            build = "a CPU-only build" if getattr(torch.version, "cuda", None) is None else \
                f"built for CUDA {torch.version.cuda}, but no GPU or driver is usable"
            reason = f"torch {torch.__version__} is {build}"
        elif index >= torch.cuda.device_count():
            reason = f"{torch.cuda.device_count()} CUDA device(s) visible, no device {index}"
        else:
            return f"cuda:{index}", []
    message = f"{requested} requested but torch.cuda is not available ({reason})"
    if strict_device:
        raise TeacherSetupError(f"{message}; --strict-device forbids falling back to cpu")
    return "cpu", [f"{message}; using cpu"]


def _version(distribution, module=None):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        loaded = sys.modules.get(module or distribution)
        version = getattr(loaded, "__version__", None)
        return str(version) if version is not None else None


def _versions(package_pip, package_module):
    import ase
    versions = {"python": platform.python_version(), "ase": ase.__version__, "numpy": np.__version__}
    # torch is read from its metadata, not imported: importing it costs seconds and memory EMT does not need.
    torch_version = _version("torch")
    if torch_version:
        versions["torch"] = torch_version
    if package_pip and package_pip not in versions:
        version = _version(package_pip, package_module)
        if version:
            versions[package_pip] = version
    return versions


def _distribution_of(module):
    try:
        names = importlib.metadata.packages_distributions().get(module) or []
    except AttributeError:  # Python < 3.10
        names = []
    return names[0] if names else module


# ---- make ----------------------------------------------------------------------------------------------------

def make(spec, args_json=None, device="cpu", strict_device=False):
    """(calculator, device_used, info) for a spec; info = {"versions": {name: version}, "warnings": [text],
    "batched": bool (the calculator has label_batch)}. Raises TeacherSetupError with a message for the user."""
    spec = (spec or "").strip()
    if not spec:
        raise TeacherSetupError("no calculator given: use one of " + _preset_list())
    try:
        args = json.loads(args_json) if args_json else {}
    except json.JSONDecodeError as e:
        raise TeacherSetupError(f"--calculator-args is not valid JSON: {e}") from e
    if not isinstance(args, dict):
        raise TeacherSetupError(f"--calculator-args must be a JSON object of keyword arguments, not {type(args).__name__}")
    if "device" in args:
        raise TeacherSetupError("pass the device with --device, not in --calculator-args")

    used, warnings = resolve_device(device, strict_device)
    if spec in PRESETS:
        pip, module, factory = PRESETS[spec]
        try:
            calculator, takes_device = globals()[factory](spec, args, used)
        except TeacherSetupError:
            raise
        except Exception as e:
            raise TeacherSetupError(f"calculator '{spec}' could not be made: {type(e).__name__}: {e}") from e
    elif ":" in spec:
        try:
            calculator, takes_device, module = _make_callable(spec, args, used)
        except TeacherSetupError:
            raise
        except Exception as e:
            raise TeacherSetupError(f"calculator '{spec}' could not be made: {type(e).__name__}: {e}") from e
        pip = _distribution_of(module) if module else None
    else:
        raise TeacherSetupError(f"unknown calculator '{spec}': use one of {_preset_list()}")

    if not (callable(getattr(calculator, "label_batch", None)) or callable(getattr(calculator, "get_property", None))):
        raise TeacherSetupError(f"calculator '{spec}' made a {type(calculator).__name__}, which is neither an ASE "
                                f"calculator (get_property) nor has label_batch(list_of_atoms)")
    if not takes_device and used != "cpu":
        message = f"calculator '{spec}' takes no device argument, so it runs on the CPU, not {used}"
        if strict_device:
            raise TeacherSetupError(f"{message}; --strict-device forbids that")
        warnings.append(message)
        used = "cpu"
    info = {"versions": _versions(pip, module), "warnings": warnings,
            "batched": callable(getattr(calculator, "label_batch", None))}
    return calculator, used, info


def _preset_list():
    return ", ".join(sorted(PRESETS)) + ", or module:callable (e.g. mypkg.calc:MyCalculator or /path/calc.py:MyCalculator)"


# ---- labelling -----------------------------------------------------------------------------------------------

def _atoms(numbers, positions, cell, pbc):
    from ase import Atoms
    z = np.frombuffer(numbers, "<i8")
    return Atoms(numbers=z, positions=np.frombuffer(positions, "<f8").reshape(len(z), 3),
                 cell=np.frombuffer(cell, "<f8").reshape(3, 3), pbc=np.frombuffer(pbc, "?")[:3])


def _voigt(stress):
    s = np.asarray(stress, dtype=np.float64)
    if s.shape in ((3, 3), (9,)):
        m = s.reshape(3, 3)
        # ASE's full_3x3_to_voigt_6_stress order: xx yy zz yz xz xy.
        return np.array([m[0, 0], m[1, 1], m[2, 2], (m[1, 2] + m[2, 1]) / 2, (m[0, 2] + m[2, 0]) / 2,
                         (m[0, 1] + m[1, 0]) / 2])
    if s.shape == (6,):
        return s
    raise TeacherOutputError(f"stress has shape {s.shape}, expected 6 (Voigt) or 3 x 3")


def _label(atoms, energy, forces, stress):
    """The wire form of one structure's labels; TeacherOutputError for a result that is no label."""
    energy = float(energy)
    if not math.isfinite(energy):
        raise TeacherOutputError(f"energy is {energy}")
    f = np.asarray(forces, dtype=np.float64)
    if f.shape != (len(atoms), 3):
        raise TeacherOutputError(f"forces have shape {f.shape}, expected ({len(atoms)}, 3)")
    if not np.isfinite(f).all():
        raise TeacherOutputError("forces are not all finite")
    out = {"energy": energy, "forces": np.ascontiguousarray(f, "<f8").tobytes(), "stress": None}
    # Stress means something only for a cell periodic on all three axes.
    if stress is not None and atoms.pbc.all():
        s = _voigt(stress)
        if not np.isfinite(s).all():
            raise TeacherOutputError("stress is not all finite")
        out["stress"] = np.ascontiguousarray(s, "<f8").tobytes()
    return out


def _failure(e):
    """A structure's error as plain data: (type name, module, message, formatted traceback)."""
    kind = type(e)
    return (kind.__qualname__, kind.__module__, str(e), "".join(traceback.format_exception(kind, e, e.__traceback__)))


def _through_ase(calc, atoms):
    from ase.calculators.calculator import PropertyNotImplementedError
    atoms.calc = calc
    try:
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces(apply_constraint=False)
        stress = None
        implemented = getattr(calc, "implemented_properties", None)
        if atoms.pbc.all() and (implemented is None or "stress" in implemented):
            try:
                stress = atoms.get_stress()
            except PropertyNotImplementedError:
                stress = None
        return _label(atoms, energy, forces, stress)
    finally:
        # The calculator keeps its last atoms; the structure keeps nothing of the calculator.
        atoms.calc = None


def _batched(calc, structures):
    results = calc.label_batch(structures)
    results = list(results)
    if len(results) != len(structures):
        raise TeacherOutputError(f"label_batch returned {len(results)} results for {len(structures)} structures")
    out = []
    for atoms, result in zip(structures, results):
        energy, forces, stress = result
        out.append(_label(atoms, energy, forces, stress))
    return out


def label_batch(calc, batch):
    """Labels of each structure of batch (a list of (numbers <i8, positions <f8, cell <f8, pbc ?) bytes): per
    structure, {"energy": float, "forces": bytes, "stress": bytes or None}, or a failure tuple (type name, module,
    message, traceback) when labelling that structure raised; the others are labelled all the same."""
    structures = []
    out = [None] * len(batch)
    for i, (numbers, positions, cell, pbc) in enumerate(batch):
        try:
            structures.append((i, _atoms(numbers, positions, cell, pbc)))
        except Exception as e:
            out[i] = _failure(e)
    if callable(getattr(calc, "label_batch", None)):
        try:
            labels = _batched(calc, [atoms for _, atoms in structures])
        except Exception:
            # One bad structure must not fail its batch: retry each alone to find it.
            labels = None
        if labels is not None:
            for (i, _), label in zip(structures, labels):
                out[i] = label
            return out
        for i, atoms in structures:
            try:
                out[i] = _batched(calc, [atoms])[0]
            except Exception as e:
                out[i] = _failure(e)
        return out
    for i, atoms in structures:
        try:
            out[i] = _through_ase(calc, atoms)
        except Exception as e:
            out[i] = _failure(e)
    return out


def label_packed(calc, counts, numbers, positions, cells, pbcs):
    """label_batch of structures packed as whole-batch arrays (what C# sends, one bytes object per field): counts
    <i8 (atoms per structure), numbers <i8 and positions <f8 (n x 3) of all atoms in order, cells <f8 (3 x 3 per
    structure), pbcs ? (3 per structure)."""
    n = np.frombuffer(counts, "<i8")
    z = np.frombuffer(numbers, "<i8")
    r = np.frombuffer(positions, "<f8").reshape(-1, 3)
    c = np.frombuffer(cells, "<f8").reshape(-1, 3, 3)
    p = np.frombuffer(pbcs, "?").reshape(-1, 3)
    if not (len(n) == len(c) == len(p)) or int(n.sum()) != len(z) or len(z) != len(r):
        raise ValueError(f"packed batch is inconsistent: {len(n)} counts, {len(c)} cells, {len(p)} pbc rows, "
                         f"{len(z)} numbers, {len(r)} positions, sum of counts {int(n.sum())}")
    starts = np.concatenate([[0], np.cumsum(n)])
    batch = [(z[a:b].tobytes(), r[a:b].tobytes(), c[k].tobytes(), p[k].tobytes())
             for k, (a, b) in enumerate(zip(starts[:-1], starts[1:]))]
    return label_batch(calc, batch)
