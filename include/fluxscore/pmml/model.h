// The PMML engine's public API: load a PMML document, compile it into a flat plan, score tables.
//
// Two tiers of failure (jpmml's MarkupException vs EvaluationException):
//  - a problem in the model (malformed XML, unsupported element, unbound field, cycle) fails
//    Model::Load* with a Status whose message names the element path and source line;
//  - a problem in a record (invalid value under returnInvalid, a function domain error) is data:
//    that row's outputs are missing and ScoreResult::row_errors says why; other rows are unaffected.
//
// Thread safety: a loaded Model is immutable; Score may be called concurrently from many threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fluxscore/status.h"
#include "fluxscore/table.h"

namespace fluxscore::pmml {

class Plan;  // compiled model, defined in src/pmml/plan/

enum class DataType { kString, kInteger, kFloat, kDouble, kBoolean, kDate, kTime, kDateTime };
enum class OpType { kContinuous, kCategorical, kOrdinal };
std::string_view ToString(DataType t);
std::string_view ToString(OpType t);

// A field the model reads (an active MiningField) or writes (target or output field).
struct FieldInfo {
  std::string name;
  DataType data_type = DataType::kDouble;
  OpType op_type = OpType::kContinuous;
  std::vector<std::string> values;  // declared valid values of a categorical/ordinal field
  // True when a Column::Kind::kString column is expected (categorical strings, dates as text).
  bool is_string() const;
};

struct LoadOptions {
  // Attribute values longer than this are refused (guards against hostile documents).
  size_t max_attribute_bytes = 16u << 20;
  // Documents larger than this are refused.
  size_t max_document_bytes = size_t{2} << 30;
  // Result features to expose although the document declares no OutputField for them, e.g.
  // "confidence", "probability(yes)", "entityId". Each becomes an output column "feature:<spec>".
  std::vector<std::string> extra_result_features;
};

struct ScoreOptions {
  // Worker threads; 0 = hardware concurrency. Rows are split into blocks of `block_rows`;
  // results do not depend on the thread count.
  int threads = 1;
  size_t block_rows = 4096;
  // Use the compiled batch kernels for the model shapes that have them (trees, forests,
  // gradient-boosting chains, regressions over numeric inputs). Results are bit-identical
  // either way; false forces the general row evaluator (for tests and benchmarks).
  bool compiled_kernels = true;
};

// One row that could not be scored and why ("invalid value 'x' for field 'f'").
struct RowError {
  size_t row;
  std::string message;
};

struct ScoreResult {
  Table outputs;                 // one column per Model::outputs(), in that order
  std::vector<RowError> row_errors;  // sorted by row
};

// One node of a TreeModel, for explanations and drawings.
struct TreeNodeInfo {
  int32_t parent = -1;        // index of the parent node, -1 for the root
  int32_t depth = 0;          // root = 0
  std::string condition;      // the node's predicate as text ("distinct_asns > 12.5"); "" = True
  std::string field;          // the field a SimplePredicate tests ("" for other predicates)
  bool leaf = false;
  std::string score;          // the node's score as text ("" when it has none)
  double record_count = NAN;  // recordCount, NaN when not given
  // ScoreDistribution entries: category -> recordCount (or probability when no count is given).
  std::vector<std::pair<std::string, double>> distribution;
};

// A single value for the convenience row API.
using Value = std::variant<std::monostate, double, std::string>;  // monostate = missing

class Model {
 public:
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  // Loads a PMML file; `path` may name a member of a zip archive as "archive.zip!member.xml".
  static Result<Model> LoadFile(const std::string& path, const LoadOptions& options = {});
  // Loads from memory; `source_name` appears in error messages.
  static Result<Model> LoadString(std::string_view xml, std::string source_name = "<memory>",
                                  const LoadOptions& options = {});

  // The active input fields, in MiningSchema order.
  const std::vector<FieldInfo>& inputs() const;
  // Output columns: the target field(s) first (holding the prediction), then every final
  // OutputField (isFinalResult != false), in document order.
  const std::vector<FieldInfo>& outputs() const;
  // Model element name ("TreeModel"), functionName, PMML version.
  const std::string& model_element() const;
  const std::string& function_name() const;
  const std::string& pmml_version() const;

  // Scores every row of `input`. Input columns are bound by name to inputs(); a missing column
  // means all-missing. A numeric field fed by a string column has its dictionary parsed once.
  // Numeric output columns are Column::NumericView over storage they own (is_view() is true;
  // mutable_numbers() copies); columns of 4 MiB and more are separate mappings that, once freed,
  // a process-wide cache (at most 8, 256 MiB) keeps for the next call's outputs.
  Result<ScoreResult> Score(const Table& input, const ScoreOptions& options = {}) const;

  // Scores one row given as name -> value. Row errors become a non-OK Status (kDataError).
  Result<std::map<std::string, Value>> ScoreOne(const std::map<std::string, Value>& row) const;

  // Explanations for a document whose model is a TreeModel (errors otherwise): its nodes
  // (index 0 is the root, children listed after their parent) and, for every row of `input`,
  // the indices of the nodes the row went through, root first, ending at the node that gave
  // the prediction (empty when the row produced no prediction or failed).
  Result<std::vector<TreeNodeInfo>> TreeNodes() const;
  Result<std::vector<std::vector<int32_t>>> DecisionPaths(const Table& input) const;

  // Human-readable description: fields, types, model structure, node counts.
  std::string Describe() const;

  const Plan& plan() const { return *plan_; }
  // True when Score can use compiled batch kernels for this model.
  bool has_compiled_kernels() const;

 private:
  explicit Model(std::unique_ptr<Plan> plan);
  std::unique_ptr<Plan> plan_;
  std::vector<FieldInfo> output_infos_;
};

// Every element of the document at `path` that this engine does not implement, one message each
// ("file:line: /PMML/MiningModel/Segmentation/Segment[2]/NeuralNetwork: <NeuralNetwork> is not
// supported"). Loading stops at the first problem; this lists them all. Errors only for an
// unreadable or malformed document.
Result<std::vector<std::string>> ListUnsupportedElements(const std::string& path);

}  // namespace fluxscore::pmml
