// Model evaluation: TreeModel walk and missing-value strategies, RegressionModel tables and
// normalisation, MiningModel segment combination, Targets, and OutputFields.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "pmml/eval/evaluator.h"
#include "pmml/eval/model_math.h"

namespace fluxscore::pmml {
namespace {


// ------------------------------------------------------------------------------------ trees
void SetFromNode(const Plan& plan, const SubModel& m, int32_t ni, RowState& st) {
  const Tree& tree = plan.trees[static_cast<size_t>(m.body)];
  const TreeNode& n = tree.nodes[static_cast<size_t>(ni)];
  ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
  r.node = ni;
  if (m.function == MiningFunction::kRegression) {
    r.has_prediction = n.has_score;
    r.prediction = n.score;
    return;
  }
  double* probs = st.probs.data() + m.prob_offset;
  double* confs = st.confs.data() + m.prob_offset;
  const size_t k = m.target.categories.size();
  std::fill(probs, probs + k, 0.0);
  std::fill(confs, confs + k, NAN);
  r.has_probs = n.dist_begin != n.dist_end;
  double best = -1;
  double best_value = NAN;
  for (int32_t d = n.dist_begin; d < n.dist_end; ++d) {
    const ScoreDist& sd = tree.dists[static_cast<size_t>(d)];
    probs[sd.category] = sd.probability;
    confs[sd.category] = sd.confidence;
    if (sd.probability > best) {
      best = sd.probability;
      best_value = sd.value;
    }
  }
  if (n.has_score) {
    r.has_prediction = true;
    r.prediction = n.score;
  } else if (r.has_probs && !std::isnan(best_value)) {
    r.has_prediction = true;
    r.prediction = best_value;
  }
}

// pmml4s semantics: the children whose predicate is UNKNOWN vote with their own confidences,
// weighted by their share of the parent's records.
void WeightedConfidence(const Plan& plan, const SubModel& m, int32_t ni, RowState& st) {
  const Tree& tree = plan.trees[static_cast<size_t>(m.body)];
  ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
  const TreeNode& sel = tree.nodes[static_cast<size_t>(ni)];
  const size_t k = m.target.categories.size();
  std::vector<double>& conf = st.acc;
  conf.assign(k, 0.0);
  for (int32_t c = sel.first_child; c < sel.first_child + sel.num_children; ++c) {
    const TreeNode& cand = tree.nodes[static_cast<size_t>(c)];
    if (EvalPredicate(plan, cand.pred, st, nullptr) != Tri::kUnknown) continue;
    double w = (std::isnan(cand.record_count) ? 0.0 : cand.record_count) / sel.record_count;
    for (int32_t d = cand.dist_begin; d < cand.dist_end; ++d) {
      const ScoreDist& sd = tree.dists[static_cast<size_t>(d)];
      double cv = std::isnan(sd.confidence) ? sd.probability : sd.confidence;
      conf[static_cast<size_t>(sd.category)] += cv * w;
    }
  }
  double* confs = st.confs.data() + m.prob_offset;
  double max = 0;
  r.node = -1;
  r.has_probs = false;
  for (size_t c = 0; c < k; ++c) {
    confs[c] = conf[c];
    if (conf[c] > max) {
      max = conf[c];
      r.has_prediction = true;
      r.prediction = m.target.categories[c];
    }
  }
}

// All leaves reachable through TRUE (first) or UNKNOWN children; record counts summed per class.
void AggregateNodes(const Plan& plan, const SubModel& m, int32_t ni, RowState& st) {
  const Tree& tree = plan.trees[static_cast<size_t>(m.body)];
  ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
  const size_t k = m.target.categories.size();
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
        if (!std::isnan(sd.record_count)) records[static_cast<size_t>(sd.category)] += sd.record_count;
      }
      continue;
    }
    // Candidates: every UNKNOWN child up to and including the first TRUE one.
    for (int32_t c = n.first_child; c < n.first_child + n.num_children; ++c) {
      Tri t = EvalPredicate(plan, tree.nodes[static_cast<size_t>(c)].pred, st, nullptr);
      if (t == Tri::kFalse) continue;
      stack.push_back(c);
      if (t == Tri::kTrue) break;
    }
  }
  r.node = -1;
  r.has_probs = false;
  double* probs = st.probs.data() + m.prob_offset;
  double* confs = st.confs.data() + m.prob_offset;
  std::fill(confs, confs + k, NAN);
  if (!any_leaf) return;
  double sum = 0;
  for (double x : records) sum += x;
  double max = 0;
  for (size_t c = 0; c < k; ++c) {
    if (records[c] > max) {
      max = records[c];
      r.has_prediction = true;
      r.prediction = m.target.categories[c];
    }
  }
  if (r.has_prediction && sum > 0) {
    r.has_probs = true;
    for (size_t c = 0; c < k; ++c) probs[c] = confs[c] = records[c] / sum;
  }
}

void EvaluateTree(const Plan& plan, const SubModel& m, RowState& st) {
  const Tree& tree = plan.trees[static_cast<size_t>(m.body)];
  ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
  int missing_levels = 0;
  bool alt = false;
  if (EvalPredicate(plan, tree.nodes[0].pred, st, &alt) != Tri::kTrue) return;
  if (alt) ++missing_levels;
  int32_t cur = 0;
  int32_t result = -1;
  std::vector<int32_t>* trace = &m == &plan.models.front() ? st.trace : nullptr;
  while (true) {
    if (trace != nullptr) trace->push_back(cur);
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
      bool handled = false;
      switch (tree.missing) {
        case MissingStrategy::kNone: break;  // fall through to noTrueChildStrategy
        case MissingStrategy::kNullPrediction: return;
        case MissingStrategy::kLastPrediction:
          result = cur;
          handled = true;
          break;
        case MissingStrategy::kDefaultChild:
          if (n.default_child >= 0) {
            ++missing_levels;
            cur = n.default_child;
            continue;
          }
          break;
        case MissingStrategy::kWeightedConfidence:
          if (m.function == MiningFunction::kClassification) {
            WeightedConfidence(plan, m, cur, st);
            return;
          }
          break;
        case MissingStrategy::kAggregateNodes:
          if (m.function == MiningFunction::kClassification) {
            AggregateNodes(plan, m, cur, st);
            return;
          }
          break;
      }
      if (handled) break;
    }
    // No true child.
    if (tree.no_true_child_last && n.has_score) result = cur;
    break;
  }
  if (result < 0) return;
  SetFromNode(plan, m, result, st);
  r.penalty = missing_levels > 0 ? std::pow(tree.missing_penalty, missing_levels) : 1.0;
}

// ------------------------------------------------------------------------------ regression
// y of one table, in jpmml's order (numeric, categorical, product terms, then the intercept);
// false when an input it needs is missing.
bool TableValue(const Regression& reg, const RegTable& t, const RowState& st, bool f32,
                double* out) {
  double y = 0;
  for (int32_t i = t.begin; i < t.end; ++i) {
    const RegTerm& term = reg.terms[static_cast<size_t>(i)];
    switch (term.kind) {
      case RegTerm::kNumeric: {
        const Cell& c = st.cells[static_cast<size_t>(term.slot)];
        if (c.missing() || std::isnan(c.v)) return false;
        double x = term.exponent == 1 ? c.v : std::pow(c.v, term.exponent);
        y = f32 ? F32(y + F32(term.coef * x)) : y + term.coef * x;
        break;
      }
      case RegTerm::kCategorical: {
        const Cell& c = st.cells[static_cast<size_t>(term.slot)];
        if (!c.missing() && c.v == term.value) y = f32 ? F32(y + term.coef) : y + term.coef;
        break;
      }
      case RegTerm::kProduct: {
        double p = 1;
        for (int32_t k = term.begin; k < term.end; ++k) {
          const Cell& c = st.cells[static_cast<size_t>(reg.product_slots[static_cast<size_t>(k)])];
          if (c.missing() || std::isnan(c.v)) return false;
          p *= c.v;
        }
        y = f32 ? F32(y + F32(term.coef * p)) : y + term.coef * p;
        break;
      }
    }
  }
  y = f32 ? F32(y + t.intercept) : y + t.intercept;
  *out = y;
  return true;
}

void EvaluateRegression(const Plan& plan, const SubModel& m, RowState& st) {
  const Regression& reg = plan.regressions[static_cast<size_t>(m.body)];
  ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
  const bool f32 = m.float_math;
  if (m.function == MiningFunction::kRegression) {
    double y;
    if (!TableValue(reg, reg.tables[0], st, f32, &y)) return;
    r.has_prediction = true;
    r.prediction = RegressionOutput(reg, y, f32);
    return;
  }
  const size_t k = m.target.categories.size();
  double* probs = st.probs.data() + m.prob_offset;
  std::fill(probs, probs + k, 0.0);
  std::fill(st.confs.data() + m.prob_offset, st.confs.data() + m.prob_offset + k, NAN);
  std::vector<double>& v = st.acc;
  v.resize(reg.tables.size());
  for (size_t i = 0; i < reg.tables.size(); ++i)
    if (!TableValue(reg, reg.tables[i], st, f32, &v[i])) return;  // priors take over
  const size_t n = v.size();
  bool ordinal = m.target.field >= 0 &&
                 plan.fields[static_cast<size_t>(m.target.field)].op_type == OpType::kOrdinal;
  NormalizeRegression(reg, ordinal, f32, v.data(), n);
  r.has_probs = true;
  double best = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    size_t ci = static_cast<size_t>(reg.tables[i].category_index);
    probs[ci] = v[i];
    if (v[i] > best) {
      best = v[i];
      r.prediction = reg.tables[i].category;
    }
  }
  r.has_prediction = true;
}

// ---------------------------------------------------------------------------------- mining
double SegmentWeight(const Segment& s, const RowState& st) {
  if (s.weight_slot < 0) return s.weight;
  const Cell& c = st.cells[static_cast<size_t>(s.weight_slot)];
  return c.missing() || std::isnan(c.v) ? s.weight : c.v;
}

void EvaluateMining(const Plan& plan, const SubModel& m, RowState& st) {
  const Segmentation& seg = plan.segmentations[static_cast<size_t>(m.body)];
  const auto mi = static_cast<size_t>(&m - plan.models.data());
  using M = MultipleModelMethod;
  const bool f32 = m.float_math;
  const size_t k = m.target.categories.size();
  double* probs = st.probs.data() + m.prob_offset;
  double* confs = st.confs.data() + m.prob_offset;
  std::fill(probs, probs + k, 0.0);
  std::fill(confs, confs + k, NAN);
  // Segments that do not run this row must not show an earlier row's result (segmentId outputs).
  for (const Segment& s : seg.segments) st.results[static_cast<size_t>(s.model)] = ModelResult{};

  if (seg.method == M::kSelectAll) {
    // Every segment whose predicate holds runs; the result lists their predictions.
    std::string list = "[";
    bool first = true;
    for (const Segment& s : seg.segments) {
      ModelResult& cr = st.results[static_cast<size_t>(s.model)];
      cr = ModelResult{};
      if (EvalPredicate(plan, s.pred, st, nullptr) != Tri::kTrue) continue;
      EvaluateModel(plan, s.model, st);
      if (!st.error.empty()) return;
      if (!first) list += ", ";
      first = false;
      const SubModel& cm = plan.models[static_cast<size_t>(s.model)];
      list += cr.has_prediction ? FormatValue(cr.prediction, cm.target.type, st.ctx) : "null";
    }
    list += "]";
    ModelResult& r = st.results[mi];
    r.has_prediction = true;
    r.prediction = st.ctx.Intern(list);
    r.target_applied = true;  // a list: Targets do not apply
    return;
  }
  if (seg.method == M::kSelectFirst || seg.method == M::kModelChain) {
    // Outputs of segments that do not run must not leak from an earlier row.
    if (seg.method == M::kSelectFirst)
      for (const Segment& s : seg.segments)
        for (const OutputPlan& op : plan.models[static_cast<size_t>(s.model)].outputs)
          st.cells[static_cast<size_t>(op.slot)] = Cell::Missing();
    const Segment* chosen = nullptr;
    for (const Segment& s : seg.segments) {
      if (EvalPredicate(plan, s.pred, st, nullptr) != Tri::kTrue) continue;
      EvaluateModel(plan, s.model, st);
      if (!st.error.empty()) return;
      if (seg.return_missing && !st.results[static_cast<size_t>(s.model)].has_prediction) return;
      chosen = &s;
      if (seg.method == M::kSelectFirst) break;
    }
    if (chosen == nullptr) return;
    const SubModel& cm = plan.models[static_cast<size_t>(chosen->model)];
    const ModelResult& cr = st.results[static_cast<size_t>(chosen->model)];
    ModelResult& r = st.results[mi];
    r.has_prediction = cr.has_prediction;
    r.prediction = cr.prediction;
    r.node = -1;
    if (m.function == MiningFunction::kClassification && cr.has_probs &&
        !chosen->category_map.empty()) {
      r.has_probs = true;
      for (size_t c = 0; c < chosen->category_map.size(); ++c) {
        probs[chosen->category_map[c]] = st.probs[static_cast<size_t>(cm.prob_offset) + c];
        confs[chosen->category_map[c]] = st.confs[static_cast<size_t>(cm.prob_offset) + c];
      }
    }
    return;
  }

  ModelResult& r = st.results[mi];
  if (m.function == MiningFunction::kRegression) {
    std::vector<double>& vals = st.seg_values[mi];
    std::vector<double>& weights = st.seg_weights[mi];
    vals.clear();
    weights.clear();
    for (const Segment& s : seg.segments) {
      if (EvalPredicate(plan, s.pred, st, nullptr) != Tri::kTrue) continue;
      EvaluateModel(plan, s.model, st);
      if (!st.error.empty()) return;
      const ModelResult& cr = st.results[static_cast<size_t>(s.model)];
      if (!cr.has_prediction) {
        if (seg.return_missing) return;
        continue;  // missingPredictionTreatment="continue"
      }
      vals.push_back(cr.prediction);
      weights.push_back(SegmentWeight(s, st));
    }
    if (vals.empty()) return;
    double out = 0;
    bool constant_added = false;
    switch (seg.method) {
      case M::kSum:
      case M::kAverage:
        // In float arithmetic (XGBoost), the sum starts from the target's rescaleConstant (the
        // base score), as XGBoost's own predictor accumulates; the constant is then not added
        // again. The order of float additions decides the last bits.
        if (f32 && seg.method == M::kSum && m.target.rescale_factor == 1 &&
            m.target.rescale_constant != 0 && m.target.min == -INFINITY &&
            m.target.max == INFINITY) {
          out = F32(m.target.rescale_constant);
          constant_added = true;
        }
        for (double x : vals) out = f32 ? F32(out + x) : out + x;
        if (seg.method == M::kAverage) out = f32 ? F32(out / vals.size()) : out / vals.size();
        break;
      case M::kWeightedSum:
      case M::kWeightedAverage: {
        double wsum = 0;
        for (size_t i = 0; i < vals.size(); ++i) {
          out = f32 ? F32(out + F32(vals[i] * weights[i])) : out + vals[i] * weights[i];
          wsum += weights[i];
        }
        if (seg.method == M::kWeightedAverage) out = f32 ? F32(out / wsum) : out / wsum;
        break;
      }
      case M::kMax:
        out = *std::max_element(vals.begin(), vals.end());
        break;
      case M::kMedian: {
        std::vector<double>& sorted = weights;  // weights are not needed for the median
        sorted = vals;
        std::sort(sorted.begin(), sorted.end());
        size_t h = sorted.size() / 2;
        out = sorted.size() % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
        break;
      }
      case M::kWeightedMedian: {
        // Sort by value; the median is the first value where the cumulative weight reaches half.
        std::vector<int32_t> order(vals.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
        std::sort(order.begin(), order.end(),
                  [&](int32_t a, int32_t b) { return vals[a] < vals[b]; });
        double total = 0;
        for (double w : weights) total += w;
        double cum = 0;
        out = vals[static_cast<size_t>(order.back())];
        for (int32_t i : order) {
          cum += weights[static_cast<size_t>(i)];
          if (cum >= total / 2) {
            out = vals[static_cast<size_t>(i)];
            break;
          }
        }
        break;
      }
      default:
        return;
    }
    r.has_prediction = true;
    r.prediction = out;
    r.target_applied = constant_added;
    return;
  }

  // Classification.
  double total = 0;
  int used = 0;
  double best_max = -INFINITY;
  std::vector<double>& medians = st.seg_values[mi];
  if (seg.method == M::kMedian) medians.clear();
  for (const Segment& s : seg.segments) {
    if (EvalPredicate(plan, s.pred, st, nullptr) != Tri::kTrue) continue;
    EvaluateModel(plan, s.model, st);
    if (!st.error.empty()) return;
    const SubModel& cm = plan.models[static_cast<size_t>(s.model)];
    const ModelResult& cr = st.results[static_cast<size_t>(s.model)];
    if (!cr.has_prediction) {
      if (seg.return_missing) return;
      continue;
    }
    ++used;
    const double* cp = st.probs.data() + cm.prob_offset;
    switch (seg.method) {
      case M::kMajorityVote:
      case M::kWeightedMajorityVote: {
        double w = seg.method == M::kWeightedMajorityVote ? SegmentWeight(s, st) : 1.0;
        auto it = std::find(m.target.categories.begin(), m.target.categories.end(), cr.prediction);
        if (it != m.target.categories.end()) probs[it - m.target.categories.begin()] += w;
        total += w;
        break;
      }
      case M::kAverage:
      case M::kWeightedAverage: {
        double w = seg.method == M::kWeightedAverage ? SegmentWeight(s, st) : 1.0;
        for (size_t c = 0; c < s.category_map.size(); ++c) {
          double add = cr.has_probs ? cp[c] : (cm.target.categories[c] == cr.prediction ? 1.0 : 0.0);
          double& dst = probs[s.category_map[c]];
          dst = f32 ? F32(dst + F32(w * add)) : (w == 1.0 ? dst + add : dst + w * add);
        }
        total += w;
        break;
      }
      case M::kMax: {
        // The segment whose winning class has the highest probability decides.
        double p = -INFINITY;
        for (size_t c = 0; c < s.category_map.size(); ++c)
          if (cm.target.categories[c] == cr.prediction) p = cr.has_probs ? cp[c] : 1.0;
        if (p > best_max) {
          best_max = p;
          std::fill(probs, probs + k, 0.0);
          for (size_t c = 0; c < s.category_map.size(); ++c)
            probs[s.category_map[c]] = cr.has_probs ? cp[c] : 0.0;
        }
        total = 1;
        break;
      }
      case M::kMedian: {
        for (size_t c = 0; c < s.category_map.size(); ++c) medians.push_back(cp[c]);
        break;
      }
      default:
        break;
    }
  }
  if (used == 0) return;
  if (seg.method == M::kMedian) {
    // medians holds used x categories, segment-major; take each category's median.
    size_t per = medians.size() / static_cast<size_t>(used);
    std::vector<double>& col = st.seg_weights[mi];
    for (size_t c = 0; c < per && c < k; ++c) {
      col.clear();
      for (int u = 0; u < used; ++u) col.push_back(medians[static_cast<size_t>(u) * per + c]);
      std::sort(col.begin(), col.end());
      size_t h = col.size() / 2;
      probs[c] = col.size() % 2 ? col[h] : (col[h - 1] + col[h]) / 2;
    }
  } else if (total > 0 && seg.method != M::kMax) {
    for (size_t c = 0; c < k; ++c) probs[c] = f32 ? F32(probs[c] / total) : probs[c] / total;
  }
  r.has_probs = true;
  double best = -INFINITY;
  for (size_t c = 0; c < k; ++c) {
    if (probs[c] > best) {
      best = probs[c];
      r.prediction = m.target.categories[c];
    }
  }
  r.has_prediction = true;
}

int32_t CategoryOf(const TargetPlan& t, double v) {
  auto it = std::find(t.categories.begin(), t.categories.end(), v);
  return it == t.categories.end() ? -1 : static_cast<int32_t>(it - t.categories.begin());
}

void EvaluateOutputs(const Plan& plan, const SubModel& own, RowState& st) {
  for (const OutputPlan& op : own.outputs) {
    // segmentId: the result features of that segment's model.
    const SubModel& m =
        op.segment_model >= 0 ? plan.models[static_cast<size_t>(op.segment_model)] : own;
    const ModelResult& r = st.results[static_cast<size_t>(&m - plan.models.data())];
    const TargetPlan& target = m.target;
    const bool classification = m.function == MiningFunction::kClassification;
    const double* probs = st.probs.data() + m.prob_offset;
    const double* confs = st.confs.data() + m.prob_offset;
    Cell out = Cell::Missing();
    ValueType from = ValueType::kNumber;
    switch (op.feature) {
      case ResultFeature::kPredictedValue:
        if (r.has_prediction) out = Cell::Valid(r.prediction);
        from = target.type;
        break;
      case ResultFeature::kPredictedDisplayValue:
        if (r.has_prediction) {
          from = target.type;
          out = Cell::Valid(r.prediction);
          for (size_t i = 0; i < target.display_keys.size(); ++i)
            if (target.display_keys[i] == r.prediction) {
              out = Cell::Valid(target.display_values[i]);
              from = ValueType::kString;
            }
        }
        break;
      case ResultFeature::kProbability: {
        if (!r.has_prediction || !classification || !r.has_probs) break;
        int32_t ci = op.has_value ? op.category : CategoryOf(target, r.prediction);
        out = Cell::Valid(ci >= 0 ? probs[ci] : 0.0);
        break;
      }
      case ResultFeature::kConfidence: {
        if (!r.has_prediction || !classification) break;
        int32_t ci = op.has_value ? op.category : CategoryOf(target, r.prediction);
        if (ci >= 0 && !std::isnan(confs[ci])) out = Cell::Valid(confs[ci] * r.penalty);
        break;
      }
      case ResultFeature::kEntityId:
        if (r.node >= 0) {
          out = Cell::Valid(plan.trees[static_cast<size_t>(m.body)].nodes[static_cast<size_t>(r.node)].id);
          from = ValueType::kString;
        }
        break;
      case ResultFeature::kTransformedValue:
      case ResultFeature::kDecision:
        out = EvalExpr(plan, op.expr, st);
        from = plan.exprs[static_cast<size_t>(op.expr)].type;
        if (out.invalid() && std::isnan(out.v)) out = Cell::Missing();
        break;
    }
    out = ConvertCell(out, from, op.type, st.ctx);
    if (out.invalid() && std::isnan(out.v)) out = Cell::Missing();
    st.cells[static_cast<size_t>(op.slot)] = out;
  }
}

}  // namespace

bool ApplyTreatments(const Plan& plan, const InputPlan& in, Cell c, RowState& st,
                     std::string_view raw_text) {
  if (c.s == CellState::kInvalid) {
    switch (in.invalid) {
      case InvalidTreatment::kReturnInvalid: {
        std::string_view name = in.field >= 0 ? std::string_view(plan.fields[static_cast<size_t>(in.field)].name)
                                              : std::string_view("?");
        st.error = fmt::format("invalid value '{}' for field '{}'", raw_text, name);
        return false;
      }
      case InvalidTreatment::kAsIs: break;
      case InvalidTreatment::kAsMissing: c = Cell::Missing(); break;
      case InvalidTreatment::kAsValue: c = in.invalid_replacement; break;
    }
  } else if (c.s == CellState::kValid && in.outliers != OutlierTreatment::kAsIs) {
    if (c.v < in.low || c.v > in.high) {
      if (in.outliers == OutlierTreatment::kAsMissingValues) c = Cell::Missing();
      else c.v = c.v < in.low ? in.low : in.high;
    }
  }
  if (c.s == CellState::kMissing && in.missing_replacement.s != CellState::kMissing)
    c = in.missing_replacement;
  st.cells[static_cast<size_t>(in.slot)] = c;
  return true;
}

void EvaluateModel(const Plan& plan, int32_t mi, RowState& st) {
  const SubModel& m = plan.models[static_cast<size_t>(mi)];
  ModelResult& r = st.results[static_cast<size_t>(mi)];
  r = ModelResult{};
  for (const InputPlan& in : m.inputs) {
    if (in.source_slot < 0) continue;  // bound to the input table, prepared by the scorer
    Cell c = st.cells[static_cast<size_t>(in.source_slot)];
    if (!ApplyTreatments(plan, in, c, st, "")) return;
  }
  for (const DerivedPlan& d : m.derived) {
    Cell c = EvalExpr(plan, d.expr, st);
    if (d.is_float && !c.missing()) c.v = F32(c.v);
    st.cells[static_cast<size_t>(d.slot)] = c;
  }
  if (!st.error.empty()) return;
  switch (m.kind) {
    case ModelKind::kTree: EvaluateTree(plan, m, st); break;
    case ModelKind::kRegression: EvaluateRegression(plan, m, st); break;
    case ModelKind::kMining: EvaluateMining(plan, m, st); break;
  }
  if (!st.error.empty()) return;
  const TargetPlan& target = m.target;
  ModelResult& res = st.results[static_cast<size_t>(mi)];
  if (m.function == MiningFunction::kClassification) {
    if (!res.has_prediction && !target.priors.empty()) {
      // No prediction: the Targets' prior probabilities stand in.
      double* probs = st.probs.data() + m.prob_offset;
      double best = -1;
      for (size_t c = 0; c < target.priors.size(); ++c) {
        probs[c] = target.priors[c];
        if (target.priors[c] > best) {
          best = target.priors[c];
          res.prediction = target.categories[c];
        }
      }
      res.has_prediction = true;
      res.has_probs = true;
    }
  } else {
    if (!res.has_prediction && !std::isnan(target.default_value)) {
      res.has_prediction = true;
      res.prediction = target.default_value;
    }
    if (res.has_prediction && !res.target_applied) {
      res.prediction = ApplyTarget(target, res.prediction, m.float_math);
    }
  }
  EvaluateOutputs(plan, m, st);
}

}  // namespace fluxscore::pmml
