// Small parsing helpers shared by the text log readers.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dns/parse_v4.h"
#include "fluxscore/dns/record.h"

namespace fluxscore::dns {

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits on one separator character into at most `max` pieces, exactly as repeated
// string_view::find would: returns the number of pieces (max + 1, with the first `max` pieces in
// `out`, when there are more). One pass over the bytes, 16 at a time where SSE2 is there.
// `has_backslash` (optional) is set to whether the line holds a '\\' (only when the count is
// returned, not max + 1): readers skip unescaping for lines without one.
inline size_t SplitFast(std::string_view line, char sep, std::vector<std::string_view>& out, size_t max,
                        bool* has_backslash = nullptr) {
  out.clear();
  const char* const b = line.data();
  const size_t n = line.size();
  size_t start = 0, i = 0;
  bool bs = false;
#if defined(__SSE2__)
  const __m128i vsep = _mm_set1_epi8(sep);
  const __m128i vbs = _mm_set1_epi8('\\');
  __m128i acc = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    acc = _mm_or_si128(acc, _mm_cmpeq_epi8(x, vbs));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, vsep)));
    while (m != 0) {
      const size_t p = i + static_cast<size_t>(__builtin_ctz(m));
      m &= m - 1;
      if (out.size() == max) return max + 1;
      out.emplace_back(b + start, p - start);
      start = p + 1;
    }
  }
  bs = _mm_movemask_epi8(acc) != 0;
#endif
  for (; i < n; ++i) {
    const char c = b[i];
    bs |= c == '\\';
    if (c == sep) {
      if (out.size() == max) return max + 1;
      out.emplace_back(b + start, i - start);
      start = i + 1;
    }
  }
  if (out.size() == max) return max + 1;
  out.emplace_back(b + start, n - start);
  if (has_backslash != nullptr) *has_backslash = bs;
  return out.size();
}

// The field boundaries of a line split on one separator character, in one pass over its bytes
// (64 and 16 at a time where SSE2 is there). Returns the number of fields, or max + 1 when there are
// more than max, like SplitFast; when the count is returned, field k is
// [k == 0 ? 0 : ends[k - 1] + 1, ends[k]) (ends[count - 1] is line.size()) and *has_backslash
// tells whether the line holds a '\\'. `ends` must have room for max + 64 values.
inline size_t SplitPositions(std::string_view line, char sep, size_t* ends, size_t max, bool* has_backslash) {
  const char* const b = line.data();
  const size_t n = line.size();
  size_t k = 0, i = 0;  // k: separators seen
  bool bs = false;
#if defined(__SSE2__)
  const __m128i vsep = _mm_set1_epi8(sep);
  const __m128i vbs = _mm_set1_epi8('\\');
  __m128i acc = _mm_setzero_si128();
  for (; i + 64 <= n; i += 64) {
    const __m128i* q = reinterpret_cast<const __m128i*>(b + i);
    const __m128i x0 = _mm_loadu_si128(q), x1 = _mm_loadu_si128(q + 1);
    const __m128i x2 = _mm_loadu_si128(q + 2), x3 = _mm_loadu_si128(q + 3);
    acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x0, vbs), _mm_cmpeq_epi8(x1, vbs)),
                                         _mm_or_si128(_mm_cmpeq_epi8(x2, vbs), _mm_cmpeq_epi8(x3, vbs))));
    uint64_t m = static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x0, vsep)))) |
                 static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x1, vsep)))) << 16 |
                 static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x2, vsep)))) << 32 |
                 static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x3, vsep)))) << 48;
    while (m != 0) {  // k < max before the block: at most max + 63 ends written
      ends[k++] = i + static_cast<size_t>(__builtin_ctzll(m));
      m &= m - 1;
    }
    if (k >= max) return max + 1;
  }
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    acc = _mm_or_si128(acc, _mm_cmpeq_epi8(x, vbs));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, vsep)));
    while (m != 0) {  // k < max before the block: at most max + 15 ends written
      ends[k++] = i + static_cast<size_t>(__builtin_ctz(m));
      m &= m - 1;
    }
    if (k >= max) return max + 1;
  }
  if (i < n && n >= 16) {
    // The last bytes: one load ending at the end of the line, the bytes already seen shifted out.
    const int seen = static_cast<int>(16 - (n - i));
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + n - 16));
    acc = _mm_or_si128(acc, _mm_cmpeq_epi8(x, vbs));  // (seen bytes: already in acc)
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, vsep))) >> seen;
    while (m != 0) {
      ends[k++] = i + static_cast<size_t>(__builtin_ctz(m));
      m &= m - 1;
    }
    i = n;
  }
  bs = _mm_movemask_epi8(acc) != 0;
#endif
  for (; i < n; ++i) {
    const char c = b[i];
    bs |= c == '\\';
    if (c == sep) {
      if (k >= max) return max + 1;
      ends[k++] = i;
    }
  }
  if (k >= max) return max + 1;
  ends[k] = n;
  *has_backslash = bs;
  return k + 1;
}

// Powers of ten that doubles hold exactly.
inline constexpr double kExactPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                           1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FLUXSCORE_SWAR_DIGITS 1
// Eight ASCII bytes as loaded little-endian (byte 0: the first, most significant digit).
[[gnu::always_inline]] inline bool AllDigits8(uint64_t x) {
  // Every byte in '0'..'9' (no byte carries or borrows into a higher one before the lowest
  // byte that is not a digit has set its top bit).
  return (((x + 0x4646464646464646ULL) | (x - 0x3030303030303030ULL)) & 0x8080808080808080ULL) == 0;
}
[[gnu::always_inline]] inline uint32_t Digits8Value(uint64_t x) {
  x -= 0x3030303030303030ULL;
  x = x * 10 + (x >> 8);  // byte 2j: the two-digit value of digits 2j, 2j + 1
  x = (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  return static_cast<uint32_t>(x);
}
// The first k (1..8) bytes at p, right-aligned after 8 - k '0's (p must have 8 readable bytes).
[[gnu::always_inline]] inline uint64_t LeadingDigits8(const char* p, size_t k) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  const unsigned sh = static_cast<unsigned>(8 * (8 - k));
  return sh == 0 ? x : (x << sh) | (0x3030303030303030ULL >> (64 - sh));
}
#endif

// Reads a run of decimal digits at p (before e) into m (m = m * 10^len + digits; wraps past 19
// digits, which callers refuse); returns the end of the run. Eight and four digits at a time
// (SWAR, little-endian) where the bytes are there.
inline const char* ReadDigits(const char* p, const char* e, uint64_t& m) {
#if defined(FLUXSCORE_SWAR_DIGITS)
  while (e - p >= 8) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    if (!AllDigits8(x)) break;
    m = m * 100000000ULL + Digits8Value(x);
    p += 8;
  }
  if (e - p >= 4) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    if ((((x + 0x46464646U) | (x - 0x30303030U)) & 0x80808080U) == 0) {
      x -= 0x30303030U;
      x = x * 10 + (x >> 8);
      m = m * 10000 + (x & 0xFF) * 100 + ((x >> 16) & 0xFF);
      p += 4;
    }
  }
  if (e - p >= 2) {
    uint16_t x;
    std::memcpy(&x, p, 2);
    if (((((x + 0x4646U) | (x - 0x3030U)) & 0x8080U) == 0)) {
      x = static_cast<uint16_t>(x - 0x3030U);
      m = m * 100 + (x & 0xFF) * 10 + (x >> 8);
      p += 2;
    }
  }
#endif
  while (p < e && static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') <= 9) {
    m = m * 10 + static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    ++p;
  }
  return p;
}

// Zeek's own shape, "<1 to 13 digits>.<6 digits>" (time and interval values, TTLs): the digits
// in at most three eight-byte steps, m / 10^6 as in ParseDecimalFast. False for anything else.
inline bool ParseZeekDecimal(const char* p, const char* e, double& out) {
#if defined(FLUXSCORE_SWAR_DIGITS)
  const size_t n = static_cast<size_t>(e - p);
  if (n < 8 || n > 20 || e[-7] != '.') return false;
  uint64_t f;
  std::memcpy(&f, e - 8, 8);  // "<digit>.dddddd": make it "00dddddd"
  f = (f & ~uint64_t{0xFFFF}) | 0x3030;
  const size_t int_digits = n - 7;
  const uint64_t hi = LeadingDigits8(p, int_digits <= 8 ? int_digits : int_digits - 8);
  const bool zero_fraction = f == 0x3030303030303030ULL;
  if (!(zero_fraction || AllDigits8(f)) || !AllDigits8(hi)) return false;
  uint64_t m = Digits8Value(hi);
  if (int_digits > 8) {
    uint64_t lo;
    std::memcpy(&lo, p + int_digits - 8, 8);
    if (!AllDigits8(lo)) return false;
    m = m * 100000000ULL + Digits8Value(lo);
  }
  m = m * 1000000ULL + (zero_fraction ? 0 : Digits8Value(f));  // at most 19 digits: no overflow
  if (m > (uint64_t{1} << 53)) return false;
  out = static_cast<double>(m) / 1e6;
  return true;
#else
  return false;
#endif
}

// The fast path of ParseDouble: a plain decimal "digits[.digits]" (as logged: "1700006412.345678",
// "60.000000") with at most 19 digits whose digit string m is at most 2^53. Then m and 10^k are
// exact doubles and m / 10^k is one correctly rounded IEEE division of the exact value, which is
// the correctly rounded double from_chars returns: bit-identical. Returns false (the caller falls
// back to from_chars) for anything else: signs, exponents, inf/nan, ".5", "5.", longer digits.
inline bool ParseDecimalFast(const char* p, const char* e, double& out) {
  if (e - p > 20) return false;

  const char* const b = p;
  uint64_t m = 0;
  p = ReadDigits(p, e, m);
  size_t digits = static_cast<size_t>(p - b);
  if (digits == 0) return false;
  size_t frac = 0;
  if (p < e && *p == '.') {
    const char* const f = ++p;
    p = ReadDigits(p, e, m);
    frac = static_cast<size_t>(p - f);
    if (frac == 0) return false;
    digits += frac;
  }
  // (m may have wrapped for more than 19 digits; such text is refused here.)
  if (p != e || digits > 19 || m > (uint64_t{1} << 53)) return false;
  out = static_cast<double>(m) / kExactPow10[frac];
  return true;
}

// ParseDouble past its inline first try.
[[gnu::noinline]] inline bool ParseDoubleGeneral(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  if (ParseDecimalFast(b, e, out)) return true;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && std::isfinite(out);
}

inline bool ParseDouble(std::string_view s, double& out) {
  if (ParseZeekDecimal(s.data(), s.data() + s.size(), out)) return true;  // (no leading '+')
  return ParseDoubleGeneral(s, out);
}

// Timestamps the pipeline accepts: epoch seconds within ±2^40 (about ±34,800 years), so that
// window arithmetic stays exact and in range. Anything else is a "bad ts".
inline bool PlausibleTs(double ts) { return ts > -1099511627776.0 && ts < 1099511627776.0; }
inline bool ParseTs(std::string_view s, double& out) { return ParseDouble(s, out) && PlausibleTs(out); }

// A ts that is a JSON number: epoch seconds (ParseTs), or whole epoch milliseconds as Zeek writes
// them with LogAscii::json_timestamps = JSON::TS_MILLIS or TS_MILLIS_UNSIGNED, told apart as an
// integer of 12 or more digits (milliseconds from 1973-03-03 on; as seconds, years after 5000).
inline bool ParseJsonTs(std::string_view s, double& out) {
  const bool neg = !s.empty() && s[0] == '-';
  const std::string_view d = s.substr(neg ? 1 : 0);
  if (d.size() >= 12 && d.size() <= 15 &&
      std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t ms = 0;
    for (char c : d) ms = ms * 10 + (c - '0');
    // (ms < 10^15 < 2^53 is exact as a double, and the division rounds once: the double nearest
    // to the decimal seconds, as ParseTs gives for the same time written "seconds.mmm".)
    out = static_cast<double>(neg ? -ms : ms) / 1000.0;
    return true;
  }
  return ParseTs(s, out);
}

inline bool ParseU32(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// ParseU16 past its inline case: one to five plain digits without from_chars, else ParseU32.
[[gnu::noinline]] inline bool ParseU16General(std::string_view s, uint32_t& out) {
  const size_t n = s.size();
  if (n >= 1 && n <= 5) {
    uint32_t v = 0;
    size_t i = 0;
    for (; i < n && static_cast<unsigned>(static_cast<unsigned char>(s[i]) - '0') <= 9; ++i)
      v = v * 10 + static_cast<uint32_t>(s[i] - '0');
    if (i == n) {
      out = v;
      return v <= 65535;
    }
  }
  return ParseU32(s, out) && out <= 65535;
}

// ParseU32(s, out) && out <= 65535 (qtype, rcode), with one plain digit (the usual rcode and
// many qtypes) inline.
[[gnu::always_inline]] inline bool ParseU16(std::string_view s, uint32_t& out) {
  if (s.size() == 1 && static_cast<unsigned>(static_cast<unsigned char>(s[0]) - '0') <= 9) {
    out = static_cast<uint32_t>(s[0] - '0');
    return true;
  }
  return ParseU16General(s, out);
}

// A TTL as logged: whole seconds, possibly written with a fraction of zeros ("60.000000"), at
// most 2^31 - 1 (RFC 2181 section 8).
inline bool ParseTtl(std::string_view s, uint32_t& out) {
  const size_t n = s.size();
#if defined(FLUXSCORE_SWAR_DIGITS)
  // Zeek's "<1 to 8 digits>.000000" (most TTLs): the digits in one eight-byte step. (Anything
  // else, or other bytes among the digits, takes the paths below, as before.)
  if (n >= 8 && n <= 15) {
    uint64_t tail;
    std::memcpy(&tail, s.data() + n - 8, 8);  // "<digit>.000000"
    if ((tail >> 8) == 0x003030303030302EULL) {
      const uint64_t x = LeadingDigits8(s.data(), n - 7);
      if (AllDigits8(x)) {
        out = Digits8Value(x);  // at most 99,999,999: within 2^31 - 1
        return true;
      }
    }
  }
#endif
  // Fast path, the usual shapes "60" and "60.000000": the integer digits, no division.
  const size_t int_digits = n >= 8 && s.substr(n - 7) == ".000000" ? n - 7 : n;
  if (int_digits >= 1 && int_digits <= 10) {
    uint64_t v = 0;
    size_t i = 0;
    for (; i < int_digits && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (i == int_digits) {
      if (v > 2147483647u) return false;
      out = static_cast<uint32_t>(v);
      return true;
    }
  }
  double d;
  if (!ParseDouble(s, d)) return false;
  // (In [0, 2^31 - 1], d is whole exactly when converting it to an integer and back keeps it:
  // d != std::floor(d) without a libm call.)
  if (d < 0 || d > 2147483647.0 || d != static_cast<double>(static_cast<uint32_t>(d))) return false;
  out = static_cast<uint32_t>(d);
  return true;
}

// v.resize(n), but the data buffers of dropped answers are kept in `spare` and given to new
// ones (their text is always assigned before use), so lines with changing answer counts do
// not allocate.
inline void ResizeKeepingBuffers(std::vector<Answer>& v, size_t n, std::vector<std::string>& spare) {
  while (v.size() > n) {
    spare.push_back(std::move(v.back().data));
    v.pop_back();
  }
  while (v.size() < n) {
    v.emplace_back();
    if (!spare.empty()) {
      v.back().data = std::move(spare.back());
      spare.pop_back();
    }
  }
}

// The last few addresses parsed from one column, by their text: IpAddr::Parse is a function of
// the text, and a column like id.resp_h holds a handful of values.
class AddrCache {
 public:
  std::optional<IpAddr> Parse(std::string_view text) {
    for (Entry& e : entries_)
      if (e.len == text.size() && Same(e.text, text)) return e.ip;
    std::optional<IpAddr> ip = IpAddr::Parse(text);
    if (text.size() <= sizeof(Entry::text)) {
      Entry& e = entries_[next_];
      next_ = (next_ + 1) % kEntries;
      std::memcpy(e.text, text.data(), text.size());
      e.len = text.size();
      e.ip = ip;
    }
    return ip;
  }

 private:
  static bool Same(const char* a, std::string_view b) {
    const size_t n = b.size();
    if (n >= 8 && n <= 16) {  // two overlapping eight-byte words cover it
      uint64_t x0, x1, y0, y1;
      std::memcpy(&x0, a, 8);
      std::memcpy(&x1, a + n - 8, 8);
      std::memcpy(&y0, b.data(), 8);
      std::memcpy(&y1, b.data() + n - 8, 8);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return std::memcmp(a, b.data(), n) == 0;
  }
  static constexpr size_t kEntries = 4;
  struct Entry {
    char text[46];
    size_t len = SIZE_MAX;  // empty
    std::optional<IpAddr> ip;
  };
  Entry entries_[kEntries];
  size_t next_ = 0;
};

// A dotted quad exactly as IpAddr::Parse reads one (four parts of one to three digits, 0-255, no
// leading zeros, single dots, nothing else), inline: addresses are much of what the readers parse,
// and most are IPv4. False for anything else, including text IpAddr::Parse accepts (IPv6): ask it.
[[gnu::always_inline]] inline bool ParseDottedQuad(std::string_view t, IpAddr& out) {
  uint32_t v;
  if (!ParseV4(t, v)) return false;
  out = IpAddr::FromV4(v);
  return true;
}

// IpAddr::Parse into `out` (left as it was on failure), with dotted quads inline.
inline bool ParseIp(std::string_view t, IpAddr& out) {
  if (ParseDottedQuad(t, out)) return true;
  const std::optional<IpAddr> ip = IpAddr::Parse(t);
  if (!ip) return false;
  out = *ip;
  return true;
}

// Builds an Answer from logged RR data when the RR type is not logged (Zeek): data that parses
// as an address is an A/AAAA answer; "TXT ..." is TXT; "<unknown type=N>" is type N; any other
// data is a name: a CNAME in the answer to an A, AAAA or CNAME query, else of the query's type.
// Data that looks like an address but does not parse ("999.1.1.1", "1.2.3", "2001:db8::g")
// is a bad address answer: returns false.
inline bool LooksLikeAddress(std::string_view d) {
  if (d.empty()) return false;
  if (d.find(':') != std::string_view::npos) return d.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
  return d.find_first_not_of("0123456789.") == std::string_view::npos;
}

// ClassifyAnswer past its inline dotted-quad case: the rules above, step for step (this was
// InferAnswer before the dotted-quad case was taken out; readers_test and parse_fast_test hold it
// to those rules).
[[gnu::noinline]] inline bool ClassifyAnswerGeneral(std::string_view data, uint16_t qtype, Answer& a) {
  // IpAddr::Parse accepts only text of [0-9a-fA-F:.] (dotted quads: digits and dots; IPv6: hex
  // digits, colons, dots), and LooksLikeAddress is true only for such text too, so data with any
  // other byte (or empty) is a name. Otherwise it is an address when it parses; when it does
  // not, LooksLikeAddress (colon: all of [0-9a-fA-F:.]; no colon: all of [0-9.]) decides between
  // a bad address and a name. One exception: IPv6 text is read up to a NUL byte (inet_pton), so
  // when the first byte outside that set is a NUL, the data is an address if it parses and a
  // name otherwise. Data starting with a digit (most addresses) is parsed first.
  const bool digit_first = !data.empty() && data[0] >= '0' && data[0] <= '9';
  std::optional<IpAddr> ip;
  if (digit_first) ip = IpAddr::Parse(data);
  if (!ip) {
    bool colon = false, decimal = true, addr_chars = !data.empty(), nul = false;
    for (const char c : data) {
      if ((c >= '0' && c <= '9') || c == '.') continue;
      const char l = static_cast<char>(c | 0x20);
      if (c == ':') {
        colon = true;
      } else if (!(l >= 'a' && l <= 'f')) {
        addr_chars = false;
        nul = c == '\0';
        break;
      }
      decimal = false;
    }
    if (nul) {
      if (!digit_first) ip = IpAddr::Parse(data);
    } else if (addr_chars && (colon || decimal)) {
      if (!digit_first) ip = IpAddr::Parse(data);
      if (!ip) return false;  // looks like an address, does not parse
    }
  }
  if (ip) {
    a.is_address = true;
    a.addr = *ip;
    a.type = ip->is_v4() ? kTypeA : kTypeAAAA;
    return true;
  }
  a.is_address = false;
  if (data.substr(0, 4) == "TXT ") {
    a.type = kTypeTXT;
  } else if (data.substr(0, 14) == "<unknown type=" && data.back() == '>') {
    uint32_t t = 0;
    a.type = ParseU32(data.substr(14, data.size() - 15), t) && t <= 65535 ? static_cast<uint16_t>(t) : 0;
  } else if (qtype == kTypeA || qtype == kTypeAAAA || qtype == kTypeCNAME || qtype == 0 ||
             qtype == 255) {
    a.type = kTypeCNAME;
  } else {
    a.type = qtype;
  }
  return true;
}

// InferAnswer without the TTL and the data text: sets type, is_address and (for an address)
// addr; addr is left as it was for other data. A dotted quad (the usual answer) is taken inline.
inline bool ClassifyAnswer(std::string_view data, uint16_t qtype, Answer& a) {
  if (!data.empty() && data[0] >= '0' && data[0] <= '9' && ParseDottedQuad(data, a.addr)) {
    a.is_address = true;
    a.type = kTypeA;
    return true;
  }
  return ClassifyAnswerGeneral(data, qtype, a);
}

inline bool InferAnswer(std::string_view data, uint16_t qtype, uint32_t ttl, Answer& a) {
  a.ttl = ttl;
  a.data.assign(data);
  return ClassifyAnswer(data, qtype, a);
}

#if defined(__SSE2__)
// NormalizeName for the usual query name, in place in its line: after one trailing dot is
// removed, 1 to 32 bytes of printable ASCII (0x21-0x7e) without an empty label, where `avail`
// (at least 32) bytes are readable from its start. Then no label can be too long, and the name is
// its bytes lower-cased, as NormalizeName makes it. Returns false for anything else (without a
// verdict: the caller asks NormalizeName).
inline bool NormalizeShortName(std::string_view in, size_t avail, std::string& out) {
  size_t n = in.size();
  if (n != 0 && in[n - 1] == '.') --n;
  if (n == 0 || n > 32 || avail < 32) return false;
  const __m128i* p = reinterpret_cast<const __m128i*>(in.data());
  const __m128i x0 = _mm_loadu_si128(p), x1 = _mm_loadu_si128(p + 1);
  const uint32_t valid = n == 32 ? ~uint32_t{0} : (uint32_t{1} << n) - 1;
  auto mask2 = [](__m128i a, __m128i b) {
    return static_cast<uint32_t>(_mm_movemask_epi8(a)) | static_cast<uint32_t>(_mm_movemask_epi8(b)) << 16;
  };
  // Bytes 0x21..0x7e (signed compares: bytes >= 0x80 are negative and fail).
  const __m128i lo = _mm_set1_epi8(0x20), hi = _mm_set1_epi8(0x7f);
  const uint32_t ok = mask2(_mm_and_si128(_mm_cmpgt_epi8(x0, lo), _mm_cmplt_epi8(x0, hi)),
                            _mm_and_si128(_mm_cmpgt_epi8(x1, lo), _mm_cmplt_epi8(x1, hi)));
  if ((ok & valid) != valid) return false;
  const __m128i dot = _mm_set1_epi8('.');
  const uint32_t dots = mask2(_mm_cmpeq_epi8(x0, dot), _mm_cmpeq_epi8(x1, dot)) & valid;
  // An empty label: a dot first, last or after another.
  if (((dots & 1) | ((dots >> (n - 1)) & 1) | (dots & (dots >> 1))) != 0) return false;
  const __m128i a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1), bit = _mm_set1_epi8(0x20);
  const __m128i l0 = _mm_add_epi8(x0, _mm_and_si128(_mm_and_si128(_mm_cmpgt_epi8(x0, a1), _mm_cmplt_epi8(x0, z1)), bit));
  const __m128i l1 = _mm_add_epi8(x1, _mm_and_si128(_mm_and_si128(_mm_cmpgt_epi8(x1, a1), _mm_cmplt_epi8(x1, z1)), bit));
  if (out.capacity() < 32) out.reserve(32);
  if (out.size() != n) out.resize(n);
  // (Within the string's buffer: capacity 32 or more, plus its terminator, which is rewritten.)
  char* d = out.data();
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d), l0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), l1);
  d[n] = '\0';
  return true;
}
#endif

// ParseV4 for the answers of a line, which often share their first three parts
// ("110.71.185.175,110.71.185.176"): the text up to the third dot of the last dotted quad of 8 to
// 15 bytes it accepted is remembered with the value of those parts. Text of 8 to 15 bytes that
// starts with it needs only its last part read: when that is one to three digits to the end with
// no leading zero and at most 255, ParseV4 would read the same parts to the same value (its
// reading of each part depends only on the bytes up to the dot after it). Anything else is
// ParseV4's.
class QuadMemo {
 public:
  bool Parse(std::string_view t, uint32_t& out) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const size_t n = t.size();
    if (n >= 8 && n <= 15) {
      uint64_t lo, hi = 0;
      std::memcpy(&lo, t.data(), 8);
      if (n > 8) {
        std::memcpy(&hi, t.data() + n - 8, 8);
        hi >>= 8 * (16 - n);  // bytes 8 .. n-1 of the text, then zeros
      }
      if (n > plen_ && n - plen_ <= 3 && (lo & mlo_) == plo_ && (hi & mhi_) == phi_) {
        unsigned char s[16];
        std::memcpy(s, &lo, 8);
        std::memcpy(s + 8, &hi, 8);
        const unsigned char* q = s + plen_;
        const size_t k = n - plen_;
        uint32_t x = static_cast<uint32_t>(q[0]) - '0';
        bool ok = x <= 9;
        if (k >= 2) {
          const uint32_t d1 = static_cast<uint32_t>(q[1]) - '0';
          ok &= d1 <= 9 && x != 0;
          x = x * 10 + d1;
          if (k == 3) {
            const uint32_t d2 = static_cast<uint32_t>(q[2]) - '0';
            ok &= d2 <= 9;
            x = x * 10 + d2;
            ok &= x <= 255;
          }
        }
        if (ok) {
          out = top_ | x;
          return true;
        }
      }
      if (!ParseV4(t, out)) return false;
      // (The last part has no leading zero: as many digits as its value has.)
      const uint32_t last = out & 0xFF;
      plen_ = n - (last >= 100 ? 3 : last >= 10 ? 2 : 1);  // 6 to 12
      mlo_ = plen_ >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * plen_)) - 1;
      mhi_ = plen_ > 8 ? (uint64_t{1} << (8 * (plen_ - 8))) - 1 : 0;
      plo_ = lo & mlo_;
      phi_ = hi & mhi_;
      top_ = out & ~uint32_t{0xFF};
      return true;
    }
#endif
    return ParseV4(t, out);
  }

 private:
  size_t plen_ = SIZE_MAX;  // the remembered text's length: none yet
  uint64_t plo_ = 0, phi_ = 0, mlo_ = 0, mhi_ = 0;  // its bytes 0..7 and 8..15, and their masks
  uint32_t top_ = 0;  // the value of its three parts (the low byte zero)
};

// ClassifyAnswer with its dotted-quad case through a QuadMemo (which answers as ParseV4): for the
// answers of one line after another, which often share their first three parts.
inline bool ClassifyAnswer(std::string_view data, uint16_t qtype, Answer& a, QuadMemo& quads) {
  uint32_t v4;
  if (!data.empty() && data[0] >= '0' && data[0] <= '9' && quads.Parse(data, v4)) {
    a.is_address = true;
    a.type = kTypeA;
    a.addr = IpAddr::FromV4(v4);
    return true;
  }
  return ClassifyAnswerGeneral(data, qtype, a);
}

}  // namespace fluxscore::dns
