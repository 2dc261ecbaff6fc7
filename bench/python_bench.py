#!/usr/bin/env python3
"""Python / Dask benchmarks of fluxscore (results: docs/performance.md, "Python and Dask").

    /usr/bin/python3 bench/python_bench.py [--rows 1000000] [--calls 100000] [--dns-lines 2000000]
                                           [--skip-dask] [--workdir DIR]

1. predict_one latency: a depth-10 DecisionTreeClassifier (make_classification(n_samples=100000,
   n_features=20, random_state=0), max_depth=10, random_state=0), exported with
   fluxscore.export.to_pmml; per-call time of Model.predict_one(dict) (and, for scale,
   scikit-learn's predict_proba on one row).
2. predict throughput on --rows rows x 20 float64 columns (a DataFrame), 1 thread and all cores,
   against the C++ batch API on the same numbers (build/release/bench/fluxscore_bench_score:
   Model::Score on a prebuilt Table, table building not timed).
3. Dask scaling, LocalCluster(processes=True, threads_per_worker=1) with 1 then 2 workers:
   fluxscore.dask.extract_features on 4 simulated Zeek logs (`fluxscore simulate`,
   --dns-lines in total; the CLI `fluxscore features` on the same files as reference) and
   fluxscore.dask.score on --rows rows generated on the workers (8 partitions; the tasks sum a
   probability column so results do not travel back).

Needs the release build (build/release: fluxscore, fluxscore_bench_score, the Python module).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "python"))
BIN = os.path.join(REPO, "build", "release", "fluxscore")
BENCH_SCORE = os.path.join(REPO, "build", "release", "bench", "fluxscore_bench_score")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import fluxscore  # noqa: E402

NAMES = [f"x{i}" for i in range(20)]


def make_tree(workdir):
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=100000, n_features=20, random_state=0)
    est = DecisionTreeClassifier(max_depth=10, random_state=0).fit(X, y)
    path = os.path.join(workdir, "depth10.pmml")
    fluxscore.export.to_pmml(est, feature_names=NAMES, target_name="y", path=path)
    return path, est, X


def bench_predict_one(model, est, X, calls):
    rows = [dict(zip(NAMES, map(float, X[i]))) for i in range(1000)]
    po = model.predict_one
    for r in rows:
        po(r)
    per_call = []
    for rep in range(7):
        t = time.perf_counter()
        for i in range(calls):
            po(rows[i % 1000])
        per_call.append((time.perf_counter() - t) / calls)
    # per-call distribution (p50 / p99) over single timed calls
    single = []
    pc = time.perf_counter
    for i in range(min(calls, 50000)):
        r = rows[i % 1000]
        t = pc()
        po(r)
        single.append(pc() - t)
    single.sort()
    sk = []
    x1 = X[:1]
    for _ in range(200):
        t = time.perf_counter()
        est.predict_proba(x1)
        sk.append(time.perf_counter() - t)
    return {"best_mean_us": min(per_call) * 1e6, "median_mean_us": statistics.median(per_call) * 1e6,
            "p50_us": single[len(single) // 2] * 1e6, "p99_us": single[int(len(single) * 0.99)] * 1e6,
            "sklearn_one_row_us": statistics.median(sk) * 1e6}


def bench_predict(model, path, rows, workdir):
    rng = np.random.default_rng(0)
    X32 = rng.normal(size=(rows, 20)).astype(np.float32)   # float32: exact in both paths
    df = pd.DataFrame(X32.astype(np.float64), columns=NAMES)
    res = {}
    for threads in (1, 0):
        model.predict(df.iloc[:1000], threads=threads)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            model.predict(df, threads=threads)
            times.append(time.perf_counter() - t)
        res[f"py_threads_{threads}"] = statistics.median(times)
    data = os.path.join(workdir, "X.f32")
    X32.tofile(data)
    for threads in (1, os.cpu_count() or 1):
        if not os.path.exists(BENCH_SCORE):
            break
        out = subprocess.run([BENCH_SCORE, "--model", path, "--data", data, "--rows", str(rows),
                              "--cols", "20", "--names", ",".join(NAMES), "--threads", str(threads),
                              "--repeat", "5"], capture_output=True, text=True, check=True)
        res[f"cpp_threads_{threads}"] = json.loads(out.stdout.strip().splitlines()[-1])["median_s"]
    return res


def _gen_partition(i, n, rep=0):
    rng = np.random.default_rng(1000 + i)
    return pd.DataFrame(rng.normal(size=(n, 20)).astype(np.float32).astype(np.float64), columns=NAMES)


def _warm():
    import fluxscore.features

    fluxscore.features.config()


def bench_dask(path, rows, dns_lines, workdir):
    import dask
    import dask.dataframe as dd
    import distributed

    import fluxscore.dask as fd

    logs = []
    per = dns_lines // 4
    for i in range(4):
        p = os.path.join(workdir, f"sim-{i}.log")
        subprocess.run([BIN, "simulate", "--lines", str(per), "--seed", str(i + 1), "-o", p, "--quiet"],
                       check=True, cwd=REPO)
        logs.append(p)
    t = time.perf_counter()
    subprocess.run([BIN, "features", *logs, "-o", os.path.join(workdir, "cli.csv"), "--quiet"], check=True)
    res = {"cli_features_s": time.perf_counter() - t, "dns_lines": per * 4}
    env = {"PYTHONPATH": os.path.join(REPO, "python"),
           "FLUXSCORE_NATIVE_DIR": os.path.dirname(fluxscore._native_module().__file__)}
    os.environ.update(env)
    nparts = 8
    n = rows // nparts
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                                      dashboard_address=None, local_directory=workdir) as c, \
                distributed.Client(c) as client:
            client.run(_warm)  # every worker: native module, PSL and word list loaded
            fd.extract_features(logs[:1], client=client, partitions=workers)  # warm caches
            times = []
            for _ in range(3):
                t = time.perf_counter()
                df = fd.extract_features(logs, client=client, partitions=2 * workers)
                times.append(time.perf_counter() - t)
            res[f"features_w{workers}_s"] = min(times)
            res["feature_rows"] = len(df)
            gen, sc = [], []
            for rep in range(3):
                # a new graph each time (rep in the keys): nothing is reused from a previous run
                ddf = dd.from_map(_gen_partition, range(nparts), [n] * nparts, [rep + 10 * workers] * nparts,
                                  meta=_gen_partition(0, 1).iloc[:0])
                t = time.perf_counter()
                client.compute(ddf["x0"].sum()).result()
                gen.append(time.perf_counter() - t)
                t = time.perf_counter()
                client.compute(fd.score(ddf, path)["probability(1)"].sum()).result()
                sc.append(time.perf_counter() - t)
            res[f"gen_w{workers}_s"] = min(gen)
            res[f"score_w{workers}_s"] = min(sc)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--dns-lines", type=int, default=2_000_000)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--workdir")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=a.workdir) as workdir:
        path, est, X = make_tree(workdir)
        model = fluxscore.Model.load(path)
        one = bench_predict_one(model, est, X, a.calls)
        batch = bench_predict(model, path, a.rows, workdir)
        dk = {} if a.skip_dask else bench_dask(path, a.rows, a.dns_lines, workdir)

    print(f"# fluxscore Python / Dask benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    print()
    print("| measurement | value |")
    print("|---|---|")
    print(f"| predict_one, depth-10 tree, 20 inputs: mean per call (best of 7 x {a.calls:,}) | "
          f"{one['best_mean_us']:.2f} µs (median run {one['median_mean_us']:.2f} µs) |")
    print(f"| predict_one single-call p50 / p99 | {one['p50_us']:.2f} / {one['p99_us']:.2f} µs |")
    print(f"| scikit-learn predict_proba, one row (reference) | {one['sklearn_one_row_us']:.1f} µs |")
    for threads, label in ((1, "1 thread"), (0, "all cores")):
        s = batch[f"py_threads_{threads}"]
        print(f"| Model.predict, {a.rows:,} rows DataFrame, {label} | {s:.3f} s = {a.rows / s / 1e6:.2f} M rows/s |")
    for k, v in batch.items():
        if k.startswith("cpp_threads_"):
            print(f"| C++ Model::Score (fluxscore_bench_score), {a.rows:,} rows, {k.split('_')[-1]} thread(s) | "
                  f"{v:.3f} s = {a.rows / v / 1e6:.2f} M rows/s |")
    if dk:
        print(f"| `fluxscore features` CLI, 4 logs, {dk['dns_lines']:,} lines ({dk['feature_rows']:,} rows) | "
              f"{dk['cli_features_s']:.2f} s |")
        for w in (1, 2):
            print(f"| dask extract_features, {w} worker(s) | {dk[f'features_w{w}_s']:.2f} s |")
        for w in (1, 2):
            s = dk[f"score_w{w}_s"]
            print(f"| dask score, {a.rows:,} rows generated on workers, {w} worker(s) | {s:.2f} s "
                  f"(generating alone {dk[f'gen_w{w}_s']:.2f} s) |")
        print()
        print(f"Dask speed-up 1 -> 2 workers: features {dk['features_w1_s'] / dk['features_w2_s']:.2f}x, "
              f"score {dk['score_w1_s'] / dk['score_w2_s']:.2f}x")


if __name__ == "__main__":
    main()
