"""Pure-Python scikit-learn -> PMML 4.4 exporter.

``to_pmml(estimator)`` writes a fitted scikit-learn estimator as a PMML 4.4 document in the
shapes the JPMML-SkLearn converter produces (so fluxscore recognises them), with the numbers
chosen so that scoring the document reproduces ``predict`` / ``predict_proba`` exactly (up to
floating-point summation order):

* every float is written with ``repr(float(x))`` (shortest round-trip form);
* scikit-learn trees compare float32 features against float64 thresholds, so tree-based models
  declare their features ``dataType="float"`` and write each threshold ``t`` as the largest
  float32 ``f <= t`` (for any float32 ``x``: ``x <= t`` iff ``x <= f``), printed as the exact
  decimal of ``f`` seen as a double, so a consumer reading it as float32 or as double gets ``f``.

Supported (fitted) estimators: DecisionTreeClassifier/Regressor, RandomForestClassifier/Regressor,
ExtraTreesClassifier/Regressor, GradientBoostingClassifier/Regressor, LogisticRegression,
LinearRegression. Anything else raises ``TypeError``.
"""

from __future__ import annotations

import math
import os
import re
from xml.sax.saxutils import escape as _xml_escape

import numpy as np

__all__ = ["to_pmml", "PMML_NAMESPACE", "format_float", "float32_threshold"]

PMML_NAMESPACE = "http://www.dmg.org/PMML-4_4"
APPLICATION_NAME = "fluxscore"
APPLICATION_VERSION = "0.1.0"

_TREE_LEAF = -1  # sklearn.tree._tree.TREE_LEAF


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

def format_float(x) -> str:
    """Shortest round-trip decimal of ``float(x)`` (``repr``); refuses NaN and infinities."""
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"cannot write non-finite number {v!r} to PMML")
    return repr(v)


def float32_threshold(t) -> float:
    """The largest float32 ``f`` with ``f <= t``, as a Python float.

    scikit-learn trees evaluate ``X[i, j] <= threshold`` with ``X`` cast to float32 and the
    threshold a float64; for every float32 ``x``, ``x <= t`` holds exactly when ``x <= f``.
    """
    t = float(t)
    if math.isnan(t):
        raise ValueError("NaN split threshold")
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


# --------------------------------------------------------------------------------------------
# A minimal XML element tree with an iterative (recursion-free) serializer, so that very deep
# decision trees do not hit Python's recursion limit.
# --------------------------------------------------------------------------------------------

class _E:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag, attrs=None, children=None):
        self.tag = tag
        self.attrs = attrs if attrs is not None else []
        self.children = children if children is not None else []

    def add(self, child):
        self.children.append(child)
        return child


def _el(tag, *children, **attrs):
    """Element with attributes in keyword order (``None`` values dropped)."""
    return _E(tag, [(k, v) for k, v in attrs.items() if v is not None], list(children))


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _attr(v) -> str:
    v = str(v)
    if _XML_INVALID.search(v):
        raise ValueError(f"{v!r} contains a character XML 1.0 cannot represent")
    return _xml_escape(v, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _serialize(root: _E) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n']
    stack = [(root, 0, False)]
    while stack:
        el, depth, closing = stack.pop()
        indent = "\t" * depth
        if closing:
            out.append(f"{indent}</{el.tag}>\n")
            continue
        attrs = "".join(f' {k}="{_attr(v)}"' for k, v in el.attrs)
        if not el.children:
            out.append(f"{indent}<{el.tag}{attrs}/>\n")
            continue
        out.append(f"{indent}<{el.tag}{attrs}>\n")
        stack.append((el, depth, True))
        for child in reversed(el.children):
            stack.append((child, depth + 1, False))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Schema: feature names, labels, data dictionary, mining schema, outputs
# --------------------------------------------------------------------------------------------

class _Schema:
    """Field names and types of one export."""

    def __init__(self, feature_names, feature_type, target_name, labels=None, label_type=None):
        self.feature_names = feature_names
        self.feature_type = feature_type  # "float" (trees) or "double" (linear models)
        self.target_name = target_name
        self.labels = labels  # list of str (classification) or None (regression)
        self.label_type = label_type  # "integer" or "string"

    @property
    def is_classification(self):
        return self.labels is not None


def _resolve_feature_names(estimator, feature_names, n_features):
    if feature_names is not None:
        names = [str(n) for n in feature_names]
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} entries but {type(estimator).__name__} "
                f"was fitted on {n_features} features")
    elif getattr(estimator, "feature_names_in_", None) is not None:
        names = [str(n) for n in estimator.feature_names_in_]
    else:
        names = [f"x{i + 1}" for i in range(n_features)]
    if any(n == "" for n in names):
        raise ValueError("feature names must be non-empty")
    if len(set(names)) != len(names):
        raise ValueError(f"feature names are not unique: {names}")
    return names


def _resolve_labels(classes):
    """(labels as str, PMML dataType) for a classifier's ``classes_``."""
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError("multi-output classifiers are not supported")
    if classes.dtype.kind in "iu":
        return [str(int(c)) for c in classes], "integer"
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes.tolist()):
        labels = [str(c) for c in classes.tolist()]
        if len(set(labels)) != len(labels):
            raise ValueError(f"class labels are not unique: {labels}")
        return labels, "string"
    raise ValueError(
        f"class labels of dtype {classes.dtype} are not supported (integer or string labels only)")


def _check_names(schema: _Schema, extra_names=()):
    taken = set(schema.feature_names)
    if schema.target_name in taken:
        raise ValueError(f"target_name {schema.target_name!r} is also a feature name")
    taken.add(schema.target_name)
    for n in extra_names:
        if n in taken:
            raise ValueError(f"generated field name {n!r} collides with a feature/target name")
        taken.add(n)


def _data_dictionary(schema: _Schema):
    dd = _el("DataDictionary")
    if schema.is_classification:
        target = dd.add(_el("DataField", name=schema.target_name, optype="categorical",
                            dataType=schema.label_type))
        for label in schema.labels:
            target.add(_el("Value", value=label))
    else:
        dd.add(_el("DataField", name=schema.target_name, optype="continuous", dataType="double"))
    for name in schema.feature_names:
        dd.add(_el("DataField", name=name, optype="continuous", dataType=schema.feature_type))
    return dd


def _top_mining_schema(schema: _Schema, used):
    ms = _el("MiningSchema")
    ms.add(_el("MiningField", name=schema.target_name, usageType="target"))
    for i in sorted(used):
        ms.add(_el("MiningField", name=schema.feature_names[i], missingValueTreatment="asIs"))
    return ms


def _inner_mining_schema(names, target=None):
    ms = _el("MiningSchema")
    if target is not None:
        ms.add(_el("MiningField", name=target, usageType="target"))
    for n in names:
        ms.add(_el("MiningField", name=n))
    return ms


def _probability_output(schema: _Schema):
    out = _el("Output")
    for label in schema.labels:
        out.add(_el("OutputField", name=f"probability({label})", optype="continuous",
                    dataType="double", feature="probability", value=label))
    return out


def _hidden_output(name):
    return _el("Output", _el("OutputField", name=name, optype="continuous", dataType="double",
                             isFinalResult="false"))


def _algorithm_name(estimator):
    cls = type(estimator)
    return f"{cls.__module__}.{cls.__qualname__}"


def _document(schema: _Schema, model: _E) -> str:
    root = _el("PMML", xmlns=PMML_NAMESPACE, version="4.4")
    root.add(_el("Header", _el("Application", name=APPLICATION_NAME,
                                version=APPLICATION_VERSION)))
    root.add(_data_dictionary(schema))
    root.add(model)
    return _serialize(root)


# --------------------------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------------------------

def _tree_used_features(tree):
    internal = tree.children_left != _TREE_LEAF
    return {int(f) for f in tree.feature[internal]}


def _split_predicates(tree, node, names):
    field = names[int(tree.feature[node])]
    value = format_float(float32_threshold(tree.threshold[node]))
    return (_el("SimplePredicate", field=field, operator="lessOrEqual", value=value),
            _el("SimplePredicate", field=field, operator="greaterThan", value=value))


def _tree_nodes(tree, names, labels=None):
    """The Node hierarchy of a fitted ``sklearn.tree._tree.Tree`` in JPMML's binary-split shape.

    Classification (``labels`` given): leaves carry ``score`` = the argmax class (what
    ``DecisionTreeClassifier.predict`` returns), ``recordCount`` = the leaf's total weight and one
    ``ScoreDistribution`` per class with ``recordCount`` = ``tree_.value``. Regression: every
    node carries ``score`` = its ``tree_.value`` (only the leaves' matter).
    """
    left, right = tree.children_left, tree.children_right
    value = tree.value
    if tree.n_outputs != 1:
        raise ValueError("multi-output trees are not supported")

    def make(node, predicate):
        is_leaf = left[node] == _TREE_LEAF
        if labels is None:
            el = _el("Node", predicate, score=format_float(value[node, 0, 0]))
        elif is_leaf:
            counts = value[node, 0, :]
            if counts.shape[0] != len(labels):
                raise ValueError("tree class count does not match classes_")
            total = np.sum(counts)
            if not total > 0:
                # predict_proba gives all zeros here; ScoreDistribution shares cannot say that
                raise ValueError(f"tree leaf {node} has zero total sample weight")
            el = _el("Node", predicate, score=labels[int(np.argmax(counts))],
                     recordCount=format_float(total))
            for label, c in zip(labels, counts):
                el.add(_el("ScoreDistribution", value=label, recordCount=format_float(c)))
        else:
            el = _el("Node", predicate)
        return el

    root = make(0, _el("True"))
    stack = [(0, root)]
    while stack:
        node, el = stack.pop()
        if left[node] == _TREE_LEAF:
            continue
        le, gt = _split_predicates(tree, node, names)
        l_el = el.add(make(left[node], le))
        r_el = el.add(make(right[node], gt))
        stack.append((right[node], r_el))
        stack.append((left[node], l_el))
    return root


def _compacted_regression_nodes(tree, names):
    """JPMML's compacted form of a regression tree (GradientBoosting members).

    For ``noTrueChildStrategy="returnLastPrediction"``: the ``greaterThan`` child of every split
    is folded into its parent, so a node's children are the ``lessOrEqual`` children along its
    right spine and its ``score`` is the value of the spine's final leaf.
    """
    left, right = tree.children_left, tree.children_right
    value = tree.value
    if tree.n_outputs != 1:
        raise ValueError("multi-output trees are not supported")

    def build(node, predicate):
        el = _el("Node", predicate)
        spine = []
        n = node
        while left[n] != _TREE_LEAF:
            spine.append(n)
            n = right[n]
        el.attrs.insert(0, ("score", format_float(value[n, 0, 0])))
        return el, spine

    root, spine = build(0, _el("True"))
    work = [(root, spine)]
    while work:
        el, spine = work.pop()
        for s in spine:
            le, _ = _split_predicates(tree, s, names)
            child, child_spine = build(left[s], le)
            el.add(child)
            work.append((child, child_spine))
    return root


def _tree_model(tree, schema: _Schema, function, *, labels=None, algorithm=None, top=False,
                compacted=False, split_characteristic=None):
    used = _tree_used_features(tree)
    if not used and not top:
        # a single-leaf member tree: a nested MiningSchema needs at least one MiningField
        used = {0}
    if compacted:
        attrs = dict(functionName=function, missingValueStrategy="nullPrediction",
                     noTrueChildStrategy="returnLastPrediction")
    else:
        attrs = dict(functionName=function, algorithmName=algorithm,
                     splitCharacteristic=split_characteristic)
    model = _el("TreeModel", **attrs)
    if top:
        model.add(_top_mining_schema(schema, used))
        if labels is not None:
            model.add(_probability_output(schema))
    else:
        model.add(_inner_mining_schema([schema.feature_names[i] for i in sorted(used)]))
    if compacted:
        model.add(_compacted_regression_nodes(tree, schema.feature_names))
    else:
        model.add(_tree_nodes(tree, schema.feature_names, labels))
    return model, used


def _segmentation(method, models):
    seg = _el("Segmentation", multipleModelMethod=method, missingPredictionTreatment="returnMissing")
    for i, m in enumerate(models):
        seg.add(_el("Segment", _el("True"), m, id=str(i + 1)))
    return seg


def _check_single_output(estimator):
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise ValueError(f"{type(estimator).__name__}: multi-output models are not supported")


def _export_decision_tree(est, schema: _Schema):
    _check_single_output(est)
    function = "classification" if schema.is_classification else "regression"
    model, _ = _tree_model(est.tree_, schema, function, labels=schema.labels,
                           algorithm=_algorithm_name(est), top=True)
    return model


def _export_forest(est, schema: _Schema):
    """RandomForest / ExtraTrees: MiningModel(average) of binary-split TreeModels."""
    _check_single_output(est)
    function = "classification" if schema.is_classification else "regression"
    models, used = [], set()
    for member in est.estimators_:
        m, u = _tree_model(member.tree_, schema, function, labels=schema.labels,
                           split_characteristic="binarySplit")
        models.append(m)
        used |= u
    top = _el("MiningModel", functionName=function, algorithmName=_algorithm_name(est))
    top.add(_top_mining_schema(schema, used))
    if schema.is_classification:
        top.add(_probability_output(schema))
    top.add(_segmentation("average", models))
    return top


# --------------------------------------------------------------------------------------------
# Gradient boosting
# --------------------------------------------------------------------------------------------

def _gb_check_init(est):
    """The initial raw prediction must be a constant sklearn can tell us (default prior/mean)."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    init = est.init
    ok = (init is None or (isinstance(init, str) and init == "zero")
          or (type(init) is DummyClassifier and init.strategy == "prior")
          or (type(init) is DummyRegressor and init.strategy in ("mean", "median", "quantile",
                                                                  "constant")))
    if not ok:
        raise ValueError(
            f"{type(est).__name__}: init={init!r} is not supported; only the default init "
            "(DummyClassifier(strategy='prior') / DummyRegressor(strategy='mean')), an "
            "equivalent Dummy* estimator or init='zero' can be exported")


def _gb_initial_raw(est):
    """The constant initial raw predictions (one per tree column), computed by sklearn itself."""
    X = np.zeros((2, est.n_features_in_), dtype=np.float32)
    X[1, :] = 1.0
    if not hasattr(est, "_raw_predict_init"):
        raise ValueError(f"{type(est).__name__}: this scikit-learn version does not expose "
                         "_raw_predict_init (written for scikit-learn 1.2)")
    raw = np.asarray(est._raw_predict_init(X), dtype=np.float64)
    if not np.array_equal(raw[0], raw[1]):
        raise ValueError(f"{type(est).__name__}: the initial estimator is not constant")
    return raw[0]


def _gb_sum_model(est, column, init_value, schema: _Schema, output_name=None, target=None):
    """MiningModel(sum) of the regression trees of one column, rescaled by the learning rate."""
    trees, used = [], set()
    for stage in est.estimators_[:, column]:
        m, u = _tree_model(stage.tree_, schema, "regression", compacted=True)
        trees.append(m)
        used |= u
    model = _el("MiningModel", functionName="regression")
    if target is None:
        model.add(_inner_mining_schema([schema.feature_names[i] for i in sorted(used)]))
    else:
        model.add(_top_mining_schema(schema, used))
    if output_name is not None:
        model.add(_hidden_output(output_name))
    model.add(_el("Targets", _el("Target", field=target,
                                 rescaleConstant=format_float(init_value),
                                 rescaleFactor=format_float(est.learning_rate))))
    model.add(_segmentation("sum", trees))
    return model, used


def _classification_chain(est, schema: _Schema, segments, used, final_model):
    """JPMML modelChain: the given segments, then ``final_model`` (which gets the probabilities)."""
    top = _el("MiningModel", functionName="classification", algorithmName=_algorithm_name(est))
    top.add(_top_mining_schema(schema, used))
    final_model.children.insert(1, _probability_output(schema))  # after its MiningSchema
    top.add(_segmentation("modelChain", list(segments) + [final_model]))
    return top


def _decision_regression_model(schema: _Schema, normalization, tables):
    """RegressionModel(classification) over decision-function fields: tables = [(label, [(field,
    coefficient)], intercept)]."""
    fields = []
    for _, predictors, _ in tables:
        for f, _ in predictors:
            if f not in fields:
                fields.append(f)
    model = _el("RegressionModel", functionName="classification",
                normalizationMethod=normalization)
    model.add(_inner_mining_schema(fields, target=schema.target_name))
    for label, predictors, intercept in tables:
        t = model.add(_el("RegressionTable", intercept=format_float(intercept),
                          targetCategory=label))
        for f, c in predictors:
            t.add(_el("NumericPredictor", name=f, coefficient=format_float(c)))
    return model


def _export_gb_classifier(est, schema: _Schema):
    _gb_check_init(est)
    loss = getattr(est, "loss", None)
    if loss in ("log_loss", "deviance"):
        coefficient = 1.0
    elif loss == "exponential":
        coefficient = 2.0  # predict_proba = expit(2 * raw)
    else:
        raise ValueError(f"GradientBoostingClassifier: loss={loss!r} is not supported")
    init = _gb_initial_raw(est)
    labels = schema.labels
    if len(labels) == 2:
        name = f"decisionFunction({labels[1]})"
        _check_names(schema, [name] + [f"probability({lab})" for lab in labels])
        sum_model, used = _gb_sum_model(est, 0, init[0], schema, output_name=name)
        final = _decision_regression_model(
            schema, "logit", [(labels[1], [(name, coefficient)], 0.0), (labels[0], [], 0.0)])
        return _classification_chain(est, schema, [sum_model], used, final)
    if loss == "exponential":
        raise ValueError("exponential loss requires two classes")
    names = [f"decisionFunction({lab})" for lab in labels]
    _check_names(schema, names + [f"probability({lab})" for lab in labels])
    segments, used = [], set()
    for k, (label, name) in enumerate(zip(labels, names)):
        m, u = _gb_sum_model(est, k, init[k], schema, output_name=name)
        segments.append(m)
        used |= u
    final = _decision_regression_model(
        schema, "softmax", [(lab, [(name, 1.0)], 0.0) for lab, name in zip(labels, names)])
    return _classification_chain(est, schema, segments, used, final)


def _export_gb_regressor(est, schema: _Schema):
    _gb_check_init(est)
    if est.loss != "squared_error":
        raise ValueError(
            f"GradientBoostingRegressor: loss={est.loss!r} is not supported (squared_error only)")
    init = _gb_initial_raw(est)
    model, _ = _gb_sum_model(est, 0, init[0], schema, target=schema.target_name)
    model.attrs.append(("algorithmName", _algorithm_name(est)))
    return model


# --------------------------------------------------------------------------------------------
# Linear models
# --------------------------------------------------------------------------------------------

def _regression_table(names, coefs, intercept, target_category=None):
    t = _el("RegressionTable", intercept=format_float(intercept), targetCategory=target_category)
    for n, c in zip(names, coefs):
        t.add(_el("NumericPredictor", name=n, coefficient=format_float(c)))
    return t


def _export_linear_regression(est, schema: _Schema):
    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.ndim != 1:
        if coef.ndim == 2 and coef.shape[0] == 1:
            coef = coef[0]
        else:
            raise ValueError("LinearRegression: multi-output models are not supported")
    intercept = np.ravel(np.asarray(est.intercept_, dtype=np.float64))
    if intercept.size != 1:
        raise ValueError("LinearRegression: multi-output models are not supported")
    model = _el("RegressionModel", functionName="regression", algorithmName=_algorithm_name(est))
    model.add(_top_mining_schema(schema, range(len(schema.feature_names))))
    model.add(_regression_table(schema.feature_names, coef, intercept[0]))
    return model


def _logistic_multi_class(est, n_classes):
    """sklearn 1.2 ``_check_multi_class``: the effective multi_class mode."""
    mc = est.multi_class
    if mc == "auto":
        if est.solver == "liblinear":
            return "ovr"
        return "multinomial" if n_classes > 2 else "ovr"
    if mc in ("ovr", "multinomial"):
        return mc
    raise ValueError(f"LogisticRegression: multi_class={mc!r} is not supported")


def _export_logistic_regression(est, schema: _Schema):
    coef = np.asarray(est.coef_, dtype=np.float64)
    intercept = np.ravel(np.asarray(est.intercept_, dtype=np.float64))
    labels = schema.labels
    names = schema.feature_names
    mode = _logistic_multi_class(est, len(labels))
    all_features = range(len(names))
    algorithm = _algorithm_name(est)
    if len(labels) == 2:
        if coef.shape[0] != 1:
            raise ValueError("LogisticRegression: unexpected coef_ shape for two classes")
        if mode == "ovr":
            # p(1) = expit(decision), p(0) = 1 - p(1)
            model = _el("RegressionModel", functionName="classification", algorithmName=algorithm,
                        normalizationMethod="logit")
            model.add(_top_mining_schema(schema, all_features))
            model.add(_probability_output(schema))
            model.add(_regression_table(names, coef[0], intercept[0], labels[1]))
            model.add(_el("RegressionTable", intercept=format_float(0.0),
                          targetCategory=labels[0]))
            return model
        # binary multinomial: softmax over (-decision, decision) (sklearn issue 9889)
        _check_names(schema, ["decisionFunction"] + [f"probability({lab})" for lab in labels])
        first = _el("RegressionModel", functionName="regression")
        first.add(_inner_mining_schema(names))
        first.add(_hidden_output("decisionFunction"))
        first.add(_regression_table(names, coef[0], intercept[0]))
        final = _decision_regression_model(
            schema, "softmax",
            [(labels[0], [("decisionFunction", -1.0)], 0.0),
             (labels[1], [("decisionFunction", 1.0)], 0.0)])
        return _classification_chain(est, schema, [first], all_features, final)
    if coef.shape[0] != len(labels):
        raise ValueError("LogisticRegression: coef_ rows do not match classes_")
    if mode == "multinomial":
        model = _el("RegressionModel", functionName="classification", algorithmName=algorithm,
                    normalizationMethod="softmax")
        model.add(_top_mining_schema(schema, all_features))
        model.add(_probability_output(schema))
        for k, label in enumerate(labels):
            model.add(_regression_table(names, coef[k], intercept[k], label))
        return model
    # one-vs-rest with >2 classes: p(k) = expit(d_k) / sum_j expit(d_j)
    dnames = [f"decisionFunction({lab})" for lab in labels]
    _check_names(schema, dnames + [f"probability({lab})" for lab in labels])
    segments = []
    for k, dname in enumerate(dnames):
        m = _el("RegressionModel", functionName="regression", normalizationMethod="logit")
        m.add(_inner_mining_schema(names))
        m.add(_hidden_output(dname))
        m.add(_regression_table(names, coef[k], intercept[k]))
        segments.append(m)
    final = _decision_regression_model(
        schema, "simplemax", [(lab, [(d, 1.0)], 0.0) for lab, d in zip(labels, dnames)])
    return _classification_chain(est, schema, segments, all_features, final)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

def _exporters():
    from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                                  GradientBoostingClassifier, GradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    # (exporter, is classifier, feature dataType, fitted attribute)
    return {
        DecisionTreeClassifier: (_export_decision_tree, True, "float", "tree_"),
        DecisionTreeRegressor: (_export_decision_tree, False, "float", "tree_"),
        RandomForestClassifier: (_export_forest, True, "float", "estimators_"),
        RandomForestRegressor: (_export_forest, False, "float", "estimators_"),
        ExtraTreesClassifier: (_export_forest, True, "float", "estimators_"),
        ExtraTreesRegressor: (_export_forest, False, "float", "estimators_"),
        GradientBoostingClassifier: (_export_gb_classifier, True, "float", "estimators_"),
        GradientBoostingRegressor: (_export_gb_regressor, False, "float", "estimators_"),
        LogisticRegression: (_export_logistic_regression, True, "double", "coef_"),
        LinearRegression: (_export_linear_regression, False, "double", "coef_"),
    }


def supported_estimators():
    """Names of the estimator classes ``to_pmml`` accepts."""
    return sorted(cls.__name__ for cls in _exporters())


def to_pmml(estimator, feature_names=None, target_name="y", path=None) -> str:
    """Export a fitted scikit-learn estimator as a PMML 4.4 document.

    Parameters
    ----------
    estimator: a fitted estimator of a supported class (see ``supported_estimators()``);
        subclasses and other estimators raise ``TypeError``.
    feature_names: input field names in column order; default ``estimator.feature_names_in_``
        (fitted on a DataFrame), else ``x1..xN``.
    target_name: name of the target field (holds the predicted label / value).
    path: when given, the document is also written there (UTF-8).

    Returns the document text.
    """
    table = _exporters()
    entry = table.get(type(estimator))
    if entry is None:
        raise TypeError(
            f"to_pmml: estimator {type(estimator).__module__}.{type(estimator).__qualname__} "
            f"is not supported (supported: {', '.join(supported_estimators())})")
    exporter, is_classifier, feature_type, fitted_attr = entry
    if not hasattr(estimator, fitted_attr):
        raise ValueError(f"to_pmml: {type(estimator).__name__} is not fitted")
    n_features = int(estimator.n_features_in_)
    target_name = str(target_name)
    if not target_name:
        raise ValueError("target_name must be non-empty")
    names = _resolve_feature_names(estimator, feature_names, n_features)
    if is_classifier:
        labels, label_type = _resolve_labels(estimator.classes_)
        if len(labels) < 2:
            raise ValueError(f"{type(estimator).__name__}: at least two classes are required")
        schema = _Schema(names, feature_type, target_name, labels, label_type)
        _check_names(schema, [f"probability({lab})" for lab in labels])
    else:
        schema = _Schema(names, feature_type, target_name)
        _check_names(schema)
    text = _document(schema, exporter(estimator, schema))
    if path is not None:
        with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return text
