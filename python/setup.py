"""Packaging glue: ``pip install --no-build-isolation --no-index ./python`` (offline, Debian 12).

The compiled module ``fluxscore/_native.<abi>.so`` is not built here: CMake builds it
(``cmake --preset release && cmake --build build/release``) into
``build/release/python/fluxscore/``, and this copies it into the package being installed. It is
looked for in ``$FLUXSCORE_NATIVE_DIR``, then ``../build/release/python/fluxscore`` next to this
file. Without it the install is the pure-Python package (exporter only) and says so.
All metadata lives in pyproject.toml.
"""
import glob
import importlib.machinery
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


def find_native():
    dirs = []
    if os.environ.get("FLUXSCORE_NATIVE_DIR"):
        dirs.append(os.environ["FLUXSCORE_NATIVE_DIR"])
    dirs.append(os.path.join(HERE, "..", "build", "release", "python", "fluxscore"))
    for d in dirs:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            hits = glob.glob(os.path.join(d, "_native" + suffix))
            if hits:
                return hits[0]
    return None


NATIVE = find_native()


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        if NATIVE is None:
            self.warn("fluxscore._native not found (build it with CMake, or set FLUXSCORE_NATIVE_DIR): "
                      "installing the pure-Python part only")
            return
        target = os.path.join(self.build_lib, "fluxscore", os.path.basename(NATIVE))
        self.mkpath(os.path.dirname(target))
        shutil.copyfile(NATIVE, target)
        self.announce(f"copied {NATIVE} -> {target}", level=2)


class BinaryDistribution(Distribution):
    """A wheel holding the prebuilt module is specific to this interpreter and platform."""

    def has_ext_modules(self):
        return NATIVE is not None


setup(cmdclass={"build_py": BuildPyWithNative}, distclass=BinaryDistribution)
