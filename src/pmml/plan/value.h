// Runtime value representation shared by the compiled plan and the evaluators.
//
// Every value is a double. Numbers are themselves; booleans are 0/1; dates are days since
// 1970-01-01, times seconds since midnight, dateTimes seconds since 1970-01-01T00:00:00;
// strings are codes into a StringPool (model pool first, per-evaluation overflow after it).
// Because the pool de-duplicates, string equality is code equality.
// A Cell adds PMML's value state: valid, missing, or invalid (value present but outside the
// field's valid domain, kept when invalidValueTreatment="asIs"; or a function domain error, NaN).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/civil.h"
#include "fluxscore/pmml/model.h"

namespace fluxscore::pmml {

enum class CellState : uint8_t { kValid = 0, kMissing = 1, kInvalid = 2 };

struct Cell {
  double v = std::numeric_limits<double>::quiet_NaN();
  CellState s = CellState::kMissing;

  static Cell Valid(double x) { return Cell{x, CellState::kValid}; }
  static Cell Missing() { return Cell{}; }
  static Cell Invalid(double x = std::numeric_limits<double>::quiet_NaN()) {
    return Cell{x, CellState::kInvalid};
  }
  bool missing() const { return s == CellState::kMissing; }
  bool invalid() const { return s == CellState::kInvalid; }
};

// Types values have during expression evaluation (a coarser view of DataType).
enum class ValueType : uint8_t { kString, kNumber, kBoolean, kDate, kTime, kDateTime };
ValueType ValueTypeOf(DataType t);
std::string_view ToString(ValueType t);

// Every compiled model's pool starts with these two strings, so boolean outputs are written as
// text without formatting or interning per row.
inline constexpr int32_t kFalseCode = 0;
inline constexpr int32_t kTrueCode = 1;

// Interned strings of a compiled model. Immutable after compilation.
class StringPool {
 public:
  int32_t Intern(std::string_view s);
  // Code of s, or -1 when s is not in the pool.
  int32_t Find(std::string_view s) const;
  std::string_view Get(int32_t code) const { return strings_[static_cast<size_t>(code)]; }
  int32_t size() const { return static_cast<int32_t>(strings_.size()); }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, int32_t> index_;
};

// Per-thread evaluation scratch: strings created while scoring (concat, substring, input values
// the model never mentions) get codes >= pool->size(). Reset between blocks by the scorer.
class EvalContext {
 public:
  explicit EvalContext(const StringPool* pool) : pool_(pool) {}
  const StringPool& pool() const { return *pool_; }

  // Text of a string code (pool or overflow).
  std::string_view Text(double code) const {
    auto c = static_cast<int32_t>(code);
    if (c < pool_->size()) return pool_->Get(c);
    return overflow_[static_cast<size_t>(c - pool_->size())];
  }
  // Code for a text: the pool's code if the pool has it, else an overflow code.
  double Intern(std::string_view s);
  void ResetOverflow() {
    overflow_.clear();
    overflow_index_.clear();
  }
  const std::vector<std::string>& overflow() const { return overflow_; }

 private:
  const StringPool* pool_;
  std::vector<std::string> overflow_;
  std::unordered_map<std::string, int32_t> overflow_index_;
};

// Proleptic Gregorian calendar (H. Hinnant's algorithms): days since 1970-01-01 and back.
struct Civil {
  int64_t y;
  unsigned m, d;
};
using fluxscore::DaysFromCivil;  // common/civil.h
Civil CivilFromDays(int64_t z);

// Parses text as a value of type t (numbers: decimal/scientific, "NaN", "INF"; booleans:
// true/false/1/0; dates ISO 8601). Returns false if the text is not of that type.
bool ParseValue(std::string_view text, ValueType t, EvalContext& ctx, double* out);
// Parses without a context (numbers, booleans, dates only). Strings are not allowed here.
bool ParseNonString(std::string_view text, ValueType t, double* out);
// Formats a value of type t as PMML text (numbers shortest round-trip; integers without ".0";
// booleans "true"/"false"; dates ISO 8601).
std::string FormatValue(double v, ValueType t, const EvalContext& ctx);

}  // namespace fluxscore::pmml
