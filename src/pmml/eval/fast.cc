#include "pmml/eval/fast.h"

#include <algorithm>
#include <cmath>

#include "pmml/eval/model_math.h"

namespace fluxscore::pmml {
namespace {

constexpr size_t kLanes = 16;  // rows walked through one tree at the same time

// Walks every tree for the ok rows; each tree's leaf values are added into its accumulators
// (or, for kTree, the reached leaf is recorded).
void WalkTrees(const FastPlan& fp, FastBlock& b) {
  const FastForest& f = fp.forest;
  const size_t F = fp.features.size();
  const size_t A = static_cast<size_t>(fp.num_acc);
  const size_t W = static_cast<size_t>(f.width);
  const FNode* nodes = f.nodes.data();
  const double* x = b.x.data();
  // Rows to walk: the ok ones, compacted.
  thread_local std::vector<uint32_t> rows;
  rows.clear();
  for (size_t i = 0; i < b.n; ++i)
    if (b.ok[i]) rows.push_back(static_cast<uint32_t>(i));
  const size_t nrows = rows.size();
  for (size_t t = 0; t < f.roots.size(); ++t) {
    const int32_t root = f.roots[t];
    const size_t acc0 = static_cast<size_t>(f.tree_acc[t]);
    for (size_t base = 0; base < nrows; base += kLanes) {
      const size_t m = std::min(kLanes, nrows - base);
      int32_t idx[kLanes];
      for (size_t j = 0; j < m; ++j) idx[j] = root;
      bool active = root >= 0;
      while (active) {
        active = false;
        for (size_t j = 0; j < m; ++j) {
          int32_t c = idx[j];
          if (c < 0) continue;
          const FNode& nd = nodes[c];
          const double v = x[rows[base + j] * F + static_cast<size_t>(nd.feature)];
          const bool go = nd.op_lt ? v < nd.threshold : v <= nd.threshold;
          c = go ? nd.left : nd.right;
          idx[j] = c;
          active |= c >= 0;
        }
      }
      if (fp.shape == FastShape::kTree) {
        for (size_t j = 0; j < m; ++j) b.leaf[rows[base + j]] = ~idx[j];
        continue;
      }
      for (size_t j = 0; j < m; ++j) {
        const double* lv = f.leaf_values.data() + static_cast<size_t>(~idx[j]) * W;
        double* acc = b.acc.data() + rows[base + j] * A + acc0;
        for (size_t w = 0; w < W; ++w) acc[w] = acc[w] + lv[w];
      }
    }
  }
}

// Picks the first maximum, as the row evaluator does.
int32_t ArgMax(const double* p, size_t k) {
  double best = -INFINITY;
  int32_t at = -1;
  for (size_t c = 0; c < k; ++c)
    if (p[c] > best) {
      best = p[c];
      at = static_cast<int32_t>(c);
    }
  return at;
}

}  // namespace

void FastBlock::Resize(size_t rows, const Plan& plan, const FastPlan& fp) {
  n = rows;
  x.resize(rows * fp.features.size());
  ok.assign(rows, 0);
  acc.assign(rows * static_cast<size_t>(fp.num_acc), 0.0);
  leaf.resize(rows);
  decided.assign(rows, 0);
  prediction.resize(rows);
  probs.assign(rows * plan.root().target.categories.size(), 0.0);
}

void RunFastKernels(const Plan& plan, const FastPlan& fp, FastBlock& b) {
  const SubModel& root = plan.root();
  const size_t k = root.target.categories.size();
  const size_t A = static_cast<size_t>(fp.num_acc);
  const size_t F = fp.features.size();
  if (fp.shape != FastShape::kRegression) WalkTrees(fp, b);
  const FastForest& f = fp.forest;
  for (size_t i = 0; i < b.n; ++i) {
    if (!b.ok[i]) continue;
    double* probs = b.probs.data() + i * k;
    const double* acc = b.acc.data() + i * A;
    switch (fp.shape) {
      case FastShape::kTree: {
        const size_t leaf = static_cast<size_t>(b.leaf[i]);
        if (fp.classification) {
          const double* lv = f.leaf_values.data() + leaf * k;
          if (f.leaf_pred[leaf] < 0 || std::isnan(lv[0])) continue;
          std::copy(lv, lv + k, probs);
          b.prediction[i] = root.target.categories[static_cast<size_t>(f.leaf_pred[leaf])];
        } else {
          const double v = f.leaf_values[leaf];
          if (std::isnan(v)) continue;
          b.prediction[i] = ApplyTarget(root.target, v, false);
        }
        break;
      }
      case FastShape::kForestAverage: {
        const double total = static_cast<double>(fp.trees);
        if (fp.classification) {
          bool null_leaf = false;
          for (size_t c = 0; c < k; ++c) {
            probs[c] = acc[c] / total;
            null_leaf |= std::isnan(probs[c]);
          }
          if (null_leaf) continue;
          b.prediction[i] = root.target.categories[static_cast<size_t>(ArgMax(probs, k))];
        } else {
          if (std::isnan(acc[0])) continue;
          b.prediction[i] = ApplyTarget(root.target, acc[0] / total, false);
        }
        break;
      }
      case FastShape::kForestSum: {
        if (std::isnan(acc[0])) continue;
        b.prediction[i] = ApplyTarget(root.target, acc[0], false);
        break;
      }
      case FastShape::kChain:
      case FastShape::kRegression: {
        const SubModel& fm = plan.models[static_cast<size_t>(fp.final_model)];
        const Regression& reg = plan.regressions[static_cast<size_t>(fm.body)];
        // Inputs of the regression: the sum models' values after their Targets, or features.
        thread_local std::vector<double> source;
        if (fp.shape == FastShape::kChain) {
          source.resize(A);
          bool null_leaf = false;
          for (size_t s = 0; s < A; ++s) {
            const SubModel& sm = plan.models[static_cast<size_t>(fp.sum_models[s])];
            source[s] = ApplyTarget(sm.target, acc[s], false);
            null_leaf |= std::isnan(acc[s]);
          }
          if (null_leaf) continue;
        }
        const double* src = fp.shape == FastShape::kChain ? source.data() : b.x.data() + i * F;
        const size_t nt = reg.tables.size();
        b.scratch.resize(nt);
        double* v = b.scratch.data();
        for (size_t t = 0; t < nt; ++t) {
          const RegTable& table = reg.tables[t];
          double y = 0;
          for (int32_t term = table.begin; term < table.end; ++term)
            y = y + reg.terms[static_cast<size_t>(term)].coef *
                        src[static_cast<size_t>(fp.term_source[static_cast<size_t>(term)])];
          v[t] = y + table.intercept;
        }
        if (!fp.classification) {
          b.prediction[i] = ApplyTarget(fm.target, RegressionOutput(reg, v[0], false), false);
          break;
        }
        const bool ordinal =
            fm.target.field >= 0 &&
            plan.fields[static_cast<size_t>(fm.target.field)].op_type == OpType::kOrdinal;
        NormalizeRegression(reg, ordinal, false, v, nt);
        double best = -INFINITY;
        double pred = 0;
        for (size_t t = 0; t < nt; ++t) {
          probs[static_cast<size_t>(fp.final_to_root[t])] = v[t];
          if (v[t] > best) {
            best = v[t];
            pred = reg.tables[t].category;
          }
        }
        b.prediction[i] = pred;
        break;
      }
    }
    b.decided[i] = 1;
  }
}

Cell FastColumnValue(const Plan& plan, const FastPlan& fp, const FastBlock& b, size_t c,
                     size_t row) {
  const FastColumn& col = fp.columns[c];
  if (col.kind == FastColumn::kPrediction) return Cell::Valid(b.prediction[row]);
  const size_t k = plan.root().target.categories.size();
  return Cell::Valid(col.category >= 0 ? b.probs[row * k + static_cast<size_t>(col.category)]
                                       : 0.0);
}

}  // namespace fluxscore::pmml
