// PMML 4.4 built-in functions: resolution (name, arity, argument types) and evaluation.
//
// Semantics follow http://dmg.org/pmml/v4-4-1/BuiltinFunctions.html; where the page leaves a
// detail open, the behaviour of jpmml-evaluator (the de-facto reference implementation) is used:
//  - aggregates (min max sum avg median product) ignore missing arguments ("Missing values in the
//    input to an aggregate function are simply ignored"); all missing -> missing;
//  - concat skips missing arguments;
//  - round is Java's Math.round (half up: floor(x + 0.5), computed without the x + 0.5 rounding
//    error); rint is round-half-even;
//  - modulo is x - floor(x / y) * y (the result has the sign of the divisor);
//  - substring: startPos < 1 or length < 0 is an error, a range past the end is clamped;
//  - replace uses Java replacement syntax ($n, $$ or \$ = '$', \\ = '\'); matches is a search
//    anywhere in the input (Matcher.find);
//  - isValid/isNotValid treat a NaN value as not valid.
// Domain errors (NaN results, poles such as ln(0) and x/0) give Cell::Invalid(), per builtins.h.
#include "pmml/eval/builtins.h"

#include "common/utf8.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex> (GCC bug 105562).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <string>
#include <unordered_map>

namespace fluxscore::pmml {

enum class BuiltinId : uint16_t {
  // arithmetic
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  // aggregates
  kMin,
  kMax,
  kSum,
  kAvg,
  kMedian,
  kProduct,
  // mathematical
  kLog10,
  kLn,
  kSqrt,
  kAbs,
  kExp,
  kPow,
  kThreshold,
  kFloor,
  kCeil,
  kRound,
  kModulo,
  // value state
  kIsMissing,
  kIsNotMissing,
  kIsValid,
  kIsNotValid,
  // comparison
  kEqual,
  kNotEqual,
  kLessThan,
  kLessOrEqual,
  kGreaterThan,
  kGreaterOrEqual,
  // boolean
  kAnd,
  kOr,
  kNot,
  kIsIn,
  kIsNotIn,
  kIf,
  // strings
  kUppercase,
  kLowercase,
  kStringLength,
  kSubstring,
  kTrimBlanks,
  kConcat,
  kReplace,
  kMatches,
  kFormatNumber,
  kFormatDatetime,
  // dates
  kDateDaysSinceYear,
  kDateSecondsSinceYear,
  kDateSecondsSinceMidnight,
  // distributions
  kNormalCDF,
  kNormalPDF,
  kStdNormalCDF,
  kStdNormalPDF,
  kErf,
  kNormalIDF,
  kStdNormalIDF,
  // further mathematical
  kExpm1,
  kHypot,
  kLn1p,
  kRint,
  // trigonometric
  kSin,
  kAsin,
  kSinh,
  kCos,
  kAcos,
  kCosh,
  kTan,
  kAtan,
  kTanh,
  kAtan2,  // not in the PMML 4.4 list; jpmml-evaluator supports it as an extension
  kCount
};

namespace {

constexpr uint8_t kVariadic = 255;

struct Spec {
  std::string_view name;
  BuiltinId id;
  uint8_t min_args;
  uint8_t max_args;  // kVariadic = no upper bound
};

// Indexed by BuiltinId.
constexpr Spec kSpecs[] = {
    {"+", BuiltinId::kAdd, 2, 2},
    {"-", BuiltinId::kSubtract, 2, 2},
    {"*", BuiltinId::kMultiply, 2, 2},
    {"/", BuiltinId::kDivide, 2, 2},
    {"min", BuiltinId::kMin, 1, kVariadic},
    {"max", BuiltinId::kMax, 1, kVariadic},
    {"sum", BuiltinId::kSum, 1, kVariadic},
    {"avg", BuiltinId::kAvg, 1, kVariadic},
    {"median", BuiltinId::kMedian, 1, kVariadic},
    {"product", BuiltinId::kProduct, 1, kVariadic},
    {"log10", BuiltinId::kLog10, 1, 1},
    {"ln", BuiltinId::kLn, 1, 1},
    {"sqrt", BuiltinId::kSqrt, 1, 1},
    {"abs", BuiltinId::kAbs, 1, 1},
    {"exp", BuiltinId::kExp, 1, 1},
    {"pow", BuiltinId::kPow, 2, 2},
    {"threshold", BuiltinId::kThreshold, 2, 2},
    {"floor", BuiltinId::kFloor, 1, 1},
    {"ceil", BuiltinId::kCeil, 1, 1},
    {"round", BuiltinId::kRound, 1, 1},
    {"modulo", BuiltinId::kModulo, 2, 2},
    {"isMissing", BuiltinId::kIsMissing, 1, 1},
    {"isNotMissing", BuiltinId::kIsNotMissing, 1, 1},
    {"isValid", BuiltinId::kIsValid, 1, 1},
    {"isNotValid", BuiltinId::kIsNotValid, 1, 1},
    {"equal", BuiltinId::kEqual, 2, 2},
    {"notEqual", BuiltinId::kNotEqual, 2, 2},
    {"lessThan", BuiltinId::kLessThan, 2, 2},
    {"lessOrEqual", BuiltinId::kLessOrEqual, 2, 2},
    {"greaterThan", BuiltinId::kGreaterThan, 2, 2},
    {"greaterOrEqual", BuiltinId::kGreaterOrEqual, 2, 2},
    {"and", BuiltinId::kAnd, 2, kVariadic},
    {"or", BuiltinId::kOr, 2, kVariadic},
    {"not", BuiltinId::kNot, 1, 1},
    {"isIn", BuiltinId::kIsIn, 2, kVariadic},
    {"isNotIn", BuiltinId::kIsNotIn, 2, kVariadic},
    {"if", BuiltinId::kIf, 2, 3},
    {"uppercase", BuiltinId::kUppercase, 1, 1},
    {"lowercase", BuiltinId::kLowercase, 1, 1},
    {"stringLength", BuiltinId::kStringLength, 1, 1},
    {"substring", BuiltinId::kSubstring, 3, 3},
    {"trimBlanks", BuiltinId::kTrimBlanks, 1, 1},
    {"concat", BuiltinId::kConcat, 2, kVariadic},
    {"replace", BuiltinId::kReplace, 3, 3},
    {"matches", BuiltinId::kMatches, 2, 2},
    {"formatNumber", BuiltinId::kFormatNumber, 2, 2},
    {"formatDatetime", BuiltinId::kFormatDatetime, 2, 2},
    {"dateDaysSinceYear", BuiltinId::kDateDaysSinceYear, 2, 2},
    {"dateSecondsSinceYear", BuiltinId::kDateSecondsSinceYear, 2, 2},
    {"dateSecondsSinceMidnight", BuiltinId::kDateSecondsSinceMidnight, 1, 1},
    {"normalCDF", BuiltinId::kNormalCDF, 3, 3},
    {"normalPDF", BuiltinId::kNormalPDF, 3, 3},
    {"stdNormalCDF", BuiltinId::kStdNormalCDF, 1, 1},
    {"stdNormalPDF", BuiltinId::kStdNormalPDF, 1, 1},
    {"erf", BuiltinId::kErf, 1, 1},
    {"normalIDF", BuiltinId::kNormalIDF, 3, 3},
    {"stdNormalIDF", BuiltinId::kStdNormalIDF, 1, 1},
    {"expm1", BuiltinId::kExpm1, 1, 1},
    {"hypot", BuiltinId::kHypot, 2, 2},
    {"ln1p", BuiltinId::kLn1p, 1, 1},
    {"rint", BuiltinId::kRint, 1, 1},
    {"sin", BuiltinId::kSin, 1, 1},
    {"asin", BuiltinId::kAsin, 1, 1},
    {"sinh", BuiltinId::kSinh, 1, 1},
    {"cos", BuiltinId::kCos, 1, 1},
    {"acos", BuiltinId::kAcos, 1, 1},
    {"cosh", BuiltinId::kCosh, 1, 1},
    {"tan", BuiltinId::kTan, 1, 1},
    {"atan", BuiltinId::kAtan, 1, 1},
    {"tanh", BuiltinId::kTanh, 1, 1},
    {"atan2", BuiltinId::kAtan2, 2, 2},
};
static_assert(std::size(kSpecs) == static_cast<size_t>(BuiltinId::kCount),
              "kSpecs must list every BuiltinId");

constexpr bool SpecsIndexedById() {
  for (size_t i = 0; i < std::size(kSpecs); ++i) {
    if (static_cast<size_t>(kSpecs[i].id) != i) return false;
  }
  return true;
}
static_assert(SpecsIndexedById(), "kSpecs must be in BuiltinId order");

const Spec* FindSpec(std::string_view name) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const Spec*>();
    for (const Spec& s : kSpecs) m->emplace(s.name, &s);
    return m;
  }();
  auto it = index->find(name);
  return it == index->end() ? nullptr : it->second;
}

// ------------------------------------------------------------------ resolution helpers

// Comparable classes: values of the same class can be compared / tested for equality.
enum class Kind : uint8_t { kString, kNumeric, kDate, kTime, kDateTime };

Kind KindOf(ValueType t) {
  switch (t) {
    case ValueType::kString: return Kind::kString;
    case ValueType::kNumber:
    case ValueType::kBoolean: return Kind::kNumeric;
    case ValueType::kDate: return Kind::kDate;
    case ValueType::kTime: return Kind::kTime;
    case ValueType::kDateTime: return Kind::kDateTime;
  }
  return Kind::kNumeric;
}

bool IsNumeric(ValueType t) { return t == ValueType::kNumber || t == ValueType::kBoolean; }

std::string Quoted(std::string_view name) { return std::string("'").append(name).append("'"); }

Status ArgTypeError(const Spec& spec, size_t i, std::string_view expected, ValueType got) {
  return Status::InvalidModel("function " + Quoted(spec.name) + " argument " +
                              std::to_string(i + 1) + " must be " + std::string(expected) +
                              ", got " + std::string(ToString(got)));
}

Status ArityError(const Spec& spec, size_t got) {
  std::string expected;
  if (spec.max_args == kVariadic) {
    expected = "at least " + std::to_string(spec.min_args);
  } else if (spec.min_args == spec.max_args) {
    expected = std::to_string(spec.min_args);
  } else {
    expected = std::to_string(spec.min_args) + " to " + std::to_string(spec.max_args);
  }
  bool plural = !(spec.max_args == 1 && spec.min_args == 1);
  return Status::InvalidModel("function " + Quoted(spec.name) + " expects " + expected +
                              (plural ? " arguments" : " argument") + ", got " +
                              std::to_string(got));
}

// Numeric parameter: number, or boolean promoted to number.
Status RequireNumeric(const Spec& spec, std::vector<ValueType>& types, size_t i) {
  if (!IsNumeric(types[i])) return ArgTypeError(spec, i, "numeric", types[i]);
  types[i] = ValueType::kNumber;
  return Status::Ok();
}

// Logical parameter: boolean, or a number holding 0/1.
Status RequireLogical(const Spec& spec, const std::vector<ValueType>& types, size_t i) {
  if (!IsNumeric(types[i])) return ArgTypeError(spec, i, "boolean", types[i]);
  return Status::Ok();
}

// Makes types[first..] one comparable class (numeric promotion when number and boolean mix).
Status RequireSameKind(const Spec& spec, std::vector<ValueType>& types, size_t first) {
  Kind k = KindOf(types[first]);
  bool any_number = false;
  for (size_t i = first; i < types.size(); ++i) {
    if (KindOf(types[i]) != k) {
      return Status::InvalidModel(
          "function " + Quoted(spec.name) + " cannot compare " +
          std::string(ToString(types[first])) + " with " + std::string(ToString(types[i])) +
          " (argument " + std::to_string(i + 1) + ")");
    }
    any_number |= types[i] == ValueType::kNumber;
  }
  if (k == Kind::kNumeric && any_number) {
    for (size_t i = first; i < types.size(); ++i) types[i] = ValueType::kNumber;
  }
  return Status::Ok();
}

// ------------------------------------------------------------------ evaluation helpers

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2Pi = 2.50662827463100050242;
constexpr double kSecondsPerDay = 86400.0;

Cell Num(double r) { return std::isnan(r) ? Cell::Invalid() : Cell::Valid(r); }
Cell Bool(bool b) { return Cell::Valid(b ? 1.0 : 0.0); }

// An invalid argument whose value is NaN (a domain error upstream) poisons the result.
bool Poisoned(const Cell& c) { return c.invalid() && std::isnan(c.v); }

// Logical value of a boolean/number: 0 = false, 1 = true, anything else = -1 (not a boolean).
int Truth(double v) {
  if (v == 0) return 0;
  if (v == 1) return 1;
  return -1;
}

bool IsIntegral(double v) { return std::isfinite(v) && v == std::floor(v); }

// Text of any value: string codes through the context, other types as PMML text.
std::string TextOf(const Cell& c, ValueType t, const EvalContext& ctx) {
  if (t == ValueType::kString) return std::string(ctx.Text(c.v));
  return FormatValue(c.v, t, ctx);
}

Cell StringResult(std::string s, EvalContext& ctx) { return Cell::Valid(ctx.Intern(s)); }

// --- dates (proleptic Gregorian; H. Hinnant's algorithms)

// DaysFromCivil / CivilFromDays: pmml/plan/value.h.

// Days since the epoch of January 1 of `year`, or false when year is not a usable integer.
bool YearStart(double year, double* days) {
  if (!IsIntegral(year) || std::fabs(year) > 1e7) return false;
  *days = static_cast<double>(DaysFromCivil(static_cast<int64_t>(year), 1, 1));
  return true;
}

// Splits a date or dateTime value into whole days and seconds of the day.
void SplitTemporal(double v, ValueType t, double* days, double* secs) {
  if (t == ValueType::kDate) {
    *days = std::floor(v);
    *secs = 0;
  } else {
    *days = std::floor(v / kSecondsPerDay);
    *secs = v - *days * kSecondsPerDay;
  }
}

// --- strings

// Unicode-aware case mapping through the C.UTF-8 locale; ASCII when that locale is missing.
locale_t Utf8Locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (l == static_cast<locale_t>(nullptr)) {
      l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(nullptr));
    }
    return l;
  }();
  return loc;
}


std::string ChangeCase(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  locale_t loc = Utf8Locale();
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    int32_t cp = DecodeUtf8(s, i, &len);
    if (cp < 0) {
      out.push_back(s[i]);  // malformed byte: kept as is
    } else if (cp < 0x80) {
      char c = static_cast<char>(cp);
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    } else if (loc != static_cast<locale_t>(nullptr)) {
      wint_t mapped = upper ? towupper_l(static_cast<wint_t>(cp), loc)
                            : towlower_l(static_cast<wint_t>(cp), loc);
      EncodeUtf8(static_cast<int32_t>(mapped), out);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Number of characters (code points) of UTF-8 text.
size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += !IsContinuation(c);
  return n;
}

// Byte offset of the character with 0-based index `chars` (s.size() when past the end).
size_t ByteOffset(std::string_view s, size_t from, double chars) {
  size_t i = from;
  for (double k = 0; k < chars && i < s.size(); ++k) {
    ++i;
    while (i < s.size() && IsContinuation(s[i])) ++i;
  }
  return i;
}

// Java's String.trim: strips characters <= U+0020 at both ends.
std::string_view TrimBlanks(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20) --e;
  return s.substr(b, e - b);
}

// Compiled regexes per thread, keyed by pattern (nullptr caches an invalid pattern).
const std::regex* CachedRegex(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::unique_ptr<std::regex>> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second.get();
  if (cache.size() >= 256) cache.clear();
  std::unique_ptr<std::regex> re;
  try {
    re = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    re = nullptr;
  }
  return cache.emplace(pattern, std::move(re)).first->second.get();
}

// Java replacement syntax -> ECMAScript format string. False when malformed (a lone '$' or
// trailing '\', or '$' not followed by a group number), which Java rejects too.
bool TranslateReplacement(std::string_view r, std::string* out) {
  out->clear();
  for (size_t i = 0; i < r.size(); ++i) {
    char c = r[i];
    if (c == '\\') {
      if (i + 1 >= r.size()) return false;
      char n = r[++i];
      if (n == '$') {
        *out += "$$";
      } else {
        out->push_back(n);
      }
    } else if (c == '$') {
      if (i + 1 >= r.size()) return false;
      char n = r[i + 1];
      if (n == '$') {
        *out += "$$";
        ++i;
      } else if (n >= '0' && n <= '9') {
        out->push_back('$');
        out->push_back(n);
        ++i;
      } else {
        return false;
      }
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// printf-style formatting of one number. The pattern holds at most one conversion
// (d i o u x X e E f F g G a A s; length modifiers are ignored) plus literal text and "%%".
bool FormatNumber(double v, ValueType t, std::string_view pattern, const EvalContext& ctx,
                  std::string* out) {
  out->clear();
  bool converted = false;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c != '%') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out->push_back('%');
      i += 2;
      continue;
    }
    if (converted) return false;
    converted = true;
    std::string spec = "%";
    size_t j = i + 1;
    while (j < pattern.size() && std::string_view("-+ #0").find(pattern[j]) != std::string_view::npos) {
      spec.push_back(pattern[j++]);
    }
    size_t digits_start = j;
    while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9') spec.push_back(pattern[j++]);
    if (j - digits_start > 3) return false;  // width >= 1000: refuse
    if (j < pattern.size() && pattern[j] == '.') {
      spec.push_back(pattern[j++]);
      size_t prec_start = j;
      while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9') spec.push_back(pattern[j++]);
      if (j - prec_start > 3) return false;
    }
    while (j < pattern.size() && std::string_view("hlLqjzt").find(pattern[j]) != std::string_view::npos) {
      ++j;  // length modifiers: the argument type is ours to choose
    }
    if (j >= pattern.size()) return false;
    char conv = pattern[j++];
    i = j;
    int n = 0;
    std::string buf;
    auto print = [&](auto value) {
      n = std::snprintf(nullptr, 0, spec.c_str(), value);
      if (n < 0) return false;
      buf.resize(static_cast<size_t>(n) + 1);
      std::snprintf(buf.data(), buf.size(), spec.c_str(), value);
      buf.resize(static_cast<size_t>(n));
      return true;
    };
    switch (conv) {
      case 'd':
      case 'i':
      case 'o':
      case 'u':
      case 'x':
      case 'X': {
        if (!IsIntegral(v) || std::fabs(v) >= 9.2e18) return false;
        auto iv = static_cast<long long>(v);
        if (conv == 'd' || conv == 'i') {
          spec += "lld";
          if (!print(iv)) return false;
        } else {
          spec += "ll";
          spec.push_back(conv);
          if (!print(static_cast<unsigned long long>(iv))) return false;
        }
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
      case 'a':
      case 'A':
        spec.push_back(conv);
        if (!print(v)) return false;
        break;
      case 's': {
        spec.push_back('s');
        std::string text = FormatValue(v, t, ctx);
        if (!print(text.c_str())) return false;
        break;
      }
      default:
        return false;
    }
    out->append(buf);
  }
  return true;
}

constexpr const char* kMonthNames[] = {"January", "February", "March",     "April",
                                       "May",     "June",     "July",      "August",
                                       "September", "October", "November", "December"};
constexpr const char* kDayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};

void AppendNum(std::string& out, int64_t v, int width, char pad) {
  char buf[32];
  int n = pad == '0' ? std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v))
                     : std::snprintf(buf, sizeof buf, "%*lld", width, static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

// strftime-style formatting (C/POSIX semantics, "C" locale names) of a date or dateTime.
bool FormatDatetime(double v, ValueType t, std::string_view pattern, std::string* out) {
  double days_d = 0, secs_d = 0;
  SplitTemporal(v, t, &days_d, &secs_d);
  if (!std::isfinite(days_d) || std::fabs(days_d) > 4e9) return false;
  auto days = static_cast<int64_t>(days_d);
  auto secs = static_cast<int64_t>(std::floor(secs_d));
  const Civil c = CivilFromDays(days);
  const int64_t hour = secs / 3600, minute = (secs / 60) % 60, second = secs % 60;
  const int64_t hour12 = hour % 12 == 0 ? 12 : hour % 12;
  const int64_t wday = ((days + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
  const int64_t yday = days - DaysFromCivil(c.y, 1, 1) + 1;
  const int64_t year2 = ((c.y % 100) + 100) % 100;
  out->clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch != '%') {
      out->push_back(ch);
      continue;
    }
    if (++i >= pattern.size()) return false;
    switch (pattern[i]) {
      case '%': out->push_back('%'); break;
      case 'n': out->push_back('\n'); break;
      case 't': out->push_back('\t'); break;
      case 'Y': AppendNum(*out, c.y, 4, '0'); break;
      case 'y': AppendNum(*out, year2, 2, '0'); break;
      case 'C': AppendNum(*out, static_cast<int64_t>(std::floor(c.y / 100.0)), 2, '0'); break;
      case 'm': AppendNum(*out, c.m, 2, '0'); break;
      case 'd': AppendNum(*out, c.d, 2, '0'); break;
      case 'e': AppendNum(*out, c.d, 2, ' '); break;
      case 'j': AppendNum(*out, yday, 3, '0'); break;
      case 'H': AppendNum(*out, hour, 2, '0'); break;
      case 'k': AppendNum(*out, hour, 2, ' '); break;
      case 'I': AppendNum(*out, hour12, 2, '0'); break;
      case 'l': AppendNum(*out, hour12, 2, ' '); break;
      case 'M': AppendNum(*out, minute, 2, '0'); break;
      case 'S': AppendNum(*out, second, 2, '0'); break;
      case 'p': *out += hour < 12 ? "AM" : "PM"; break;
      case 'b':
      case 'h': out->append(kMonthNames[c.m - 1], 3); break;
      case 'B': *out += kMonthNames[c.m - 1]; break;
      case 'a': out->append(kDayNames[wday], 3); break;
      case 'A': *out += kDayNames[wday]; break;
      case 'u': AppendNum(*out, wday == 0 ? 7 : wday, 1, '0'); break;
      case 'w': AppendNum(*out, wday, 1, '0'); break;
      case 's':
        AppendNum(*out, days * 86400 + secs, 1, '0');
        break;
      default: {
        // Composite conversions expand to their parts.
        static constexpr std::pair<char, const char*> kComposite[] = {
            {'D', "%m/%d/%y"},    {'F', "%Y-%m-%d"},    {'T', "%H:%M:%S"},
            {'R', "%H:%M"},       {'r', "%I:%M:%S %p"}, {'c', "%a %b %e %H:%M:%S %Y"}};
        const char* expansion = nullptr;
        for (const auto& [conv, expanded] : kComposite)
          if (conv == pattern[i]) expansion = expanded;
        if (expansion == nullptr) return false;
        std::string part;
        if (!FormatDatetime(v, t, expansion, &part)) return false;
        *out += part;
        break;
      }
    }
  }
  return true;
}

// --- normal distribution

double StdNormalCdf(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double StdNormalPdf(double x) { return std::exp(-0.5 * x * x) / kSqrt2Pi; }

// Lower half (0 < p <= 0.5): Acklam's rational approximation (relative error < 1.15e-9)
// refined by one Halley step against erfc, which brings it to double precision.
double StdNormalIdfLower(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    double q = p - 0.5;
    double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  double e = 0.5 * std::erfc(-x / kSqrt2) - p;
  double u = e * kSqrt2Pi * std::exp(0.5 * x * x);
  if (std::isfinite(u)) x = x - u / (1 + 0.5 * x * u);
  return x;
}

// REQUIRES: 0 <= p <= 1.
double StdNormalIdf(double p) {
  if (p == 0) return -kInf;
  if (p == 1) return kInf;
  if (p > 0.5) return -StdNormalIdfLower(1 - p);  // 1 - p is exact for p >= 0.5
  return StdNormalIdfLower(p);
}

// --- rounding

// Java Math.round: the closest integer, ties towards positive infinity.
double JavaRound(double x) {
  double f = std::floor(x);
  return (x - f >= 0.5) ? f + 1 : f;
}

double Median(std::span<const Cell> args, size_t n) {
  std::array<double, 32> small;
  std::vector<double> large;
  double* vals = small.data();
  if (n > small.size()) {
    large.resize(n);
    vals = large.data();
  }
  size_t k = 0;
  for (const Cell& c : args) {
    if (!c.missing()) vals[k++] = c.v;
  }
  std::sort(vals, vals + n);
  if (n % 2 == 1) return vals[n / 2];
  return (vals[n / 2 - 1] + vals[n / 2]) / 2;
}

}  // namespace

// ------------------------------------------------------------------ public API

bool IsBuiltinName(std::string_view name) { return FindSpec(name) != nullptr; }

std::vector<std::string_view> BuiltinNames() {
  std::vector<std::string_view> names;
  names.reserve(std::size(kSpecs));
  for (const Spec& s : kSpecs) names.push_back(s.name);
  return names;
}

Result<BuiltinCall> ResolveBuiltin(std::string_view name, std::span<const ValueType> arg_types) {
  const Spec* spec_ptr = FindSpec(name);
  if (spec_ptr == nullptr) {
    return Status::Unsupported("unsupported function " + Quoted(name));
  }
  const Spec& spec = *spec_ptr;
  const size_t n = arg_types.size();
  if (n < spec.min_args || (spec.max_args != kVariadic && n > spec.max_args)) {
    return ArityError(spec, n);
  }
  BuiltinCall call;
  call.id = spec.id;
  call.arg_types.assign(arg_types.begin(), arg_types.end());
  std::vector<ValueType>& t = call.arg_types;

  switch (spec.id) {
    // numeric in, number out
    case BuiltinId::kAdd:
    case BuiltinId::kSubtract:
    case BuiltinId::kMultiply:
    case BuiltinId::kDivide:
    case BuiltinId::kMin:
    case BuiltinId::kMax:
    case BuiltinId::kSum:
    case BuiltinId::kAvg:
    case BuiltinId::kMedian:
    case BuiltinId::kProduct:
    case BuiltinId::kLog10:
    case BuiltinId::kLn:
    case BuiltinId::kSqrt:
    case BuiltinId::kAbs:
    case BuiltinId::kExp:
    case BuiltinId::kPow:
    case BuiltinId::kThreshold:
    case BuiltinId::kFloor:
    case BuiltinId::kCeil:
    case BuiltinId::kRound:
    case BuiltinId::kModulo:
    case BuiltinId::kNormalCDF:
    case BuiltinId::kNormalPDF:
    case BuiltinId::kStdNormalCDF:
    case BuiltinId::kStdNormalPDF:
    case BuiltinId::kErf:
    case BuiltinId::kNormalIDF:
    case BuiltinId::kStdNormalIDF:
    case BuiltinId::kExpm1:
    case BuiltinId::kHypot:
    case BuiltinId::kLn1p:
    case BuiltinId::kRint:
    case BuiltinId::kSin:
    case BuiltinId::kAsin:
    case BuiltinId::kSinh:
    case BuiltinId::kCos:
    case BuiltinId::kAcos:
    case BuiltinId::kCosh:
    case BuiltinId::kTan:
    case BuiltinId::kAtan:
    case BuiltinId::kTanh:
    case BuiltinId::kAtan2:
      for (size_t i = 0; i < n; ++i) FLUXSCORE_RETURN_IF_ERROR(RequireNumeric(spec, t, i));
      call.result_type = ValueType::kNumber;
      break;

    case BuiltinId::kIsMissing:
    case BuiltinId::kIsNotMissing:
    case BuiltinId::kIsValid:
    case BuiltinId::kIsNotValid:
      call.result_type = ValueType::kBoolean;
      break;

    case BuiltinId::kEqual:
    case BuiltinId::kNotEqual:
    case BuiltinId::kLessThan:
    case BuiltinId::kLessOrEqual:
    case BuiltinId::kGreaterThan:
    case BuiltinId::kGreaterOrEqual:
    case BuiltinId::kIsIn:
    case BuiltinId::kIsNotIn:
      FLUXSCORE_RETURN_IF_ERROR(RequireSameKind(spec, t, 0));
      call.result_type = ValueType::kBoolean;
      break;

    case BuiltinId::kAnd:
    case BuiltinId::kOr:
    case BuiltinId::kNot:
      for (size_t i = 0; i < n; ++i) FLUXSCORE_RETURN_IF_ERROR(RequireLogical(spec, t, i));
      call.result_type = ValueType::kBoolean;
      break;

    case BuiltinId::kIf:
      FLUXSCORE_RETURN_IF_ERROR(RequireLogical(spec, t, 0));
      if (n == 3 && t[1] != t[2]) {
        if (IsNumeric(t[1]) && IsNumeric(t[2])) {
          t[1] = t[2] = ValueType::kNumber;
        } else {
          return Status::InvalidModel("function 'if' branches have different types (" +
                                      std::string(ToString(t[1])) + " and " +
                                      std::string(ToString(t[2])) + ")");
        }
      }
      call.result_type = t[1];
      break;

    // Text parameters accept any type (formatted as PMML text, like Java's asString).
    case BuiltinId::kUppercase:
    case BuiltinId::kLowercase:
    case BuiltinId::kTrimBlanks:
    case BuiltinId::kConcat:
    case BuiltinId::kReplace:
      call.result_type = ValueType::kString;
      break;
    case BuiltinId::kStringLength:
      call.result_type = ValueType::kNumber;
      break;
    case BuiltinId::kMatches:
      call.result_type = ValueType::kBoolean;
      break;
    case BuiltinId::kSubstring:
      FLUXSCORE_RETURN_IF_ERROR(RequireNumeric(spec, t, 1));
      FLUXSCORE_RETURN_IF_ERROR(RequireNumeric(spec, t, 2));
      call.result_type = ValueType::kString;
      break;
    case BuiltinId::kFormatNumber:
      FLUXSCORE_RETURN_IF_ERROR(RequireNumeric(spec, t, 0));
      call.result_type = ValueType::kString;
      break;
    case BuiltinId::kFormatDatetime:
      if (t[0] != ValueType::kDate && t[0] != ValueType::kDateTime) {
        return ArgTypeError(spec, 0, "date or dateTime", t[0]);
      }
      call.result_type = ValueType::kString;
      break;
    case BuiltinId::kDateDaysSinceYear:
    case BuiltinId::kDateSecondsSinceYear:
      if (t[0] != ValueType::kDate && t[0] != ValueType::kDateTime) {
        return ArgTypeError(spec, 0, "date or dateTime", t[0]);
      }
      FLUXSCORE_RETURN_IF_ERROR(RequireNumeric(spec, t, 1));
      call.result_type = ValueType::kNumber;
      break;
    case BuiltinId::kDateSecondsSinceMidnight:
      if (t[0] != ValueType::kTime && t[0] != ValueType::kDateTime) {
        return ArgTypeError(spec, 0, "time or dateTime", t[0]);
      }
      call.result_type = ValueType::kNumber;
      break;
    case BuiltinId::kCount:
      return Status::Unsupported("unsupported function " + Quoted(name));
  }
  return call;
}

Cell EvalBuiltin(const BuiltinCall& call, std::span<const Cell> args, EvalContext& ctx) {
  // Functions with their own missing-value rules.
  switch (call.id) {
    case BuiltinId::kIsMissing:
      return Bool(args[0].missing());
    case BuiltinId::kIsNotMissing:
      return Bool(!args[0].missing());
    case BuiltinId::kIsValid:
      return Bool(!args[0].missing() && !args[0].invalid() && !std::isnan(args[0].v));
    case BuiltinId::kIsNotValid:
      return Bool(!args[0].missing() && (args[0].invalid() || std::isnan(args[0].v)));
    case BuiltinId::kIf: {
      const Cell& cond = args[0];
      if (cond.missing()) return Cell::Missing();
      if (Poisoned(cond)) return Cell::Invalid();
      int truth = Truth(cond.v);
      if (truth < 0) return Cell::Invalid();
      if (truth == 1) return args[1];
      // "The ELSE part is optional. If the ELSE part is absent, then a missing value is returned"
      return args.size() > 2 ? args[2] : Cell::Missing();
    }
    case BuiltinId::kMin:
    case BuiltinId::kMax:
    case BuiltinId::kSum:
    case BuiltinId::kAvg:
    case BuiltinId::kMedian:
    case BuiltinId::kProduct: {
      // "Missing values in the input to an aggregate function are simply ignored."
      size_t n = 0;
      double acc = call.id == BuiltinId::kProduct ? 1.0 : 0.0;
      for (const Cell& c : args) {
        if (c.missing()) continue;
        if (Poisoned(c)) return Cell::Invalid();
        switch (call.id) {
          case BuiltinId::kMin: acc = n == 0 ? c.v : std::min(acc, c.v); break;
          case BuiltinId::kMax: acc = n == 0 ? c.v : std::max(acc, c.v); break;
          case BuiltinId::kProduct: acc *= c.v; break;
          default: acc += c.v; break;
        }
        ++n;
      }
      if (n == 0) return Cell::Missing();  // all inputs missing
      if (call.id == BuiltinId::kAvg) acc /= static_cast<double>(n);
      if (call.id == BuiltinId::kMedian) acc = Median(args, n);
      return Num(acc);
    }
    case BuiltinId::kConcat: {
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].missing()) continue;
        if (Poisoned(args[i])) return Cell::Invalid();
        out += TextOf(args[i], call.arg_types[i], ctx);
      }
      return StringResult(std::move(out), ctx);
    }
    default:
      break;
  }

  // Everything else: any missing argument -> missing; a NaN-invalid argument -> invalid.
  for (const Cell& c : args) {
    if (c.missing()) return Cell::Missing();
  }
  for (const Cell& c : args) {
    if (Poisoned(c)) return Cell::Invalid();
  }
  const double x = args[0].v;
  const double y = args.size() > 1 ? args[1].v : kNaN;

  switch (call.id) {
    case BuiltinId::kAdd: return Num(x + y);
    case BuiltinId::kSubtract: return Num(x - y);
    case BuiltinId::kMultiply: return Num(x * y);
    case BuiltinId::kDivide: return y == 0 ? Cell::Invalid() : Num(x / y);
    case BuiltinId::kLog10: return x == 0 ? Cell::Invalid() : Num(std::log10(x));
    case BuiltinId::kLn: return x == 0 ? Cell::Invalid() : Num(std::log(x));
    case BuiltinId::kSqrt: return Num(std::sqrt(x));
    case BuiltinId::kAbs: return Num(std::fabs(x));
    case BuiltinId::kExp: return Num(std::exp(x));
    case BuiltinId::kPow: return (x == 0 && y < 0) ? Cell::Invalid() : Num(std::pow(x, y));
    case BuiltinId::kThreshold: return Num(x > y ? 1.0 : 0.0);
    case BuiltinId::kFloor: return Num(std::floor(x));
    case BuiltinId::kCeil: return Num(std::ceil(x));
    case BuiltinId::kRound: return Num(JavaRound(x));
    case BuiltinId::kModulo: return y == 0 ? Cell::Invalid() : Num(x - std::floor(x / y) * y);
    case BuiltinId::kExpm1: return Num(std::expm1(x));
    case BuiltinId::kHypot: return Num(std::hypot(x, y));
    case BuiltinId::kLn1p: return x == -1 ? Cell::Invalid() : Num(std::log1p(x));
    case BuiltinId::kRint: return Num(std::nearbyint(x));
    case BuiltinId::kSin: return Num(std::sin(x));
    case BuiltinId::kAsin: return Num(std::asin(x));
    case BuiltinId::kSinh: return Num(std::sinh(x));
    case BuiltinId::kCos: return Num(std::cos(x));
    case BuiltinId::kAcos: return Num(std::acos(x));
    case BuiltinId::kCosh: return Num(std::cosh(x));
    case BuiltinId::kTan: return Num(std::tan(x));
    case BuiltinId::kAtan: return Num(std::atan(x));
    case BuiltinId::kTanh: return Num(std::tanh(x));
    case BuiltinId::kAtan2: return Num(std::atan2(x, y));
    case BuiltinId::kErf: return Num(std::erf(x));
    case BuiltinId::kStdNormalCDF: return Num(StdNormalCdf(x));
    case BuiltinId::kStdNormalPDF: return Num(StdNormalPdf(x));
    case BuiltinId::kStdNormalIDF:
      if (!(x >= 0 && x <= 1)) return Cell::Invalid();
      return Num(StdNormalIdf(x));
    case BuiltinId::kNormalCDF:
    case BuiltinId::kNormalPDF:
    case BuiltinId::kNormalIDF: {
      const double mean = y, stdev = args[2].v;
      if (!(stdev > 0)) return Cell::Invalid();
      if (call.id == BuiltinId::kNormalCDF) return Num(StdNormalCdf((x - mean) / stdev));
      if (call.id == BuiltinId::kNormalPDF) return Num(StdNormalPdf((x - mean) / stdev) / stdev);
      if (!(x >= 0 && x <= 1)) return Cell::Invalid();
      return Num(mean + stdev * StdNormalIdf(x));
    }

    case BuiltinId::kEqual:
    case BuiltinId::kNotEqual: {
      // Strings are interned, so equal text <=> equal code.
      bool eq = x == y;
      return Bool(call.id == BuiltinId::kEqual ? eq : !eq);
    }
    case BuiltinId::kLessThan:
    case BuiltinId::kLessOrEqual:
    case BuiltinId::kGreaterThan:
    case BuiltinId::kGreaterOrEqual: {
      int order;
      if (call.arg_types[0] == ValueType::kString) {
        int c = ctx.Text(x).compare(ctx.Text(y));
        order = c < 0 ? -1 : (c > 0 ? 1 : 0);
      } else {
        if (std::isnan(x) || std::isnan(y)) return Bool(false);
        order = x < y ? -1 : (x > y ? 1 : 0);
      }
      switch (call.id) {
        case BuiltinId::kLessThan: return Bool(order < 0);
        case BuiltinId::kLessOrEqual: return Bool(order <= 0);
        case BuiltinId::kGreaterThan: return Bool(order > 0);
        default: return Bool(order >= 0);
      }
    }
    case BuiltinId::kIsIn:
    case BuiltinId::kIsNotIn: {
      bool found = false;
      for (size_t i = 1; i < args.size() && !found; ++i) found = args[i].v == x;
      return Bool(call.id == BuiltinId::kIsIn ? found : !found);
    }
    case BuiltinId::kAnd:
    case BuiltinId::kOr: {
      bool any_true = false, all_true = true;
      for (const Cell& c : args) {
        int truth = Truth(c.v);
        if (truth < 0) return Cell::Invalid();
        any_true |= truth == 1;
        all_true &= truth == 1;
      }
      return Bool(call.id == BuiltinId::kAnd ? all_true : any_true);
    }
    case BuiltinId::kNot: {
      int truth = Truth(x);
      if (truth < 0) return Cell::Invalid();
      return Bool(truth == 0);
    }

    case BuiltinId::kUppercase:
    case BuiltinId::kLowercase:
      return StringResult(
          ChangeCase(TextOf(args[0], call.arg_types[0], ctx), call.id == BuiltinId::kUppercase),
          ctx);
    case BuiltinId::kTrimBlanks: {
      std::string s = TextOf(args[0], call.arg_types[0], ctx);
      return StringResult(std::string(TrimBlanks(s)), ctx);
    }
    case BuiltinId::kStringLength:
      return Cell::Valid(static_cast<double>(CharCount(TextOf(args[0], call.arg_types[0], ctx))));
    case BuiltinId::kSubstring: {
      // "The first character of a string is located at position 1 (not position 0)".
      const double start = y, length = args[2].v;
      if (!IsIntegral(start) || !IsIntegral(length) || start < 1 || length < 0) {
        return Cell::Invalid();
      }
      std::string s = TextOf(args[0], call.arg_types[0], ctx);
      size_t b = ByteOffset(s, 0, start - 1);
      size_t e = ByteOffset(s, b, length);
      return StringResult(s.substr(b, e - b), ctx);
    }
    case BuiltinId::kReplace: {
      std::string input = TextOf(args[0], call.arg_types[0], ctx);
      const std::regex* re = CachedRegex(TextOf(args[1], call.arg_types[1], ctx));
      std::string fmt;
      if (re == nullptr || !TranslateReplacement(TextOf(args[2], call.arg_types[2], ctx), &fmt)) {
        return Cell::Invalid();
      }
      try {
        return StringResult(std::regex_replace(input, *re, fmt), ctx);
      } catch (const std::regex_error&) {
        return Cell::Invalid();
      }
    }
    case BuiltinId::kMatches: {
      std::string input = TextOf(args[0], call.arg_types[0], ctx);
      const std::regex* re = CachedRegex(TextOf(args[1], call.arg_types[1], ctx));
      if (re == nullptr) return Cell::Invalid();
      try {
        // "The string is considered to match the pattern if any substring matches the pattern"
        return Bool(std::regex_search(input, *re));
      } catch (const std::regex_error&) {
        return Cell::Invalid();
      }
    }
    case BuiltinId::kFormatNumber: {
      std::string out;
      if (!FormatNumber(x, call.arg_types[0], TextOf(args[1], call.arg_types[1], ctx), ctx, &out)) {
        return Cell::Invalid();
      }
      return StringResult(std::move(out), ctx);
    }
    case BuiltinId::kFormatDatetime: {
      std::string out;
      if (!std::isfinite(x) ||
          !FormatDatetime(x, call.arg_types[0], TextOf(args[1], call.arg_types[1], ctx), &out)) {
        return Cell::Invalid();
      }
      return StringResult(std::move(out), ctx);
    }
    case BuiltinId::kDateDaysSinceYear: {
      double start = 0, days = 0, secs = 0;
      if (!YearStart(y, &start)) return Cell::Invalid();
      SplitTemporal(x, call.arg_types[0], &days, &secs);
      return Num(days - start);
    }
    case BuiltinId::kDateSecondsSinceYear: {
      double start = 0;
      if (!YearStart(y, &start)) return Cell::Invalid();
      double secs = call.arg_types[0] == ValueType::kDate ? std::floor(x) * kSecondsPerDay : x;
      return Num(std::trunc(secs - start * kSecondsPerDay));
    }
    case BuiltinId::kDateSecondsSinceMidnight: {
      if (call.arg_types[0] == ValueType::kTime) return Num(std::floor(x));
      double days = 0, secs = 0;
      SplitTemporal(x, ValueType::kDateTime, &days, &secs);
      return Num(std::floor(secs));
    }

    case BuiltinId::kIsMissing:
    case BuiltinId::kIsNotMissing:
    case BuiltinId::kIsValid:
    case BuiltinId::kIsNotValid:
    case BuiltinId::kIf:
    case BuiltinId::kMin:
    case BuiltinId::kMax:
    case BuiltinId::kSum:
    case BuiltinId::kAvg:
    case BuiltinId::kMedian:
    case BuiltinId::kProduct:
    case BuiltinId::kConcat:
    case BuiltinId::kCount:
      break;  // handled above / not a function
  }
  return Cell::Invalid();
}

}  // namespace fluxscore::pmml
