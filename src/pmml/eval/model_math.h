// Arithmetic shared by the row evaluator (models.cc) and the compiled batch kernels (fast.cc):
// both must produce bit-identical results, so each formula exists once, here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pmml/plan/plan.h"

namespace fluxscore::pmml {

inline double F32(double v) { return static_cast<double>(static_cast<float>(v)); }

inline double Link(RegNorm norm, double y) {
  switch (norm) {
    case RegNorm::kLogit: return 1.0 / (1.0 + std::exp(-y));
    case RegNorm::kProbit: return 0.5 * std::erfc(-y / std::sqrt(2.0));
    case RegNorm::kCloglog: return 1.0 - std::exp(-std::exp(y));
    case RegNorm::kLoglog: return std::exp(-std::exp(-y));
    case RegNorm::kCauchit: return 0.5 + std::atan(y) / M_PI;
    case RegNorm::kExp: return std::exp(y);
    default: return y;
  }
}

inline float LinkF(RegNorm norm, float y) {
  switch (norm) {
    case RegNorm::kLogit: return 1.0f / (1.0f + std::exp(-y));
    case RegNorm::kProbit: return 0.5f * std::erfc(-y / std::sqrt(2.0f));
    case RegNorm::kCloglog: return 1.0f - std::exp(-std::exp(y));
    case RegNorm::kLoglog: return std::exp(-std::exp(-y));
    case RegNorm::kCauchit: return 0.5f + std::atan(y) / static_cast<float>(M_PI);
    case RegNorm::kExp: return std::exp(y);
    default: return y;
  }
}

// Targets: clamp to [min, max], then rescale, then castInteger (jpmml TargetUtil order).
inline double ApplyTarget(const TargetPlan& t, double v, bool f32) {
  if (v < t.min) v = t.min;
  if (v > t.max) v = t.max;
  if (f32) {
    float x = static_cast<float>(v);
    if (t.rescale_factor != 1) x *= static_cast<float>(t.rescale_factor);
    if (t.rescale_constant != 0) x += static_cast<float>(t.rescale_constant);
    v = x;
  } else {
    if (t.rescale_factor != 1) v *= t.rescale_factor;
    if (t.rescale_constant != 0) v += t.rescale_constant;
  }
  switch (t.cast_mode) {
    case 1: v = std::floor(v + 0.5); break;
    case 2: v = std::ceil(v); break;
    case 3: v = std::floor(v); break;
    default: break;
  }
  return v;
}

// Turns the n table values of a classification RegressionModel into probabilities, in place
// (jpmml RegressionModelUtil: binomial, multinomial, ordinal/cumulative).
inline void NormalizeRegression(const Regression& reg, bool ordinal, bool f32, double* v, size_t n) {
  auto fin = [&](double x) { return f32 ? F32(x) : x; };
  auto binomial = [&](RegNorm norm) {
    v[0] = norm == RegNorm::kNone ? std::clamp(v[0], 0.0, 1.0)
                                  : (f32 ? LinkF(norm, static_cast<float>(v[0])) : Link(norm, v[0]));
    v[1] = fin(1.0 - v[0]);
  };
  auto multinomial = [&](RegNorm norm) {
    if (norm == RegNorm::kNone) {
      double sum = 0;
      for (size_t i = 0; i + 1 < n; ++i) sum = fin(sum + v[i]);
      v[n - 1] = fin(1.0 - sum);
      return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      if (norm == RegNorm::kSoftmax) v[i] = fin(std::exp(v[i]));
      sum = fin(sum + v[i]);
    }
    for (size_t i = 0; i < n; ++i) v[i] = fin(v[i] / sum);
  };
  auto cumulative = [&](RegNorm norm) {
    double sum = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      v[i] = norm == RegNorm::kNone ? std::clamp(v[i], 0.0, 1.0) : fin(Link(norm, v[i]));
      if (i == 0) {
        sum = v[i];
      } else {
        v[i] = fin(v[i] - sum);
        sum = fin(sum + v[i]);
      }
    }
    v[n - 1] = fin(1.0 - sum);
  };
  switch (reg.norm) {
    case RegNorm::kNone:
      if (ordinal) cumulative(reg.norm);
      else if (n == 2) binomial(reg.norm);
      else multinomial(reg.norm);
      break;
    case RegNorm::kSimplemax:
    case RegNorm::kSoftmax: {
      const RegTable& second = reg.tables[1];
      bool default_second = n == 2 && second.begin == second.end && second.intercept == 0;
      if (default_second && reg.norm == RegNorm::kSoftmax) binomial(RegNorm::kLogit);
      else multinomial(reg.norm);
      break;
    }
    default:
      if (ordinal) cumulative(reg.norm);
      else if (n == 2) binomial(reg.norm);
      else multinomial(reg.norm);  // jpmml: logit over >2 categories normalises like simplemax
      break;
  }
}

// The regression output of a regression RegressionModel from its table value.
inline double RegressionOutput(const Regression& reg, double y, bool f32) {
  RegNorm norm = reg.norm == RegNorm::kSoftmax ? RegNorm::kLogit : reg.norm;
  return f32 ? static_cast<double>(LinkF(norm, static_cast<float>(y))) : Link(norm, y);
}

}  // namespace fluxscore::pmml
