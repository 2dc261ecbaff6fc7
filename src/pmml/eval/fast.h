// Batch kernels over a FastPlan: a block of rows is scored column-wise; rows a kernel cannot
// decide exactly are left for the row evaluator (decided[i] == 0).
#pragma once

#include <cstdint>
#include <vector>

#include "pmml/plan/fast_plan.h"
#include "pmml/plan/value.h"

namespace fluxscore::pmml {

struct FastBlock {
  size_t n = 0;                 // rows in the block
  std::vector<double> x;        // n x features, row-major (valid inputs only)
  std::vector<uint8_t> ok;      // per row: every feature present and valid
  std::vector<double> acc;      // n x num_acc accumulators
  std::vector<int32_t> leaf;    // kTree: the leaf each row reached
  std::vector<uint8_t> decided; // per row: the kernel produced the result
  std::vector<double> prediction;  // per row: category value (classification) or value
  std::vector<double> probs;    // n x root categories
  std::vector<double> scratch;  // per-row table values
  void Resize(size_t rows, const Plan& plan, const FastPlan& fp);
};

// Runs the kernels for rows with ok[i]; fills decided / prediction / probs.
void RunFastKernels(const Plan& plan, const FastPlan& fp, FastBlock& b);

// The value of output column c for a decided row.
Cell FastColumnValue(const Plan& plan, const FastPlan& fp, const FastBlock& b, size_t c,
                     size_t row);

}  // namespace fluxscore::pmml
