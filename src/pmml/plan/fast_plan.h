// Compiled batch kernels for the model shapes that dominate production (decision trees,
// random forests, gradient boosting chains, linear/logistic regression over numeric inputs).
//
// A FastPlan is built at load when the whole document fits one of these shapes; the scorer then
// evaluates row blocks column-wise with many rows in flight per tree, and hands any row the
// kernel cannot decide exactly (a missing or invalid input, a tree without a prediction) to the
// row evaluator. Results are bit-identical to the row evaluator's (same arithmetic, same order;
// see eval/model_math.h) — a unit test checks it.
#pragma once

#include <cstdint>
#include <vector>

#include "pmml/plan/plan.h"

namespace fluxscore::pmml {

// One node of a flattened tree: go to child[0] when x <= threshold, else to child[1].
// (x < t is stored as x <= the next double below t, the same test for every non-NaN double.)
// A leaf is a node that loops to itself, so a walk can run a fixed number of steps without
// branches; FastForest::leaf_of_node says which leaf it is.
// Rows per kernel sub-block: the feature columns of one sub-block (features x 2048 doubles) stay
// in L1/L2 while every tree is walked over them.
inline constexpr size_t kFastBlockRows = 2048;

// Rows walked through one tree at the same time. Trees read a sub-block's rows in tiles of
// kFastLanes rows: tile g holds, feature by feature, the values of rows 16g..16g+15, so lane j
// of a walk finds feature f at tile + f * kFastLanes + j (x_offset = f * kFastLanes).
inline constexpr size_t kFastLanes = 16;

struct FNode {
  double threshold = 0;
  int32_t x_offset = 0;  // feature index * kFastLanes: the feature's place in a row tile
  int32_t child[2] = {0, 0};  // [0]: x <= threshold (left), [1]: otherwise (right); indexing by
                              // the comparison keeps the walk free of unpredictable branches
  int32_t pad = 0;
};

// Float32 forests (every feature a float field, every threshold a float value: scikit-learn
// trees through the exporter or JPMML) compare order-preserving integer keys instead of floats:
// FloatKey maps the floats (but NaN) to uint32 so that a < b as floats iff key(a) < key(b), with
// -0 just below +0 (thresholds are normalised to +0, so x <= t gives the same answer). A node
// stores LeftKey(t) = key(t) + 1, and a row goes left (x <= t) iff key(x) < LeftKey(t): one
// unsigned compare whose carry flag is the branch bit. A NaN threshold (x > NaN is false: left)
// acts as +inf. Inputs reaching the kernels are finite.
inline uint32_t FloatKey(float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, sizeof u);
  return u ^ (static_cast<uint32_t>(static_cast<int32_t>(u) >> 31) | 0x80000000u);
}
inline uint32_t LeftKey(float t) {
  if (t != t) t = __builtin_inff();
  if (t == 0) t = 0.0f;  // -0 -> +0
  return FloatKey(t) + 1;  // no overflow: key(+inf) = 0xff800000
}

// The same node for float32 forests, with the test as a key (see FloatKey): left iff
// key(x) < left_key, i.e. child[!(key(x) < left_key)].
struct FNode32 {
  uint32_t left_key = 0;
  int32_t x_offset = 0;
  int32_t child[2] = {0, 0};
};

// Trees no deeper than kPerfectMaxDepth are also laid out as perfect binary trees, numbered as a
// heap from 1 (stored at index p - 1): the children of p are 2p (x > t, right) and 2p + 1
// (x <= t, left), i.e. p = 2p + left, so a node holds only its test (8 bytes in float32), a walk
// computes the next position instead of loading it (on x86-64 the float32 step is
// load, load, cmp, adc), and after exactly `steps` steps p - 2^steps names a bottom slot. A leaf above the bottom becomes a test
// that always goes left (threshold +inf; inputs reaching kernels are finite). The leaf values
// of each bottom slot are stored inline (FastForest::bottom_values), so a walk ends with one
// load instead of bottom slot -> node -> leaf -> value.
inline constexpr int32_t kPerfectMaxDepth = 12;

struct PNode {
  double threshold = 0;
  int32_t x_offset = 0;
  int32_t pad = 0;
};

// The top kColumnLevels levels of a perfect tree are tested column-wise (every lane against
// every node of the level, with vector compares); the levels below lane by lane.
inline constexpr int32_t kColumnLevels = 4;

struct PNode32 {
  // See FloatKey. In the top kColumnLevels levels stored as left_key ^ 2^31, the signed form
  // that AVX2's signed compares need (broadcast straight from memory).
  uint32_t left_key = 0;
  int32_t x_offset = 0;
};

struct FastForest {
  std::vector<FNode> nodes;
  std::vector<FNode32> nodes32;       // when FastPlan::float_domain: parallel to nodes
  std::vector<int32_t> leaf_of_node;  // per node: leaf number, -1 for splits
  std::vector<int32_t> roots;         // per tree: root node
  std::vector<int32_t> steps;         // per tree: splits on its longest path
  std::vector<int32_t> tree_acc;      // per tree: first accumulator it adds into
  std::vector<double> leaf_values;    // `width` values per leaf (NaN: no prediction)
  std::vector<double> node_value;     // width 1: per node, its leaf's value (NaN for splits)
  std::vector<int32_t> leaf_pred;     // per leaf: predicted category (single classification tree)
  int32_t width = 1;                  // values per leaf: categories, or 1 for regression
  // Perfect layouts (see kPerfectMaxDepth); pnodes32 when FastPlan::float_domain, else pnodes.
  std::vector<PNode> pnodes;
  std::vector<PNode32> pnodes32;
  std::vector<int32_t> perfect_base;  // per tree: its first position in pnodes; -1: not laid out
  std::vector<int32_t> bottom_base;   // per tree: its first bottom slot
  size_t bottom_slots = 0;            // bottom slots of all perfect trees
  std::vector<int32_t> bottom;        // kTree: per bottom slot, the leaf number it reaches
  std::vector<double> bottom_values;  // other shapes: per bottom slot, its leaf's `width` values
  // kTree: per bottom slot, the row's whole result, so the walk writes it straight into the
  // outputs: classification, the leaf's `width` probabilities then the predicted category's
  // value (padded to bottom_stride: 4 for two categories); regression, the value after the
  // Targets. bottom_decided: 0 where the leaf has no prediction (the row evaluator decides).
  std::vector<double> bottom_out;
  std::vector<uint8_t> bottom_decided;
  size_t bottom_stride = 0;
};

enum class FastShape : uint8_t {
  kTree,           // one TreeModel
  kForestAverage,  // MiningModel average of TreeModels
  kForestSum,      // MiningModel sum of TreeModels (+ Targets)
  kChain,          // modelChain: sum-forests, then a classification RegressionModel over them
  kRegression,     // RegressionModel over numeric inputs
};

struct FastFeature {
  int32_t input = 0;  // index into the document model's inputs
  bool is_float = false;
  bool used = false;  // some split or regression term reads it
  std::vector<Interval> intervals;  // a value outside every interval is invalid (row fallback)
};

// How one output column is computed.
struct FastColumn {
  enum Kind : uint8_t { kPrediction, kProbability } kind = kPrediction;
  int32_t category = -1;  // kProbability: index into the document model's categories; -1 = none
};

struct FastPlan {
  FastShape shape = FastShape::kTree;
  bool float_domain = false;  // trees walk float32 inputs over FastForest::nodes32
  bool classification = false;
  std::vector<FastFeature> features;
  FastForest forest;
  int32_t num_acc = 1;   // accumulators per row
  int32_t trees = 0;
  // kChain: the sum models (one accumulator each) and the final RegressionModel.
  std::vector<int32_t> sum_models;
  std::vector<int32_t> sum_output_slots;  // the slot each sum model's value is read from
  int32_t final_model = -1;
  // kChain / kRegression: per term of the regression, the accumulator or feature it reads.
  std::vector<int32_t> term_source;
  std::vector<FastColumn> columns;  // parallel to Plan::columns
  std::vector<int32_t> final_to_root;  // final model's category index -> root category index
};

// Builds plan.fast when the document fits a supported shape (leaves it null otherwise).
void BuildFastPlan(Plan& plan);

}  // namespace fluxscore::pmml
