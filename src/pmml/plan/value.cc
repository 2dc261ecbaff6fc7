// Runtime values: type mapping, string interning, parsing and formatting of PMML text values.
#include "pmml/plan/value.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

namespace fluxscore::pmml {

// ------------------------------------------------------------------ model.h enums and FieldInfo

std::string_view ToString(DataType t) {
  switch (t) {
    case DataType::kString: return "string";
    case DataType::kInteger: return "integer";
    case DataType::kFloat: return "float";
    case DataType::kDouble: return "double";
    case DataType::kBoolean: return "boolean";
    case DataType::kDate: return "date";
    case DataType::kTime: return "time";
    case DataType::kDateTime: return "dateTime";
  }
  return "unknown";
}

std::string_view ToString(OpType t) {
  switch (t) {
    case OpType::kContinuous: return "continuous";
    case OpType::kCategorical: return "categorical";
    case OpType::kOrdinal: return "ordinal";
  }
  return "unknown";
}

bool FieldInfo::is_string() const {
  switch (data_type) {
    case DataType::kString:
    case DataType::kDate:
    case DataType::kTime:
    case DataType::kDateTime:
      return true;
    case DataType::kInteger:
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kBoolean:
      return false;
  }
  return false;
}

// ------------------------------------------------------------------ value types

ValueType ValueTypeOf(DataType t) {
  switch (t) {
    case DataType::kString: return ValueType::kString;
    case DataType::kInteger:
    case DataType::kFloat:
    case DataType::kDouble: return ValueType::kNumber;
    case DataType::kBoolean: return ValueType::kBoolean;
    case DataType::kDate: return ValueType::kDate;
    case DataType::kTime: return ValueType::kTime;
    case DataType::kDateTime: return ValueType::kDateTime;
  }
  return ValueType::kNumber;
}

std::string_view ToString(ValueType t) {
  switch (t) {
    case ValueType::kString: return "string";
    case ValueType::kNumber: return "number";
    case ValueType::kBoolean: return "boolean";
    case ValueType::kDate: return "date";
    case ValueType::kTime: return "time";
    case ValueType::kDateTime: return "dateTime";
  }
  return "unknown";
}

// ------------------------------------------------------------------ string pools

int32_t StringPool::Intern(std::string_view s) {
  auto [it, inserted] = index_.try_emplace(std::string(s), static_cast<int32_t>(strings_.size()));
  if (inserted) strings_.emplace_back(s);
  return it->second;
}

int32_t StringPool::Find(std::string_view s) const {
  auto it = index_.find(std::string(s));
  return it == index_.end() ? -1 : it->second;
}

double EvalContext::Intern(std::string_view s) {
  int32_t code = pool_->Find(s);
  if (code >= 0) return code;
  auto [it, inserted] =
      overflow_index_.try_emplace(std::string(s), static_cast<int32_t>(overflow_.size()));
  if (inserted) overflow_.emplace_back(s);
  return static_cast<double>(pool_->size()) + it->second;
}

// ------------------------------------------------------------------ parsing

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

namespace {

constexpr double kSecondsPerDay = 86400.0;


bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeap(y)) ? 29 : kDays[m - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses exactly n digits at s[pos], advancing pos.
bool Digits(std::string_view s, size_t& pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

// "[-]YYYY-MM-DD" (four or more year digits) at s[pos]; days since the epoch.
bool ParseDatePart(std::string_view s, size_t& pos, int64_t* days) {
  bool neg = false;
  if (pos < s.size() && s[pos] == '-') {
    neg = true;
    ++pos;
  }
  size_t start = pos;
  int64_t year = 0;
  while (pos < s.size() && IsDigit(s[pos])) {
    if (pos - start >= 9) return false;
    year = year * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos - start < 4) return false;
  if (neg) year = -year;
  unsigned month = 0, day = 0;
  if (pos >= s.size() || s[pos++] != '-') return false;
  if (!Digits(s, pos, 2, &month)) return false;
  if (pos >= s.size() || s[pos++] != '-') return false;
  if (!Digits(s, pos, 2, &day)) return false;
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return false;
  *days = DaysFromCivil(year, month, day);
  return true;
}

// "HH:MM:SS[.fff]" at s[pos]; seconds since midnight.
bool ParseTimePart(std::string_view s, size_t& pos, double* seconds) {
  unsigned h = 0, m = 0, sec = 0;
  if (!Digits(s, pos, 2, &h)) return false;
  if (pos >= s.size() || s[pos++] != ':') return false;
  if (!Digits(s, pos, 2, &m)) return false;
  if (pos >= s.size() || s[pos++] != ':') return false;
  size_t sec_start = pos;
  if (!Digits(s, pos, 2, &sec)) return false;
  if (h > 23 || m > 59 || sec > 59) return false;
  double s_value = sec;
  if (pos < s.size() && s[pos] == '.') {
    size_t frac_start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == frac_start) return false;
    // "SS.fff" parsed as one decimal for a correctly rounded value.
    auto r = std::from_chars(s.data() + sec_start, s.data() + pos, s_value);
    if (r.ec != std::errc() || r.ptr != s.data() + pos) return false;
  }
  *seconds = h * 3600.0 + m * 60.0 + s_value;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool ParseNumber(std::string_view text, double* out) {
  if (text.empty()) return false;
  std::string_view body = text;
  if (body.front() == '+') {
    body.remove_prefix(1);
    if (body.empty() || body.front() == '-' || body.front() == '+') return false;
  }
  double v = 0;
  auto r = std::from_chars(body.data(), body.data() + body.size(), v);
  if (r.ptr != body.data() + body.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow to +-inf, underflow to +-0 (as Java's Double.parseDouble does).
    std::string copy(body);
    v = std::strtod(copy.c_str(), nullptr);
  } else if (r.ec != std::errc()) {
    return false;
  }
  *out = v;
  return true;
}

// Appends v as at least `width` digits (v >= 0).
void AppendPadded(std::string& out, int64_t v, int width) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

void AppendDate(std::string& out, int64_t days) {
  Civil c = CivilFromDays(days);
  if (c.y < 0) {
    out.push_back('-');
    AppendPadded(out, -c.y, 4);
  } else {
    AppendPadded(out, c.y, 4);
  }
  out.push_back('-');
  AppendPadded(out, c.m, 2);
  out.push_back('-');
  AppendPadded(out, c.d, 2);
}

// Appends HH:MM:SS[.fraction] for seconds (>= 0) since midnight.
void AppendTime(std::string& out, double seconds) {
  double whole = std::floor(seconds);
  auto ns = static_cast<int64_t>(std::llround((seconds - whole) * 1e9));
  auto total = static_cast<int64_t>(whole);
  if (ns >= 1000000000) {
    ns -= 1000000000;
    ++total;
  }
  AppendPadded(out, total / 3600, 2);
  out.push_back(':');
  AppendPadded(out, (total / 60) % 60, 2);
  out.push_back(':');
  AppendPadded(out, total % 60, 2);
  if (ns > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(ns));
    std::string_view frac(buf, 9);
    while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
    out.push_back('.');
    out.append(frac);
  }
}

}  // namespace

bool ParseNonString(std::string_view text, ValueType t, double* out) {
  switch (t) {
    case ValueType::kString:
      return false;
    case ValueType::kNumber:
      return ParseNumber(text, out);
    case ValueType::kBoolean:
      if (text == "1" || EqualsIgnoreCase(text, "true")) {
        *out = 1;
        return true;
      }
      if (text == "0" || EqualsIgnoreCase(text, "false")) {
        *out = 0;
        return true;
      }
      return false;
    case ValueType::kDate: {
      size_t pos = 0;
      int64_t days = 0;
      if (!ParseDatePart(text, pos, &days) || pos != text.size()) return false;
      *out = static_cast<double>(days);
      return true;
    }
    case ValueType::kTime: {
      size_t pos = 0;
      double secs = 0;
      if (!ParseTimePart(text, pos, &secs)) return false;
      if (pos < text.size() && text[pos] == 'Z') ++pos;
      if (pos != text.size()) return false;
      *out = secs;
      return true;
    }
    case ValueType::kDateTime: {
      size_t pos = 0;
      int64_t days = 0;
      double secs = 0;
      if (!ParseDatePart(text, pos, &days)) return false;
      if (pos >= text.size() || text[pos++] != 'T') return false;
      if (!ParseTimePart(text, pos, &secs)) return false;
      if (pos < text.size() && text[pos] == 'Z') ++pos;
      if (pos != text.size()) return false;
      *out = static_cast<double>(days) * kSecondsPerDay + secs;
      return true;
    }
  }
  return false;
}

bool ParseValue(std::string_view text, ValueType t, EvalContext& ctx, double* out) {
  if (t == ValueType::kString) {
    *out = ctx.Intern(text);
    return true;
  }
  return ParseNonString(text, t, out);
}

std::string FormatValue(double v, ValueType t, const EvalContext& ctx) {
  switch (t) {
    case ValueType::kString:
      if (std::isnan(v)) return std::string();
      return std::string(ctx.Text(v));
    case ValueType::kBoolean:
      return v != 0 ? "true" : "false";
    case ValueType::kNumber:
      break;
    case ValueType::kDate:
    case ValueType::kTime:
    case ValueType::kDateTime: {
      if (!std::isfinite(v)) break;  // formatted like a number below
      std::string out;
      if (t == ValueType::kDate) {
        AppendDate(out, static_cast<int64_t>(std::floor(v)));
      } else if (t == ValueType::kTime) {
        if (v < 0) {
          out.push_back('-');
          v = -v;
        }
        AppendTime(out, v);
      } else {
        double days = std::floor(v / kSecondsPerDay);
        double secs = v - days * kSecondsPerDay;
        if (secs >= kSecondsPerDay) {  // rounding at the day boundary
          days += 1;
          secs -= kSecondsPerDay;
        }
        AppendDate(out, static_cast<int64_t>(days));
        out.push_back('T');
        AppendTime(out, secs < 0 ? 0 : secs);
      }
      return out;
    }
  }
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace fluxscore::pmml
