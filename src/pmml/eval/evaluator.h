// Row evaluation over a compiled Plan: expressions, predicates (three-valued), trees, targets
// and output fields. Works on a per-thread RowState; nothing here allocates per row except
// string-producing built-ins.
#pragma once

#include <string>
#include <vector>

#include "pmml/plan/plan.h"

namespace fluxscore::pmml {

enum class Tri : uint8_t { kFalse = 0, kTrue = 1, kUnknown = 2 };

// Scratch for one thread.
struct RowState {
  explicit RowState(const Plan& plan)
      : ctx(&plan.pool), cells(static_cast<size_t>(plan.num_slots)),
        probs(plan.targets.front().categories.size()), confs(probs.size()) {}
  EvalContext ctx;
  std::vector<Cell> cells;
  // Model result for the current row.
  bool has_prediction = false;
  double prediction = 0;
  int32_t node = -1;  // the tree node that produced the result, -1 if none (or virtual)
  bool has_probs = false;
  std::vector<double> probs;  // per target category
  std::vector<double> confs;  // per target category, NaN = none
  double confidence_penalty = 1.0;
  std::vector<Cell> scratch;        // argument stack for Apply/MapValues (reused, no per-row allocation)
  std::vector<double> acc;          // per-category accumulator (weightedConfidence, aggregateNodes)
  std::vector<int32_t> node_stack;  // explicit stack for multi-branch tree walks
  std::string error;  // non-empty: the row failed (e.g. invalid input under returnInvalid)
};

// Evaluates expression e for the current row.
Cell EvalExpr(const Plan& plan, int32_t e, RowState& st);
// Three-valued predicate; *alternative is set when a surrogate used a non-first child.
Tri EvalPredicate(const Plan& plan, int32_t p, RowState& st, bool* alternative);

// After inputs are in st.cells[0..inputs): derived fields, the model, output fields.
// On failure st.error is set.
void EvaluateRow(const Plan& plan, RowState& st);

// Converts a value between types (numbers <-> strings, booleans); invalid when impossible.
Cell ConvertCell(Cell c, ValueType from, ValueType to, EvalContext& ctx);

}  // namespace fluxscore::pmml
