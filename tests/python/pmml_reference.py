"""A tiny, slow, independent PMML evaluator for the subset to_pmml writes (test helper only).

It exists so the exporter's MiningModel / RegressionModel documents are checked against
scikit-learn now, independently of the C++ engine. It follows the PMML 4.4 specification:

* DataField dataType="float": inputs rounded to float32; predicate values read as double
  (so the float32-rounded-down thresholds must be exact float32 values written exactly);
* TreeModel: first true child; missingValueStrategy / noTrueChildStrategy as written
  (returnNullPrediction vs returnLastPrediction); ScoreDistribution recordCount shares;
* MiningModel: average / sum / modelChain (with isFinalResult="false" output fields feeding
  later segments); Targets rescaleFactor / rescaleConstant;
* RegressionModel: NumericPredictor terms; normalizationMethod none, logit, softmax, simplemax
  (binary logit: p(first table) = 1/(1+exp(-y)), the other 1 - p).
"""

import math
import xml.etree.ElementTree as ET

import numpy as np

NS = "{http://www.dmg.org/PMML-4_4}"


def _t(el):
    return el.tag[len(NS):] if el.tag.startswith(NS) else el.tag


class Result:
    def __init__(self, value=None, probabilities=None):
        self.value = value  # predicted label (str) or number
        self.probabilities = probabilities  # dict label -> probability, or None


class Document:
    def __init__(self, text):
        self.root = ET.fromstring(text)
        self.types = {}
        for f in self.root.find(NS + "DataDictionary"):
            self.types[f.get("name")] = f.get("dataType")
        self.model = [c for c in self.root if _t(c) not in ("Header", "DataDictionary")][0]

    def score(self, row):
        """row: dict field -> float. Returns (Result, outputs dict name -> value)."""
        fields = {}
        for name, v in row.items():
            if self.types.get(name) == "float":
                v = float(np.float32(v))
            fields[name] = float(v)
        res = self._model(self.model, fields)
        return res, self._outputs(self.model, res, fields)

    # -- models ---------------------------------------------------------------------------

    def _model(self, model, fields):
        kind = _t(model)
        if kind == "TreeModel":
            res = self._tree(model, fields)
        elif kind == "MiningModel":
            res = self._mining(model, fields)
        elif kind == "RegressionModel":
            res = self._regression(model, fields)
        else:
            raise NotImplementedError(kind)
        targets = model.find(NS + "Targets")
        if targets is not None and res.value is not None and res.probabilities is None:
            t = targets.find(NS + "Target")
            res.value = (res.value * float(t.get("rescaleFactor", "1"))
                         + float(t.get("rescaleConstant", "0")))
        return res

    def _outputs(self, model, res, fields):
        """Evaluate the model's OutputFields; hidden ones are stored into ``fields``."""
        finals = {}
        out = model.find(NS + "Output")
        if out is None:
            return finals
        for of in out.findall(NS + "OutputField"):
            feature = of.get("feature", "predictedValue")
            if feature == "probability":
                v = res.probabilities[of.get("value")]
            elif feature == "predictedValue":
                v = res.value
            else:
                raise NotImplementedError(feature)
            fields[of.get("name")] = v
            if of.get("isFinalResult", "true") == "true":
                finals[of.get("name")] = v
        return finals

    def _predicate(self, el, fields):
        kind = _t(el)
        if kind == "True":
            return True
        if kind == "SimplePredicate":
            x = fields.get(el.get("field"))
            if x is None or math.isnan(x):
                return None
            v = float(el.get("value"))
            op = el.get("operator")
            if op == "lessOrEqual":
                return x <= v
            if op == "greaterThan":
                return x > v
            raise NotImplementedError(op)
        raise NotImplementedError(kind)

    def _tree(self, model, fields):
        classification = model.get("functionName") == "classification"
        no_true = model.get("noTrueChildStrategy", "returnNullPrediction")
        node = model.find(NS + "Node")
        assert self._predicate(node[0], fields) is True
        while True:
            nxt = None
            for child in node.findall(NS + "Node"):
                p = self._predicate(child[0], fields)
                if p is None:
                    return Result()  # nullPrediction / none both end in no prediction here
                if p:
                    nxt = child
                    break
            if nxt is None:
                if node.findall(NS + "Node") and no_true == "returnNullPrediction":
                    return Result()
                break
            node = nxt
        if not classification:
            return Result(float(node.get("score")))
        dist = node.findall(NS + "ScoreDistribution")
        total = 0.0
        for d in dist:
            total += float(d.get("recordCount"))
        probs = {d.get("value"): float(d.get("recordCount")) / total for d in dist}
        return Result(node.get("score"), probs)

    def _mining(self, model, fields):
        seg = model.find(NS + "Segmentation")
        method = seg.get("multipleModelMethod")
        segments = [s for s in seg.findall(NS + "Segment")]
        if method == "modelChain":
            scope = dict(fields)
            res = None
            for s in segments:
                inner = s[1]
                res = self._model(inner, scope)
                if res.value is None:
                    return Result()
                self._outputs(inner, res, scope)
            # the final segment's outputs are the chain's outputs
            fields.update({k: v for k, v in scope.items() if k not in fields})
            return res
        results = [self._model(s[1], fields) for s in segments]
        if any(r.value is None for r in results):
            return Result()
        if model.get("functionName") == "regression":
            total = 0.0
            for r in results:
                total += r.value
            return Result(total / len(results) if method == "average" else total
                          if method == "sum" else None)
        assert method == "average"
        labels = list(results[0].probabilities)
        probs = {}
        for lab in labels:
            acc = 0.0
            for r in results:
                acc += r.probabilities[lab]
            probs[lab] = acc / len(results)
        return Result(_argmax(probs), probs)

    def _regression(self, model, fields):
        norm = model.get("normalizationMethod", "none")
        ys = []
        for table in model.findall(NS + "RegressionTable"):
            y = float(table.get("intercept"))
            for p in table.findall(NS + "NumericPredictor"):
                x = fields.get(p.get("name"))
                if x is None or math.isnan(x):
                    return Result()
                y += float(p.get("coefficient")) * x
            ys.append((table.get("targetCategory"), y))
        if model.get("functionName") == "regression":
            (_, y), = ys
            if norm == "logit":
                y = 1.0 / (1.0 + math.exp(-y))
            else:
                assert norm == "none"
            return Result(y)
        labels = [lab for lab, _ in ys]
        vals = [y for _, y in ys]
        if norm == "logit" and len(vals) == 2:
            p0 = 1.0 / (1.0 + math.exp(-vals[0]))
            p = [p0, 1.0 - p0]
        elif norm == "softmax":
            m = max(vals)
            e = [math.exp(v - m) for v in vals]
            s = sum(e)
            p = [v / s for v in e]
        elif norm == "simplemax":
            s = sum(vals)
            p = [v / s for v in vals]
        else:
            raise NotImplementedError(norm)
        probs = dict(zip(labels, p))
        return Result(_argmax(probs), probs)


def _argmax(probs):
    best, best_p = None, -1.0
    for lab, p in probs.items():
        if p > best_p:
            best, best_p = lab, p
    return best
