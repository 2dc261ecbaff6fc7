"""Exception types of the fluxscore package (pure Python; the native module raises them)."""

__all__ = ["FluxscoreError", "ModelError", "DataError", "NativeModuleNotFound"]


class FluxscoreError(Exception):
    """Base class of every error fluxscore raises; the message is the engine's."""


class ModelError(FluxscoreError):
    """A model could not be loaded: invalid or unsupported PMML, unreadable file."""


class DataError(FluxscoreError):
    """Bad input data: wrong shape or types, unreadable or corrupt logs, bad options."""


class NativeModuleNotFound(FluxscoreError, ImportError):
    """The compiled module fluxscore._native was not found (build it: see python/README.md)."""


for _cls in (FluxscoreError, ModelError, DataError, NativeModuleNotFound):
    _cls.__module__ = "fluxscore"
del _cls
