#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <fmt/compile.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "fluxscore/dns/features.h"

namespace fluxscore::dns {
namespace {

// Domains may hold any printable UTF-8 except what CSV needs quoted.
bool NeedsQuotes(std::string_view s) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16) {  // 16 bytes a step
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))));
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  for (; i < s.size(); ++i)
    if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return true;
  return false;
}

// The field, quoted when it needs to be: at most 2 * s.size() + 2 bytes at p; returns the end.
char* CsvField(std::string_view s, char* p) {
  if (!NeedsQuotes(s)) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }
  *p++ = '"';
  for (char c : s) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  return p;
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
// kMaxNumber bytes); returns the end. `fraction` writes the text of finite, non-zero values that
// are not whole (Shortest, or its memo).
constexpr size_t kMaxNumber = 32;
// Number's rare cases, out of line: whole values of three digits or more, -0 and infinities.
[[gnu::noinline]] char* WholeNumber(int64_t i, char* p) {
  const fmt::format_int f(i);
  std::memcpy(p, f.data(), f.size());
  return p + f.size();
}
[[gnu::noinline]] char* SpecialNumber(double v, char* p) { return fmt::format_to(p, FMT_COMPILE("{}"), v); }

// The text of 0..99, two bytes each: "0?1?...9?101112...99" (for one digit, the second byte
// is not part of the text).
constexpr char kSmallNumbers[] =
    "0 1 2 3 4 5 6 7 8 9 "
    "10111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374757677787980818283848586878889"
    "90919293949596979899";
static_assert(sizeof kSmallNumbers == 201);

template <typename FractionFn>
inline char* Number(double v, bool integer, char* p, FractionFn&& fraction) {
  // Whole values below 2^53 print as fmt's shortest "{}" prints them, as integers (-0.0 aside:
  // "-0"): many fractional columns (entropies, shares, means) are whole, and the integer path is
  // several times cheaper than the shortest-round-trip one. (Whole: truncation changes nothing.)
  if (std::fabs(v) < 9007199254740992.0) {
    const int64_t i = static_cast<int64_t>(v);
    if (integer || (static_cast<double>(i) == v && !(v == 0 && std::signbit(v)))) {
      if (static_cast<uint64_t>(i) < 100) {  // most counts and whole shares: one or two digits
        // Two bytes from the table, the second one past the end for 0..9 (the caller's room
        // is kMaxNumber bytes; what follows overwrites it or lies beyond the returned end).
        std::memcpy(p, kSmallNumbers + 2 * i, 2);
        return p + 1 + (i >= 10);
      }
      return WholeNumber(i, p);
    }
  }
  if (v != 0 && std::isfinite(v)) return fraction(v, p);
  return SpecialNumber(v, p);  // -0, infinities
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

char* FeatureWriter::Fraction(double v, char* p) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  Memo& m = memo_[(bits * 0x9E3779B97F4A7C15ULL) >> 53];  // 2048 entries, 64 KiB
  if (m.len != 0 && m.bits == bits) {
    std::memcpy(p, m.text, sizeof m.text);  // (p has room for kMaxNumber bytes)
    return p + m.len;
  }
  char* const end = Shortest(v, p);
  const size_t len = static_cast<size_t>(end - p);
  if (len <= sizeof m.text) {
    m.bits = bits;
    std::memcpy(m.text, p, len);
    m.len = static_cast<uint8_t>(len);
  }
  return end;
}

FeatureWriter::FeatureWriter(std::ostream& out, bool jsonl) : out_(out), jsonl_(jsonl), memo_(2048) {
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
  auto fraction = [this](double v, char* q) { return Fraction(v, q); };
  if (jsonl_) {
    std::string& line = line_;
    line = "{\"domain\":";
    JsonString(r.domain, line);
    fmt::format_to(std::back_inserter(line), ",\"window_start\":{}", r.window_start);
    for (size_t i = 0; i < cols.size(); ++i) {
      fmt::format_to(std::back_inserter(line), ",\"{}\":", cols[i].name);
      if (std::isnan(r.values[i])) {
        line.append("null");
      } else {
        char buf[kMaxNumber];
        line.append(buf, static_cast<size_t>(Number(r.values[i], cols[i].integer, buf, fraction) - buf));
      }
    }
    line.append("}\n");
    out_ << line;
  } else {
    // Straight into a buffer that only grows (a std::string's resize would zero it every row).
    const size_t most = 2 * r.domain.size() + 2 + 1 + 20 + cols.size() * (kMaxNumber + 1) + 1;
    if (csv_.size() < most) csv_.resize(most);
    char* p = CsvField(r.domain, csv_.data());
    *p++ = ',';
    const fmt::format_int ws(r.window_start);
    std::memcpy(p, ws.data(), ws.size());
    p += ws.size();
    // (In locals: the char stores through p may alias anything, so the vectors' sizes and data
    // pointers would be reloaded for every column.)
    const FeatureColumn* const col = cols.data();
    const double* const values = r.values.data();
    const size_t ncols = cols.size();
    for (size_t i = 0; i < ncols; ++i) {
      *p++ = ',';
      const double v = values[i];
      if (!std::isnan(v)) p = Number(v, col[i].integer, p, fraction);
    }
    *p++ = '\n';
    out_.write(csv_.data(), static_cast<std::streamsize>(p - csv_.data()));
  }
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
