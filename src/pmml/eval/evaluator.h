// Row evaluation over a compiled Plan: expressions, predicates (three-valued), models (trees,
// regressions, segmentations), targets and output fields. Works on a per-thread RowState;
// nothing here allocates per row except string-producing built-ins.
#pragma once

#include <string>
#include <vector>

#include "pmml/plan/plan.h"

namespace fluxscore::pmml {

enum class Tri : uint8_t { kFalse = 0, kTrue = 1, kUnknown = 2 };

// What one (sub)model produced for the current row.
struct ModelResult {
  bool has_prediction = false;
  double prediction = 0;
  bool has_probs = false;     // RowState::probs holds this model's class probabilities
  int32_t node = -1;          // trees: the node that produced the result (-1 none/virtual)
  double penalty = 1.0;       // missing-value penalty applied to confidences
  bool target_applied = false;  // the body already applied the Targets rescaling
};

// Scratch for one thread.
struct RowState {
  explicit RowState(const Plan& plan)
      : ctx(&plan.pool), cells(static_cast<size_t>(plan.num_slots)),
        results(plan.models.size()),
        probs(static_cast<size_t>(plan.num_prob_slots)),
        confs(static_cast<size_t>(plan.num_prob_slots)),
        seg_values(plan.models.size()), seg_weights(plan.models.size()) {}
  EvalContext ctx;
  std::vector<Cell> cells;
  std::vector<ModelResult> results;  // per model
  std::vector<double> probs;  // per model, per category (SubModel::prob_offset)
  std::vector<double> confs;  // per model, per category, NaN = none
  std::vector<Cell> scratch;        // argument stack for Apply/MapValues (reused)
  std::vector<double> acc;          // per-category accumulator (strategies, aggregation)
  std::vector<int32_t> node_stack;  // explicit stack for multi-branch tree walks
  // Per MiningModel: segment results collected for median / max / weighted combinations
  // (per model, because segments may themselves be MiningModels using theirs).
  std::vector<std::vector<double>> seg_values, seg_weights;
  // TextIndex: the last tokenized text (many terms are usually looked up in one text).
  const TextIndexPlan* tok_plan = nullptr;
  std::string tok_text;
  std::vector<std::string> tok_tokens, term_tokens;
  // When set, the document's TreeModel appends the indices of the nodes it goes through.
  std::vector<int32_t>* trace = nullptr;
  std::string error;  // non-empty: the row failed (e.g. invalid input under returnInvalid)
};

// Evaluates expression e for the current row.
Cell EvalExpr(const Plan& plan, int32_t e, RowState& st);
// Three-valued predicate; *alternative is set when a surrogate used a non-first child.
Tri EvalPredicate(const Plan& plan, int32_t p, RowState& st, bool* alternative);

// Applies an InputPlan's MiningField treatments to a raw cell (validity already decided).
// Returns false and sets st.error for an invalid value under returnInvalid.
bool ApplyTreatments(const Plan& plan, const InputPlan& in, Cell c, RowState& st,
                     std::string_view raw_text);

// Evaluates model mi (treatments of nested inputs, derived fields, body, target, outputs).
// The document's model is 0; its table inputs must already be in st.cells. On failure st.error
// is set.
void EvaluateModel(const Plan& plan, int32_t mi, RowState& st);

// Converts a value between types (numbers <-> strings, booleans); invalid when impossible.
Cell ConvertCell(Cell c, ValueType from, ValueType to, EvalContext& ctx);

}  // namespace fluxscore::pmml
