"""fluxscore.features: extract() equals `fluxscore features` (CSV parsed back, exact equality,
NaN == NaN), with and without enrichment and for other options; aggregate()/finish() round trips
equal extract(); stats; typed errors."""
import math
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

import fluxscore

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("FLUXSCORE_BIN", os.path.join(REPO, "build", "release", "fluxscore"))
LOG = os.path.join(REPO, "examples", "logs", "sample-dns.log")
ASN = [os.path.join(REPO, "data", "ipdb", "asn-ipv4.csv"), os.path.join(REPO, "data", "ipdb", "asn-ipv6.csv")]
COUNTRY = [os.path.join(REPO, "data", "ipdb", "iptoasn-country.mmdb")]
HAVE_IPDB = all(os.path.exists(p) for p in ASN + COUNTRY)


@pytest.fixture(scope="module", autouse=True)
def native():
    try:
        fluxscore._native_module()
    except fluxscore.NativeModuleNotFound as e:
        if os.path.isdir("/usr/lib/cmake/pybind11"):
            pytest.fail(f"pybind11 is installed but the module was not built: {e}")
        pytest.skip(str(e))


def cli_features(paths, tmp_path, *extra):
    out = tmp_path / "cli-features.csv"
    r = subprocess.run([BIN, "features", *paths, "-o", str(out), "--quiet", *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def assert_equals_cli_csv(df, csv_path):
    """Every cell equal to the CLI's: numbers parsed with float() (shortest round-trip text)."""
    cli = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert list(df.columns) == list(cli.columns)
    assert len(df) == len(cli)
    assert df["domain"].tolist() == cli["domain"].tolist()
    assert df["window_start"].dtype == np.int64
    assert df["window_start"].tolist() == [int(x) for x in cli["window_start"]]
    for c in cli.columns[2:]:
        theirs = np.array([float(x) if x != "" else np.nan for x in cli[c]])
        mine = df[c].to_numpy()
        assert mine.dtype == np.float64
        ok = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
        assert ok.all(), (c, mine[~ok][:3], theirs[~ok][:3])


def split_log(path, n, out_dir):
    """Zeek TSV `path` split into n files, each with the header and the #close trailer."""
    with open(path) as f:
        lines = f.readlines()
    header = [l for l in lines if l.startswith("#") and not l.startswith("#close")]
    trailer = [l for l in lines if l.startswith("#close")]
    data = [l for l in lines if not l.startswith("#")]
    step = math.ceil(len(data) / n)
    out = []
    for i in range(n):
        p = out_dir / f"part-{i}.log"
        with open(p, "w") as f:
            f.writelines(header + data[i * step:(i + 1) * step] + trailer)
        out.append(str(p))
    return out


def sort_frame(df):
    return df.sort_values(["window_start", "domain"], kind="mergesort").reset_index(drop=True)


def test_columns():
    cols = fluxscore.features.feature_columns()
    assert cols[:3] == ["queries", "clients", "distinct_ips"]


def test_extract_equals_cli_plain(tmp_path):
    df = fluxscore.features.extract(LOG)
    assert_equals_cli_csv(df, cli_features([LOG], tmp_path))
    st = df.attrs["stats"]
    assert st["read"] == 400 and st["used"] == 400 and st["rejected_total"] == 0
    assert st["finish"]["passed"] == len(df) == 5
    assert st["finish"]["filtered"] == 18


@pytest.mark.skipif(not HAVE_IPDB, reason="data/ipdb missing (scripts/fetch-ipdata.sh)")
def test_extract_equals_cli_enriched(tmp_path):
    df, stats = fluxscore.features.extract([LOG], asn_db=ASN, country_db=COUNTRY, return_stats=True)
    extra = [a for p in ASN for a in ("--asn-db", p)] + ["--country-db", COUNTRY[0]]
    assert_equals_cli_csv(df, cli_features([LOG], tmp_path, *extra))
    assert stats["finish"]["address_ips"] > 0
    assert stats["finish"]["unknown_country"] < stats["finish"]["address_ips"]
    assert df["distinct_asns"].max() > 1


@pytest.mark.parametrize("opts,flags", [
    (dict(window="1h", min_ips=1), ["--window", "1h", "--min-ips", "1"]),
    (dict(key="registered", min_ips=2, window=7200), ["--key", "registered", "--min-ips", "2", "--window", "7200"]),
    (dict(min_ips=0, format="zeek", sample_cap=4), ["--min-ips", "0", "--format", "zeek", "--sample-cap", "4"]),
])
def test_extract_options_equal_cli(tmp_path, opts, flags):
    df = fluxscore.features.extract(LOG, **opts)
    assert_equals_cli_csv(df, cli_features([LOG], tmp_path, *flags))


def test_two_threads_equal_one_and_cli(tmp_path):
    # 300k simulated lines, 128M budget: the record buffers are handed to the drain thread many
    # times and Finish computes its ~24k rows on two threads.
    log = tmp_path / "sim.log"
    r = subprocess.run([BIN, "simulate", "--lines", "300000", "--domains", "50000", "--seed", "3", "-q",
                        "-o", str(log)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    one = fluxscore.features.extract(str(log), min_ips=1, memory="128M")
    two = fluxscore.features.extract(str(log), min_ips=1, memory="128M", threads=2)
    assert len(one) > 20000
    pd.testing.assert_frame_equal(one, two)
    assert_equals_cli_csv(two, cli_features([str(log)], tmp_path, "--min-ips", "1", "--memory", "128M",
                                            "--threads", "1"))
    with pytest.raises(fluxscore.DataError, match="threads 3"):
        fluxscore.features.extract(LOG, threads=3)


def test_aggregate_finish_round_trip(tmp_path):
    opts = dict(window="1h", min_ips=1)
    whole = fluxscore.features.extract(LOG, **opts)
    files = split_log(LOG, 3, tmp_path)
    # one state per file, merged whole
    states = [fluxscore.features.aggregate(p, **opts) for p in files]
    assert all(isinstance(s, bytes) for s in states)
    merged = fluxscore.features.finish(states, **opts)
    pd.testing.assert_frame_equal(merged, whole, check_exact=True)
    # partitioned by key hash: part i of every state, finished separately
    parts = [fluxscore.features.aggregate(p, parts=4, **opts) for p in files]
    assert all(len(p) == 4 for p in parts)
    frames = [fluxscore.features.finish([p[i] for p in parts], **opts) for i in range(4)]
    domains = [set(zip(f["window_start"], f["domain"])) for f in frames]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not (domains[i] & domains[j])  # a key lands in one part only
    pd.testing.assert_frame_equal(sort_frame(pd.concat(frames)), whole, check_exact=True)
    # stats add up to the whole file's
    st = [fluxscore.features.aggregate(p, return_stats=True, **opts)[1] for p in files]
    total = fluxscore.features.merge_stats(st)
    assert total["read"] == 400 and total["used"] == 400


def test_finish_of_split_files_equals_cli_on_whole(tmp_path):
    files = split_log(LOG, 2, tmp_path)
    parts = [fluxscore.features.aggregate(p, parts=2) for p in files]
    frames = [fluxscore.features.finish([p[i] for p in parts]) for i in range(2)]
    assert_equals_cli_csv(sort_frame(pd.concat(frames)), cli_features([LOG], tmp_path))


def test_errors(tmp_path):
    with pytest.raises(fluxscore.DataError, match="nope.log"):
        fluxscore.features.extract(str(tmp_path / "nope.log"))
    with pytest.raises(fluxscore.DataError, match="window"):
        fluxscore.features.extract(LOG, window="soon")
    with pytest.raises(fluxscore.DataError, match="memory"):
        fluxscore.features.extract(LOG, memory="lots")
    with pytest.raises(fluxscore.DataError, match="key"):
        fluxscore.features.extract(LOG, key="tld")
    with pytest.raises(fluxscore.DataError, match="sample_cap"):
        fluxscore.features.extract(LOG, sample_cap=1)
    with pytest.raises(fluxscore.DataError, match="sample_cap"):
        fluxscore.features.extract(LOG, sample_cap=(1 << 30) + 1)
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.extract(LOG, format="csv")
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.extract(LOG, psl=str(tmp_path / "no-psl.dat"))
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.extract(LOG, asn_db=str(tmp_path / "no-asn.csv"))
    state = fluxscore.features.aggregate(LOG)
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.finish([state[: len(state) // 2]])         # truncated
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.finish([state], window="1h")               # other window
    assert isinstance(fluxscore.DataError("x"), fluxscore.FluxscoreError)


def test_strict_and_rejections(tmp_path):
    with open(LOG) as f:
        lines = f.readlines()
    bad = tmp_path / "bad.log"
    # a record line with a broken timestamp, before the #close trailer
    broken = lines[8].split("\t")
    broken[0] = "not-a-time"
    bad.write_text("".join(lines[:-1] + ["\t".join(broken)] + lines[-1:]))
    df = fluxscore.features.extract(bad)
    st = df.attrs["stats"]
    assert st["read"] == 401 and st["used"] == 400 and st["rejected_total"] == 1
    assert st["first_rejections"]
    assert_equals_cli_csv(df, cli_features([str(bad)], tmp_path))
    with pytest.raises(fluxscore.DataError):
        fluxscore.features.extract(bad, strict=True)
