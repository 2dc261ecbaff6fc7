// The compiled plan: everything the evaluator needs, in flat arrays, with fields bound to slots
// and every string interned. Produced by src/pmml/compile, consumed by src/pmml/eval; nothing
// here refers to XML.
//
// Row model: evaluation of one row works on an array of Cells indexed by slot. Slots
// [0, num_inputs) are the active input fields (filled from the input table after MiningSchema
// treatments); then derived fields, model-internal values and output fields.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fluxscore/pmml/model.h"
#include "pmml/eval/builtins.h"
#include "pmml/plan/value.h"

namespace fluxscore::pmml {

// ---------------------------------------------------------------- expressions
enum class ExprKind : uint8_t {
  kConstant,      // value
  kFieldRef,      // slot
  kNormContinuous,
  kNormDiscrete,  // slot == value -> 1 else 0
  kDiscretize,
  kMapValues,
  kApply,         // builtin over args
  kIf,            // lazily evaluated if(cond, then[, else])
  kTextIndex,     // term frequency of args[1] (term) in args[0] (text); aux -> text_indexes
};

enum class OutlierTreatment : uint8_t { kAsIs, kAsMissingValues, kAsExtremeValues };
enum class InvalidTreatment : uint8_t { kReturnInvalid, kAsIs, kAsMissing, kAsValue };

struct Interval {  // a closure: leftMargin/rightMargin with open/closed ends; NaN = unbounded
  double left = -INFINITY, right = INFINITY;
  bool left_closed = true, right_closed = true;
  bool Contains(double x) const {
    return (left_closed ? x >= left : x > left) && (right_closed ? x <= right : x < right);
  }
};

struct Expr {
  ExprKind kind = ExprKind::kConstant;
  ValueType type = ValueType::kNumber;
  int32_t slot = -1;                // kFieldRef, kNormContinuous, kNormDiscrete, kDiscretize
  Cell value;                       // kConstant; kNormDiscrete: the compared value
  Cell map_missing_to;              // state kMissing = not set
  Cell default_value;               // state kMissing = not set
  int32_t args_begin = 0, args_end = 0;  // range in Plan::expr_args (kApply, kIf, kMapValues)
  int32_t aux = -1;                 // index into Plan::builtin_calls / norm_tables / discretizations / map_tables
  InvalidTreatment invalid = InvalidTreatment::kReturnInvalid;  // kApply
  OutlierTreatment outliers = OutlierTreatment::kAsIs;          // kNormContinuous
};

struct NormTable {  // NormContinuous LinearNorm points, sorted by orig
  std::vector<double> orig, norm;
};
struct Discretization {
  std::vector<Interval> bins;
  std::vector<Cell> bin_values;
};
struct TextIndexPlan {
  enum class Tokenizer : uint8_t { kSplitWhitespace, kSplitRegex, kMatchWord2, kMatchWord1, kMatchRegex };
  enum class Weights : uint8_t { kTermFrequency, kBinary, kLogarithmic };
  Tokenizer tokenizer = Tokenizer::kSplitWhitespace;
  std::string regex;  // kSplitRegex / kMatchRegex
  Weights weights = Weights::kTermFrequency;
  bool case_sensitive = false;
  int max_levenshtein = 0;
  bool best_hits = false;
};

struct MapTable {  // MapValues over an InlineTable: rows of input values -> output value
  int32_t num_inputs = 0;
  std::vector<Cell> inputs;   // row-major, num_inputs per row
  std::vector<Cell> outputs;  // one per row
};

// ---------------------------------------------------------------- fields
struct FieldDef {
  std::string name;
  DataType data_type = DataType::kDouble;
  OpType op_type = OpType::kContinuous;
  ValueType type = ValueType::kNumber;
  bool is_float = false;  // dataType="float": values rounded to float32 on input
  // Validity (DataField): declared valid values (sorted), invalid and missing markers, intervals.
  std::vector<double> valid_values;
  std::vector<double> invalid_values;
  std::vector<double> missing_values;
  bool nan_is_missing = false;  // <Value value="NaN" property="missing"/> (kept out of the
                                // sorted lists: NaN does not order)
  std::vector<Interval> intervals;
  std::vector<double> ordinal_order;  // ordinal fields: values in declaration order
  std::vector<std::string> value_texts;  // declared valid values as text (for FieldInfo)
};

// One active input field after MiningSchema treatments.
struct InputPlan {
  int32_t field = -1;  // index into Plan::fields (validity), -1 for nested non-data fields
  int32_t source_slot = -1;  // nested models: the parent's slot; -1 = bound to the input table
  int32_t slot = -1;
  Cell missing_replacement;  // state kMissing = none
  InvalidTreatment invalid = InvalidTreatment::kReturnInvalid;
  Cell invalid_replacement;  // asValue
  OutlierTreatment outliers = OutlierTreatment::kAsIs;
  double low = -INFINITY, high = INFINITY;
};

struct DerivedPlan {
  std::string name;
  int32_t slot = -1;
  int32_t expr = -1;
  bool is_float = false;  // round results to float32
  ValueType type = ValueType::kNumber;
};

// ---------------------------------------------------------------- predicates
enum class PredKind : uint8_t {
  kTrue, kFalse, kSimple, kIsMissing, kIsNotMissing, kSetIn, kSetNotIn,
  kAnd, kOr, kXor, kSurrogate,
};
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Predicate {
  PredKind kind = PredKind::kTrue;
  CmpOp op = CmpOp::kEq;
  bool by_text = false;      // string ordering comparisons (lessThan on strings) use text
  int32_t slot = -1;
  int32_t field = -1;        // ordinal field whose declared order ranks by_text comparisons
  double value = 0;
  int32_t begin = 0, end = 0;  // kSet*: range in Plan::set_values (sorted); compound: children
};

// ---------------------------------------------------------------- trees
enum class MissingStrategy : uint8_t {
  kNone, kLastPrediction, kNullPrediction, kDefaultChild, kWeightedConfidence, kAggregateNodes,
};

struct ScoreDist {
  double value = 0;          // category (string code or number)
  double record_count = NAN;
  double probability = NAN;  // NaN = not given
  double confidence = NAN;
  int32_t category = -1;     // index into TargetPlan::categories (classification)
};

struct TreeNode {
  int32_t pred = 0;           // index into Plan::predicates
  int32_t first_child = -1;   // children are contiguous
  int32_t num_children = 0;
  int32_t default_child = -1;  // absolute node index
  int32_t dist_begin = 0, dist_end = 0;  // range in Tree::dists
  bool has_score = false;
  double score = NAN;         // category code / number
  double record_count = NAN;
  double id = NAN;            // entity id: string code, NaN = none
};

struct Tree {
  std::vector<TreeNode> nodes;  // nodes[0] is the root
  std::vector<ScoreDist> dists;
  MissingStrategy missing = MissingStrategy::kNone;
  double missing_penalty = 1.0;
  bool no_true_child_last = false;  // noTrueChildStrategy="returnLastPrediction"
  size_t max_depth = 0;
};

// ---------------------------------------------------------------- targets and outputs
struct TargetPlan {
  int32_t field = -1;  // index into Plan::fields, -1 = model has no declared target
  std::string name;
  ValueType type = ValueType::kNumber;
  double rescale_factor = 1, rescale_constant = 0;
  double min = -INFINITY, max = INFINITY;
  int cast_mode = 0;  // 0 none, 1 round, 2 ceiling, 3 floor
  // Classification: the categories, in the order probabilities are reported.
  std::vector<double> categories;
  std::vector<double> priors;              // TargetValue priorProbability (same order), may be empty
  std::vector<double> display_keys;        // TargetValue value -> displayValue
  std::vector<double> display_values;
  double default_value = NAN;              // TargetValue defaultValue (regression)
};

enum class ResultFeature : uint8_t {
  kPredictedValue, kPredictedDisplayValue, kProbability, kConfidence, kEntityId,
  kTransformedValue, kDecision,
};

struct OutputPlan {
  std::string name;
  ResultFeature feature = ResultFeature::kPredictedValue;
  ValueType type = ValueType::kNumber;
  DataType data_type = DataType::kDouble;
  OpType op_type = OpType::kContinuous;
  bool final_result = true;
  bool has_value = false;  // probability/confidence for a specific category
  double value = 0;        // the category
  int32_t category = -1;   // index of `value` in the model's target categories
  int32_t expr = -1;       // transformedValue / decision expression
  int32_t slot = -1;       // where the result is stored for later output fields
  int32_t segment_model = -1;  // segmentId: the result is that segment's model's
};

// ---------------------------------------------------------------- regression models
enum class RegNorm : uint8_t {
  kNone, kSimplemax, kSoftmax, kLogit, kProbit, kCloglog, kExp, kLoglog, kCauchit,
};
struct RegTerm {
  enum Kind : uint8_t { kNumeric, kCategorical, kProduct } kind = kNumeric;
  int32_t slot = -1;      // numeric / categorical field
  double exponent = 1;    // numeric
  double value = 0;       // categorical: the matched value
  double coef = 0;
  int32_t begin = 0, end = 0;  // kProduct: range in Regression::product_slots
};
struct RegTable {
  double intercept = 0;
  double category = NAN;  // classification: target category
  int32_t category_index = -1;
  int32_t begin = 0, end = 0;  // terms
};
struct Regression {
  std::vector<RegTable> tables;
  std::vector<RegTerm> terms;
  std::vector<int32_t> product_slots;
  RegNorm norm = RegNorm::kNone;
};

// ---------------------------------------------------------------- mining models
enum class MultipleModelMethod : uint8_t {
  kMajorityVote, kWeightedMajorityVote, kAverage, kWeightedAverage, kMedian, kWeightedMedian,
  kMax, kSum, kWeightedSum, kSelectFirst, kSelectAll, kModelChain,
};
struct Segment {
  std::string id;
  int32_t pred = 0;
  int32_t model = -1;
  double weight = 1;
  int32_t weight_slot = -1;  // VariableWeight: the weight is this field's value per row
  std::vector<int32_t> category_map;  // child category index -> parent category index
};
struct Segmentation {
  MultipleModelMethod method = MultipleModelMethod::kModelChain;
  bool return_missing = false;  // missingPredictionTreatment returnMissing
  std::vector<Segment> segments;
};

// ---------------------------------------------------------------- models
enum class ModelKind : uint8_t { kTree, kRegression, kMining };
enum class MiningFunction : uint8_t { kClassification, kRegression };

struct SubModel {
  ModelKind kind = ModelKind::kTree;
  MiningFunction function = MiningFunction::kRegression;
  std::string element;        // "TreeModel"
  std::string function_name;  // "classification"
  std::vector<InputPlan> inputs;     // MiningFields with treatments (root: every active field)
  std::vector<DerivedPlan> derived;  // evaluated before the body, in this order
  TargetPlan target;
  std::vector<OutputPlan> outputs;
  int32_t body = -1;         // index into Plan::trees / regressions / segmentations
  int32_t prob_offset = 0;   // this model's per-category scratch in RowState
  bool float_math = false;   // x-mathContext="float": aggregate in float32
};

struct FastPlan;  // plan/fast_plan.h

// One column of Score's output table.
struct OutputColumn {
  FieldInfo info;
  ValueType type = ValueType::kNumber;
  // The column's value is the first non-missing of these slots; -1 = the root prediction.
  std::vector<int32_t> slots;
};

struct Plan {
  std::string source;        // file name for messages
  std::string pmml_version;

  StringPool pool;
  std::vector<FieldDef> fields;  // data dictionary
  std::vector<Expr> exprs;
  std::vector<int32_t> expr_args;
  std::vector<BuiltinCall> builtin_calls;
  std::vector<std::string> builtin_names;  // function name per builtin_calls entry (messages)
  std::vector<NormTable> norm_tables;
  std::vector<Discretization> discretizations;
  std::vector<MapTable> map_tables;
  std::vector<TextIndexPlan> text_indexes;

  std::vector<Predicate> predicates;
  std::vector<int32_t> pred_children;  // compound predicate children
  std::vector<double> set_values;      // sorted per predicate range

  std::vector<Tree> trees;
  std::vector<Regression> regressions;
  std::vector<Segmentation> segmentations;
  std::vector<SubModel> models;  // models[0] is the document's model; segments follow
  int32_t num_slots = 0;
  int32_t num_prob_slots = 0;    // total per-category scratch over all models

  const SubModel& root() const { return models.front(); }

  // Public description of the interface.
  std::vector<FieldInfo> input_infos;
  std::vector<OutputColumn> columns;

  // Compiled batch kernels when the document fits a supported shape (plan/fast_plan.h).
  std::shared_ptr<const FastPlan> fast;
};

}  // namespace fluxscore::pmml
