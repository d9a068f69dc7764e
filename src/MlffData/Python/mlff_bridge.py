"""The embedded interpreter's side of MlffData.Python (loaded first, by PythonInterpreter).

configure() makes the embedded interpreter see what the probed interpreter saw (sys.path, so venvs and PYTHONPATH
work, sys.executable for multiprocessing). The Python sources compiled into the MlffData assembly are served by
an importer on sys.meta_path: `import ase_frames` finds them, Python's import lock runs each exactly once, and
tracebacks show their lines through the loader's get_source.
"""
import importlib.abc
import importlib.util
import json
import os
import sys

_sources = {}  # module name -> (source text, file name shown in tracebacks)


class _EmbeddedSources(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _sources:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=_sources[fullname][1])

    def is_package(self, fullname):
        return False

    def get_source(self, fullname):
        if fullname not in _sources:
            raise ImportError(f"no embedded source for {fullname}", name=fullname)
        return _sources[fullname][0]

    def get_code(self, fullname):
        source, filename = _sources[fullname]
        return compile(source, filename, "exec", dont_inherit=True)


_finder = _EmbeddedSources()


def configure(probe_json, keep_home):
    probe = json.loads(probe_json)
    # The probe ran `python -c`, whose first entry is the working directory ('').
    sys.path[:] = [p for p in probe["path"] if p]
    sys.executable = probe["executable"]
    sys.prefix, sys.exec_prefix = probe["prefix"], probe["exec_prefix"]
    if not keep_home:
        # PYTHONHOME was set only to start this interpreter; subprocesses of Python code must not inherit it.
        os.environ.pop("PYTHONHOME", None)
    if not getattr(sys, "argv", None):
        sys.argv = [""]
    sys.meta_path.insert(0, _finder)


def register_source(name, source, filename):
    """Makes `import name` load source; False when name already has another source."""
    known = _sources.get(name)
    if known is not None:
        return known[0] == source
    _sources[name] = (source, filename)
    return True
