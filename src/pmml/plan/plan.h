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
  kMissing,       // Constant with missing="true" / no value
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
  std::vector<Interval> intervals;
  std::vector<double> ordinal_order;  // ordinal fields: values in declaration order
  std::vector<std::string> value_texts;  // declared valid values as text (for FieldInfo)
};

// One active input field after MiningSchema treatments.
struct InputPlan {
  int32_t field = -1;  // index into Plan::fields
  int32_t slot = -1;
  Cell missing_replacement;  // state kMissing = none
  InvalidTreatment invalid = InvalidTreatment::kReturnInvalid;
  Cell invalid_replacement;  // asValue
  OutlierTreatment outliers = OutlierTreatment::kAsIs;
  double low = -INFINITY, high = INFINITY;
};

struct DerivedPlan {
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
  bool cast_integer = false;
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
  int32_t expr = -1;       // transformedValue / decision expression
  int32_t slot = -1;       // where the result is stored for later output fields
  int32_t target = 0;      // index into Plan::targets
};

// ---------------------------------------------------------------- the model
enum class ModelKind : uint8_t { kTree };
enum class MiningFunction : uint8_t { kClassification, kRegression };

struct Plan {
  std::string source;        // file name for messages
  std::string pmml_version;
  std::string model_element;
  std::string function_name;
  ModelKind kind = ModelKind::kTree;
  MiningFunction function = MiningFunction::kRegression;

  StringPool pool;
  std::vector<FieldDef> fields;  // data dictionary + derived fields
  std::vector<InputPlan> inputs;
  std::vector<DerivedPlan> derived;  // topological order
  std::vector<Expr> exprs;
  std::vector<int32_t> expr_args;
  std::vector<BuiltinCall> builtin_calls;
  std::vector<std::string> builtin_names;  // function name per builtin_calls entry (messages)
  std::vector<NormTable> norm_tables;
  std::vector<Discretization> discretizations;
  std::vector<MapTable> map_tables;

  std::vector<Predicate> predicates;
  std::vector<int32_t> pred_children;  // compound predicate children
  std::vector<double> set_values;      // sorted per predicate range
  Tree tree;

  std::vector<TargetPlan> targets;
  std::vector<OutputPlan> outputs;
  int32_t num_slots = 0;

  // Public description of the interface.
  std::vector<FieldInfo> input_infos;
  std::vector<FieldInfo> output_infos;
  // For each output column: -1 = the target's prediction, else index into outputs.
  std::vector<int32_t> output_columns;
  std::string description;  // filled by the compiler for `inspect`
};

}  // namespace fluxscore::pmml
