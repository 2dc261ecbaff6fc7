#include "pmml/eval/evaluator.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace fluxscore::pmml {

Cell ConvertCell(Cell c, ValueType from, ValueType to, EvalContext& ctx) {
  if (c.missing() || from == to) return c;
  if (std::isnan(c.v)) return Cell::Invalid();
  if (to == ValueType::kString) {
    Cell out = Cell::Valid(ctx.Intern(FormatValue(c.v, from, ctx)));
    out.s = c.s;
    return out;
  }
  if (from == ValueType::kString) {
    double v;
    std::string text(ctx.Text(c.v));
    if (!ParseValue(text, to, ctx, &v)) return Cell::Invalid();
    return Cell{v, c.s};
  }
  if (to == ValueType::kBoolean) return Cell{c.v != 0 ? 1.0 : 0.0, c.s};
  return c;  // number <-> boolean/date/time keep their numeric value
}

namespace {

// Applies defaultValue and invalidValueTreatment to an Apply result. Under returnInvalid an
// invalid result fails the row (st.error), as jpmml's InvalidResultException does.
Cell FinishApply(const Plan& plan, const Expr& e, Cell r, RowState& st) {
  if (r.missing() && e.default_value.s != CellState::kMissing) return e.default_value;
  if (r.invalid() && std::isnan(r.v)) {
    switch (e.invalid) {
      case InvalidTreatment::kAsMissing: return Cell::Missing();
      case InvalidTreatment::kAsIs: return r;
      default:
        if (st.error.empty()) {
          std::string_view name =
              e.aux >= 0 ? std::string_view(plan.builtin_names[static_cast<size_t>(e.aux)])
                         : std::string_view("type conversion");
          st.error = fmt::format("function '{}' returned an invalid result", name);
        }
        return r;
    }
  }
  return r;
}

double Interpolate(const NormTable& t, double x, OutlierTreatment out, bool* missing) {
  const auto& o = t.orig;
  const auto& n = t.norm;
  size_t last = o.size() - 1;
  if (x < o[0] || x > o[last]) {
    if (out == OutlierTreatment::kAsMissingValues) {
      *missing = true;
      return 0;
    }
    if (out == OutlierTreatment::kAsExtremeValues) return x < o[0] ? n[0] : n[last];
    size_t i = x < o[0] ? 0 : last - 1;
    return n[i] + (x - o[i]) * (n[i + 1] - n[i]) / (o[i + 1] - o[i]);
  }
  size_t i = static_cast<size_t>(std::upper_bound(o.begin(), o.end(), x) - o.begin());
  if (i > last) i = last;
  if (i == 0) i = 1;
  return n[i - 1] + (x - o[i - 1]) * (n[i] - n[i - 1]) / (o[i] - o[i - 1]);
}

}  // namespace

Cell EvalExpr(const Plan& plan, int32_t ei, RowState& st) {
  const Expr& e = plan.exprs[static_cast<size_t>(ei)];
  const int32_t* args = plan.expr_args.data() + e.args_begin;
  const int32_t nargs = e.args_end - e.args_begin;
  switch (e.kind) {
    case ExprKind::kConstant:
    case ExprKind::kMissing:
      return e.value;
    case ExprKind::kFieldRef: {
      Cell c = st.cells[static_cast<size_t>(e.slot)];
      if (c.missing() && e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
      return c;
    }
    case ExprKind::kNormContinuous: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      if (std::isnan(x.v)) return Cell::Invalid();
      bool missing = false;
      double v = Interpolate(plan.norm_tables[static_cast<size_t>(e.aux)], x.v, e.outliers,
                             &missing);
      return missing ? Cell::Missing() : Cell::Valid(v);
    }
    case ExprKind::kNormDiscrete: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      return Cell::Valid(x.v == e.value.v ? 1.0 : 0.0);
    }
    case ExprKind::kDiscretize: {
      Cell x = EvalExpr(plan, args[0], st);
      if (x.missing()) return e.map_missing_to;
      const Discretization& d = plan.discretizations[static_cast<size_t>(e.aux)];
      for (size_t i = 0; i < d.bins.size(); ++i)
        if (d.bins[i].Contains(x.v)) return d.bin_values[i];
      return e.default_value;
    }
    case ExprKind::kMapValues: {
      const MapTable& t = plan.map_tables[static_cast<size_t>(e.aux)];
      const size_t base = st.scratch.size();
      st.scratch.resize(base + static_cast<size_t>(nargs));
      for (int32_t i = 0; i < nargs; ++i) {
        Cell v = EvalExpr(plan, args[i], st);
        if (v.missing()) {
          st.scratch.resize(base);
          return e.map_missing_to;
        }
        st.scratch[base + static_cast<size_t>(i)] = v;
      }
      const Cell* vals = st.scratch.data() + base;
      Cell found = e.default_value;
      size_t rows = t.outputs.size();
      for (size_t r = 0; r < rows; ++r) {
        const Cell* row = t.inputs.data() + r * static_cast<size_t>(t.num_inputs);
        bool match = true;
        for (int32_t i = 0; i < nargs && match; ++i)
          match = !row[i].missing() && row[i].v == vals[i].v;
        if (match) {
          found = t.outputs[r];
          break;
        }
      }
      st.scratch.resize(base);
      return found;
    }
    case ExprKind::kIf: {
      Cell cond = EvalExpr(plan, args[0], st);
      if (cond.missing()) {
        if (e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
        return FinishApply(plan, e, Cell::Missing(), st);
      }
      if (cond.invalid() && std::isnan(cond.v)) return FinishApply(plan, e, Cell::Invalid(), st);
      if (cond.v != 0) return FinishApply(plan, e, EvalExpr(plan, args[1], st), st);
      if (nargs > 2) return FinishApply(plan, e, EvalExpr(plan, args[2], st), st);
      return FinishApply(plan, e, Cell::Missing(), st);
    }
    case ExprKind::kApply: {
      if (e.aux == -2) {  // conversion wrapper
        Cell x = EvalExpr(plan, args[0], st);
        if (x.missing()) {
          if (e.map_missing_to.s != CellState::kMissing) return e.map_missing_to;
          return FinishApply(plan, e, x, st);
        }
        const Expr& inner = plan.exprs[static_cast<size_t>(args[0])];
        return FinishApply(plan, e, ConvertCell(x, inner.type, e.type, st.ctx), st);
      }
      const BuiltinCall& call = plan.builtin_calls[static_cast<size_t>(e.aux)];
      const size_t base = st.scratch.size();
      st.scratch.resize(base + static_cast<size_t>(nargs));
      bool any_missing = false;
      for (int32_t i = 0; i < nargs; ++i) {
        Cell v = EvalExpr(plan, args[i], st);
        any_missing |= v.missing();
        st.scratch[base + static_cast<size_t>(i)] = v;
      }
      Cell r;
      if (any_missing && e.map_missing_to.s != CellState::kMissing) {
        r = e.map_missing_to;
      } else {
        r = FinishApply(plan, e,
                        EvalBuiltin(call,
                                    std::span<const Cell>(st.scratch.data() + base,
                                                          static_cast<size_t>(nargs)),
                                    st.ctx),
                        st);
      }
      st.scratch.resize(base);
      return r;
    }
  }
  return Cell::Missing();
}

namespace {

int Compare(const Plan& plan, const Predicate& p, double x, RowState& st) {
  if (!p.by_text) return x < p.value ? -1 : (x > p.value ? 1 : 0);
  // Ordering of strings: ordinal fields by declared order, else by text.
  if (p.field >= 0) {
    const auto& order = plan.fields[static_cast<size_t>(p.field)].ordinal_order;
    auto rank = [&](double v) { return std::find(order.begin(), order.end(), v) - order.begin(); };
    auto ra = rank(x), rb = rank(p.value);
    return ra < rb ? -1 : (ra > rb ? 1 : 0);
  }
  std::string_view a = st.ctx.Text(x), b = st.ctx.Text(p.value);
  return a < b ? -1 : (a > b ? 1 : 0);
}

}  // namespace

Tri EvalPredicate(const Plan& plan, int32_t pi, RowState& st, bool* alternative) {
  const Predicate& p = plan.predicates[static_cast<size_t>(pi)];
  switch (p.kind) {
    case PredKind::kTrue: return Tri::kTrue;
    case PredKind::kFalse: return Tri::kFalse;
    case PredKind::kIsMissing:
      return st.cells[static_cast<size_t>(p.slot)].missing() ? Tri::kTrue : Tri::kFalse;
    case PredKind::kIsNotMissing:
      return st.cells[static_cast<size_t>(p.slot)].missing() ? Tri::kFalse : Tri::kTrue;
    case PredKind::kSimple: {
      const Cell& c = st.cells[static_cast<size_t>(p.slot)];
      if (c.missing() || std::isnan(c.v)) return Tri::kUnknown;
      double x = c.v;
      bool r;
      switch (p.op) {
        case CmpOp::kEq: r = x == p.value; break;
        case CmpOp::kNe: r = x != p.value; break;
        case CmpOp::kLt: r = Compare(plan, p, x, st) < 0; break;
        case CmpOp::kLe: r = Compare(plan, p, x, st) <= 0; break;
        case CmpOp::kGt: r = Compare(plan, p, x, st) > 0; break;
        default: r = Compare(plan, p, x, st) >= 0; break;
      }
      return r ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kSetIn:
    case PredKind::kSetNotIn: {
      const Cell& c = st.cells[static_cast<size_t>(p.slot)];
      if (c.missing() || std::isnan(c.v)) return Tri::kUnknown;
      const double* b = plan.set_values.data() + p.begin;
      const double* e = plan.set_values.data() + p.end;
      bool in = std::binary_search(b, e, c.v);
      return (in == (p.kind == PredKind::kSetIn)) ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kAnd: {
      Tri r = Tri::kTrue;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kFalse) return Tri::kFalse;
        if (t == Tri::kUnknown) r = Tri::kUnknown;
      }
      return r;
    }
    case PredKind::kOr: {
      Tri r = Tri::kFalse;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kTrue) return Tri::kTrue;
        if (t == Tri::kUnknown) r = Tri::kUnknown;
      }
      return r;
    }
    case PredKind::kXor: {
      bool acc = false;
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t == Tri::kUnknown) return Tri::kUnknown;
        acc ^= (t == Tri::kTrue);
      }
      return acc ? Tri::kTrue : Tri::kFalse;
    }
    case PredKind::kSurrogate: {
      for (int32_t i = p.begin; i < p.end; ++i) {
        Tri t = EvalPredicate(plan, plan.pred_children[static_cast<size_t>(i)], st, nullptr);
        if (t != Tri::kUnknown) {
          if (alternative != nullptr && i != p.begin) *alternative = true;
          return t;
        }
      }
      return Tri::kUnknown;
    }
  }
  return Tri::kUnknown;
}

namespace {

// Classification result of a real node: its normalised distribution and confidences.
void SetFromNode(const Plan& plan, int32_t ni, RowState& st) {
  const Tree& tree = plan.tree;
  const TargetPlan& target = plan.targets.front();
  const TreeNode& n = tree.nodes[static_cast<size_t>(ni)];
  st.node = ni;
  if (plan.function == MiningFunction::kRegression) {
    st.has_prediction = n.has_score;
    st.prediction = n.score;
    return;
  }
  std::fill(st.probs.begin(), st.probs.end(), 0.0);
  std::fill(st.confs.begin(), st.confs.end(), NAN);
  st.has_probs = n.dist_begin != n.dist_end;
  double best = -1;
  double best_value = NAN;
  for (int32_t k = n.dist_begin; k < n.dist_end; ++k) {
    const ScoreDist& d = tree.dists[static_cast<size_t>(k)];
    size_t ci = static_cast<size_t>(d.category);
    st.probs[ci] = d.probability;
    st.confs[ci] = d.confidence;
    if (d.probability > best) {
      best = d.probability;
      best_value = d.value;
    }
  }
  if (n.has_score) {
    st.has_prediction = true;
    st.prediction = n.score;
  } else if (st.has_probs && !std::isnan(best_value)) {
    st.has_prediction = true;
    st.prediction = best_value;
  }
}

// pmml4s semantics: the children whose predicate is UNKNOWN vote with their own confidences,
// weighted by their share of the parent's records.
void WeightedConfidence(const Plan& plan, int32_t ni, RowState& st) {
  const Tree& tree = plan.tree;
  const TargetPlan& target = plan.targets.front();
  const TreeNode& sel = tree.nodes[static_cast<size_t>(ni)];
  size_t k = target.categories.size();
  std::vector<double>& conf = st.acc;
  conf.assign(k, 0.0);
  for (int32_t c = sel.first_child; c < sel.first_child + sel.num_children; ++c) {
    const TreeNode& cand = tree.nodes[static_cast<size_t>(c)];
    if (EvalPredicate(plan, cand.pred, st, nullptr) != Tri::kUnknown) continue;
    double w = (std::isnan(cand.record_count) ? 0.0 : cand.record_count) / sel.record_count;
    for (int32_t d = cand.dist_begin; d < cand.dist_end; ++d) {
      const ScoreDist& sd = tree.dists[static_cast<size_t>(d)];
      size_t ci = static_cast<size_t>(sd.category);
      double cv = std::isnan(sd.confidence) ? sd.probability : sd.confidence;
      conf[ci] += cv * w;
    }
  }
  double max = 0;
  st.node = -1;
  st.has_probs = false;
  std::fill(st.confs.begin(), st.confs.end(), NAN);
  for (size_t c = 0; c < k; ++c) {
    st.confs[c] = conf[c];
    if (conf[c] > max) {
      max = conf[c];
      st.has_prediction = true;
      st.prediction = target.categories[c];
    }
  }
}

// All leaves reachable through TRUE (first) or UNKNOWN children; record counts summed per class.
void AggregateNodes(const Plan& plan, int32_t ni, RowState& st) {
  const Tree& tree = plan.tree;
  const TargetPlan& target = plan.targets.front();
  size_t k = target.categories.size();
  std::vector<double>& records = st.acc;
  records.assign(k, 0.0);
  std::vector<int32_t>& stack = st.node_stack;
  stack.assign(1, ni);
  bool any_leaf = false;
  while (!stack.empty()) {
    int32_t i = stack.back();
    stack.pop_back();
    const TreeNode& n = tree.nodes[static_cast<size_t>(i)];
    if (n.num_children == 0) {
      any_leaf = true;
      for (int32_t d = n.dist_begin; d < n.dist_end; ++d) {
        const ScoreDist& sd = tree.dists[static_cast<size_t>(d)];
        size_t ci = static_cast<size_t>(sd.category);
        if (!std::isnan(sd.record_count)) records[ci] += sd.record_count;
      }
      continue;
    }
    // Candidates: every UNKNOWN child up to and including the first TRUE one. Leaf order does
    // not matter (counts are summed), so they are pushed as found.
    for (int32_t c = n.first_child; c < n.first_child + n.num_children; ++c) {
      Tri t = EvalPredicate(plan, tree.nodes[static_cast<size_t>(c)].pred, st, nullptr);
      if (t == Tri::kFalse) continue;
      stack.push_back(c);
      if (t == Tri::kTrue) break;
    }
  }
  st.node = -1;
  st.has_probs = false;
  std::fill(st.confs.begin(), st.confs.end(), NAN);
  if (!any_leaf) return;
  double sum = 0;
  for (double r : records) sum += r;
  double max = 0;
  for (size_t c = 0; c < k; ++c) {
    if (records[c] > max) {
      max = records[c];
      st.has_prediction = true;
      st.prediction = target.categories[c];
    }
  }
  if (st.has_prediction && sum > 0) {
    st.has_probs = true;
    for (size_t c = 0; c < k; ++c) st.probs[c] = records[c] / sum;
    for (size_t c = 0; c < k; ++c) st.confs[c] = records[c] / sum;
  }
}

void EvaluateTree(const Plan& plan, RowState& st) {
  const Tree& tree = plan.tree;
  st.has_prediction = false;
  st.has_probs = false;
  st.node = -1;
  int missing_levels = 0;
  bool alt = false;
  Tri root = EvalPredicate(plan, tree.nodes[0].pred, st, &alt);
  if (root != Tri::kTrue) return;
  if (alt) ++missing_levels;
  int32_t cur = 0;
  int32_t result = -1;
  bool done = false;
  while (!done) {
    const TreeNode& n = tree.nodes[static_cast<size_t>(cur)];
    if (n.num_children == 0) {
      result = cur;
      break;
    }
    int32_t next = -1;
    bool unknown = false;
    for (int32_t c = n.first_child; c < n.first_child + n.num_children; ++c) {
      bool a = false;
      Tri t = EvalPredicate(plan, tree.nodes[static_cast<size_t>(c)].pred, st, &a);
      if (t == Tri::kTrue) {
        if (a) ++missing_levels;
        next = c;
        break;
      }
      if (t == Tri::kUnknown) {
        unknown = true;
        // lastPrediction, nullPrediction and defaultChild decide at the first UNKNOWN child
        // (jpmml); weightedConfidence and aggregateNodes still follow a later TRUE child (pmml4s).
        if (tree.missing == MissingStrategy::kLastPrediction ||
            tree.missing == MissingStrategy::kNullPrediction ||
            tree.missing == MissingStrategy::kDefaultChild)
          break;
      }
    }
    if (next >= 0) {
      cur = next;
      continue;
    }
    if (unknown) {
      switch (tree.missing) {
        case MissingStrategy::kNone: break;  // fall through to noTrueChildStrategy
        case MissingStrategy::kNullPrediction: return;
        case MissingStrategy::kLastPrediction:
          result = cur;
          done = true;
          continue;
        case MissingStrategy::kDefaultChild:
          if (n.default_child >= 0) {
            ++missing_levels;
            cur = n.default_child;
            continue;
          }
          break;
        case MissingStrategy::kWeightedConfidence:
          if (plan.function == MiningFunction::kClassification) {
            WeightedConfidence(plan, cur, st);
            return;
          }
          break;
        case MissingStrategy::kAggregateNodes:
          if (plan.function == MiningFunction::kClassification) {
            AggregateNodes(plan, cur, st);
            return;
          }
          break;
      }
    }
    // No true child.
    if (tree.no_true_child_last && n.has_score) result = cur;
    done = true;
  }
  if (result < 0) return;
  SetFromNode(plan, result, st);
  st.confidence_penalty = missing_levels > 0 ? std::pow(tree.missing_penalty, missing_levels) : 1.0;
}

double ApplyTarget(const TargetPlan& t, double v) {
  if (v < t.min) v = t.min;
  if (v > t.max) v = t.max;
  v = v * t.rescale_factor + t.rescale_constant;
  switch (t.cast_mode) {
    case 1: v = std::floor(v + 0.5); break;
    case 2: v = std::ceil(v); break;
    case 3: v = std::floor(v); break;
    default: break;
  }
  return v;
}

size_t CategoryIndex(const TargetPlan& t, double v) {
  return static_cast<size_t>(std::find(t.categories.begin(), t.categories.end(), v) -
                             t.categories.begin());
}

}  // namespace

void EvaluateRow(const Plan& plan, RowState& st) {
  st.confidence_penalty = 1.0;
  for (const DerivedPlan& d : plan.derived) {
    Cell c = EvalExpr(plan, d.expr, st);
    if (d.is_float && !c.missing()) c.v = static_cast<double>(static_cast<float>(c.v));
    st.cells[static_cast<size_t>(d.slot)] = c;
  }
  if (!st.error.empty()) return;
  EvaluateTree(plan, st);
  if (!st.error.empty()) return;
  const TargetPlan& target = plan.targets.front();
  if (!st.has_prediction && plan.function == MiningFunction::kClassification &&
      !target.priors.empty()) {
    // No prediction: the Targets' prior probabilities stand in (jpmml evaluateClassificationDefault).
    double best = -1;
    std::fill(st.probs.begin(), st.probs.end(), 0.0);
    for (size_t c = 0; c < target.priors.size(); ++c) {
      st.probs[c] = target.priors[c];
      if (target.priors[c] > best) {
        best = target.priors[c];
        st.prediction = target.categories[c];
      }
    }
    st.has_prediction = true;
    st.has_probs = true;
  }
  if (plan.function == MiningFunction::kRegression) {
    if (!st.has_prediction && !std::isnan(target.default_value)) {
      st.has_prediction = true;
      st.prediction = target.default_value;
    }
    if (st.has_prediction) st.prediction = ApplyTarget(target, st.prediction);
  }
  // Output fields, in order; each may read earlier ones through its slot.
  for (const OutputPlan& op : plan.outputs) {
    Cell r = Cell::Missing();
    ValueType from = ValueType::kNumber;
    switch (op.feature) {
      case ResultFeature::kPredictedValue:
        if (st.has_prediction) r = Cell::Valid(st.prediction);
        from = target.type;
        break;
      case ResultFeature::kPredictedDisplayValue:
        if (st.has_prediction) {
          from = target.type;
          r = Cell::Valid(st.prediction);
          for (size_t i = 0; i < target.display_keys.size(); ++i)
            if (target.display_keys[i] == st.prediction) {
              r = Cell::Valid(target.display_values[i]);
              from = ValueType::kString;
            }
        }
        break;
      case ResultFeature::kProbability: {
        if (!st.has_prediction) break;
        if (plan.function == MiningFunction::kRegression) break;
        double cat = op.has_value ? op.value : st.prediction;
        size_t ci = CategoryIndex(target, cat);
        if (st.has_probs) {
          r = Cell::Valid(ci < st.probs.size() ? st.probs[ci] : 0.0);
        }
        break;
      }
      case ResultFeature::kConfidence: {
        if (!st.has_prediction || plan.function == MiningFunction::kRegression) break;
        double cat = op.has_value ? op.value : st.prediction;
        size_t ci = CategoryIndex(target, cat);
        if (ci < st.confs.size() && !std::isnan(st.confs[ci]))
          r = Cell::Valid(st.confs[ci] * st.confidence_penalty);
        break;
      }
      case ResultFeature::kEntityId:
        if (st.node >= 0) {
          r = Cell::Valid(plan.tree.nodes[static_cast<size_t>(st.node)].id);
          from = ValueType::kString;
        }
        break;
      case ResultFeature::kTransformedValue:
      case ResultFeature::kDecision:
        r = EvalExpr(plan, op.expr, st);
        from = plan.exprs[static_cast<size_t>(op.expr)].type;
        if (r.invalid() && std::isnan(r.v)) r = Cell::Missing();
        break;
    }
    r = ConvertCell(r, from, op.type, st.ctx);
    if (r.invalid() && std::isnan(r.v)) r = Cell::Missing();
    st.cells[static_cast<size_t>(op.slot)] = r;
  }
}

}  // namespace fluxscore::pmml
