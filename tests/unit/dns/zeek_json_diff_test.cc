// The Zeek JSON-lines reader against the reader it replaced (src/dns/ingest/zeek_json.cc before
// ParseFlat, its fast path for the usual line), kept below as it was: the same records, field for
// field (answer data too when the sink wants it, empty when it does not), the same counts,
// rejection reasons, texts and line numbers, and the same errors, on generated lines of Zeek's
// shape with damage of every kind (escapes, \u sequences, bytes that are not UTF-8, NULs, missing,
// extra, duplicate and reordered members, nested values, numbers in all forms, ts as a number and
// as an ISO string, whitespace) and on every prefix of valid lines.
// FLUXSCORE_JSON_DIFF_ROUNDS=<n> runs more rounds (the default is quick).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/civil.h"
#include "common/utf8.h"
#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"
#include "reader_diff.h"

// ---- The former reader, verbatim but for its namespace and name (RefReadZeekJson), and for two
// rules changed in both since: null is unset; a ts of 12 or more digits is in milliseconds. ----
namespace fluxscore::dns::json_ref {
namespace {

enum Kind : uint8_t { kNone, kString, kNumber, kBool, kNull, kArray, kObject };

// One parsed scalar (or a skipped nested object/array, which has only its kind).
struct JsonValue {
  Kind kind = kNone;
  std::string_view raw;  // number or literal text; a string's text when it had no escapes
  std::string_view str;  // a string's decoded text (only where asked for), else raw
  bool decoded = false;  // str is text decoded from escapes (not a view of the line)
};

// The members the reader uses.
enum Member : uint8_t { kOther, kTs, kQuery, kOrigH, kRespH, kQtype, kRcode, kAnswers, kTtls };

inline Member MemberOf(std::string_view k) {
  switch (k.size()) {
    case 2: return k == "ts" ? kTs : kOther;
    case 4: return k == "TTLs" ? kTtls : kOther;
    case 5:
      if (k == "query") return kQuery;
      if (k == "qtype") return kQtype;
      if (k == "rcode") return kRcode;
      return kOther;
    case 7: return k == "answers" ? kAnswers : kOther;
    case 9:
      if (k == "id.orig_h") return kOrigH;
      if (k == "id.resp_h") return kRespH;
      return kOther;
    default: return kOther;
  }
}

// The bytes a number token is made of (JSON's grammar is checked on the token afterwards).
struct NumberChars {
  bool is[256] = {};
  constexpr NumberChars() {
    for (char c : std::string_view("0123456789.eE+-")) is[static_cast<unsigned char>(c)] = true;
  }
};
constexpr NumberChars kNumberChars;

// JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? (checked without
// converting: the fields that are used are converted, and range-checked, later).
bool JsonNumber(std::string_view t) {
  size_t i = 0;
  auto digits = [&]() {
    const size_t b = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > b;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// One line's JSON object, read with the grammar the reader accepts. Positions are pointers
// into the line; a function that fails returns nullptr (or false) and leaves the message in
// err() as "<what> at column <n>" (n: 1-based, the byte where reading stopped). The functions
// of the usual case are inline, so the position stays in a register; the rest is out of line.
class JsonLine {
 public:
  const std::string& err() const { return err_; }

  // Reads the line's object: for each member, on_member(member, p) with p at its value, which
  // must read the value (with String, Scalar, Array, SkipValue) and return the position after it
  // (nullptr on an error).
  template <typename F>
  [[gnu::always_inline]] bool Parse(std::string_view line, F&& on_member) {
    b_ = line.data();
    e_ = b_ + line.size();
    const char* p = Ws(b_);
    if (At(p) != '{') {
      err_.assign("not a JSON object");
      return false;
    }
    p = Ws(p + 1);
    if (At(p) == '}') return Tail(p + 1);
    for (;;) {
      // (Whitespace is skipped only where the expected byte is not there: it cannot be one.)
      if (At(p) != '"') {
        p = Ws(p);
        if (At(p) != '"') return Error(p, "expected a member name");
      }
      std::string_view key;
      const char* const q = FindSpecial(p + 1);
      if (q < e_ && *q == '"') {
        key = std::string_view(p + 1, static_cast<size_t>(q - (p + 1)));
        p = q + 1;
      } else {
        JsonValue k;
        p = StringRest(q, p + 1, k, &key_buf_);
        if (p == nullptr) return false;
        key = k.str;
      }
      const Member m = MemberOf(key);
      if (At(p) != ':') {
        p = Ws(p);
        if (At(p) != ':') return Error(p, "expected ':'");
      }
      p = Ws(p + 1);
      p = on_member(m, p);
      if (p == nullptr) return false;
      char c = At(p);
      if (static_cast<unsigned char>(c) <= ' ') {
        p = Ws(p);
        c = At(p);
      }
      if (c == ',') {
        ++p;
        continue;
      }
      if (c == '}') return Tail(p + 1);
      return Error(p, "expected ',' or '}'");
    }
  }

  // A string at '"'. Its text without escapes is a view of the line (v.raw and v.str); with
  // escapes, v.raw is empty and v.str is the decoded text in *buf, or empty when buf is null
  // (the escapes are then only checked).
  [[gnu::always_inline]] const char* String(const char* p, JsonValue& v, std::string* buf) {
    const char* const start = p + 1;
    const char* const q = FindSpecial(start);
    v.kind = kString;
    if (q < e_ && *q == '"') {
      const std::string_view text(start, static_cast<size_t>(q - start));
      v.raw = text;
      v.str = text;
      v.decoded = false;
      return q + 1;
    }
    return StringRest(q, start, v, buf);
  }

  // A number or a literal (true, false, null): a value that is not a string, object or array.
  [[gnu::always_inline]] const char* Scalar(const char* p, JsonValue& v) {
    const char c = At(p);
    if ((c >= '0' && c <= '9') || c == '-') return Number(p, v);
    return Literal(p, v);
  }

  // A member's value, checked and skipped, with plain strings and numbers inline.
  [[gnu::always_inline]] const char* SkipValue(const char* p) {
    const char c = At(p);
    if (c == '"') {
      const char* const q = FindSpecial(p + 1);
      if (q < e_ && *q == '"') return q + 1;
    } else if ((c >= '0' && c <= '9') || c == '-') {
      JsonValue v;
      return Number(p, v);
    } else if (c == 't' && e_ - p >= 4 && std::memcmp(p, "true", 4) == 0) {
      return p + 4;
    } else if (c == 'f' && e_ - p >= 5 && std::memcmp(p, "false", 5) == 0) {
      return p + 5;
    }
    return Skip(p, 0);
  }

  // A whole number written as JSON's grammar allows, "0" or [1-9][0-9]{0,9}, with an optional
  // fraction of only zeros ("3600.0"), followed by a byte that cannot continue a number: its
  // value, and the position after it. nullptr (nothing read) for anything else.
  [[gnu::always_inline]] const char* WholeNumber(const char* p, uint64_t& value) const {
    const char* q = p;
    uint64_t v = 0;
    if (q < e_ && *q == '0') {
      ++q;
    } else {
      while (q < e_ && q - p < 11 && static_cast<unsigned>(static_cast<unsigned char>(*q) - '0') <= 9)
        v = v * 10 + static_cast<unsigned>(static_cast<unsigned char>(*q++) - '0');
      if (q == p || q - p > 10) return nullptr;
    }
    if (q < e_ && *q == '.') {
      const char* const d = ++q;
      while (q < e_ && *q == '0') ++q;
      if (q == d) return nullptr;
    }
    if (q < e_ && kNumberChars.is[static_cast<unsigned char>(*q)]) return nullptr;
    value = v;
    return q;
  }

  // An array that is a member's value, at '[': on_item(value) for each item (strings decoded
  // into *buf when buf is not null; nested objects and arrays skipped, with only their kind).
  // fast(p), when given, is tried first on each item: the position after an item it has taken
  // in whole, or nullptr to leave the item to on_item.
  template <typename F, typename G = std::nullptr_t>
  const char* Array(const char* p, F&& on_item, std::string* buf, G&& fast = nullptr) {
    p = Ws(p + 1);
    if (At(p) == ']') return p + 1;
    for (;;) {
      p = Ws(p);
      const char* q = nullptr;
      if constexpr (!std::is_same_v<std::decay_t<G>, std::nullptr_t>) q = fast(p);
      if (q != nullptr) {
        p = q;
      } else {
        JsonValue item;
        const char c = At(p);
        if (c == '"') {
          p = String(p, item, buf);
        } else if (c == '{' || c == '[') {
          item.kind = c == '{' ? kObject : kArray;
          p = SkipComposite(p, c, 1);
        } else {
          p = Scalar(p, item);
        }
        if (p == nullptr) return nullptr;
        on_item(item);
      }
      p = Ws(p);
      if (At(p) == ',') {
        ++p;
        continue;
      }
      if (At(p) == ']') return p + 1;
      return Bad(p, "expected ',' or ']'");
    }
  }

  // Any value at `depth` (0: a member of the line's object), checked and skipped.
  [[gnu::noinline]] const char* Skip(const char* p, int depth) {
    if (depth > 64) return Bad(p, "nesting too deep");
    const char c = At(p);
    JsonValue v;
    if (c == '"') return String(p, v, nullptr);
    if (c == '{' || (c == '[' && depth > 0)) return SkipComposite(p, c, depth);
    if (c == '[') return Array(p, [](const JsonValue&) {}, nullptr);
    return Scalar(p, v);
  }

  // The byte at p, '\0' at the end of the line.
  char At(const char* p) const { return p < e_ ? *p : '\0'; }

 private:
  // (All four whitespace bytes are <= ' ': one compare for the usual no-whitespace case.)
  [[gnu::always_inline]] const char* Ws(const char* p) const {
    if (p < e_ && static_cast<unsigned char>(*p) <= ' ') p = WsRest(p);
    return p;
  }
  const char* WsRest(const char* p) const {
    while (p < e_ && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
    return p;
  }

  [[gnu::noinline, gnu::cold]] void SetError(size_t offset, std::string_view what) {
    err_ = fmt::format("{} at column {}", what, offset + 1);
  }
  const char* Bad(const char* p, std::string_view what) {
    SetError(static_cast<size_t>(p - b_), what);
    return nullptr;
  }
  bool Error(const char* p, std::string_view what) {
    SetError(static_cast<size_t>(p - b_), what);
    return false;
  }

  // After the object: only whitespace may follow.
  bool Tail(const char* p) {
    p = Ws(p);
    return p == e_ || Error(p, "text after the object");
  }

  // The first byte at or after p that ends the plain part of a string: '"', '\\' or a control
  // character; e_ when there is none. Sixteen bytes at a time where SSE2 is there.
  [[gnu::always_inline]] const char* FindSpecial(const char* p) const {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i c1f = _mm_set1_epi8(0x1F);
    auto special = [&](const char* at) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));  // x <= 0x1F
      return static_cast<unsigned>(_mm_movemask_epi8(m));
    };
    for (; e_ - p >= 16; p += 16) {
      const unsigned mask = special(p);
      if (mask != 0) return p + __builtin_ctz(mask);
    }
    if (p < e_ && e_ - b_ >= 16) {
      // The last bytes: one load ending at the end of the line, the bytes before p shifted out.
      const unsigned mask = special(e_ - 16) >> (16 - (e_ - p));
      return mask != 0 ? p + __builtin_ctz(mask) : e_;
    }
#endif
    for (; p < e_; ++p) {
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\' || c < 0x20) return p;
    }
    return e_;
  }

  bool Hex4(const char*& p, uint32_t& v) const {
    if (e_ - p < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = HexDigit(p[k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p += 4;
    return true;
  }

  // A string from its first byte that is not plain (at p): the end of the line, a control
  // character or a backslash; start is the string's first byte.
  [[gnu::noinline]] const char* StringRest(const char* p, const char* start, JsonValue& v, std::string* buf) {
    if (p >= e_) return Bad(p, "unterminated string");
    if (static_cast<unsigned char>(*p) < 0x20) return Bad(p, "control character in a string");
    v.raw = {};
    v.decoded = buf != nullptr;
    if (buf != nullptr) buf->assign(start, static_cast<size_t>(p - start));
    while (p < e_) {
      const char c = *p;
      if (c == '"') {
        v.str = buf != nullptr ? std::string_view(*buf) : std::string_view();
        return p + 1;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Bad(p, "control character in a string");
      if (c != '\\') {
        // A run of plain bytes, up to the next quote, backslash or control character.
        const char* const q = FindSpecial(p);
        if (buf != nullptr) buf->append(p, static_cast<size_t>(q - p));
        p = q;
        continue;
      }
      ++p;
      if (p == e_) {
        // A backslash as the last byte (reported one past the end, as before).
        SetError(static_cast<size_t>(e_ - b_) + 1, "bad escape");
        return nullptr;
      }
      const char e = *p++;
      char out;
      switch (e) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(p, cp)) return Bad(p, "bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate: "\uDC00".."\uDFFF" must follow.
            bool paired = false;
            if (At(p) == '\\') {
              ++p;
              if (At(p) == 'u') {
                ++p;
                uint32_t lo;
                if (Hex4(p, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  paired = true;
                }
              }
            }
            if (!paired) return Bad(p, "unpaired surrogate");
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Bad(p, "unpaired surrogate");
          }
          if (buf != nullptr) EncodeUtf8(static_cast<int32_t>(cp), *buf);
          continue;
        }
        default: return Bad(p, "bad escape");
      }
      if (buf != nullptr) buf->push_back(out);
    }
    return Bad(p, "unterminated string");
  }

  // A nested object, or an array inside an array, at its opening bracket: checked and skipped.
  const char* SkipComposite(const char* p, char c, int depth) {
    const char close = c == '{' ? '}' : ']';
    p = Ws(p + 1);
    if (At(p) == close) return p + 1;
    for (;;) {
      p = Ws(p);
      if (c == '{') {
        if (At(p) != '"') return Bad(p, "expected a member name");
        JsonValue k;
        p = String(p, k, nullptr);
        if (p == nullptr) return nullptr;
        p = Ws(p);
        if (At(p) != ':') return Bad(p, "expected ':'");
        p = Ws(p + 1);
      }
      p = Skip(p, depth + 1);
      if (p == nullptr) return nullptr;
      p = Ws(p);
      if (At(p) == ',') {
        ++p;
        continue;
      }
      if (At(p) == close) return p + 1;
      return Bad(p, "expected ',' or a closing bracket");
    }
  }

  // The end of the run of decimal digits at p.
  [[gnu::always_inline]] const char* Digits(const char* p) const {
#if defined(FLUXSCORE_SWAR_DIGITS)
    // Eight bytes at a time: the lowest byte that is not a digit is the lowest one with its top
    // bit set in m (see AllDigits8: nothing carries or borrows past it).
    while (e_ - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      const uint64_t m = ((x + 0x4646464646464646ULL) | (x - 0x3030303030303030ULL)) & 0x8080808080808080ULL;
      if (m != 0) return p + (__builtin_ctzll(m) >> 3);
      p += 8;
    }
#endif
    while (p < e_ && static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') <= 9) ++p;
    return p;
  }

  // A number at p: the longest run of number bytes (a leading '-' included), then JSON's
  // grammar on it. The usual case, -?(0|[1-9][0-9]*)(.[0-9]+)? followed by a byte that cannot be
  // part of a number, is read in one go; anything else (exponents, bad numbers) by NumberToken.
  [[gnu::always_inline]] const char* Number(const char* p, JsonValue& v) {
    const char* q = p;
    if (q < e_ && *q == '-') ++q;
    if (q < e_ && *q == '0') {
      ++q;
    } else {
      const char* const d = q;
      q = Digits(q);
      if (q == d) return NumberToken(p, v);
    }
    if (q < e_ && *q == '.') {
      const char* const d = ++q;
      q = Digits(q);
      if (q == d) return NumberToken(p, v);
    }
    if (q < e_ && kNumberChars.is[static_cast<unsigned char>(*q)]) return NumberToken(p, v);
    const std::string_view text(p, static_cast<size_t>(q - p));
    v.kind = kNumber;
    v.raw = text;
    v.str = text;
    return q;
  }

  // A number at p as a token: the run of number bytes, then JSON's grammar on it.
  [[gnu::noinline]] const char* NumberToken(const char* p, JsonValue& v) {
    const char* q = p;
    while (q < e_ && kNumberChars.is[static_cast<unsigned char>(*q)]) ++q;
    if (q == p) return Bad(p, "unexpected character");
    const std::string_view text(p, static_cast<size_t>(q - p));
    v.kind = kNumber;
    v.raw = text;
    v.str = text;
    if (!JsonNumber(text)) return Bad(q, "bad number");
    return q;
  }

  // A literal at p (true, false, null), else a number (with its errors).
  [[gnu::noinline]] const char* Literal(const char* p, JsonValue& v) {
    const size_t left = static_cast<size_t>(e_ - p);
    if ((left >= 4 && std::memcmp(p, "true", 4) == 0) || (left >= 5 && std::memcmp(p, "false", 5) == 0)) {
      const std::string_view text(p, *p == 't' ? 4 : 5);
      v.kind = kBool;
      v.raw = text;
      v.str = text;
      return p + text.size();
    }
    if (left >= 4 && std::memcmp(p, "null", 4) == 0) {
      v.kind = kNull;
      v.raw = {};
      v.str = {};
      return p + 4;
    }
    return NumberToken(p, v);
  }

  const char* b_ = nullptr;  // the line
  const char* e_ = nullptr;
  std::string err_;
  std::string key_buf_;  // a member name decoded from escapes
};

// "2020-10-09T17:50:24.123071Z" (Zeek's JSON::TS_ISO8601) -> epoch seconds.
bool ParseIsoTime(std::string_view s, double& out) {
  int y, mo, d, h, mi;
  double sec;
  char tail[8] = {0};
  std::string tmp(s.substr(0, 64));
  int n = std::sscanf(tmp.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%7s", &y, &mo, &d, &h, &mi, &sec, tail);
  if (n < 6 || (n == 7 && std::strcmp(tail, "Z") != 0)) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61) return false;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  out = static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
  return true;
}

// qtype and rcode: a number that is a whole value in [0, 65535]. Plain digits (the usual "1",
// "28") directly; anything else as a double, as before.
bool ParseCode(std::string_view s, int32_t& out) {
  if (!s.empty() && s.size() <= 5) {
    uint32_t v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint32_t>(s[i] - '0');
    if (i == s.size()) {
      if (v > 65535) return false;
      out = static_cast<int32_t>(v);
      return true;
    }
  }
  double d;
  if (!ParseDouble(s, d) || d < 0 || d > 65535 || d != static_cast<double>(static_cast<int>(d))) return false;
  out = static_cast<int32_t>(d);
  return true;
}

// A TTL item: the JSON writer's "3600.0" (and "60", "60.000") read directly; anything else by
// ParseTtl. (Digits then only zeros after the point are that whole number exactly, which is
// what ParseTtl returns for them.)
bool ParseJsonTtl(std::string_view s, uint32_t& out) {
  const size_t n = s.size();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < n && i <= 10 && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  if (i == 0 || i > 10) return ParseTtl(s, out);
  if (i < n) {
    if (s[i] != '.' || i + 1 == n) return ParseTtl(s, out);
    size_t j = i + 1;
    while (j < n && s[j] == '0') ++j;
    if (j != n) return ParseTtl(s, out);
  }
  if (v > 2147483647u) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

Status RefReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  JsonLine json;
  AddrCache resolvers;  // id.resp_h holds a handful of values
  DnsRecord rec;
  std::string_view line;
  // The answers of the current line: views of the line, or (decoded from escapes) of `decoded`.
  struct AnswerText {
    std::string_view text;
    int32_t decoded = -1;  // index into `decoded` when the text had escapes
  };
  std::vector<AnswerText> answers;
  std::vector<std::string> decoded;  // reused: strings keep their capacity across lines
  size_t n_answers = 0, n_decoded = 0;
  std::vector<uint32_t> ttls;
  std::vector<std::string> spare;  // buffers of answers dropped from rec.answers, for reuse
  std::string value_buf, query_buf, client_detail, ttl_detail;
  const bool want_data = sink.wants_answer_data();
  for (;;) {
    LineReader::Got got = LineReader::Got::kLine;
    if (!NextLogLineBuffered(lines, in, progress, &line)) {
      FLUXSCORE_ASSIGN_OR_RETURN(got, NextLogLine(lines, in, stats, progress, &line));
    }
    if (got == LineReader::Got::kEnd) break;
    if (got == LineReader::Got::kTooLong) continue;
    const SourcePos pos{in.name(), lines.line_no()};
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++stats.read;
    bool have_ts = false, have_query = false, bad_client = false, bad_type = false;
    bool bad_ttl = false;
    std::string_view query;
    client_detail.clear();
    ttl_detail.clear();
    rec.has_client = rec.has_resolver = false;
    rec.qtype = 0;
    rec.rcode = -1;
    n_answers = n_decoded = 0;
    ttls.clear();

    auto add_answer = [&](const JsonValue& it) {
      if (n_answers == answers.size()) answers.emplace_back();
      AnswerText& a = answers[n_answers++];
      if (it.decoded) {
        if (n_decoded == decoded.size()) decoded.emplace_back();
        decoded[n_decoded].assign(it.str);
        a.decoded = static_cast<int32_t>(n_decoded++);
      } else {
        a.text = it.str;
        a.decoded = -1;
      }
    };
    auto add_ttl = [&](const JsonValue& it) {
      uint32_t t;
      if (it.kind != kNumber || !ParseJsonTtl(it.raw, t)) {
        if (!bad_ttl) ttl_detail.assign(it.raw);  // the first bad one
        bad_ttl = true;
        return;
      }
      ttls.push_back(t);
    };
    // The usual TTL item, "3600.0": read and taken at once (what add_ttl would do with it).
    auto ttl_fast = [&](const char* p) -> const char* {
      uint64_t t;
      const char* const q = json.WholeNumber(p, t);
      if (q == nullptr || t > 2147483647u) return nullptr;
      ttls.push_back(static_cast<uint32_t>(t));
      return q;
    };
    // The line's object, member by member; each member's value is used as soon as it is read.
    auto on_member = [&](Member m, const char* p) __attribute__((always_inline)) -> const char* {
      const char c = json.At(p);
      switch (m) {
        case kOther: return json.SkipValue(p);
        case kAnswers: return c == '[' ? json.Array(p, add_answer, &value_buf) : json.Skip(p, 0);
        case kTtls: return c == '[' ? json.Array(p, add_ttl, nullptr, ttl_fast) : json.Skip(p, 0);
        default: break;
      }
      // A scalar member the reader uses (an object or array there: checked and skipped).
      JsonValue v;
      if (c == '"') {
        p = json.String(p, v, &value_buf);
      } else if (c == '{' || c == '[') {
        p = json.Skip(p, 0);
        v.kind = c == '{' ? kObject : kArray;
      } else {
        p = json.Scalar(p, v);
      }
      if (p == nullptr) return nullptr;
      if (v.kind == kNull) return p;  // (changed since: null is unset, as a missing member is)
      switch (m) {
        case kTs:
          if (v.kind == kNumber) have_ts = ParseJsonTs(v.raw, rec.ts);
          else if (v.kind == kString) have_ts = ParseIsoTime(v.str, rec.ts) && PlausibleTs(rec.ts);
          break;
        case kQuery:
          if (v.kind == kString) {
            have_query = true;
            if (v.decoded) {
              query_buf.assign(v.str);
              query = query_buf;
            } else {
              query = v.str;
            }
          }
          break;
        case kOrigH: {
          auto ip = v.kind == kString ? IpAddr::Parse(v.str) : std::nullopt;
          if (ip) {
            rec.client = *ip;
            rec.has_client = true;
          } else {
            bad_client = true;
            client_detail.assign(v.kind == kString ? v.str : std::string_view("not a string"));
          }
          break;
        }
        case kRespH: {
          auto ip = v.kind == kString ? resolvers.Parse(v.str) : std::nullopt;
          if (ip) {
            rec.resolver = *ip;
            rec.has_resolver = true;
          }
          break;
        }
        case kQtype:
        case kRcode: {
          int32_t code;
          if (v.kind != kNumber || !ParseCode(v.raw, code)) {
            bad_type = true;
          } else if (m == kQtype) {
            rec.qtype = static_cast<uint16_t>(code);
          } else {
            rec.rcode = code;
          }
          break;
        }
        default: break;
      }
      return p;
    };
    if (!json.Parse(line, on_member)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "malformed JSON", json.err()));
      continue;
    }
    if (!have_ts) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad ts"));
      continue;
    }
    if (!have_query || query.empty()) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "no query name"));
      continue;
    }
    if (!NormalizeName(query, rec.qname)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad query name", query));
      continue;
    }
    if (bad_client) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad client address", client_detail));
      continue;
    }
    if (bad_type) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad qtype or rcode"));
      continue;
    }
    if (bad_ttl) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", ttl_detail));
      continue;
    }
    if (n_answers != ttls.size()) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "answers and TTLs differ in length",
          fmt::format("{} answers, {} TTLs", n_answers, ttls.size())));
      continue;
    }
    if (rec.answers.size() != n_answers) ResizeKeepingBuffers(rec.answers, n_answers, spare);
    auto answer = [&](size_t i) -> std::string_view {
      return answers[i].decoded >= 0 ? std::string_view(decoded[static_cast<size_t>(answers[i].decoded)])
                                     : answers[i].text;
    };
    size_t bad_answer = n_answers;
    for (size_t i = 0; i < n_answers && bad_answer == n_answers; ++i) {
      // (A sink that does not read Answer::data gets it empty: no copy of each answer's text.)
      Answer& out = rec.answers[i];
      if (want_data) {
        if (!InferAnswer(answer(i), rec.qtype, ttls[i], out)) bad_answer = i;
      } else {
        out.ttl = ttls[i];
        if (!ClassifyAnswer(answer(i), rec.qtype, out)) bad_answer = i;
      }
    }
    if (bad_answer < n_answers) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad address answer", answer(bad_answer)));
      continue;
    }
    ++stats.used;
    sink.Add(rec);
  }
  return Status::Ok();
}

}  // namespace fluxscore::dns::json_ref

namespace fluxscore::dns {
namespace {

using json_ref::RefReadZeekJson;

using reader_diff::Collect;
using reader_diff::TempPath;

struct Gen : reader_diff::Rng {
  using Rng::Rng;

  std::string Bytes(size_t max) {
    static const std::string alphabet = std::string("\"\\/{}[]:, \t\n\r0123456789.eE+-aeflnrstu:xAF") + '\0' +
                                        "\x01\x1f\x7f\x80\xc3\xa9\xff";
    std::string s;
    const size_t n = Below(max + 1);
    for (size_t i = 0; i < n; ++i) s += alphabet[Below(alphabet.size())];
    return s;
  }
  std::string V4() {
    std::string s;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) s += '.';
      switch (Chance(98) ? 7 : Below(4)) {
        case 0: s += std::to_string(250 + Below(10)); break;
        case 1: s += "0" + std::to_string(Below(10)); break;
        case 2: s += std::to_string(Below(1000)); break;
        default: s += std::to_string(Below(256)); break;
      }
    }
    return s;
  }
  std::string Addr() {
    switch (Chance(80) ? 0 : Below(6)) {
      case 0: return V4();
      case 1: return "2001:db8::" + std::to_string(Below(100));
      case 2: return "fe80::1%eth0";
      case 3: return "1.2.3";
      case 4: return "::ffff:" + V4();
      default: return "";
    }
  }
  std::string Name() {
    std::string s;
    const size_t labels = 1 + Below(4);
    for (size_t i = 0; i < labels; ++i) {
      if (i > 0) s += '.';
      s += Pick(std::array{"www", "api", "Login", "edge7", "cdn-example", "site1234", "x", "com", "NET", "org"});
    }
    if (Chance(5)) s += '.';
    if (Chance(3)) s += Pick(std::array{"..", "\xc3\xa9", "\xff", " ", "a\\u0041", "\\u00e9", "\\\"", "\\/"});
    return s;
  }
  std::string Number() {
    switch (Chance(70) ? 0 : Below(18)) {
      case 14: return std::to_string(1000000 + Below(9000000));    // seven digits (one eight-byte step)
      case 15: return std::to_string(10000000 + Below(90000000));  // eight digits
      case 16: return "0" + std::to_string(Below(1000000));        // leading zero
      case 17: return std::to_string(Below(100)) + ".0";
      case 0: return std::to_string(Below(100000));
      case 1: return "-" + std::to_string(Below(100));
      case 2: return "0";
      case 3: return "-0";
      case 4: return std::to_string(Below(1000)) + "." + std::to_string(Below(1000));
      case 5: return "1e3";
      case 6: return "1.5E-2";
      case 7: return "2e+1";
      case 8: return "01";
      case 9: return "1.";
      case 10: return ".5";
      case 11: return "1e";
      case 12: return "--1";
      default: return "99999999999999999999";
    }
  }
  std::string Ts() {
    switch (Chance(75) ? 0 : Below(11)) {
      case 0: return fmt::format("{}.{:06}", 1795996800 + Below(100000), Below(1000000));
      case 9: return std::to_string(1795996800000 + Below(100000000));  // JSON::TS_MILLIS
      case 1: return std::to_string(1795996800 + Below(100000));
      case 2: return fmt::format("\"2026-11-{:02}T{:02}:{:02}:{:02}.{:06}Z\"", 1 + Below(30), Below(24), Below(60),
                                 Below(60), Below(1000000));
      case 3: return "\"2026-13-01T00:00:00Z\"";
      case 4: return "\"2026-11-01T00:00:00.5\"";
      case 5: return "1e300";
      case 6: return "-1795996800.5";
      case 7: return "\"1795996800.0\"";
      case 8: return "null";
      default: return Number();
    }
  }
  std::string Ttl() {
    switch (Chance(75) ? 0 : Below(14)) {
      case 9: return std::to_string(Below(10000000)) + ".0";  // up to seven digits
      case 10: return std::to_string(10000000 + Below(90000000)) + ".0";
      case 11: return "0" + std::to_string(Below(1000)) + ".0";
      case 12: return Pick(std::array{"0.0", "0", "0.00", "7.", "7.01", "60.0e0", "1234567.000000"});
      case 13: return std::to_string(Below(10000000));
      case 0: return std::to_string(Below(100000)) + ".0";
      case 1: return std::to_string(Below(100000));
      case 2: return "3600.000";
      case 3: return "2147483648.0";
      case 4: return "2147483647";
      case 5: return "1.5";
      case 6: return "-1.0";
      case 7: return "\"60\"";
      default: return Number();
    }
  }
  std::string Str(const std::string& s) { return "\"" + s + "\""; }
  // A value that is anything (for members the reader skips and for damage).
  std::string Any(int depth = 0) {
    switch (Below(depth > 2 ? 7 : 10)) {
      case 0: return Number();
      case 1: return Str(Pick(std::array{"C566a5199", "udp", "", "NOERROR", "a\\u00e9b", "\\ud83d\\ude00", "\\n"}));
      case 2: return "true";
      case 3: return "false";
      case 4: return "null";
      case 5: return Str(Bytes(6));
      case 6: return Pick(std::array{"nul", "nulL", "tru", "truex", "fals", "False", "nan", "-", "+1", "1.0e"});
      case 7: return "[" + Any(depth + 1) + "," + Any(depth + 1) + "]";
      case 8: return "{\"k\":" + Any(depth + 1) + "}";
      default: return "[]";
    }
  }
};

// One line of Zeek's shape (members in Zeek's order, unset ones left out), often damaged.
std::string LineText(Gen& g) {
  std::vector<std::pair<std::string, std::string>> m;
  // (Sometimes hundreds of answers: a very long line.)
  const size_t n_ans = g.Chance(1) ? 100 + g.Below(200) : g.Chance(30) ? 0 : 1 + g.Below(6);
  std::string answers, ttls;
  for (size_t i = 0; i < n_ans; ++i) {
    answers += (i ? "," : "") + g.Str(g.Chance(60) ? g.Addr() : g.Chance(90) ? g.Name() : g.Bytes(8));
    ttls += (i ? "," : "") + g.Ttl();
  }
  if (g.Chance(3)) ttls += "," + g.Ttl();
  m.push_back({"ts", g.Ts()});
  m.push_back({"uid", g.Str("C566a5199")});
  m.push_back({"id.orig_h", g.Chance(95) ? g.Str(g.Addr()) : g.Any()});
  m.push_back({"id.orig_p", g.Chance(95) ? std::to_string(g.Below(65536)) : g.Number()});
  m.push_back({"id.resp_h", g.Chance(97) ? g.Str(g.Chance(80) ? "10.53.0.1" : g.Addr()) : g.Any()});
  m.push_back({"id.resp_p", "53"});
  m.push_back({"proto", g.Str("udp")});
  m.push_back({"trans_id", g.Chance(95) ? std::to_string(g.Below(65536)) : g.Number()});
  if (g.Chance(80)) m.push_back({"rtt", g.Chance(90) ? "0.001" : g.Number()});
  if (g.Chance(97)) m.push_back({"query", g.Chance(97) ? g.Str(g.Name()) : g.Any()});
  m.push_back({"qclass", "1"});
  m.push_back({"qclass_name", g.Str("C_INTERNET")});
  m.push_back({"qtype", g.Chance(95)   ? g.Pick(std::array{"1", "28", "5", "16", "255"})
                        : g.Chance(50) ? g.Pick(std::array{"01", "99", "0", "65535", "65536", "1.0", "2.5", "-1"})
                                       : g.Any()});
  m.push_back({"qtype_name", g.Str("A")});
  m.push_back({"rcode", g.Chance(95) ? g.Pick(std::array{"0", "3", "2"}) : g.Any()});
  m.push_back({"rcode_name", g.Str("NOERROR")});
  for (const char* f : {"AA", "TC", "RD", "RA"}) m.push_back({f, g.Chance(50) ? "true" : "false"});
  m.push_back({"Z", "0"});
  if (n_ans > 0 || g.Chance(5)) {
    m.push_back({"answers", g.Chance(97) ? "[" + answers + "]" : g.Any()});
    m.push_back({"TTLs", g.Chance(97) ? "[" + ttls + "]" : g.Any()});
  }
  if (g.Chance(90)) m.push_back({"rejected", "false"});  // else the line ends in Z, answers or TTLs
  if (g.Chance(10)) {  // member damage
    for (int k = 1 + static_cast<int>(g.Below(3)); k > 0; --k) {
      const size_t at = g.Below(m.size());
      switch (g.Below(6)) {
        case 0: m.erase(m.begin() + static_cast<long>(at)); break;                              // missing
        case 1: m.insert(m.begin() + static_cast<long>(at), m[at]); break;                      // duplicate
        case 2: m.insert(m.begin() + static_cast<long>(at), {"extra_" + g.Bytes(3), g.Any()}); break;
        case 3: std::swap(m[at], m[g.Below(m.size())]); break;                                  // order
        case 4: m[at].second = g.Any(); break;                                                  // value
        default: m[at].first = g.Chance(50) ? m[at].first + "\\u0000" : "q\\u0075ery"; break;   // name
      }
      if (m.empty()) break;
    }
  }
  const bool ws = g.Chance(5);
  std::string line = ws && g.Chance(50) ? " {" : "{";
  for (size_t i = 0; i < m.size(); ++i) {
    if (i > 0) line += ws && g.Chance(30) ? " , " : ",";
    line += "\"" + m[i].first + "\"" + (ws && g.Chance(30) ? " : " : ":") + m[i].second;
  }
  line += ws && g.Chance(50) ? "} " : "}";
  if (g.Chance(8)) {  // byte damage
    const size_t edits = 1 + g.Below(3);
    for (size_t e = 0; e < edits && !line.empty(); ++e) {
      const size_t at = g.Below(line.size());
      switch (g.Below(5)) {
        case 0: line[at] = g.Bytes(1).empty() ? '"' : g.Bytes(1)[0]; break;
        case 1: line.erase(at, 1 + g.Below(10)); break;
        case 2: line.insert(at, g.Bytes(4)); break;
        case 3: line.insert(at, "\\"); break;
        default: line.resize(at); break;
      }
    }
  }
  if (g.Chance(1)) line += '\r';
  if (g.Chance(1)) line = g.Chance(50) ? "" : " \t ";
  return line;
}

// Whether the two runs gave the same records, counts, messages and status.
void ExpectSame(const std::string& path, bool strict, bool want_data) {
  reader_diff::ExpectSameRun(
      [](ByteStream& in, RecordSink& sink, IngestStats& stats) { return RefReadZeekJson(in, sink, stats, nullptr); },
      [](ByteStream& in, RecordSink& sink, IngestStats& stats) { return ReadZeekJson(in, sink, stats, nullptr); },
      path, strict, want_data, 100000, "FLUXSCORE_JSON_DIFF_VERBOSE");
}

int Rounds(int quick) { return reader_diff::Rounds("FLUXSCORE_JSON_DIFF_ROUNDS", quick); }

TEST(ZeekJsonDiffTest, GeneratedLogsMatchTheFormerReader) {
  const int rounds = Rounds(16);
  for (int round = 0; round < rounds; ++round) {
    Gen g(0x150e + static_cast<uint64_t>(round));
    std::string log;
    const size_t lines = 1000 + g.Below(4000);
    for (size_t i = 0; i < lines; ++i) log += LineText(g) + "\n";
    if (g.Chance(50)) log += LineText(g);  // unterminated
    const std::string path = TempPath("jsondiff.log");
    std::ofstream(path, std::ios::binary) << log;
    for (const bool want : {true, false}) ExpectSame(path, false, want);
    if (round % 4 == 0) ExpectSame(path, true, true);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round << ": log kept in " << path;
      return;
    }
  }
}

// Whether the former reader uses the line (as the only line of a log).
bool RefUses(const std::string& line) {
  const std::string path = TempPath("jsonone.log");
  std::ofstream(path, std::ios::binary) << line << "\n";
  Collect sink;
  IngestStats stats;
  ByteStream in;
  return in.Open(path).ok() && RefReadZeekJson(in, sink, stats, nullptr).ok() && stats.used == 1;
}

// Every prefix of valid lines (and each with one byte changed at every position), against the
// former reader: cuts inside every name, value and separator, at every 16-byte block edge.
TEST(ZeekJsonDiffTest, EveryPrefixAndEveryBytePosition) {
  Gen g(11);
  std::string log;
  for (int v = 0; v < 6; ++v) {
    std::string line;
    do line = LineText(g);
    while (line.size() < 64 || line.front() != '{' || line.back() != '}' || !RefUses(line));
    for (size_t len = 0; len <= line.size(); ++len) log += line.substr(0, len) + "\n";
    for (size_t at = 0; at < line.size(); ++at) {
      std::string d = line;
      d[at] = "\"\\,:}{ 0\x01"[at % 9];
      log += d + "\n";
    }
  }
  const std::string path = TempPath("jsonprefix.log");
  std::ofstream(path, std::ios::binary) << log;
  for (const bool want : {true, false}) ExpectSame(path, false, want);
}

// Lines at the edges of the reader's fast path (Zeek's members in Zeek's order, numbers and TTLs
// read eight bytes at a time, literals compared as words, one- and two-digit codes), each next
// to the shapes just past them, against the former reader.
TEST(ZeekJsonDiffTest, FastPathEdges) {
  // A usual line's members; a line is "{" + its members joined by "," + tail.
  auto members = [](const std::string& orig_p, const std::string& qtype, const std::string& aa,
                    const std::string& ttl) {
    return std::vector<std::string>{
        R"("ts":1795996800.009082)", R"("uid":"C566a5199")",       R"("id.orig_h":"10.0.99.101")",
        R"("id.orig_p":)" + orig_p,  R"("id.resp_h":"10.53.0.1")", R"("id.resp_p":53)",
        R"("proto":"udp")",          R"("trans_id":61184)",        R"("rtt":0.001)",
        R"("query":"api.site17958.info")", R"("qclass":1)",        R"("qclass_name":"C_INTERNET")",
        R"("qtype":)" + qtype,       R"("qtype_name":"A")",        R"("rcode":0)",
        R"("rcode_name":"NOERROR")", R"("AA":)" + aa,              R"("TC":false)",
        R"("RD":true)",              R"("RA":true)",               R"("Z":0)",
        R"("answers":["188.225.171.1","edge665.cdn-example.net"])", R"("TTLs":[)" + ttl + ",3600.0]",
        R"("rejected":false)"};
  };
  auto line = [](const std::vector<std::string>& m, const std::string& tail = "}") {
    std::string l = "{";
    for (size_t i = 0; i < m.size(); ++i) l += (i ? "," : "") + m[i];
    return l + tail;
  };
  std::string log;
  for (const char* n : {"0", "7", "1234567", "12345678", "123456789012", "01", "00", "0000001", "-1", "-0", "1.5",
                        "1e5", "1E+5", "1.", ".5", "+1", "1a", "1-", "9999999", "1234567e1", "1234567.0", "1 "})
    log += line(members(n, "1", "true", "60.0")) + "\n";
  for (const char* q : {"0", "1", "9", "10", "28", "99", "01", "00", "100", "255", "65535", "65536", "1.0", "28.5",
                        "-1", "1e1", "\"1\"", "true", "null"})
    log += line(members("1", q, "true", "60.0")) + "\n";
  for (const char* a : {"true", "false", "null", "tru", "fals", "nul", "truE", "falsE", "nulL", "trueX", "falsey",
                        "True", "\"true\"", "[]", "{}", "0"})
    log += line(members("1", "1", a, "60.0")) + "\n";
  for (const char* t : {"0", "0.0", "00.0", "01.0", "7", "7.", "7.0", "7.000", "7.01", "1234567.0", "9999999.0",
                        "12345678.0", "2147483647.0", "2147483648.0", "99999999999.0", "1e3", "60.0e0", "-60.0",
                        "\"60\"", "60.0 ", " 60.0", "3600.000000", "1234567"})
    log += line(members("1", "1", "true", t)) + "\n";
  const std::vector<std::string> usual = members("1", "1", "true", "60.0");
  // ts values around ZeekTs's shape (1 to 13 digits, '.', 6 digits, then no number byte), first
  // (read in Zeek's order) and last (read by the loop, then '}').
  for (const char* t : {"1795996800.009082", "0.000000", "00.000000", "01.000000", "0.0000001", "1.000000",
                        "1234567890123.000000", "12345678901234.000000", "9007199254.740992", "9007199254.740993",
                        "9999999999999.999999", "1795996800.00908", "1795996800.0090821", "1795996800.009082e0",
                        "1795996800.009082E1", "1795996800.009082.1", "1795996800.00908a", "1795996800.0090a2",
                        "1795996800.009082-", "1795996800.009082+", "-1795996800.009082", "1795996800.",
                        "1795996800", "1795996800.009082 ", "1795996800,009082", "1795996800.009082\"",
                        "1099511627776.000000", "1099511627775.999999", "\"1795996800.009082\""}) {
    std::vector<std::string> m = usual;
    m[0] = std::string("\"ts\":") + t;
    log += line(m) + "\n";
    std::rotate(m.begin(), m.begin() + 1, m.end());
    log += line(m) + "\n";
    log += line({m.back()}) + "\n";
    log += line({m.back()}, "") + "\n";
  }
  // Ends of the line: a short tail (fewer than sixteen bytes after a name), the last member a
  // number or an array, cut short, or followed by more.
  for (const char* tail : {"} ", "}}", ",\"Z\":0}", ",\"Z\":01}", ",\"Z\":1234567}", ",\"Z\":12345678}", "",
                           ",\"rejected\":fals", ",\"x\":1}", ",\"TTLs\":[1]}", ",}", ","})
    log += line(usual, tail) + "\n";
  for (size_t n = 0; n <= usual.size(); ++n) {
    log += line({usual.begin(), usual.begin() + static_cast<long>(n)}) + "\n";  // the first n members
    log += line({usual.end() - static_cast<long>(n), usual.end()}) + "\n";      // the last n members
  }
  // Each member moved to the front and to the back, left out, repeated, or given another name.
  for (size_t i = 0; i < usual.size(); ++i) {
    std::vector<std::string> m = usual;
    m.erase(m.begin() + static_cast<long>(i));
    log += line(m) + "\n";
    m.insert(m.begin(), usual[i]);
    log += line(m) + "\n";
    std::rotate(m.begin(), m.begin() + 1, m.end());
    log += line(m) + "\n";
    m = usual;
    m.insert(m.begin() + static_cast<long>(i), usual[i].substr(0, usual[i].find(':') + 1) + "\"x\"");
    log += line(m) + "\n";
    for (const char* name : {"\"x\"", "\"ts\"", "\"query\"", "\"qtype\"", "\"TTLs\"", "\"q\\u0075ery\""}) {
      m = usual;
      m[i] = name + m[i].substr(m[i].find(':'));
      log += line(m) + "\n";
    }
  }
  // Odd strings and values among the usual members.
  for (const auto& [i, value] : std::vector<std::pair<size_t, std::string>>{
           {6, R"("proto":"u\"dp")"}, {6, "\"proto\":\"\xff\xfe\""}, {6, "\"proto\":\"u\x01p\""},
           {9, "\"query\":\"\xc3\xa9.example\""}, {9, R"("query":"a\u0041.example")"}, {1, R"("uid":[1,{"a":[]}])"},
           {1, R"("uid":{})"}, {8, R"("rtt":1e-3)"}, {21, R"("answers":[])"}, {21, R"("answers":["a\/b"])"}}) {
    std::vector<std::string> m = usual;
    m[i] = value;
    log += line(m) + "\n";
  }
  const std::string path = TempPath("jsonedges.log");
  std::ofstream(path, std::ios::binary) << log;
  for (const bool want : {true, false}) ExpectSame(path, false, want);
}

// Lines for the parts of the reader that remember earlier items (the answers' dotted quads by
// their first three parts, the last TTL item by its bytes) and for query names read in place
// (NormalizeShortName: at most 32 bytes, with 32 bytes of the line from its start), each next to
// the shapes just past them, in sequences within and across lines, against the former reader.
TEST(ZeekJsonDiffTest, RememberedItemsAndNamesInPlace) {
  // A usual line with the given query (JSON text), answers and TTLs (items joined with ","),
  // and what follows the TTLs ("" ends the line at the TTLs' ']').
  auto line = [](const std::string& query, const std::string& answers, const std::string& ttls,
                 const std::string& tail = R"(,"rejected":false)") {
    return R"({"ts":1795996800.009082,"uid":"C566a5199","id.orig_h":"10.0.99.101","id.orig_p":46587,)"
           R"("id.resp_h":"10.53.0.1","id.resp_p":53,"proto":"udp","trans_id":61184,"rtt":0.001,"query":)" +
           query + R"(,"qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,)"
                   R"("rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":[)" +
           answers + R"(],"TTLs":[)" + ttls + "]" + tail + "}";
  };
  auto quoted = [](const std::vector<std::string>& items) {
    std::string s;
    for (const std::string& i : items) s += (s.empty() ? "\"" : ",\"") + i + "\"";
    return s;
  };
  auto joined = [](const std::vector<std::string>& items) {
    std::string s;
    for (const std::string& i : items) s += (s.empty() ? "" : ",") + i;
    return s;
  };
  std::string log;
  const std::string q = "\"api.example.com\"";
  // Dotted quads after one that set the remembered parts, in one line and in the next.
  const std::vector<std::string> quads = {
      "1.2.3.4",      "1.2.3.44",     "1.2.3.255",     "1.2.3.256",     "1.2.3.04",     "1.2.3.0",
      "1.2.3.1000",   "1.2.3.2551",   "10.20.30.1000", "1.2.3.00",     "1.2.3.010",
      "1.2.3.",       "1.2.3.4.5",    "1.2.3.4x",      "1.2.3.4444",    "1.2.33.4",     "1.2.3",
      "01.2.3.4",     "1.2.3.-1",     "1.2.3.a",       "10.20.30.40",   "10.20.30.4",   "10.20.30.400",
      "10.20.3.40",   "10.20.30.40 ", "255.255.255.255", "255.255.255.25", "255.255.255.2555",
      "100.100.100.100", "100.100.100.1000", "9.9.9.9", "9.9.9.99", "9.9.9.999", "edge.example.net"};
  for (const char* first : {"1.2.3.4", "10.20.30.40", "255.255.255.255", "9.9.9.9", "1.2.3.44"}) {
    for (const std::string& next : quads) {
      log += line(q, quoted({first, next, first, next}), "60.0,60.0,60.0,60.0") + "\n";
      log += line(q, quoted({next}), "60.0") + "\n";
    }
  }
  // TTL items after one that is remembered: the same bytes, and bytes that differ only after the
  // number, in its last digit, by a digit more or less, or are not whole; at the end of the line.
  const std::vector<std::string> ttls = {
      "600.0", "600.00", "600.0e1", "600.0E1", "6000.0", "60.0", "600.5", "600", "600.", "0600.0", "600.0 ",
      "0", "0.0", "0.00", "7", "7.0", "1234567.0", "1234567", "12345678.0", "2147483647.0", "2147483648.0",
      "-600.0", "\"600.0\"", "1e3"};
  for (const char* first : {"600.0", "0", "7", "1234567", "60.0"}) {
    for (const std::string& next : ttls) {
      const std::string a = quoted({"1.2.3.4", "1.2.3.5", "1.2.3.6"});
      log += line(q, a, joined({first, next, first})) + "\n";
      log += line(q, a, joined({first, first, next})) + "\n";
      log += line(q, a, joined({first, first, next}), "") + "\n";  // the line ends "]}"
      log += line(q, quoted({"1.2.3.4"}), next, "") + "\n";
    }
  }
  // Query names of 1 to 40 bytes, with and without a trailing dot, upper case, empty labels,
  // bytes outside 0x21-0x7e, escapes; also as the last member (fewer than 32 bytes after it).
  std::vector<std::string> names;
  for (size_t n = 1; n <= 40; ++n) {
    std::string name;
    for (size_t i = 0; i < n; ++i) name += i % 6 == 5 ? '.' : static_cast<char>('a' + i % 26);
    if (name.back() == '.') name.back() = 'z';
    names.push_back(name);
    names.push_back(name + ".");
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    names.push_back(upper);
  }
  for (const char* odd : {".", "..", "a..b", ".a", "a.", "a..", "A.B.C.", "a b", "a\x7f", "caf\xc3\xa9.fr",
                          "bad\xff.fr", "a\\u0041.example", "a\\/b", "x\\u0000y", "@#$%.~!",
                          "0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789ABCDEF.",
                          "0123456789abcdef0123456789ABCDEFG", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p"})
    names.push_back(odd);
  for (const std::string& name : names) {
    log += line("\"" + name + "\"", quoted({"1.2.3.4"}), "60.0") + "\n";
    // The query as the last member: the line ends right after its name.
    log += R"({"ts":1795996800.009082,"id.orig_h":"10.0.99.101","qtype":1,"rcode":0,"query":")" + name + "\"}\n";
    log += R"({"ts":1795996800.009082,"query":")" + name + "\"} \n";
  }
  const std::string path = TempPath("jsonremembered.log");
  std::ofstream(path, std::ios::binary) << log;
  for (const bool want : {true, false}) ExpectSame(path, false, want);
}

}  // namespace
}  // namespace fluxscore::dns
