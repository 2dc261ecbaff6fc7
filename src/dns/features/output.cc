#include <fmt/compile.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "fluxscore/dns/features.h"

namespace fluxscore::dns {
namespace {

// Domains may hold any printable UTF-8 except what CSV needs quoted.
void CsvField(std::string_view s, std::string& out) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// fmt's "{}" text of a finite, non-zero double: the shortest digits that round-trip (fmt's
// Dragonbox, which "{}" uses), laid out as fmt 9's do_write_float lays them out for the
// default specification — fixed notation while the decimal exponent of the first digit is in
// [-4, 16), else d[.ddd]e±XX — without its generic padding, locale and grouping machinery.
// Writes at most 25 bytes at p; returns the end.
char* Shortest(double v, char* p) {
  if (std::signbit(v)) {
    *p++ = '-';
    v = -v;
  }
  const auto dec = fmt::detail::dragonbox::to_decimal(v);
  const fmt::format_int text(dec.significand);  // (two digits a step)
  const char* const digits = text.data();
  const int n = static_cast<int>(text.size());
  const int output_exp = dec.exponent + n - 1;
  if (output_exp < -4 || output_exp >= 16) {
    *p++ = digits[0];
    if (n > 1) {
      *p++ = '.';
      std::memcpy(p, digits + 1, static_cast<size_t>(n - 1));
      p += n - 1;
    }
    *p++ = 'e';
    int e = output_exp;
    if (e < 0) {
      *p++ = '-';
      e = -e;
    } else {
      *p++ = '+';
    }
    if (e >= 100) {
      if (e >= 1000) *p++ = static_cast<char>('0' + e / 1000);
      *p++ = static_cast<char>('0' + e / 100 % 10);
      e %= 100;
    }
    *p++ = static_cast<char>('0' + e / 10);
    *p++ = static_cast<char>('0' + e % 10);
    return p;
  }
  if (dec.exponent >= 0) {  // 1234e2 -> 123400
    std::memcpy(p, digits, static_cast<size_t>(n));
    p += n;
    std::memset(p, '0', static_cast<size_t>(dec.exponent));
    return p + dec.exponent;
  }
  const int integral = dec.exponent + n;
  if (integral > 0) {  // 1234e-2 -> 12.34
    std::memcpy(p, digits, static_cast<size_t>(integral));
    p += integral;
    *p++ = '.';
    std::memcpy(p, digits + integral, static_cast<size_t>(n - integral));
    return p + (n - integral);
  }
  *p++ = '0';  // 1234e-6 -> 0.001234
  *p++ = '.';
  std::memset(p, '0', static_cast<size_t>(-integral));
  p += -integral;
  std::memcpy(p, digits, static_cast<size_t>(n));
  return p + n;
}

// fmt's "{}" text (shortest round-trip form for doubles) of a non-NaN value at p (at most
// kMaxNumber bytes); returns the end.
constexpr size_t kMaxNumber = 32;
char* Number(double v, bool integer, char* p) {
  // Whole values below 2^53 print as fmt's shortest "{}" prints them, as integers (-0.0 aside:
  // "-0"): many fractional columns (entropies, shares, means) are whole, and the integer path is
  // several times cheaper than the shortest-round-trip one.
  if ((integer || (std::floor(v) == v && !(v == 0 && std::signbit(v)))) && std::fabs(v) < 9007199254740992.0) {
    const int64_t i = static_cast<int64_t>(v);
    if (static_cast<uint64_t>(i) < 100) {  // most counts and whole shares: one or two digits
      if (i >= 10) *p++ = static_cast<char>('0' + i / 10);
      *p++ = static_cast<char>('0' + i % 10);
      return p;
    }
    const fmt::format_int f(i);
    std::memcpy(p, f.data(), f.size());
    return p + f.size();
  }
  if (v != 0 && std::isfinite(v)) return Shortest(v, p);
  return fmt::format_to(p, FMT_COMPILE("{}"), v);  // -0, infinities
}

void Number(double v, bool integer, std::string& out) {
  char buf[kMaxNumber];
  out.append(buf, static_cast<size_t>(Number(v, integer, buf) - buf));
}

void JsonString(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

}  // namespace

FeatureWriter::FeatureWriter(std::ostream& out, bool jsonl) : out_(out), jsonl_(jsonl) {
  if (jsonl_) return;
  line_ = "domain,window_start";
  for (const auto& c : FeatureColumns()) {
    line_.push_back(',');
    line_.append(c.name);
  }
  line_.push_back('\n');
  out_ << line_;
}

void FeatureWriter::Write(const FeatureRow& r) {
  const auto& cols = FeatureColumns();
  std::string& line = line_;
  line.clear();
  if (jsonl_) {
    line = "{\"domain\":";
    JsonString(r.domain, line);
    fmt::format_to(std::back_inserter(line), ",\"window_start\":{}", r.window_start);
    for (size_t i = 0; i < cols.size(); ++i) {
      fmt::format_to(std::back_inserter(line), ",\"{}\":", cols[i].name);
      if (std::isnan(r.values[i])) {
        line.append("null");
      } else {
        Number(r.values[i], cols[i].integer, line);
      }
    }
    line.append("}\n");
  } else {
    CsvField(r.domain, line);
    line.push_back(',');
    const fmt::format_int ws(r.window_start);
    line.append(ws.data(), ws.size());
    // The numbers straight into the line's buffer, grown once.
    const size_t at = line.size();
    line.resize(at + cols.size() * (kMaxNumber + 1) + 1);
    char* p = line.data() + at;
    for (size_t i = 0; i < cols.size(); ++i) {
      *p++ = ',';
      if (!std::isnan(r.values[i])) p = Number(r.values[i], cols[i].integer, p);
    }
    *p++ = '\n';
    line.resize(static_cast<size_t>(p - line.data()));
  }
  out_ << line;
}

void WriteFeaturesCsv(const std::vector<FeatureRow>& rows, std::ostream& out) {
  FeatureWriter w(out, false);
  for (const FeatureRow& r : rows) w.Write(r);
}

void WriteFeaturesJsonl(const std::vector<FeatureRow>& rows, std::ostream& out) {
  FeatureWriter w(out, true);
  for (const FeatureRow& r : rows) w.Write(r);
}

}  // namespace fluxscore::dns
