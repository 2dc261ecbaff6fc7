"""Scale-out on Dask: batch scoring of Dask DataFrames and DNS feature extraction over many logs.

    import dask.dataframe as dd, fluxscore.dask as fd
    out = fd.score(dd.read_csv("features-*.csv"), "models/fast-flux.pmml")   # lazy, index-aligned
    feats = fd.extract_features(["a.log", "b.log"], client=client, partitions=8,
                                asn_db=["data/ipdb/asn-ipv4.csv"])          # pandas DataFrame

Workers must be able to import fluxscore (PYTHONPATH=python, and FLUXSCORE_NATIVE_DIR when the
compiled module is not found on its own: see python/README.md) and read the model / log /
enrichment paths (paths are made absolute on the client; on a multi-machine cluster they must
exist at the same place on every worker).

Models are never pickled: tasks carry the model path, and each worker process loads a path once
and keeps the Model in a module-level cache (``_MODELS``). Feature configurations (PSL, word
list, enrichment data) are cached the same way by ``fluxscore.features.config``.
"""

from __future__ import annotations

import os
import threading
import uuid

from . import features as _features
from .model import Model

__all__ = ["score", "extract_features", "load_model"]

_MODELS = {}
_MODELS_LOCK = threading.Lock()


def load_model(path) -> Model:
    """The Model for ``path``, loaded once per process (keyed by path and modification time)."""
    path = os.path.abspath(os.fspath(path))
    try:
        key = (path, os.stat(path).st_mtime_ns)
    except OSError:
        key = (path, None)  # let Model.load report the problem (ModelError)
    with _MODELS_LOCK:
        m = _MODELS.get(key)
    if m is None:
        m = Model.load(path)
        with _MODELS_LOCK:
            m = _MODELS.setdefault(key, m)
    return m


def _score_partition(df, model_path, opts):
    return load_model(model_path).predict(df, **dict(opts))


def score(ddf, model_path, **opts):
    """Scores a Dask DataFrame -> Dask DataFrame of the output columns (target first, then the
    OutputFields), partition for partition, with the input's index and divisions.

    ``opts`` go to ``Model.predict`` (threads, missing_columns, ...). ``meta`` comes from a
    one-row prediction on the client (on Dask's placeholder row for ``ddf``'s columns)."""
    model_path = os.path.abspath(os.fspath(model_path))
    model = load_model(model_path)  # fails early (ModelError) on the client
    sample = ddf._meta_nonempty.iloc[:1]
    meta = model.predict(sample, **opts).iloc[:0]
    meta.attrs.clear()
    return ddf.map_partitions(_score_partition, model_path, tuple(sorted(opts.items())),
                              meta=meta, align_dataframes=False)


# ----------------------------------------------------------------------------- features

def _aggregate_task(path, parts, opts):
    states, stats = _features.aggregate([path], parts=parts, return_stats=True, **dict(opts))
    return tuple(states) + (stats,)


def _finish_task(states, opts):
    opts = dict(opts)
    df, fstats = _features.finish(states, return_stats=True, **opts)
    df.attrs.clear()
    return df, fstats


def extract_features(paths, client=None, partitions=None, **feature_opts):
    """``fluxscore.features.extract`` on a Dask cluster -> pandas DataFrame, equal row for row
    to ``fluxscore features`` on the same files.

    One task per input file reads it into a partial feature state split into ``partitions``
    parts by key hash (``features.aggregate(parts=N)``); then N reduce tasks each merge part i
    of every partial state and compute its rows (``features.finish``, enrichment there). The
    parts are concatenated and sorted by (window_start, domain).

    client: a ``distributed.Client`` (default: Dask's current scheduler, e.g. a Client created
    earlier, else the local threaded scheduler). partitions: default = number of files.
    ``df.attrs["stats"]``: ingest stats summed over the files, ``finish`` stats summed over the
    partitions. ``feature_opts``: as ``features.extract`` (strict, window, key, min_ips, ...).
    """
    import dask
    import pandas as pd

    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    paths = [os.path.abspath(os.fsdecode(p)) for p in paths]
    if not paths:
        raise _features.DataError("no input paths")
    for k in ("psl", "words"):
        if k in feature_opts:
            feature_opts[k] = os.path.abspath(os.fsdecode(feature_opts[k]))
    for k in ("asn_db", "country_db"):
        if k in feature_opts:
            feature_opts[k] = [os.path.abspath(p) for p in _features._path_list(feature_opts[k])]
    n = int(partitions) if partitions else len(paths)
    if n < 1:
        raise _features.DataError("partitions must be >= 1")
    opts = tuple(sorted(feature_opts.items()))
    agg_opts = tuple((k, v) for k, v in opts if k not in ("return_stats",))

    # Keys unique to this call: the files may have changed since an earlier call, whose
    # results a cluster could still hold under content-derived keys.
    run = uuid.uuid4().hex[:12]
    partials = []
    for i, p in enumerate(paths):
        partials.append(dask.delayed(_aggregate_task, nout=n + 1)(
            p, n, agg_opts, dask_key_name=f"fluxscore-aggregate-{run}-{i}"))
    finish_opts = tuple((k, v) for k, v in agg_opts if k != "strict")
    reduces = [dask.delayed(_finish_task)(
        [pt[j] for pt in partials], finish_opts, dask_key_name=f"fluxscore-finish-{run}-{j}")
        for j in range(n)]
    stats = [pt[n] for pt in partials]
    if client is not None:
        futures = client.compute(reduces + stats)
        results = client.gather(futures)
    else:
        results = list(dask.compute(*(reduces + stats)))
    finished, ingest = results[:n], results[n:]

    frames = [df for df, _ in finished]
    out = pd.concat(frames, ignore_index=True) if frames else _features.finish([], **dict(finish_opts))
    out = out.sort_values(["window_start", "domain"], kind="mergesort").reset_index(drop=True)
    total = _features.merge_stats(ingest)
    fin = {}
    for _, fs in finished:
        for k, v in fs.items():
            fin[k] = fin.get(k, 0) + v
    total["finish"] = fin
    out.attrs["stats"] = total
    return out
