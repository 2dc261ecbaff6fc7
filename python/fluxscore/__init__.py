"""fluxscore Python package.

* ``fluxscore.to_pmml`` exports fitted scikit-learn estimators as PMML 4.4 (pure Python, see
  ``fluxscore.export``).
* ``fluxscore.Model`` loads a PMML document into the C++ engine and scores pandas / numpy /
  dict inputs (``fluxscore.model``); ``fluxscore.features`` computes the DNS fast-flux features
  of ``fluxscore features``; ``fluxscore.dask`` runs both on a Dask cluster. These need the
  compiled module ``fluxscore._native`` (built by CMake; located as described in
  ``_native_module`` below and in python/README.md).

``import fluxscore`` itself needs nothing but the standard library: the exporter, the engine
bindings and the Dask helpers are imported on first use.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys

from ._errors import DataError, FluxscoreError, ModelError, NativeModuleNotFound

__version__ = "0.1.0"

__all__ = ["to_pmml", "Model", "load", "FluxscoreError", "ModelError", "DataError",
           "NativeModuleNotFound", "features", "__version__"]

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_REPO_ROOT = os.path.dirname(os.path.dirname(_PKG_DIR))


def _native_candidates():
    """Directories searched for the compiled module ``_native.<abi>.so``, in order:

    1. ``$FLUXSCORE_NATIVE_DIR`` (a directory, e.g. ``build/release/python/fluxscore``);
    2. this package's own directory (an installed package with the module copied next to it);
    3. the CMake build trees of this source checkout: ``build/release/python/fluxscore``, then
       ``build/debug/python/fluxscore`` (never the asan-ubsan tree: an ASan-instrumented module
       cannot be loaded into an uninstrumented interpreter without LD_PRELOAD).
    """
    dirs = []
    env = os.environ.get("FLUXSCORE_NATIVE_DIR")
    if env:
        dirs.append(env)
    dirs.append(_PKG_DIR)
    for preset in ("release", "debug"):
        dirs.append(os.path.join(_REPO_ROOT, "build", preset, "python", "fluxscore"))
    return dirs


def _native_module():
    """Imports and returns ``fluxscore._native`` (cached in sys.modules)."""
    mod = sys.modules.get(__name__ + "._native")
    if mod is not None:
        return mod
    for d in _native_candidates():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(d, "_native" + suffix)
            if os.path.isfile(path):
                spec = importlib.util.spec_from_file_location(__name__ + "._native", path)
                mod = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = mod
                try:
                    spec.loader.exec_module(mod)
                except BaseException:
                    del sys.modules[spec.name]
                    raise
                return mod
    raise NativeModuleNotFound(
        "fluxscore._native not found in " + os.pathsep.join(_native_candidates())
        + ": build it (cmake --preset release && cmake --build build/release) or set "
          "FLUXSCORE_NATIVE_DIR to the directory holding _native*.so")


def load(path):
    """``Model.load(path)``."""
    from .model import Model

    return Model.load(path)


def __getattr__(name):
    if name == "to_pmml":
        from .export import to_pmml

        return to_pmml
    if name in ("Model", "Field"):
        from . import model

        return getattr(model, name)
    if name in ("features", "dask", "model", "export"):
        return importlib.import_module(__name__ + "." + name)
    raise AttributeError(f"module 'fluxscore' has no attribute {name!r}")
