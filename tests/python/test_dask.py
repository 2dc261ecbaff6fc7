"""fluxscore.dask: scoring and feature extraction on Dask equal the CLI's, row for row.

* on distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1);
* on a cluster of separate processes started like an operator would: `dask scheduler` on
  127.0.0.1 (random free port) and two `dask worker` processes that import fluxscore through
  PYTHONPATH / FLUXSCORE_NATIVE_DIR only; torn down even when the test fails.
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import fluxscore

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

from test_features_py import LOG, ASN, COUNTRY, HAVE_IPDB, assert_equals_cli_csv, cli_features, split_log  # noqa: E402
from test_native import BIN, SAMPLE_DATA, SAMPLE_MODEL, assert_same_as_cli, cli_score  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")


def _worker_env():
    native = fluxscore._native_module()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PYTHON_DIR] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["FLUXSCORE_NATIVE_DIR"] = os.path.dirname(native.__file__)
    env.pop("DASK_DISTRIBUTED__DASHBOARD__LINK", None)
    return env


@pytest.fixture(scope="module")
def local_client(tmp_path_factory):
    fluxscore._native_module()
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "FLUXSCORE_NATIVE_DIR")}
    os.environ.update({k: _worker_env()[k] for k in saved})
    workdir = tmp_path_factory.mktemp("dask-local")
    try:
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                      dashboard_address=None, local_directory=str(workdir)) as cluster, \
                distributed.Client(cluster) as client:
            yield client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_score(client, tmp_path):
    import fluxscore.dask as fd

    df = pd.read_csv(SAMPLE_DATA)
    df.index = pd.Index(np.arange(100, 100 + len(df)), name="row")
    ddf = dd.from_pandas(df, npartitions=3)
    lazy = fd.score(ddf, SAMPLE_MODEL)
    assert list(lazy.columns) == [f.name for f in fluxscore.Model.load(SAMPLE_MODEL).outputs]
    assert lazy.npartitions == 3 and lazy.divisions == ddf.divisions
    out = client.compute(lazy).result()
    assert out.index.equals(df.index)                     # index-aligned with the input
    assert_same_as_cli(fluxscore.Model.load(SAMPLE_MODEL), out.reset_index(drop=True),
                       cli_score(SAMPLE_MODEL, df, tmp_path))
    # joins back onto the input by index
    joined = ddf.join(lazy).compute()
    assert (joined["label"] == out["label"]).all()


def check_features(client, tmp_path, enriched):
    import fluxscore.dask as fd

    files = split_log(LOG, 3, tmp_path)
    opts, flags = {}, []
    if enriched:
        opts = dict(asn_db=ASN, country_db=COUNTRY)
        flags = [a for p in ASN for a in ("--asn-db", p)] + ["--country-db", COUNTRY[0]]
    df = fd.extract_features(files, client=client, partitions=4, **opts)
    assert_equals_cli_csv(df, cli_features([LOG], tmp_path, *flags))
    st = df.attrs["stats"]
    assert st["read"] == 400 and st["used"] == 400 and st["finish"]["passed"] == len(df)
    # options go through: an hourly window, every key
    df1h = fd.extract_features(files, client=client, partitions=2, window="1h", min_ips=1)
    assert_equals_cli_csv(df1h, cli_features([LOG], tmp_path, "--window", "1h", "--min-ips", "1"))


# ------------------------------------------------------------------------ LocalCluster

def test_score_local_cluster(local_client, tmp_path):
    check_score(local_client, tmp_path)


def test_score_larger_frame_equals_local_predict(local_client):
    import fluxscore.dask as fd

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"distinct_ips": rng.integers(0, 200, 20000), "distinct_asns": rng.integers(0, 90, 20000),
                       "distinct_countries": rng.integers(0, 12, 20000).astype(float),
                       "ttl_mean": rng.choice([np.nan, 30.0, 300.0, 86400.0], 20000),
                       "tld": rng.choice(["com", "ru", "info", None], 20000)})
    out = local_client.compute(fd.score(dd.from_pandas(df, npartitions=5), SAMPLE_MODEL, threads=1)).result()
    expected = fluxscore.Model.load(SAMPLE_MODEL).predict(df)
    expected.attrs.clear()
    out.attrs.clear()
    pd.testing.assert_frame_equal(out, expected, check_exact=True)
    # one Model per worker process, loaded once whatever the number of partitions
    counts = local_client.run(lambda: len(__import__("fluxscore.dask").dask._MODELS))
    assert sorted(counts.values()) in ([0, 1], [1, 1])


def test_extract_features_local_cluster(local_client, tmp_path):
    check_features(local_client, tmp_path, enriched=HAVE_IPDB)


def test_model_error_reaches_client(local_client, tmp_path):
    import fluxscore.dask as fd

    with pytest.raises(fluxscore.ModelError):
        fd.score(dd.from_pandas(pd.read_csv(SAMPLE_DATA), npartitions=2), tmp_path / "missing.pmml")
    with pytest.raises(fluxscore.DataError):
        fd.extract_features([str(tmp_path / "missing.log")], client=local_client)


# --------------------------------------------------- dask scheduler + dask worker processes

@contextlib.contextmanager
def process_cluster(workdir, n_workers=2):
    env = _worker_env()
    sched_file = os.path.join(workdir, "scheduler.json")
    procs = []

    def start(args, name):
        log = open(os.path.join(workdir, name + ".log"), "w")
        p = subprocess.Popen([sys.executable, "-m", *args], cwd=workdir, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((p, log))
        return p

    try:
        start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--no-dashboard", "--scheduler-file", sched_file], "scheduler")
        deadline = time.monotonic() + 60
        while not os.path.exists(sched_file):
            if procs[0][0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("scheduler did not start: " + open(os.path.join(workdir, "scheduler.log")).read())
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but be safe
        with open(sched_file) as f:
            address = json.load(f)["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(n_workers):
            start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                   "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60",
                   "--local-directory", workdir, "--name", f"w{i}"], f"worker{i}")
        yield address
    finally:
        for p, _ in reversed(procs):  # workers first, then the scheduler
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p, log in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=15)
            log.close()


def test_scheduler_and_worker_processes(tmp_path):
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    with process_cluster(str(workdir)) as address:
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            # the workers import fluxscore from PYTHONPATH / FLUXSCORE_NATIVE_DIR, not from us
            where = client.run(lambda: __import__("fluxscore")._native_module().__file__)
            assert len(where) == 2
            check_score(client, tmp_path)
            check_features(client, tmp_path, enriched=False)
            ran = client.run(lambda: sorted(__import__("fluxscore.features").features._CONFIGS))
            assert any(ran.values())  # feature tasks ran on the separate worker processes
