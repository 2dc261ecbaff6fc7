"""fluxscore Python package.

Pure Python for now: ``fluxscore.to_pmml`` exports fitted scikit-learn estimators as PMML 4.4
(see ``fluxscore.export``). Importing the package needs neither numpy nor scikit-learn nor any
compiled extension; the exporter is imported on first use.
"""

__version__ = "0.1.0"

__all__ = ["to_pmml", "__version__"]


def __getattr__(name):
    if name == "to_pmml":
        from .export import to_pmml

        return to_pmml
    raise AttributeError(f"module 'fluxscore' has no attribute {name!r}")
