"""``fluxscore.Model``: the C++ PMML engine on pandas DataFrames, numpy arrays and dicts.

    m = fluxscore.Model.load("examples/models/fastflux_tree.pmml")
    m.inputs                       # [Field(name, data_type, op_type, values, is_string), ...]
    out = m.predict(df)            # pandas DataFrame: target first, then the OutputFields
    m.predict_one({"distinct_ips": 24, "tld": "net"})   # -> dict, same names

Inputs are handed to the engine a whole column at a time: a contiguous float64 column is read
in place (zero copy, ``Column::NumericView``), a contiguous float32 one too (``Column::Float32View``:
the compiled kernels read float32 fields straight from it, half the bytes; results are bit for
bit those of the same values as float64), a strided one of either is gathered once (float32
stays float32), other numeric dtypes are converted to float64 once per column, object / string /
categorical columns are dictionary-encoded (``pandas.factorize``: int32 codes + distinct values)
and never touched per cell by Python. NaN / None / pd.NA are missing. The GIL is released while
the engine scores, so several Python threads can score concurrently.

Outputs: numeric output columns are float64 (NaN = missing; the arrays come out of the engine
without a copy), string outputs (predicted labels, entity ids, booleans as "true"/"false") are
object columns of str with NaN for missing: the same columns and values as ``fluxscore score``.
Rows the engine could not score (invalid values) have missing outputs and are listed in
``result.attrs["row_errors"]`` as (row position, message).
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

from . import _native_module
from ._errors import DataError

__all__ = ["Model", "Field"]


class Field(NamedTuple):
    """An input or output field of a model."""

    name: str
    data_type: str    # "string", "integer", "float", "double", "boolean", "date", ...
    op_type: str      # "continuous", "categorical", "ordinal"
    values: tuple     # declared valid values of a categorical / ordinal field
    is_string: bool   # the engine expects text for this field


def _fields(dicts):
    return tuple(Field(d["name"], d["data_type"], d["op_type"], tuple(d["values"]), d["is_string"])
                 for d in dicts)


def _number_text(x):
    """A number as the engine prints it when it has to be text (shortest round trip, "3" not "3.0")."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    f = float(x)
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


class Model:
    """A loaded PMML model (immutable; safe to share between threads).

    Not picklable by design: ship the model *path* to other processes and load it there
    (``fluxscore.dask`` does, caching one Model per path and worker process).
    """

    __slots__ = ("_m", "path", "inputs", "outputs", "predict_one", "_input_names", "__weakref__")

    def __init__(self, native, path=None):
        self._m = native
        self.path = path
        self.inputs = _fields(native.inputs())
        self.outputs = _fields(native.outputs())
        self._input_names = [f.name for f in self.inputs]
        # predict_one(row: dict) -> dict: straight into C++ (Model::ScoreOne), no pandas.
        # Values: numbers (int, float, numpy scalars), str, None / NaN = missing. The result
        # maps every output name (target first, then OutputFields) to a float, a str or None.
        # Raises DataError when the row cannot be scored (e.g. an invalid value).
        self.predict_one = native.predict_one

    # ---------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, path) -> "Model":
        """Loads a PMML file (``archive.zip!member.xml`` names a zip member). ModelError on failure."""
        path = os.fspath(path)
        return cls(_native_module().Model.load(path), path)

    @classmethod
    def from_string(cls, xml, source_name="<memory>") -> "Model":
        """Loads a PMML document held in a str / bytes."""
        if isinstance(xml, bytes):
            xml = xml.decode("utf-8")
        return cls(_native_module().Model.load_string(xml, source_name))

    def __reduce__(self):
        raise TypeError("fluxscore.Model is not picklable: pass the model path and load it "
                        "where it is used (fluxscore.dask does this)")

    # ----------------------------------------------------------------------- information
    @property
    def model_element(self) -> str:
        return self._m.model_element

    @property
    def function_name(self) -> str:
        return self._m.function_name

    @property
    def pmml_version(self) -> str:
        return self._m.pmml_version

    @property
    def has_compiled_kernels(self) -> bool:
        return self._m.has_compiled_kernels

    def describe(self) -> str:
        return self._m.describe()

    def __repr__(self):
        return (f"<fluxscore.Model {self.model_element} {self.function_name} "
                f"inputs={self._input_names} outputs={[f.name for f in self.outputs]}>")

    # ------------------------------------------------------------------------- scoring
    def predict(self, X, *, threads: int = 1, missing_columns: str = "error",
                block_rows: int = 0, kernels: bool = True):
        """Scores every row of ``X`` -> pandas DataFrame of the output columns.

        X: a pandas DataFrame (columns bound by name; extra columns ignored), a dict of
        name -> 1-D array-like, or a 2-D numpy array whose columns follow ``self.inputs``.
        threads: engine worker threads (0 = all cores); results do not depend on it.
        missing_columns: "error" (DataError when an input field has no column) or "ignore"
        (the field is missing in every row, as ``fluxscore score`` does after a warning).
        The result has X's index for a DataFrame, a RangeIndex otherwise.
        """
        import pandas as pd

        columns, nrows, index = self._columns(X, missing_columns)
        cols_out, row_errors = self._m.score(columns, nrows, threads, block_rows, kernels)
        out = pd.DataFrame(_decode_columns(cols_out), index=index, copy=False)
        if len(out.columns) != len(cols_out):  # duplicate output names: keep every column
            out = pd.concat([pd.Series(_decode_one(c), name=c[0], index=index) for c in cols_out],
                            axis=1)
        out.attrs["row_errors"] = row_errors
        return out

    def explain(self, X, *, missing_columns: str = "error", as_text: bool = False):
        """Decision paths of a TreeModel: per row, the node indices visited (root first, ending
        at the node that gave the prediction; empty when none did). ``as_text=True`` gives each
        path as a list of node conditions instead. Node details: ``tree_nodes()``."""
        columns, nrows, _ = self._columns(X, missing_columns)
        paths = self._m.decision_paths(columns, nrows)
        if not as_text:
            return paths
        nodes = self.tree_nodes()
        return [[nodes[i]["condition"] or "True" for i in p] for p in paths]

    def tree_nodes(self):
        """The nodes of a TreeModel (index 0 = root): dicts with parent, depth, condition,
        field, leaf, score, record_count, distribution. ModelError for other models."""
        return self._m.tree_nodes()

    # ------------------------------------------------------------------ input encoding
    def _columns(self, X, missing_columns):
        import numpy as np
        import pandas as pd

        if missing_columns not in ("error", "ignore"):
            raise ValueError("missing_columns must be 'error' or 'ignore'")
        fields = self.inputs
        index = None
        if isinstance(X, pd.DataFrame):
            if not X.columns.is_unique:
                dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
                raise DataError(f"input has duplicate columns: {dup}")
            nrows = len(X)
            index = X.index
            source = {f.name: X[f.name] for f in fields if f.name in X.columns}
        elif isinstance(X, dict):
            source = {f.name: X[f.name] for f in fields if f.name in X}
            lengths = {name: _length(v) for name, v in source.items()}
            if len(set(lengths.values())) > 1:
                raise DataError(f"columns of different lengths: {lengths}")
            if lengths:
                nrows = next(iter(lengths.values()))
            else:
                others = [_length(v) for v in X.values()]
                nrows = others[0] if others else 0
        elif isinstance(X, np.ndarray):
            if X.ndim != 2:
                raise DataError(f"expected a 2-D array (rows x {len(fields)} inputs), got {X.ndim}-D")
            if X.shape[1] != len(fields):
                raise DataError(f"array has {X.shape[1]} columns, the model has {len(fields)} inputs "
                                f"({', '.join(self._input_names)})")
            nrows = X.shape[0]
            if X.dtype.kind in "fiub" and X.dtype != np.float32:
                X = np.asarray(X, dtype=np.float64)  # float32 stays: its columns are read as is
            source = {f.name: X[:, j] for j, f in enumerate(fields)}
        else:
            raise DataError("expected a pandas DataFrame, a 2-D numpy array or a dict of columns, "
                            f"got {type(X).__name__}")
        missing = [f.name for f in fields if f.name not in source]
        if missing and missing_columns == "error":
            raise DataError(f"input has no column for: {', '.join(missing)} "
                            "(pass missing_columns='ignore' to score them as missing)")
        columns = []
        for f in fields:
            if f.name in source:
                columns.append(_encode(f, source[f.name]))
        return columns, int(nrows), index


def _length(v):
    try:
        return len(v)
    except TypeError:
        raise DataError(f"a column must be a 1-D array-like, got {type(v).__name__}") from None


def _encode(field: Field, values):
    """One input column -> (name, float64 or float32 array) or (name, int32 codes, [str] dictionary)."""
    import numpy as np
    import pandas as pd

    name = field.name
    if isinstance(values, (pd.Series, pd.Index)):
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            cat = values.array if isinstance(values, pd.Series) else values.values
            cats = cat.categories
            if field.is_string or cats.dtype.kind not in "fiub":
                return (name, np.asarray(cat.codes, dtype=np.int32), _dictionary(cats))
            values = np.asarray(cat.astype(np.float64))
        elif isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            values = values.to_numpy()
        elif isinstance(dtype, np.dtype):
            values = values.to_numpy()
        else:  # pandas extension dtypes: Int64, Float64, boolean, string, ...
            if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
                values = values.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                values = values.to_numpy(dtype=object, na_value=None)
    elif not isinstance(values, np.ndarray):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise DataError(f"column '{name}': expected a 1-D array-like, got {type(values).__name__}")
        values = np.asarray(values)
        if values.dtype.kind in "US" and values.size:
            values = values.astype(object)
    if values.ndim != 1:
        raise DataError(f"column '{name}': expected 1-D values, got shape {values.shape}")
    kind = values.dtype.kind
    if kind == "f" and values.dtype == np.float32:  # native byte order: read as float32
        return (name, values)  # contiguous: zero copy; strided is fine: gathered in C++
    if kind == "f":
        return (name, np.asarray(values, dtype=np.float64))  # strided is fine: gathered in C++
    if kind in "iub":
        return (name, values.astype(np.float64))
    if kind in "OUS":
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return (name, codes.astype(np.int32, copy=False), _dictionary(uniques))
    raise DataError(f"column '{name}': unsupported dtype {values.dtype} (numbers or strings expected)")


def _dictionary(uniques):
    out = []
    for u in uniques:
        if isinstance(u, str):
            out.append(u)
        elif isinstance(u, bytes):
            out.append(u.decode("utf-8"))
        elif isinstance(u, (int, float)) or hasattr(u, "__float__"):
            if isinstance(u, float) and math.isnan(u):
                raise DataError("internal: NaN in a dictionary")
            out.append(_number_text(u.item() if hasattr(u, "item") else u))
        else:
            raise DataError(f"cannot use a {type(u).__name__} value as a category")
    return out


def _decode_one(col):
    import numpy as np

    if len(col) == 2:
        return col[1]
    _, codes, dictionary = col
    lookup = np.empty(len(dictionary) + 1, dtype=object)
    lookup[:-1] = dictionary
    lookup[-1] = np.nan
    return lookup[codes]  # code -1 (missing) picks the trailing NaN


def _decode_columns(cols):
    return {c[0]: _decode_one(c) for c in cols}
