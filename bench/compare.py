#!/usr/bin/python3
"""Side-by-side scoring benchmark: fluxscore vs scikit-learn predict_proba vs XGBoost predict.

Reproduces the set-up of shared/docs/performance-anchors.md in ONE run, on the SAME rows:

* data: make_classification(n_samples=1_000_000, n_features=20, n_informative=10, n_redundant=4,
  n_clusters_per_class=4, flip_y=0.05, class_sep=0.8, random_state=42), cast to float32;
* models (random_state=42): dt10 = DecisionTreeClassifier(max_depth=10) and
  dtfull = DecisionTreeClassifier(min_samples_leaf=5) and lr = LogisticRegression(max_iter=1000)
  on all 1M rows; rf = RandomForestClassifier(100, max_depth=10) and
  gb = GradientBoostingClassifier(100, max_depth=3, learning_rate=0.1) on the first 200k rows;
  xgb_d3 / xgb_d10 = XGBClassifier(n_estimators=100, max_depth=3 / 10, learning_rate=0.1,
  tree_method="hist", random_state=42) on the first 200k rows;
* each sklearn model is exported with fluxscore.export.to_pmml and scored by
  fluxscore_bench_score (bench/score_file.cc) with 1 and 2 threads;
* scikit-learn predict_proba is timed in a child process (1 thread; rf also with n_jobs=2, lr
  also with 2 BLAS threads); XGBoost predict is timed with a fresh DMatrix per call (its
  construction is inside the timed region; reusing a DMatrix would hit XGBoost's prediction cache);
* fluxscore's probability of class 1 is checked against sklearn's predict_proba[:, 1].

Run with Debian's interpreter (sklearn 1.2.1, numpy 1.24, xgboost 1.7), not a pyenv python3:

    /usr/bin/python3 bench/compare.py --rows 200000          # quick
    /usr/bin/python3 bench/compare.py                        # full 1M rows

Everything expensive (data, fitted models, PMML files) is cached under --work; a PMML file is
re-exported when python/fluxscore/export.py is newer than it.

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: on some processors these are set machine-wide because old
OpenBLAS builds misbehave there; they slow a current numpy. The scikit-learn timing child process
(the only place where BLAS matters: lr) runs with both unset and reports the BLAS kernel it got
(threadpoolctl). Nothing else changes them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
N_SAMPLES = 1_000_000
N_FEATURES = 20
SUB_ROWS = 200_000
FEATURES = [f"x{i}" for i in range(N_FEATURES)]
SKLEARN_MODELS = ["dt10", "dtfull", "rf", "gb", "lr"]
# The XGBoost model each fluxscore model is compared with (same tree count and depth).
XGB_PAIR = {"gb": "xgb_d3", "rf": "xgb_d10"}
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BUSY_CORES = 0.3  # other processes' CPU use (cores) above which a measurement is flagged
TREE_TOL = 1e-12  # max |fluxscore - sklearn| accepted for probabilities in [0, 1]

MAKE_CLASSIFICATION = dict(n_samples=N_SAMPLES, n_features=N_FEATURES, n_informative=10,
                           n_redundant=4, n_clusters_per_class=4, flip_y=0.05, class_sep=0.8,
                           random_state=42)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class LoadProbe:
    """CPU used by everything else on the machine while a measurement ran, in cores.

    (all busy CPU time in /proc/stat - this process's and its children's CPU time) / wall time.
    On a shared 2-core machine a 2-thread figure taken while others used ~1 core is meaningless.
    """

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.monotonic(), self._busy(), sum(os.times()[:4])
        return self

    def __exit__(self, *exc):
        self.wall = wall = time.monotonic() - self.t0
        others = (self._busy() - self.busy0) - (sum(os.times()[:4]) - self.own0)
        self.other_cores = max(0.0, others / wall) if wall > 0 else 0.0
        return False

    @staticmethod
    def _busy():
        try:
            with open("/proc/stat") as fh:
                f = [int(x) for x in fh.readline().split()[1:]]
        except OSError:
            return 0.0
        # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
        return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# Data and models (cached)
# --------------------------------------------------------------------------------------------

def data_paths(work: Path):
    return work / "X.f32", work / "y.npy", work / "data.json"


def ensure_data(work: Path):
    xp, yp, meta = data_paths(work)
    spec = {"make_classification": MAKE_CLASSIFICATION, "dtype": "float32", "layout": "row-major"}
    if xp.exists() and yp.exists() and meta.exists() and json.loads(meta.read_text()) == spec:
        return
    from sklearn.datasets import make_classification
    log("generating data:", MAKE_CLASSIFICATION)
    X, y = make_classification(**MAKE_CLASSIFICATION)
    np.ascontiguousarray(X, dtype="<f4").tofile(xp)
    np.save(yp, y)
    meta.write_text(json.dumps(spec))


def load_data(work: Path):
    xp, yp, _ = data_paths(work)
    X = np.fromfile(xp, dtype="<f4").reshape(-1, N_FEATURES)
    y = np.load(yp)
    return X, y


def model_specs():
    """name -> (constructor expression for the record, factory, rows used for training)."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    specs = {
        "dt10": ("DecisionTreeClassifier(max_depth=10, random_state=42)",
                 lambda: DecisionTreeClassifier(max_depth=10, random_state=42), N_SAMPLES),
        "dtfull": ("DecisionTreeClassifier(min_samples_leaf=5, random_state=42)",
                   lambda: DecisionTreeClassifier(min_samples_leaf=5, random_state=42), N_SAMPLES),
        # n_jobs only parallelises fit/predict; the fitted forest does not depend on it.
        "rf": ("RandomForestClassifier(n_estimators=100, max_depth=10, random_state=42)",
               lambda: RandomForestClassifier(n_estimators=100, max_depth=10, random_state=42,
                                              n_jobs=2), SUB_ROWS),
        "gb": ("GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, "
               "random_state=42)",
               lambda: GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1,
                                                  random_state=42), SUB_ROWS),
        "lr": ("LogisticRegression(max_iter=1000, random_state=42)",
               lambda: LogisticRegression(max_iter=1000, random_state=42), N_SAMPLES),
    }
    for name, depth in (("xgb_d3", 3), ("xgb_d10", 10)):
        def make(depth=depth):
            import xgboost as xgb
            return xgb.XGBClassifier(n_estimators=100, max_depth=depth, learning_rate=0.1,
                                     tree_method="hist", random_state=42, n_jobs=2)
        specs[name] = (f"XGBClassifier(n_estimators=100, max_depth={depth}, learning_rate=0.1, "
                       f"tree_method='hist', random_state=42)", make, SUB_ROWS)
    return specs


def ensure_model(work: Path, name: str, X, y):
    import joblib
    import sklearn
    import xgboost

    expr, factory, n_train = model_specs()[name]
    record = {"estimator": expr, "train_rows": n_train, "sklearn": sklearn.__version__,
              "xgboost": xgboost.__version__, "data": MAKE_CLASSIFICATION}
    path, meta = work / "models" / f"{name}.joblib", work / "models" / f"{name}.json"
    if path.exists() and meta.exists() and json.loads(meta.read_text()) == record:
        return path, joblib.load(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"training {name}: {expr} on {n_train} rows")
    t0 = time.perf_counter()
    est = factory().fit(X[:n_train], y[:n_train])
    log(f"  trained {name} in {time.perf_counter() - t0:.1f} s")
    joblib.dump(est, path)
    meta.write_text(json.dumps(record))
    return path, est


def tree_stats(name: str, est):
    """(trees, total nodes) of a fitted sklearn model; (None, None) for lr."""
    if name in ("dt10", "dtfull"):
        return 1, int(est.tree_.node_count)
    if name == "rf":
        return len(est.estimators_), sum(int(t.tree_.node_count) for t in est.estimators_)
    if name == "gb":
        trees = [t for row in est.estimators_ for t in row]
        return len(trees), sum(int(t.tree_.node_count) for t in trees)
    if name.startswith("xgb"):
        df = est.get_booster().trees_to_dataframe()
        return int(df["Tree"].nunique()), int(len(df))
    return None, None


def ensure_pmml(work: Path, name: str, est, wait_s: float):
    """Exports est with fluxscore.export.to_pmml (re-exports when the exporter changed)."""
    out = work / "pmml" / f"{name}.pmml"
    exporter_src = ROOT / "python" / "fluxscore" / "export.py"
    model_file = work / "models" / f"{name}.joblib"
    if out.exists() and exporter_src.exists() and \
            out.stat().st_mtime >= max(exporter_src.stat().st_mtime, model_file.stat().st_mtime):
        return out, None
    out.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if str(ROOT / "python") not in sys.path:
                sys.path.insert(0, str(ROOT / "python"))
            import importlib
            import fluxscore.export as fx
            importlib.reload(fx)
            log(f"exporting {name} to PMML")
            t0 = time.perf_counter()
            tmp = out.with_suffix(".pmml.tmp")
            fx.to_pmml(est, feature_names=FEATURES, target_name="y", path=str(tmp))
            tmp.replace(out)
            log(f"  exported {name}: {out.stat().st_size / 1e6:.1f} MB in "
                f"{time.perf_counter() - t0:.1f} s")
            return out, None
        except Exception as e:  # exporter missing / incomplete: wait and retry, or give up
            err = f"{type(e).__name__}: {e}"
            if time.monotonic() >= deadline:
                return None, err
            log(f"  exporter not ready ({err}); retrying in 30 s")
            time.sleep(30)


# --------------------------------------------------------------------------------------------
# scikit-learn timing (child process, BLAS variables unset)
# --------------------------------------------------------------------------------------------

def sklearn_worker(spec_json: str):
    """Child process: times predict_proba, writes proba[:, 1] as float64, prints JSON."""
    import joblib
    from threadpoolctl import threadpool_info, threadpool_limits

    spec = json.loads(spec_json)
    X = np.fromfile(spec["data"], dtype="<f4", count=spec["rows"] * N_FEATURES)
    X = X.reshape(spec["rows"], N_FEATURES)
    est = joblib.load(spec["model"])
    results = {}
    # BLAS libraries actually mapped (threadpoolctl cannot see the reference BLAS).
    import re
    mapped = sorted({line.split()[-1] for line in open("/proc/self/maps")
                     if re.match(r"lib(open|flexi)?blas|libmkl_rt|libblis",
                                 line.rsplit("/", 1)[-1])})
    for label, n_jobs, blas_threads in spec["configs"]:
        if hasattr(est, "n_jobs"):
            est.n_jobs = n_jobs
        times = []
        with threadpool_limits(limits=blas_threads):
            blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture",
                                           "threading_layer", "num_threads")}
                    for i in threadpool_info() if i.get("user_api") == "blas"]
            if not blas:
                blas = [{"internal_api": "unthreaded (threadpoolctl sees none)", "version": m,
                         "architecture": None, "threading_layer": None, "num_threads": 1}
                        for m in mapped]
                if blas_threads > 1:
                    results[label] = {"skipped": "BLAS is single-threaded", "blas": blas}
                    continue
            for _ in range(spec["repeat"]):
                t0 = time.perf_counter()
                p = est.predict_proba(X)
                times.append(time.perf_counter() - t0)
        results[label] = {"median_s": statistics.median(times), "best_s": min(times),
                          "rows_per_s": spec["rows"] / statistics.median(times), "blas": blas}
        if label == "1":
            np.ascontiguousarray(p[:, 1], dtype="<f8").tofile(spec["out"])
    print(json.dumps(results))


def time_sklearn(work: Path, name: str, model_path: Path, rows: int, repeat: int):
    configs = [["1", 1, 1]]
    if name == "rf":
        configs.append(["2", 2, 1])  # n_jobs=2
    if name == "lr":
        configs.append(["2", 1, 2])  # 2 BLAS threads
    out = work / "preds" / f"{name}.sklearn.{rows}.f64"
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = {"data": str(data_paths(work)[0]), "rows": rows, "model": str(model_path),
            "repeat": repeat, "configs": configs, "out": str(out)}
    env = os.environ.copy()
    for v in BLAS_VARS:
        env.pop(v, None)
    res = {}
    for config in configs:  # one child per configuration, so each gets its own load figure
        spec["configs"] = [config]
        with LoadProbe() as probe:
            r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_sklearn_worker",
                                json.dumps(spec)], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sklearn worker failed for {name}:\n{r.stderr}")
        part = json.loads(r.stdout.strip().splitlines()[-1])
        for v in part.values():
            v["other_cores"], v["probe_wall_s"] = probe.other_cores, probe.wall
        res.update(part)
    return {k: v for k, v in res.items() if "skipped" not in v} | \
        {f"{k}_skipped": v for k, v in res.items() if "skipped" in v}, \
        np.fromfile(out, dtype="<f8")


# --------------------------------------------------------------------------------------------
# fluxscore and XGBoost timing
# --------------------------------------------------------------------------------------------

def find_bin(explicit: str | None) -> Path:
    cands = [Path(explicit)] if explicit else [
        ROOT / "build" / "release" / "bench" / "fluxscore_bench_score",
        ROOT / "build" / "release" / "fluxscore_bench_score",
    ]
    for c in cands:
        if c.is_file() and os.access(c, os.X_OK):
            return c.resolve()
    sys.exit("fluxscore_bench_score not found (tried: " + ", ".join(map(str, cands)) +
             "); build it: cmake --preset release && "
             "cmake --build --preset release -j2 --target fluxscore_bench_score")


def run_fluxscore(binary: Path, work: Path, name: str, pmml: Path, rows: int, threads: int,
                  repeat: int):
    out = work / "preds" / f"{name}.fluxscore.t{threads}.{rows}.f64"
    cmd = [str(binary), "--model", str(pmml), "--data", str(data_paths(work)[0]),
           "--rows", str(rows), "--cols", str(N_FEATURES), "--names", ",".join(FEATURES),
           "--threads", str(threads), "--repeat", str(repeat), "--out", str(out)]
    with LoadProbe() as probe:
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"fluxscore_bench_score failed for {name} (threads={threads}): "
                           f"{r.stderr.strip()}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["other_cores"], res["probe_wall_s"] = probe.other_cores, probe.wall
    res["cmd"] = " ".join(cmd)
    return res, np.fromfile(out, dtype="<f8")


def time_xgboost(est, X, threads: int, repeat: int):
    import xgboost as xgb
    booster = est.get_booster()
    booster.set_param({"nthread": threads})
    times = []
    with LoadProbe() as probe:
        for _ in range(repeat):
            t0 = time.perf_counter()
            dm = xgb.DMatrix(X, nthread=threads)  # fresh DMatrix: no prediction cache hit
            p = booster.predict(dm)
            times.append(time.perf_counter() - t0)
            del dm
    med = statistics.median(times)
    return {"median_s": med, "best_s": min(times), "rows_per_s": X.shape[0] / med,
            "other_cores": probe.other_cores, "probe_wall_s": probe.wall}, p


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt_rate(r):
    if r is None:
        return "n/a"
    if r >= 1e6:
        return f"{r / 1e6:.2f} M"
    if r >= 1e3:
        return f"{r / 1e3:.1f} k"
    return f"{r:.0f}"


def fmt_ns(rate, trees):
    if rate is None:
        return "n/a"
    ns = 1e9 / rate / (trees or 1)
    return f"{ns:.1f}" if ns < 1000 else f"{ns:,.0f}"


def fmt_ratio(a, b):
    if a is None or b is None:
        return "n/a"
    return f"{a / b:.2f}x"


def get(d, *keys):
    for k in keys:
        if d is None or k not in d:
            return None
        d = d[k]
    return d


def with_best(results: dict, rows: int) -> dict:
    """A copy of results whose rows_per_s use the best (fastest) run instead of the median."""
    import copy
    out = copy.deepcopy(results)
    for r in out.values():
        for system in ("sklearn", "flux", "xgb"):
            for t in (r.get(system) or {}).values():
                if isinstance(t, dict) and t.get("best_s"):
                    t["rows_per_s"] = rows / t["best_s"]
    return out


def render(results: dict, meta: dict, stat: str = "median") -> str:
    L = []
    L.append(f"rows scored: {meta['rows']:,} (the first rows of the 1M-row data set); "
             f"{stat} of {meta['repeat']} runs; rows/s = rows / {stat} time; "
             f"1T / 2T = 1 / 2 threads")
    L.append("")
    L.append("| model | trees | nodes | sklearn 1T | sklearn 2T | fluxscore 1T | fluxscore 2T "
             "| XGBoost 1T | XGBoost 2T |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if name.startswith("xgb"):
            continue
        xg = results.get(XGB_PAIR.get(name, ""), {})
        xgb_note = f" ({XGB_PAIR[name]})" if name in XGB_PAIR and xg else ""
        L.append(f"| {name} | {r.get('trees') or '-'} | {r.get('nodes') or '-'} "
                 f"| {fmt_rate(get(r, 'sklearn', '1', 'rows_per_s'))} "
                 f"| {fmt_rate(get(r, 'sklearn', '2', 'rows_per_s'))} "
                 f"| {fmt_rate(get(r, 'flux', '1', 'rows_per_s'))} "
                 f"| {fmt_rate(get(r, 'flux', '2', 'rows_per_s'))} "
                 f"| {fmt_rate(get(xg, 'xgb', '1', 'rows_per_s'))}{xgb_note} "
                 f"| {fmt_rate(get(xg, 'xgb', '2', 'rows_per_s'))}{xgb_note} |")
    for name, r in results.items():
        if name.startswith("xgb"):
            L.append(f"| {name} | {r.get('trees')} | {r.get('nodes')} | - | - | - | - "
                     f"| {fmt_rate(get(r, 'xgb', '1', 'rows_per_s'))} "
                     f"| {fmt_rate(get(r, 'xgb', '2', 'rows_per_s'))} |")
    L.append("")
    L.append("ns per row per tree (ns per row for lr); ratios are fluxscore rows/s over the other "
             "system's rows/s (> 1x: fluxscore faster); scaling = fluxscore 2T / 1T; "
             "max |diff| = max |fluxscore - sklearn predict_proba[:, 1]|")
    L.append("")
    L.append("| model | ns/row/tree sklearn 1T | fluxscore 1T | fluxscore 2T | XGBoost 1T "
             "| XGBoost 2T | flux/sklearn 1T | flux/sklearn 2T | flux/XGBoost 1T "
             "| flux/XGBoost 2T | flux scaling 2T/1T | max abs diff | check |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if name.startswith("xgb"):
            continue
        t = r.get("trees")
        xg = results.get(XGB_PAIR.get(name, ""), {})
        f1, f2 = get(r, "flux", "1", "rows_per_s"), get(r, "flux", "2", "rows_per_s")
        s1, s2 = get(r, "sklearn", "1", "rows_per_s"), get(r, "sklearn", "2", "rows_per_s")
        x1, x2 = get(xg, "xgb", "1", "rows_per_s"), get(xg, "xgb", "2", "rows_per_s")
        diff = r.get("max_abs_diff")
        L.append(f"| {name} | {fmt_ns(s1, t)} | {fmt_ns(f1, t)} | {fmt_ns(f2, t)} "
                 f"| {fmt_ns(x1, t) if xg else 'n/a'} | {fmt_ns(x2, t) if xg else 'n/a'} "
                 f"| {fmt_ratio(f1, s1)} | {fmt_ratio(f2, s2)} | {fmt_ratio(f1, x1)} "
                 f"| {fmt_ratio(f2, x2)} | {fmt_ratio(f2, f1)} "
                 f"| {('%.3g' % diff) if diff is not None else 'n/a'} | {r.get('check', 'n/a')} |")
    for name, r in results.items():
        if name.startswith("xgb"):
            t = r.get("trees")
            L.append(f"| {name} | - | - | - | {fmt_ns(get(r, 'xgb', '1', 'rows_per_s'), t)} "
                     f"| {fmt_ns(get(r, 'xgb', '2', 'rows_per_s'), t)} | - | - | - | - | - | - | - |")
    L.append("")
    L.append("Model load (fluxscore Model::LoadFile, 1T run):")
    L.append("")
    L.append("| model | PMML size | load time | MB/s |")
    L.append("|---|---|---|---|")
    for name, r in results.items():
        f = get(r, "flux", "1")
        if f:
            size = (f"{f['model_bytes'] / 1e6:.2f} MB" if f["model_bytes"] >= 1e5
                    else f"{f['model_bytes'] / 1e3:.1f} kB")
            L.append(f"| {name} | {size} | {f['load_s'] * 1e3:.1f} ms "
                     f"| {f['load_mb_s']:.1f} |")
    notes = [n for r in results.values() for n in r.get("notes", [])]
    busy = []
    for name, r in results.items():
        for system, label in (("sklearn", "sklearn"), ("flux", "fluxscore"), ("xgb", "XGBoost")):
            for t, d in (r.get(system) or {}).items():
                if isinstance(d, dict) and d.get("other_cores", 0) >= BUSY_CORES \
                        and d.get("probe_wall_s", 0) >= 1.0:  # jiffies: too coarse below 1 s
                    busy.append(f"{name} {label} {t.split('_')[0]}T ({d['other_cores']:.2f})")
    if busy:
        notes.append(f"other processes used >= {BUSY_CORES} core on average during: "
                     + ", ".join(busy) + " - on this 2-core machine such figures (2T above "
                     "all) understate the system measured; rerun or compare best-of tables")
    if notes:
        L.append("")
        L.append("Notes:")
        L.extend(f"- {n}" for n in notes)
    return "\n".join(L)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=str(ROOT / "build" / "bench-work"),
                    help="cache folder for data, models, PMML, predictions (default: %(default)s)")
    ap.add_argument("--bin", default=None,
                    help="fluxscore_bench_score (default: build/release/bench/fluxscore_bench_score)")
    ap.add_argument("--rows", type=int, default=N_SAMPLES, help="rows to score (<= 1000000)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median)")
    ap.add_argument("--only", default=",".join(SKLEARN_MODELS),
                    help="comma-separated subset of " + ",".join(SKLEARN_MODELS) +
                    " (xgb_d3 runs with gb, xgb_d10 with rf)")
    ap.add_argument("--no-xgb", action="store_true", help="skip XGBoost")
    ap.add_argument("--wait-exporter", type=float, default=0,
                    help="seconds to keep retrying a failing PMML export (default 0)")
    ap.add_argument("--json", default=None, help="also write all results as JSON here")
    ap.add_argument("--label", default=None,
                    help="what the binary was built from, printed instead of this work tree's "
                    "commit (use with --bin built elsewhere)")
    args = ap.parse_args()

    only = [m.strip() for m in args.only.split(",") if m.strip()]
    bad = [m for m in only if m not in SKLEARN_MODELS]
    if bad:
        ap.error(f"unknown model(s) {bad}; choose from {SKLEARN_MODELS}")
    if not 1 <= args.rows <= N_SAMPLES:
        ap.error(f"--rows must be in [1, {N_SAMPLES}]")
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    binary = find_bin(args.bin)

    started = datetime.datetime.now().isoformat(timespec="seconds")
    blas_env = {v: os.environ[v] for v in BLAS_VARS if v in os.environ}
    ensure_data(work)
    X, y = load_data(work)
    Xr = X[:args.rows]
    results = {}

    for name in only:
        log(f"== {name}")
        r = results.setdefault(name, {"notes": []})
        model_path, est = ensure_model(work, name, X, y)
        r["trees"], r["nodes"] = tree_stats(name, est)
        if name == "dt10" and r["nodes"] != 1937:
            r["notes"].append(f"dt10 has {r['nodes']} nodes; performance-anchors.md says 1,937")
        if name == "dtfull" and r["nodes"] != 101741:
            r["notes"].append(f"dtfull has {r['nodes']} nodes; performance-anchors.md says 101,741")

        log(f"  sklearn predict_proba ({args.repeat} runs)")
        r["sklearn"], p_sk = time_sklearn(work, name, model_path, args.rows, args.repeat)

        pmml, err = ensure_pmml(work, name, est, args.wait_exporter)
        if pmml is None:
            r["notes"].append(f"{name}: PMML export failed: {err}")
            r["check"] = "no PMML"
        else:
            r["flux"] = {}
            preds = {}
            for threads in (1, 2):
                log(f"  fluxscore threads={threads} ({args.repeat} runs)")
                try:
                    res, p = run_fluxscore(binary, work, name, pmml, args.rows, threads,
                                           args.repeat)
                except RuntimeError as e:
                    r["notes"].append(str(e))
                    continue
                r["flux"][str(threads)] = res
                preds[threads] = p
                if res.get("row_errors"):
                    r["notes"].append(f"{name}: fluxscore reported {res['row_errors']} row errors "
                                      f"(threads={threads})")
            if 1 in preds:
                d = np.abs(preds[1] - p_sk)
                nan = int(np.isnan(d).sum())
                r["max_abs_diff"] = float(np.nanmax(d)) if nan < d.size else float("nan")
                r["rows_over_tol"] = int((d > TREE_TOL).sum()) + nan
                r["check"] = "ok" if r["rows_over_tol"] == 0 else \
                    f"FAIL ({r['rows_over_tol']} rows > {TREE_TOL:g})"
                if nan:
                    r["notes"].append(f"{name}: {nan} fluxscore outputs missing (NaN)")
                if r["rows_over_tol"]:
                    i = int(np.nanargmax(d))
                    r["notes"].append(f"{name}: mismatch vs sklearn, max |diff| "
                                      f"{r['max_abs_diff']:.3g} at row {i} (fluxscore "
                                      f"{preds[1][i]!r}, sklearn {p_sk[i]!r})")
            if 1 in preds and 2 in preds and not np.array_equal(preds[1], preds[2],
                                                                  equal_nan=True):
                r["notes"].append(f"{name}: fluxscore 1-thread and 2-thread outputs differ "
                                  f"(max {np.nanmax(np.abs(preds[1] - preds[2])):.3g})")
                r["check"] = r.get("check", "") + " (1T != 2T)"
        if name == "lr":
            for b in get(r, "sklearn", "1", "blas") or []:
                r["notes"].append(f"lr sklearn BLAS: {b['internal_api']} {b['version']} "
                                  f"kernel={b['architecture']} threads={b['num_threads']}")
            if "2_skipped" in r["sklearn"]:
                r["notes"].append("lr sklearn 2T not measured: "
                                  + r["sklearn"]["2_skipped"]["skipped"])

        xname = XGB_PAIR.get(name)
        if xname and not args.no_xgb:
            log(f"== {xname}")
            xr = results.setdefault(xname, {"notes": []})
            _, xest = ensure_model(work, xname, X, y)
            xr["trees"], xr["nodes"] = tree_stats(xname, xest)
            xr["xgb"] = {}
            for threads in (1, 2):
                log(f"  xgboost predict nthread={threads} ({args.repeat} runs)")
                xr["xgb"][str(threads)], _ = time_xgboost(xest, Xr, threads, args.repeat)

    # Keep the XGBoost rows last, in a stable order.
    results = {k: results[k] for k in [*[m for m in results if not m.startswith("xgb")],
                                       *[m for m in ("xgb_d3", "xgb_d10") if m in results]]}
    import sklearn
    import xgboost
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src",
                            "include"], capture_output=True, text=True).stdout.strip()
    cpu = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    meta = {"rows": args.rows, "repeat": args.repeat, "date": started, "commit": args.label or (commit + ("+uncommitted src/include" if dirty else "")),
            "nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "sklearn": sklearn.__version__, "numpy": np.__version__,
            "xgboost": xgboost.__version__, "binary": str(binary),
            "binary_built": datetime.datetime.fromtimestamp(binary.stat().st_mtime).isoformat(
                timespec="seconds"),
            "blas_env_unset_for_sklearn": blas_env}
    print(f"# fluxscore vs scikit-learn vs XGBoost — {meta['date']}, commit {meta['commit']}, "
          f"{cpu} x{meta['nproc']}, sklearn {meta['sklearn']}, numpy {meta['numpy']}, "
          f"xgboost {meta['xgboost']}; fluxscore_bench_score built {meta['binary_built']}")
    if blas_env:
        print(f"(scikit-learn timed with {', '.join(blas_env)} unset; set here to "
              f"{blas_env}; everything else ran with them as set)")
    else:
        print("(OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE were not set in this environment)")
    print()
    text = render(results, meta)
    print(text)
    out_json = Path(args.json) if args.json else work / f"results-{args.rows}.json"
    out_json.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    (work / f"results-{args.rows}.md").write_text(text + "\n")
    (work / f"results-{args.rows}-best.md").write_text(
        render(with_best(results, args.rows), meta, "best") + "\n")
    log(f"results written to {out_json}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_sklearn_worker":
        sklearn_worker(sys.argv[2])
    else:
        main()
