"""fluxscore.Model (the pybind11 module fluxscore._native): predictions equal the CLI's `score`
bit for bit for DataFrame, ndarray and dict inputs; categories as strings; NaN handling;
predict_one; typed exceptions; the GIL is released while scoring.

Runs against the release build (build/release/python/fluxscore/_native*.so, or the directory in
$FLUXSCORE_NATIVE_DIR) and the CLI in $FLUXSCORE_BIN (else build/release/fluxscore)."""
import math
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import fluxscore

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("FLUXSCORE_BIN", os.path.join(REPO, "build", "release", "fluxscore"))
SAMPLE_MODEL = os.path.join(REPO, "examples", "models", "fastflux_tree.pmml")
SAMPLE_DATA = os.path.join(REPO, "examples", "data", "domain_features.csv")


def _require_native():
    try:
        fluxscore._native_module()
    except fluxscore.NativeModuleNotFound as e:
        if os.path.isdir("/usr/lib/cmake/pybind11") or os.path.isdir("/usr/share/cmake/pybind11"):
            pytest.fail(f"pybind11 is installed but the module was not built: {e}")
        pytest.skip(f"no pybind11, fluxscore._native not built: {e}")


@pytest.fixture(scope="module", autouse=True)
def native():
    _require_native()


def cli_score(model_path, df, tmp_path, name="in.csv"):
    """Runs `fluxscore score` on df written as CSV; returns {column: list of str} (raw cells)."""
    src = tmp_path / name
    df.to_csv(src, index=False)
    out = tmp_path / (name + ".out.csv")
    r = subprocess.run([BIN, "score", "--model", str(model_path), "--input", str(src),
                        "--output", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    return {c: got[c].tolist() for c in got.columns}


def assert_same_as_cli(model, pred, cli):
    """Exact equality with the CLI's cells: numbers parsed with float() (the CLI prints the
    shortest round-trip form), strings as is; '' = missing."""
    assert list(pred.columns) == list(cli.keys())
    for f in model.outputs:
        cells = cli[f.name]
        col = pred[f.name].to_numpy()
        assert len(col) == len(cells)
        if col.dtype == object:
            mine = ["" if (isinstance(v, float) and math.isnan(v)) else v for v in col]
            assert mine == cells, f.name
        else:
            theirs = np.array([float(c) if c != "" else np.nan for c in cells])
            assert col.dtype == np.float64
            same = (col == theirs) | (np.isnan(col) & np.isnan(theirs))
            assert same.all(), (f.name, col[~same][:5], theirs[~same][:5])
            assert (np.signbit(col) == np.signbit(theirs)).all(), f.name


@pytest.fixture(scope="module")
def sample_model():
    return fluxscore.Model.load(SAMPLE_MODEL)


@pytest.fixture(scope="module")
def sample_df():
    return pd.read_csv(SAMPLE_DATA)


@pytest.fixture(scope="module")
def deep_tree(tmp_path_factory):
    """A depth-10 scikit-learn tree exported with fluxscore.to_pmml, and NaN-sprinkled data."""
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=4000, n_features=8, n_informative=5, random_state=0)
    names = [f"f{i}" for i in range(X.shape[1])]
    est = DecisionTreeClassifier(max_depth=10, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("tree") / "tree.pmml"
    fluxscore.to_pmml(est, feature_names=names, target_name="y", path=str(path))
    rng = np.random.default_rng(1)
    Xt = rng.normal(size=(3000, X.shape[1]))
    Xt[rng.random(Xt.shape) < 0.05] = np.nan
    return fluxscore.Model.load(path), path, pd.DataFrame(Xt, columns=names), est


@pytest.fixture(scope="module")
def logistic(tmp_path_factory):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=2000, n_features=6, random_state=3)
    names = [f"v{i}" for i in range(6)]
    est = LogisticRegression(max_iter=500).fit(X, y)
    path = tmp_path_factory.mktemp("lr") / "lr.pmml"
    fluxscore.to_pmml(est, feature_names=names, target_name="y", path=str(path))
    Xt = np.random.default_rng(2).normal(size=(2000, 6)) * 3
    return fluxscore.Model.load(path), path, pd.DataFrame(Xt, columns=names)


# --------------------------------------------------------------------------- metadata

def test_fields(sample_model):
    assert [f.name for f in sample_model.inputs] == [
        "distinct_ips", "distinct_asns", "distinct_countries", "ttl_mean", "tld"]
    tld = sample_model.inputs[-1]
    assert tld.data_type == "string" and tld.op_type == "categorical" and tld.is_string
    assert sample_model.outputs[0].name == "label"
    assert sample_model.outputs[0].values == ("flux", "benign")
    assert sample_model.model_element == "TreeModel"
    assert sample_model.function_name == "classification"
    assert "TreeModel" in sample_model.describe()


# --------------------------------------------------------------------- predict vs CLI

def test_sample_dataframe_equals_cli(sample_model, sample_df, tmp_path):
    pred = sample_model.predict(sample_df)
    assert pred.index.equals(sample_df.index)
    assert pred.attrs["row_errors"] == []
    assert_same_as_cli(sample_model, pred, cli_score(SAMPLE_MODEL, sample_df, tmp_path))
    # strings for categories, NaN rows (distinct_countries / ttl_mean empty or "NA")
    assert pred["label"].tolist()[:4] == ["benign", "benign", "benign", "flux"]
    assert sample_df["ttl_mean"].isna().sum() == 2


def test_sample_categorical_and_object_inputs(sample_model, sample_df):
    base = sample_model.predict(sample_df)
    cat = sample_df.assign(tld=sample_df["tld"].astype("category"))
    pd.testing.assert_frame_equal(sample_model.predict(cat), base)
    nullable = sample_df.assign(distinct_ips=sample_df["distinct_ips"].astype("Int64"),
                                tld=sample_df["tld"].astype("string"))
    pd.testing.assert_frame_equal(sample_model.predict(nullable), base)
    # dict of plain lists: None and NaN are missing
    d = {c: sample_df[c].tolist() for c in sample_df.columns}
    d["ttl_mean"] = [None if isinstance(v, float) and math.isnan(v) else v for v in d["ttl_mean"]]
    pd.testing.assert_frame_equal(sample_model.predict(d), base)
    # 2-D object array in inputs order
    arr = sample_df[[f.name for f in sample_model.inputs]].to_numpy(dtype=object)
    pd.testing.assert_frame_equal(sample_model.predict(arr), base)


def test_custom_index_kept(sample_model, sample_df):
    df = sample_df.set_index(pd.Index([f"r{i}" for i in range(len(sample_df))]))
    pred = sample_model.predict(df)
    assert list(pred.index) == list(df.index)


@pytest.mark.parametrize("threads", [1, 3])
def test_deep_tree_dataframe_ndarray_dict_equal_cli(deep_tree, tmp_path, threads):
    model, path, df, est = deep_tree
    cli = cli_score(path, df, tmp_path)
    p_df = model.predict(df, threads=threads)
    assert_same_as_cli(model, p_df, cli)
    p_nd = model.predict(df.to_numpy(), threads=threads)
    assert_same_as_cli(model, p_nd, cli)
    p_f32 = model.predict(df.to_numpy(dtype=np.float32))  # converted once per column
    p_dict = model.predict({c: df[c].to_numpy() for c in df.columns}, threads=threads)
    assert_same_as_cli(model, p_dict, cli)
    assert p_df.equals(p_nd) and p_df.equals(p_dict)
    # float32 inputs are what the tree compares anyway: same as the float64 view of them
    assert p_f32.equals(model.predict(df.astype(np.float32).astype(np.float64)))
    # and the rows without NaN agree with scikit-learn
    ok = ~df.isna().any(axis=1).to_numpy()
    sk = est.predict_proba(df.to_numpy()[ok])[:, 1]
    assert np.allclose(p_df.loc[ok, "probability(1)"].to_numpy(), sk, rtol=0, atol=1e-12)


def test_logistic_equals_cli(logistic, tmp_path):
    model, path, df = logistic
    pred = model.predict(df)
    assert_same_as_cli(model, pred, cli_score(path, df, tmp_path))
    assert pred.dtypes.iloc[1] == np.float64


def test_integer_and_bool_columns(logistic):
    model, _, df = logistic
    ints = df.round().astype(np.int64)
    pd.testing.assert_frame_equal(model.predict(ints), model.predict(ints.astype(np.float64)))
    bools = df > 0
    pd.testing.assert_frame_equal(model.predict(bools), model.predict(bools.astype(np.float64)))


def test_strided_and_contiguous_columns_agree(deep_tree):
    model, _, df, _ = deep_tree
    row_major = pd.DataFrame(np.ascontiguousarray(df.to_numpy()), columns=df.columns)
    col_major = pd.DataFrame({c: df[c].to_numpy().copy() for c in df.columns})
    a = model.predict(row_major)
    pd.testing.assert_frame_equal(a, model.predict(col_major))
    pd.testing.assert_frame_equal(a, model.predict(np.asfortranarray(df.to_numpy())))
    pd.testing.assert_frame_equal(a.iloc[::2].reset_index(drop=True),
                                  model.predict(df.to_numpy()[::2]))  # every other row


def test_missing_columns(sample_model, sample_df):
    with pytest.raises(fluxscore.DataError, match="tld"):
        sample_model.predict(sample_df.drop(columns=["tld"]))
    pred = sample_model.predict(sample_df.drop(columns=["tld"]), missing_columns="ignore")
    assert len(pred) == len(sample_df)


def test_empty_input(sample_model, sample_df):
    pred = sample_model.predict(sample_df.iloc[:0])
    assert len(pred) == 0 and list(pred.columns) == [f.name for f in sample_model.outputs]


# ------------------------------------------------------------------------- predict_one

def test_predict_one_equals_predict(sample_model, sample_df):
    batch = sample_model.predict(sample_df)
    for i, row in enumerate(sample_df.to_dict("records")):
        one = sample_model.predict_one(row)
        assert list(one) == list(batch.columns)
        for k, v in one.items():
            b = batch[k].iloc[i]
            if v is None:
                assert isinstance(b, float) and math.isnan(b)
            else:
                assert v == b, (i, k)


def test_predict_one_types(sample_model, deep_tree):
    r = sample_model.predict_one({"distinct_ips": np.int64(24), "distinct_asns": 2, "tld": "net",
                                  "ttl_mean": np.float32(60), "distinct_countries": None,
                                  "unrelated": object()})
    assert r["label"] == "benign" and isinstance(r["probability_flux"], float)
    # a str for a numeric field is parsed, as Model::ScoreOne does
    r2 = sample_model.predict_one({"distinct_ips": "24", "distinct_asns": 2.0, "tld": "net",
                                   "ttl_mean": 60.0})
    assert r2 == r
    model, _, df, _ = deep_tree
    row = df.iloc[0].to_dict()
    assert model.predict_one(row)["probability(1)"] == model.predict(df.iloc[:1])["probability(1)"].iloc[0]
    # missing everything: the tree still answers or returns None, never crashes
    model.predict_one({})


# ------------------------------------------------------------------------------ errors

def test_exceptions_are_typed(tmp_path, sample_model):
    assert issubclass(fluxscore.ModelError, fluxscore.FluxscoreError)
    assert issubclass(fluxscore.DataError, fluxscore.FluxscoreError)
    with pytest.raises(fluxscore.ModelError, match="nope.pmml"):
        fluxscore.Model.load(tmp_path / "nope.pmml")
    bad = tmp_path / "bad.pmml"
    bad.write_text("<PMML version='4.4'><DataDictionary>")
    with pytest.raises(fluxscore.ModelError) as e:
        fluxscore.Model.load(bad)
    assert str(e.value)  # carries the engine's message
    with pytest.raises(fluxscore.ModelError):
        fluxscore.Model.from_string("<PMML xmlns='http://www.dmg.org/PMML-4_4' version='4.4'/>")
    with pytest.raises(fluxscore.DataError):
        sample_model.predict(np.zeros(5))                 # 1-D
    with pytest.raises(fluxscore.DataError, match="columns"):
        sample_model.predict(np.zeros((3, 2)))            # wrong width
    with pytest.raises(fluxscore.DataError):
        sample_model.predict("not a table")
    with pytest.raises(fluxscore.DataError, match="lengths"):
        sample_model.predict({"distinct_ips": [1, 2], "distinct_asns": [1], "distinct_countries": [1, 2],
                              "ttl_mean": [1, 2], "tld": ["a", "b"]})
    with pytest.raises(fluxscore.DataError):
        sample_model.predict_one({"distinct_ips": [1, 2]})
    with pytest.raises(TypeError):
        sample_model.predict_one([("distinct_ips", 1)])
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(sample_model)


def test_row_errors_reported(tmp_path):
    pmml = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"><Interval closure="closedClosed" leftMargin="0" rightMargin="10"/></DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="x" invalidValueTreatment="returnInvalid"/><MiningField name="y" usageType="target"/></MiningSchema>
    <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
  </RegressionModel>
</PMML>"""
    m = fluxscore.Model.from_string(pmml)
    out = m.predict({"x": [1.0, 50.0, 2.0]})
    assert out["y"].iloc[0] == 3.0 and math.isnan(out["y"].iloc[1]) and out["y"].iloc[2] == 5.0
    assert [r for r, _ in out.attrs["row_errors"]] == [1]
    with pytest.raises(fluxscore.DataError):
        m.predict_one({"x": 50.0})


# -------------------------------------------------------------------------------- GIL

def test_gil_released_during_score(deep_tree):
    model, _, df, _ = deep_tree
    big = pd.concat([df] * 300, ignore_index=True)  # 900k rows
    columns, nrows, _ = model._columns(big, "error")
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = counter[0]
        t0 = time.perf_counter()
        model._m.score(columns, nrows, 1, 0, True)
        elapsed = time.perf_counter() - t0
        during = counter[0] - before
    finally:
        stop.set()
        t.join()
    # with the GIL held for the whole call the spinning thread would not run at all
    assert elapsed > 0.005
    assert during > 1000, (during, elapsed)


def test_concurrent_threads(deep_tree):
    model, _, df, _ = deep_tree
    big = pd.concat([df] * 20, ignore_index=True)
    expected = model.predict(big)
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: model.predict(big), range(8)))
    for r in results:
        pd.testing.assert_frame_equal(r, expected)


# ---------------------------------------------------------------------------- explain

def test_explain(sample_model, sample_df):
    nodes = sample_model.tree_nodes()
    assert nodes[0]["parent"] == -1 and nodes[0]["depth"] == 0
    paths = sample_model.explain(sample_df)
    assert len(paths) == len(sample_df)
    pred = sample_model.predict(sample_df)
    for p, node_id in zip(paths, pred["node"]):
        assert p[0] == 0
        assert all(nodes[c]["parent"] == par for par, c in zip(p[:-1], p[1:]))
    text = sample_model.explain(sample_df.iloc[:1], as_text=True)
    assert text[0][0] == "True"


# --------------------------------------------------------------------------- float32 inputs

def assert_same_bits(a, b):
    """Equal DataFrames; numeric columns bit for bit (NaN payloads and signs included)."""
    assert list(a.columns) == list(b.columns)
    assert a.attrs["row_errors"] == b.attrs["row_errors"]
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        assert x.dtype == y.dtype, c
        if x.dtype == object:
            assert (pd.isna(x) == pd.isna(y)).all(), c
            assert (x[~pd.isna(x)] == y[~pd.isna(y)]).all(), c
        else:
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), c


@pytest.fixture(scope="module")
def float_tree(tmp_path_factory):
    """A depth-10 scikit-learn tree (float fields: the float32 kernels) and float32 rows with
    NaN and infinities."""
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=6000, n_features=8, n_informative=5, random_state=4)
    names = [f"f{i}" for i in range(8)]
    est = DecisionTreeClassifier(max_depth=10, random_state=0).fit(X.astype(np.float32), y)
    path = tmp_path_factory.mktemp("ftree") / "tree.pmml"
    fluxscore.to_pmml(est, feature_names=names, target_name="y", path=str(path))
    rng = np.random.default_rng(5)
    Xt = rng.normal(size=(5000, 8)).astype(np.float32)  # 2 full engine sub-blocks + a part
    Xt[rng.random(Xt.shape) < 0.03] = np.nan
    Xt[rng.random(Xt.shape) < 0.005] = np.inf
    Xt[rng.random(Xt.shape) < 0.005] = -np.inf
    return fluxscore.Model.load(path), names, Xt, est


def _unaligned(a):
    """A float32 copy of the 1-D array a whose data is not 4-byte aligned."""
    buf = bytearray(a.nbytes + 1)
    out = np.frombuffer(buf, dtype=np.float32, count=a.size, offset=1)
    out[:] = a
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("layout", ["dict", "c-order", "f-order", "frame", "frame-from-2d",
                                    "every-other-row", "unaligned"])
def test_float32_inputs_score_as_the_same_values_in_float64(float_tree, layout):
    model, names, X, est = float_tree
    X64 = X.astype(np.float64)  # the same values (widening is exact)

    def build(M):
        if layout == "dict":
            return {n: np.ascontiguousarray(M[:, j]) for j, n in enumerate(names)}
        if layout == "c-order":
            return np.ascontiguousarray(M)
        if layout == "f-order":
            return np.asfortranarray(M)
        if layout == "frame":
            return pd.DataFrame({n: M[:, j].copy() for j, n in enumerate(names)})
        if layout == "frame-from-2d":
            return pd.DataFrame(np.ascontiguousarray(M), columns=names)
        if layout == "every-other-row":
            return np.ascontiguousarray(M)[::2]
        if M.dtype == np.float32:
            return {n: _unaligned(M[:, j]) for j, n in enumerate(names)}
        return {n: M[:, j].copy() for j, n in enumerate(names)}

    got32, got64 = build(X), build(X64)
    if isinstance(got32, pd.DataFrame):
        assert (got32.dtypes == np.float32).all()
    elif isinstance(got32, dict):
        assert all(v.dtype == np.float32 for v in got32.values())
    else:
        assert got32.dtype == np.float32
    expected = model.predict(got64, kernels=False)
    assert model.predict(got64).shape[0] == expected.shape[0]
    for threads in (1, 2):
        for block_rows in (0, 7):
            for kernels in (True, False):
                a = model.predict(got32, threads=threads, block_rows=block_rows, kernels=kernels)
                assert_same_bits(a, expected)
    if layout == "dict":  # and scikit-learn agrees where every input is finite
        finite = np.isfinite(X).all(axis=1)
        proba = model.predict(got32)["probability(1)"].to_numpy()
        assert np.array_equal(proba[finite], est.predict_proba(X[finite])[:, 1])


def test_float32_columns_for_double_fields_and_text(sample_model, sample_df, logistic):
    # Double fields read float32 values widened (exact): the same as float64 columns of them.
    model, _, df = logistic
    df32 = df.astype(np.float32)
    assert_same_bits(model.predict(df32), model.predict(df32.astype(np.float64)))
    assert_same_bits(model.predict(df32.to_numpy()), model.predict(df32.to_numpy().astype(np.float64)))
    # Mixed frames: float32 numeric columns next to string columns.
    num = [c for c in sample_df.columns if sample_df[c].dtype.kind == "f"]
    assert num
    mixed32 = sample_df.astype({c: np.float32 for c in num})
    mixed64 = mixed32.astype({c: np.float64 for c in num})
    assert_same_bits(sample_model.predict(mixed32), sample_model.predict(mixed64))
