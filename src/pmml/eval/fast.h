// Batch kernels over a FastPlan: a block of rows is scored column-wise; rows a kernel cannot
// decide exactly are left for the row evaluator (decided[i] == 0).
#pragma once

#include <cstdint>
#include <vector>

#include "pmml/plan/fast_plan.h"
#include "pmml/plan/value.h"

namespace fluxscore::pmml {

// Where one feature's values come from in the input table.
struct FastSource {
  const double* numbers = nullptr;  // numeric column (null if absent or a string column)
  const float* floats = nullptr;    // float32 column (Column::Float32View)
  const int32_t* codes = nullptr;   // string column codes ...
  const Cell* dict_cells = nullptr; // ... and the prepared cell of each dictionary entry
};

struct FastBlock {
  size_t n = 0;                 // rows in the block
  std::vector<double> x;        // features x kFastBlockRows, column-major
  std::vector<float> xf;        // the same as float32 (FastPlan::float_domain)
  std::vector<double> tile;     // the ok rows in tiles of kFastLanes rows (see fast_plan.h)
  std::vector<uint32_t> tilek;  // the same as float32 keys (see FloatKey in fast_plan.h)
  // GatherFast built tilek itself, straight from the input columns, for all n rows (not only
  // the ok ones): the walk reads it as is and walks every row; only ok rows count.
  bool tiled = false;
  std::vector<uint32_t> all_rows;  // 0, 1, ..., kFastBlockRows - 1 (the rows a tiled walk sees)
  std::vector<int32_t> tile_features;  // the features GatherFast tiles
  std::vector<float> chk16;  // tiled: per row, 0 while its values are finite
  std::vector<const double*> column;  // per feature: its values for the block (x, or in place)
  std::vector<uint8_t> ok;      // per row: every feature present and valid
  std::vector<double> check;    // per row: 0 while every numeric input is finite
  std::vector<float> checkf;    // the same for float32 inputs
  std::vector<uint32_t> rows;   // the ok rows
  std::vector<double> acc;      // num_acc x n accumulators: column-major when the forest width
                                // is 1, else row-major (the width sums of a row side by side)
  std::vector<int32_t> leaf;    // kTree: the leaf each row reached
  std::vector<uint8_t> decided; // per row: the kernel produced the result
  std::vector<double> prediction;  // per row: category value (classification) or value
  std::vector<double> probs;    // root categories x n (column-major)
  // When set (by the caller, per block), results are written here instead: per root category
  // the first row's place in its output column (null: probs), and the prediction's.
  std::vector<double*> prob_out;
  double* pred_out = nullptr;
  // Where RunFastKernels's results go (set by it for the walk: a single perfect tree writes each
  // row's result as it reaches its bottom slot): per root category, and the prediction.
  double* const* to_probs = nullptr;
  double* to_pred = nullptr;
};

// Copies rows [begin, begin + n) of the features into the block and marks the ok rows;
// prefetches the next next_n rows (the next sub-block; 0 if none).
void GatherFast(const FastPlan& fp, const std::vector<FastSource>& sources, size_t begin,
                size_t n, size_t next_n, size_t num_categories, FastBlock& b);

// Runs the kernels for the ok rows; fills decided / prediction / probs.
void RunFastKernels(const Plan& plan, const FastPlan& fp, FastBlock& b);

// The values of output column c for the block's rows (valid where decided).
const double* FastColumnValues(const FastPlan& fp, const FastBlock& b, size_t c);

}  // namespace fluxscore::pmml
