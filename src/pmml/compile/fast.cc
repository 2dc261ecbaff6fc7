// Recognises the document shapes that get compiled batch kernels and flattens their trees into
// FNode arrays (see plan/fast_plan.h). Anything outside these shapes keeps the row evaluator.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "pmml/eval/model_math.h"
#include "pmml/plan/fast_plan.h"

namespace fluxscore::pmml {
namespace {

void LayOutPerfectTrees(FastPlan& plan);
void TreeBottomOutputs(const Plan& doc, FastPlan& plan);

constexpr size_t kMaxFastDepth = 4096;  // deeper trees keep the row evaluator

class Builder {
 public:
  explicit Builder(const Plan& plan) : plan_(plan), fast_(std::make_shared<FastPlan>()) {}

  std::shared_ptr<FastPlan> Build();
  std::shared_ptr<FastPlan> BuildShape();
  bool FloatDomain() const;

 private:
  bool BindFeatures();
  // No derived fields, no float arithmetic, and nested MiningField treatments that cannot change
  // a present, valid value (the only values kernels see): such a field reads its feature.
  bool PlainModel(const SubModel& m) {
    if (!m.derived.empty() || m.float_math) return false;
    for (const InputPlan& in : m.inputs) {
      if (in.source_slot < 0) continue;
      auto fit = slot_feature_.find(in.source_slot);
      if (in.outliers != OutlierTreatment::kAsIs || fit == slot_feature_.end()) return false;
      slot_feature_[in.slot] = fit->second;
    }
    return true;
  }
  // Adds a tree; leaves hold `width` values in the document model's category order.
  bool AddTree(int32_t mi, int32_t acc, const std::vector<int32_t>* category_map);
  int32_t Chain(const Tree& t, int32_t ni, int32_t child, int depth);
  int32_t Subtree(const Tree& t, int32_t ni, int depth);
  int32_t Leaf(const Tree& t, int32_t ni, bool null_leaf);
  bool Columns(int32_t prediction_model);

  const Plan& plan_;
  std::shared_ptr<FastPlan> fast_;
  std::unordered_map<int32_t, int32_t> slot_feature_;  // root input slot -> feature
  bool float_domain_ = true;  // every split compares a float field with a float threshold
  // Per tree being added:
  int32_t mi_ = -1;
  const std::vector<int32_t>* map_ = nullptr;
  bool ok_ = true;
};

bool Builder::BindFeatures() {
  const SubModel& root = plan_.root();
  if (!root.derived.empty()) return false;
  for (size_t i = 0; i < root.inputs.size(); ++i) {
    const InputPlan& in = root.inputs[i];
    const FieldDef& f = plan_.fields[static_cast<size_t>(in.field)];
    if (f.type != ValueType::kNumber) continue;  // not usable by kernels (a split on it fails)
    // Valid values only matter through validity, which kernels check as intervals; categorical
    // value lists and outlier treatments of valid values need the row evaluator.
    if (!f.valid_values.empty() || !f.invalid_values.empty() || !f.missing_values.empty() ||
        in.outliers != OutlierTreatment::kAsIs || f.data_type == DataType::kInteger)
      continue;
    FastFeature ff;
    ff.input = static_cast<int32_t>(i);
    ff.is_float = f.is_float;
    ff.intervals = f.intervals;
    slot_feature_[in.slot] = static_cast<int32_t>(fast_->features.size());
    fast_->features.push_back(std::move(ff));
  }
  return true;
}

// A leaf: a self-looping node carrying leaf number `leaf`.
int32_t LeafNode(FastForest& f, int32_t leaf) {
  const int32_t index = static_cast<int32_t>(f.nodes.size());
  FNode node;
  node.child[0] = node.child[1] = index;
  f.nodes.push_back(node);
  FNode32 node32;
  node32.child[0] = node32.child[1] = index;
  f.nodes32.push_back(node32);
  f.leaf_of_node.push_back(leaf);
  return index;
}

int32_t Builder::Leaf(const Tree& t, int32_t ni, bool null_leaf) {
  FastForest& f = fast_->forest;
  const int32_t leaf = static_cast<int32_t>(f.leaf_pred.size());
  const int32_t node = LeafNode(f, leaf);
  const SubModel& m = plan_.models[static_cast<size_t>(mi_)];
  if (null_leaf) {
    f.leaf_values.insert(f.leaf_values.end(), static_cast<size_t>(f.width), NAN);
    f.leaf_pred.push_back(-1);
    return node;
  }
  const TreeNode& n = t.nodes[static_cast<size_t>(ni)];
  if (m.function == MiningFunction::kRegression) {
    f.leaf_values.push_back(n.has_score ? n.score : NAN);
    f.leaf_pred.push_back(-1);
    return node;
  }
  // Classification: the node's distribution in root category order, its predicted class.
  if (n.dist_begin == n.dist_end) {
    ok_ = false;  // a vote without probabilities: row evaluator
    return node;
  }
  std::vector<double> values(static_cast<size_t>(f.width), 0.0);
  double best = -1;
  int32_t best_cat = -1;
  for (int32_t d = n.dist_begin; d < n.dist_end; ++d) {
    const ScoreDist& sd = t.dists[static_cast<size_t>(d)];
    int32_t c = map_ != nullptr ? (*map_)[static_cast<size_t>(sd.category)] : sd.category;
    values[static_cast<size_t>(c)] = sd.probability;
    if (sd.probability > best) {
      best = sd.probability;
      best_cat = c;
    }
  }
  int32_t pred = best_cat;
  if (n.has_score) {
    const auto& cats = m.target.categories;
    auto it = std::find(cats.begin(), cats.end(), n.score);
    int32_t local = static_cast<int32_t>(it - cats.begin());
    pred = map_ != nullptr ? (*map_)[static_cast<size_t>(local)] : local;
  }
  f.leaf_values.insert(f.leaf_values.end(), values.begin(), values.end());
  f.leaf_pred.push_back(pred);
  return node;
}

int32_t Builder::Subtree(const Tree& t, int32_t ni, int depth) {
  const TreeNode& n = t.nodes[static_cast<size_t>(ni)];
  if (n.num_children == 0) return Leaf(t, ni, false);
  return Chain(t, ni, n.first_child, depth);
}

// The children of node ni from `child` on, as a chain of binary tests (first TRUE child wins).
int32_t Builder::Chain(const Tree& t, int32_t ni, int32_t child, int depth) {
  if (!ok_ || depth > static_cast<int>(kMaxFastDepth)) {
    ok_ = false;
    return 0;
  }
  const TreeNode& n = t.nodes[static_cast<size_t>(ni)];
  if (child >= n.first_child + n.num_children) {
    // No child is true: noTrueChildStrategy.
    return Leaf(t, ni, !(t.no_true_child_last && n.has_score));
  }
  const TreeNode& c = t.nodes[static_cast<size_t>(child)];
  const Predicate& p = plan_.predicates[static_cast<size_t>(c.pred)];
  if (p.kind == PredKind::kTrue) return Subtree(t, child, depth + 1);
  if (p.kind == PredKind::kFalse) return Chain(t, ni, child + 1, depth + 1);
  if (p.kind != PredKind::kSimple || p.by_text || p.op == CmpOp::kEq || p.op == CmpOp::kNe) {
    ok_ = false;
    return 0;
  }
  auto fit = slot_feature_.find(p.slot);
  if (fit == slot_feature_.end()) {
    ok_ = false;
    return 0;
  }
  FNode node;
  node.x_offset = fit->second * static_cast<int32_t>(kFastLanes);
  fast_->features[static_cast<size_t>(fit->second)].used = true;
  // x >= t and x > t are the negations of x < t and x <= t (inputs here are never NaN), and
  // x < t is x <= nextafter(t, -inf).
  bool negated = p.op == CmpOp::kGe || p.op == CmpOp::kGt;
  bool strict = p.op == CmpOp::kLt || p.op == CmpOp::kGe;
  node.threshold = strict ? std::nextafter(p.value, -INFINITY) : p.value;
  // The float32 form of the same test, when the feature and the threshold are float values.
  FNode32 node32;
  node32.x_offset = node.x_offset;
  const float tf = static_cast<float>(p.value);
  if (!fast_->features[static_cast<size_t>(fit->second)].is_float ||
      static_cast<double>(tf) != p.value)
    float_domain_ = false;
  node32.left_key = LeftKey(strict ? std::nextafter(tf, -INFINITY) : tf);
  const int32_t index = static_cast<int32_t>(fast_->forest.nodes.size());
  fast_->forest.nodes.push_back(node);
  fast_->forest.nodes32.push_back(node32);
  fast_->forest.leaf_of_node.push_back(-1);
  int32_t taken = Subtree(t, child, depth + 1);
  // The common binary split: the next and last child is the complement of this one.
  int32_t other;
  int32_t next = child + 1;
  bool complement = false;
  if (next == n.first_child + n.num_children - 1) {
    const Predicate& q = plan_.predicates[static_cast<size_t>(t.nodes[static_cast<size_t>(next)].pred)];
    auto complement_op = [](CmpOp o) {
      switch (o) {
        case CmpOp::kLe: return CmpOp::kGt;
        case CmpOp::kGt: return CmpOp::kLe;
        case CmpOp::kLt: return CmpOp::kGe;
        default: return CmpOp::kLt;
      }
    };
    complement = q.kind == PredKind::kTrue ||
                 (q.kind == PredKind::kSimple && !q.by_text && q.slot == p.slot &&
                  q.value == p.value && q.op == complement_op(p.op));
  }
  other = complement ? Subtree(t, next, depth + 1) : Chain(t, ni, next, depth + 1);
  FNode& stored = fast_->forest.nodes[static_cast<size_t>(index)];
  stored.child[0] = negated ? other : taken;
  stored.child[1] = negated ? taken : other;
  FNode32& stored32 = fast_->forest.nodes32[static_cast<size_t>(index)];
  stored32.child[0] = stored.child[0];
  stored32.child[1] = stored.child[1];
  return index;
}

bool Builder::AddTree(int32_t mi, int32_t acc, const std::vector<int32_t>* category_map) {
  const SubModel& m = plan_.models[static_cast<size_t>(mi)];
  if (m.kind != ModelKind::kTree || !PlainModel(m)) return false;
  const Tree& t = plan_.trees[static_cast<size_t>(m.body)];
  if (t.max_depth > kMaxFastDepth || t.missing == MissingStrategy::kWeightedConfidence ||
      t.missing == MissingStrategy::kAggregateNodes)
    return false;
  const Predicate& root_pred = plan_.predicates[static_cast<size_t>(t.nodes[0].pred)];
  if (root_pred.kind != PredKind::kTrue) return false;
  mi_ = mi;
  map_ = category_map;
  ok_ = true;
  int32_t root = Subtree(t, 0, 0);
  if (!ok_) return false;
  // Splits on the longest path: the number of steps a walk needs to reach any leaf.
  FastForest& f = fast_->forest;
  int32_t steps = 0;
  std::vector<std::pair<int32_t, int32_t>> stack = {{root, 0}};
  while (!stack.empty()) {
    auto [node, d] = stack.back();
    stack.pop_back();
    if (f.leaf_of_node[static_cast<size_t>(node)] >= 0) {
      steps = std::max(steps, d);
      continue;
    }
    stack.emplace_back(f.nodes[static_cast<size_t>(node)].child[0], d + 1);
    stack.emplace_back(f.nodes[static_cast<size_t>(node)].child[1], d + 1);
  }
  f.steps.push_back(steps);
  fast_->forest.roots.push_back(root);
  fast_->forest.tree_acc.push_back(acc);
  ++fast_->trees;
  return true;
}

bool Builder::Columns(int32_t prediction_model) {
  // prediction_model: the model whose OutputFields may be exposed besides the root's own.
  const SubModel& root = plan_.root();
  for (const OutputColumn& col : plan_.columns) {
    FastColumn fc;
    if (col.slots.size() != 1) return false;
    int32_t slot = col.slots[0];
    if (slot < 0) {
      fc.kind = FastColumn::kPrediction;
      fast_->columns.push_back(fc);
      continue;
    }
    const OutputPlan* op = nullptr;
    const SubModel* owner = nullptr;
    for (int32_t mi : {0, prediction_model}) {
      if (mi < 0) continue;
      for (const OutputPlan& o : plan_.models[static_cast<size_t>(mi)].outputs)
        if (o.slot == slot) {
          op = &o;
          owner = &plan_.models[static_cast<size_t>(mi)];
        }
    }
    if (op == nullptr) return false;
    if (op->feature == ResultFeature::kPredictedValue && op->type == owner->target.type) {
      fc.kind = FastColumn::kPrediction;
    } else if (op->feature == ResultFeature::kProbability && op->type == ValueType::kNumber &&
               op->has_value && fast_->classification) {
      fc.kind = FastColumn::kProbability;
      // The category in the root's order.
      const auto& cats = root.target.categories;
      auto it = std::find(cats.begin(), cats.end(), op->value);
      fc.category = it == cats.end() ? -1 : static_cast<int32_t>(it - cats.begin());
    } else {
      return false;
    }
    fast_->columns.push_back(fc);
  }
  return true;
}

std::shared_ptr<FastPlan> Builder::Build() {
  std::shared_ptr<FastPlan> plan = BuildShape();
  if (plan == nullptr) return plan;
  plan->float_domain = FloatDomain();
  FastForest& f = plan->forest;
  if (f.width == 1) {
    f.node_value.assign(f.nodes.size(), NAN);
    for (size_t i = 0; i < f.nodes.size(); ++i)
      if (f.leaf_of_node[i] >= 0)
        f.node_value[i] = f.leaf_values[static_cast<size_t>(f.leaf_of_node[i])];
  }
  LayOutPerfectTrees(*plan);
  TreeBottomOutputs(plan_, *plan);
  return plan;
}

std::shared_ptr<FastPlan> Builder::BuildShape() {
  const SubModel& root = plan_.root();
  if (!BindFeatures() || root.float_math) return nullptr;
  fast_->classification = root.function == MiningFunction::kClassification;
  // Targets whose classification priors would apply are rare for these shapes; rows without a
  // prediction fall back anyway, so priors need no kernel support.
  const size_t k = root.target.categories.size();
  if (root.kind == ModelKind::kTree) {
    fast_->shape = FastShape::kTree;
    fast_->forest.width = fast_->classification ? static_cast<int32_t>(k) : 1;
    fast_->num_acc = fast_->forest.width;
    if (!AddTree(0, 0, nullptr)) return nullptr;
    if (!Columns(-1)) return nullptr;
    return fast_;
  }
  if (root.kind == ModelKind::kRegression) {
    if (!PlainModel(root)) return nullptr;
    const Regression& reg = plan_.regressions[static_cast<size_t>(root.body)];
    for (const RegTerm& term : reg.terms) {
      auto fit = slot_feature_.find(term.slot);
      if (term.kind != RegTerm::kNumeric || term.exponent != 1 || fit == slot_feature_.end())
        return nullptr;
      fast_->features[static_cast<size_t>(fit->second)].used = true;
      fast_->term_source.push_back(fit->second);
    }
    if (fast_->classification) {
      for (const RegTable& t : reg.tables) fast_->final_to_root.push_back(t.category_index);
    }
    fast_->shape = FastShape::kRegression;
    fast_->final_model = 0;
    fast_->num_acc = static_cast<int32_t>(reg.tables.size());
    if (!Columns(-1)) return nullptr;
    return fast_;
  }
  // MiningModel shapes.
  if (!PlainModel(root)) return nullptr;
  const Segmentation& seg = plan_.segmentations[static_cast<size_t>(root.body)];
  for (const Segment& s : seg.segments)
    if (plan_.predicates[static_cast<size_t>(s.pred)].kind != PredKind::kTrue ||
        s.weight_slot >= 0)
      return nullptr;
  using M = MultipleModelMethod;
  if (seg.method == M::kAverage || seg.method == M::kSum) {
    if (seg.method == M::kSum && fast_->classification) return nullptr;
    fast_->shape = seg.method == M::kAverage ? FastShape::kForestAverage : FastShape::kForestSum;
    fast_->forest.width = fast_->classification ? static_cast<int32_t>(k) : 1;
    fast_->num_acc = fast_->forest.width;
    for (const Segment& s : seg.segments) {
      const SubModel& cm = plan_.models[static_cast<size_t>(s.model)];
      if (!cm.outputs.empty()) return nullptr;
      if (!AddTree(s.model, 0, fast_->classification ? &s.category_map : nullptr)) return nullptr;
    }
    if (!Columns(-1)) return nullptr;
    return fast_;
  }
  if (seg.method == M::kModelChain && fast_->classification && seg.segments.size() >= 2) {
    // [sum-forest with a predictedValue output]... then a classification RegressionModel.
    const Segment& last = seg.segments.back();
    const SubModel& fm = plan_.models[static_cast<size_t>(last.model)];
    if (fm.kind != ModelKind::kRegression || fm.function != MiningFunction::kClassification ||
        !PlainModel(fm))
      return nullptr;
    fast_->forest.width = 1;
    for (size_t i = 0; i + 1 < seg.segments.size(); ++i) {
      const SubModel& sm = plan_.models[static_cast<size_t>(seg.segments[i].model)];
      if (sm.kind != ModelKind::kMining || sm.function != MiningFunction::kRegression ||
          !PlainModel(sm) || sm.outputs.size() != 1 ||
          sm.outputs[0].feature != ResultFeature::kPredictedValue ||
          sm.outputs[0].type != ValueType::kNumber)
        return nullptr;
      const Segmentation& inner = plan_.segmentations[static_cast<size_t>(sm.body)];
      if (inner.method != M::kSum) return nullptr;
      const int32_t acc = static_cast<int32_t>(i);
      for (const Segment& s : inner.segments) {
        if (plan_.predicates[static_cast<size_t>(s.pred)].kind != PredKind::kTrue) return nullptr;
        if (!plan_.models[static_cast<size_t>(s.model)].outputs.empty()) return nullptr;
        if (!AddTree(s.model, acc, nullptr)) return nullptr;
      }
      fast_->sum_models.push_back(seg.segments[i].model);
      fast_->sum_output_slots.push_back(sm.outputs[0].slot);
    }
    const Regression& reg = plan_.regressions[static_cast<size_t>(fm.body)];
    for (const RegTerm& term : reg.terms) {
      auto it = std::find(fast_->sum_output_slots.begin(), fast_->sum_output_slots.end(), term.slot);
      if (term.kind != RegTerm::kNumeric || term.exponent != 1 ||
          it == fast_->sum_output_slots.end())
        return nullptr;
      fast_->term_source.push_back(static_cast<int32_t>(it - fast_->sum_output_slots.begin()));
    }
    for (const RegTable& t : reg.tables)
      fast_->final_to_root.push_back(
          last.category_map[static_cast<size_t>(t.category_index)]);
    fast_->shape = FastShape::kChain;
    fast_->final_model = last.model;
    fast_->num_acc = static_cast<int32_t>(fast_->sum_models.size());
    if (!Columns(last.model)) return nullptr;
    return fast_;
  }
  return nullptr;
}

// Lays out every tree of at most kPerfectMaxDepth steps as a perfect binary tree (see
// fast_plan.h); deeper trees keep only the linked layout.
void LayOutPerfectTrees(FastPlan& plan) {
  FastForest& f = plan.forest;
  const bool f32 = plan.float_domain;
  for (size_t t = 0; t < f.roots.size(); ++t) {
    const int32_t depth = f.steps[t];
    if (depth > kPerfectMaxDepth) {
      f.perfect_base.push_back(-1);
      f.bottom_base.push_back(-1);
      continue;
    }
    const size_t internal = (size_t{1} << depth) - 1;
    const size_t pbase = f32 ? f.pnodes32.size() : f.pnodes.size();
    const size_t bbase = f.bottom_slots;
    f.perfect_base.push_back(static_cast<int32_t>(pbase));
    f.bottom_base.push_back(static_cast<int32_t>(bbase));
    // Always-left tests read the root's feature (a column the block holds) against +inf.
    const int32_t any_offset = f.nodes[static_cast<size_t>(f.roots[t])].x_offset;
    PNode left;
    left.threshold = INFINITY;
    left.x_offset = any_offset;
    PNode32 left32;
    left32.left_key = LeftKey(INFINITY);
    left32.x_offset = any_offset;
    if (f32) {
      f.pnodes32.resize(pbase + internal, left32);
    } else {
      f.pnodes.resize(pbase + internal, left);
    }
    std::vector<int32_t> slot_leaf(internal + 1, -1);
    // (node, position, depth) — iterative, positions are below 2^13.
    std::vector<std::array<int32_t, 3>> stack = {{f.roots[t], 0, 0}};
    while (!stack.empty()) {
      auto [node, pos, d] = stack.back();
      stack.pop_back();
      const size_t un = static_cast<size_t>(node);
      if (d == depth) {
        slot_leaf[static_cast<size_t>(pos) - internal] = f.leaf_of_node[un];
        continue;
      }
      const bool leaf = f.leaf_of_node[un] >= 0;
      if (!leaf) {
        if (f32) {
          f.pnodes32[pbase + static_cast<size_t>(pos)] = {f.nodes32[un].left_key,
                                                          f.nodes32[un].x_offset};
        } else {
          PNode& p = f.pnodes[pbase + static_cast<size_t>(pos)];
          p.threshold = f.nodes[un].threshold;
          p.x_offset = f.nodes[un].x_offset;
        }
      }
      // Index pos holds heap position pos + 1: right child at index 2 * pos + 1, left at + 2.
      stack.push_back({leaf ? node : f.nodes[un].child[1], 2 * pos + 1, d + 1});
      stack.push_back({leaf ? node : f.nodes[un].child[0], 2 * pos + 2, d + 1});
    }
    if (f32) {
      const size_t column_nodes = (size_t{1} << std::min(depth, kColumnLevels)) - 1;
      for (size_t i = 0; i < column_nodes; ++i) f.pnodes32[pbase + i].left_key ^= 0x80000000u;
    }
    f.bottom_slots += internal + 1;
    if (plan.shape == FastShape::kTree) {
      f.bottom.insert(f.bottom.end(), slot_leaf.begin(), slot_leaf.end());
      continue;
    }
    const size_t W = static_cast<size_t>(f.width);
    for (int32_t leaf : slot_leaf) {
      const double* lv = f.leaf_values.data() + static_cast<size_t>(leaf) * W;
      f.bottom_values.insert(f.bottom_values.end(), lv, lv + W);
    }
  }
}

// A single perfect tree: each bottom slot's whole result (FastForest::bottom_out), what
// RunFastKernels would compute from the slot's leaf — the same values, so the same bits.
void TreeBottomOutputs(const Plan& doc, FastPlan& plan) {
  FastForest& f = plan.forest;
  if (plan.shape != FastShape::kTree || f.perfect_base.empty() || f.perfect_base[0] < 0) return;
  const SubModel& root = doc.root();
  const std::vector<double>& cats = root.target.categories;
  const size_t W = static_cast<size_t>(f.width);
  const size_t stride = !plan.classification ? 1 : W == 2 ? 4 : W + 1;
  f.bottom_stride = stride;
  f.bottom_out.assign(f.bottom.size() * stride, NAN);
  f.bottom_decided.assign(f.bottom.size(), 0);
  for (size_t s = 0; s < f.bottom.size(); ++s) {
    const size_t leaf = static_cast<size_t>(f.bottom[s]);
    double* out = f.bottom_out.data() + s * stride;
    if (plan.classification) {
      const double* lv = f.leaf_values.data() + leaf * W;
      std::copy(lv, lv + W, out);
      if (f.leaf_pred[leaf] < 0 || std::isnan(lv[0])) continue;
      out[W] = cats[static_cast<size_t>(f.leaf_pred[leaf])];
    } else {
      const double v = f.leaf_values[leaf];
      if (std::isnan(v)) continue;
      out[0] = ApplyTarget(root.target, v, false);
    }
    f.bottom_decided[s] = 1;
  }
}

}  // namespace

void BuildFastPlan(Plan& plan) {
  Builder b(plan);
  plan.fast = b.Build();
}

bool Builder::FloatDomain() const { return float_domain_ && fast_->trees > 0; }

}  // namespace fluxscore::pmml
