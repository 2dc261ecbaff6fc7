"""DNS fast-flux features, as ``fluxscore features`` computes them, into pandas.

    df = fluxscore.features.extract(["dns.log"], asn_db=["data/ipdb/asn-ipv4.csv"],
                                    country_db=["data/ipdb/iptoasn-country.mmdb"])
    df.attrs["stats"]     # records read / used / rejected by reason, prefilter counts, ...

The DataFrame has the CLI's CSV columns in its order: ``domain`` (str), ``window_start`` (int64,
seconds since the epoch), then ``feature_columns()`` (all float64, NaN where the CSV cell is
empty; the columns the CSV prints without a fraction hold whole numbers). Rows are sorted by
(window_start, domain), like the CLI.

Partial aggregation (for scale-out, see ``fluxscore.dask``): ``aggregate(paths, parts=N)`` reads
logs into a feature state and returns it serialised (``Aggregator::Serialize``), split into N
byte strings by key hash; ``finish([...])`` merges serialised states (``MergeSerialized``) and
computes the rows with enrichment. Merging is exact: ``finish`` of the partial states of any
split of the inputs equals ``extract`` of all of them.

Options (same meaning and grammar as the CLI flags): window ("24h", "30m", "1d", 3600),
key ("fqdn" | "registered"), min_ips, format ("auto", "zeek", "zeek-json", "passivedns",
"pcap"), strict, memory ("2G"), sample_cap, psl, words, asn_db / country_db (a path or a list;
first match wins), threads (1 or 2, as --threads; default 1 here — Dask runs partitions side by
side — where the CLI's default is 2 on a machine with two cores; the rows are the same). Loaded
configurations (PSL, word list, enrichment data) are cached per process by their options, so
repeated calls in one process (e.g. a Dask worker) load them once.

Errors raise ``fluxscore.DataError``: bad options, an unreadable PSL / word list / enrichment
file, an unreadable or corrupt log (after the other logs were read, as the CLI exits 2; with
strict=True at the first rejected record), the memory budget exceeded.
"""

from __future__ import annotations

import os
import threading

from . import _native_module
from ._errors import DataError

__all__ = ["extract", "aggregate", "finish", "feature_columns", "config", "DEFAULT_PSL",
           "DEFAULT_WORDS"]

DEFAULT_PSL = "/usr/share/publicsuffix/public_suffix_list.dat"
DEFAULT_WORDS = "/usr/share/dict/words"

_CONFIGS = {}
_CONFIGS_LOCK = threading.Lock()


def _paths(paths):
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    out = [os.fsdecode(p) for p in paths]
    if not out:
        raise DataError("no input paths")
    return out


def _path_list(v):
    if v is None:
        return []
    if isinstance(v, (str, bytes, os.PathLike)):
        return [os.fsdecode(v)]
    return [os.fsdecode(p) for p in v]


def config(*, window="24h", key="fqdn", min_ips=3, format="auto", memory="2G", sample_cap=2048,
           psl=DEFAULT_PSL, words=DEFAULT_WORDS, asn_db=None, country_db=None, threads=1):
    """The native pipeline configuration for these options (cached per process)."""
    k = (str(window), str(key), int(min_ips), str(format), str(memory), int(sample_cap),
         os.fsdecode(psl), os.fsdecode(words), tuple(_path_list(asn_db)), tuple(_path_list(country_db)),
         int(threads))
    with _CONFIGS_LOCK:
        cfg = _CONFIGS.get(k)
    if cfg is None:
        if int(min_ips) < 0 or int(sample_cap) <= 0:
            raise DataError("min_ips must be >= 0 and sample_cap > 0")
        cfg = _native_module().DnsConfig(window=k[0], key=k[1], min_ips=k[2], sample_cap=k[5],
                                         memory=k[4], psl=k[6], words=k[7], format=k[3],
                                         asn_db=list(k[8]), country_db=list(k[9]), threads=k[10])
        with _CONFIGS_LOCK:
            cfg = _CONFIGS.setdefault(k, cfg)
    return cfg


def feature_columns():
    """Names of the feature columns after ``domain`` and ``window_start``, in output order."""
    return [name for name, _ in _native_module().feature_columns()]


def _frame(finished):
    import numpy as np
    import pandas as pd

    domains, starts, feats, _ = finished
    data = {"domain": np.asarray(domains, dtype=object), "window_start": starts}
    for name, values in feats:
        data[name] = values
    return pd.DataFrame(data, copy=False)


def _new_state(opts):
    return _native_module().FeatureState(config(**opts))


def extract(paths, *, strict=False, return_stats=False, **opts):
    """Reads DNS logs and computes the feature rows -> pandas DataFrame (see the module doc).

    ``df.attrs["stats"]``: read, used, rejected_total, rejected (by reason), skipped,
    first_rejections, and ``finish``: keys, passed, filtered (below min_ips), address_ips,
    unknown_asn, unknown_country, sampled_keys. ``return_stats=True`` returns (df, stats).
    """
    state = _new_state(opts)
    stats = state.read(_paths(paths), bool(strict))
    finished = state.finish()
    stats["finish"] = finished[3]
    df = _frame(finished)
    df.attrs["stats"] = stats
    return (df, stats) if return_stats else df


def aggregate(paths, *, parts=None, strict=False, return_stats=False, **opts):
    """Reads DNS logs into a partial feature state -> bytes (``parts=None``) or a list of
    ``parts`` byte strings, part i holding the keys whose (window, domain) hash falls in part i
    (the same key always lands in the same part, whatever the input). ``return_stats=True``
    returns (state, ingest stats)."""
    state = _new_state(opts)
    stats = state.read(_paths(paths), bool(strict))
    if parts is None:
        out = state.serialize(0, 1)
    else:
        parts = int(parts)
        if parts < 1:
            raise DataError("parts must be >= 1")
        out = [state.serialize(i, parts) for i in range(parts)]
    return (out, stats) if return_stats else out


def finish(states, *, return_stats=False, **opts):
    """Merges serialised feature states (bytes, or lists of bytes) and computes their rows ->
    DataFrame sorted by (window_start, domain). The options must match those of ``aggregate``
    (window, key, sample_cap; enrichment, words and min_ips apply here)."""
    state = _new_state(opts)
    if isinstance(states, (bytes, bytearray, memoryview)):
        states = [states]
    for s in states:
        if isinstance(s, (list, tuple)):
            for x in s:
                state.merge_serialized(bytes(x))
        else:
            state.merge_serialized(bytes(s))
    finished = state.finish()
    df = _frame(finished)
    df.attrs["stats"] = {"finish": finished[3]}
    return (df, finished[3]) if return_stats else df


def merge_stats(stats_list):
    """Sums ingest stats dicts (from several ``aggregate(..., return_stats=True)`` calls)."""
    total = {"read": 0, "used": 0, "rejected_total": 0, "rejected": {}, "skipped": {},
             "first_rejections": [], "errors": []}
    for s in stats_list:
        for k in ("read", "used", "rejected_total"):
            total[k] += s.get(k, 0)
        for k in ("rejected", "skipped"):
            for reason, n in s.get(k, {}).items():
                total[k][reason] = total[k].get(reason, 0) + n
        total["first_rejections"].extend(s.get("first_rejections", []))
        total["errors"].extend(s.get("errors", []))
    total["first_rejections"] = total["first_rejections"][:10]
    return total
