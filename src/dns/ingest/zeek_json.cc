// Zeek dns.log as JSON lines (LogAscii::use_json=T): one flat object per line; unset fields are
// omitted; `ts` is epoch seconds or an ISO 8601 string (JSON::TS_ISO8601).
//
// One pass over each line: the members the reader uses are parsed straight into the record (their
// strings are views of the line unless they hold escapes), the others are checked and skipped.
// Every line must still be a whole valid JSON object (nested objects and arrays are skipped, not
// kept), and a line that is not is rejected as "malformed JSON" with the column of the first fault.
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/civil.h"
#include "common/utf8.h"
#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"

namespace fluxscore::dns {
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

constexpr Member MemberOf(std::string_view k) {
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

// Zeek's dns.log members in the order Zeek writes them, as the bytes `"name":` (zero-padded
// to 16) with the mask of those bytes: JsonLine::ParseFlat recognises names by comparing them.
struct ZeekName {
  alignas(16) char text[16];
  unsigned mask;  // (1 << len) - 1
  uint8_t len;    // the length of `"name":`
  Member member;
  bool flag;  // Zeek writes true or false there
};
constexpr ZeekName MakeZeekName(std::string_view name) {
  ZeekName z{};
  z.text[0] = '"';
  for (size_t i = 0; i < name.size(); ++i) z.text[i + 1] = name[i];
  z.text[name.size() + 1] = '"';
  z.text[name.size() + 2] = ':';
  z.len = static_cast<uint8_t>(name.size() + 3);
  z.mask = (1u << z.len) - 1;
  z.member = MemberOf(name);
  z.flag = name == "AA" || name == "TC" || name == "RD" || name == "RA" || name == "rejected";
  return z;
}
constexpr ZeekName kZeekOrder[] = {
    MakeZeekName("ts"),         MakeZeekName("uid"),         MakeZeekName("id.orig_h"),
    MakeZeekName("id.orig_p"),  MakeZeekName("id.resp_h"),   MakeZeekName("id.resp_p"),
    MakeZeekName("proto"),      MakeZeekName("trans_id"),    MakeZeekName("rtt"),
    MakeZeekName("query"),      MakeZeekName("qclass"),      MakeZeekName("qclass_name"),
    MakeZeekName("qtype"),      MakeZeekName("qtype_name"),  MakeZeekName("rcode"),
    MakeZeekName("rcode_name"), MakeZeekName("AA"),          MakeZeekName("TC"),
    MakeZeekName("RD"),         MakeZeekName("RA"),          MakeZeekName("Z"),
    MakeZeekName("answers"),    MakeZeekName("TTLs"),        MakeZeekName("rejected"),
};
constexpr size_t kZeekOrderSize = sizeof(kZeekOrder) / sizeof(kZeekOrder[0]);

// The same names each with the byte before it in a usual line, '{' before the first and ','
// before the others (`,"name":`): ParseFlat's unrolled pass compares them at that byte, so the
// separator is checked with the name.
struct LedZeekNames {
  ZeekName z[kZeekOrderSize];
};
constexpr LedZeekNames kLedZeekOrder = [] {
  LedZeekNames l{};
  for (size_t i = 0; i < kZeekOrderSize; ++i) {
    const ZeekName& z = kZeekOrder[i];
    ZeekName& led = l.z[i];
    led = z;
    led.text[0] = i == 0 ? '{' : ',';
    for (size_t k = 0; k < z.len; ++k) led.text[k + 1] = z.text[k];
    led.len = static_cast<uint8_t>(z.len + 1);
    led.mask = (1u << led.len) - 1;
  }
  return l;
}();
static_assert([] {
  for (const ZeekName& z : kZeekOrder)
    if (z.len + 1 > 16) return false;
  return true;
}());

// The bytes a number token is made of (JSON's grammar is checked on the token afterwards).
struct NumberChars {
  bool is[256] = {};
  constexpr NumberChars() {
    for (char c : std::string_view("0123456789.eE+-")) is[static_cast<unsigned char>(c)] = true;
  }
};
constexpr NumberChars kNumberChars;

// Whether the four bytes at p are those of lit, in one compare (memcmp is not always inlined).
[[gnu::always_inline]] inline bool Same4(const char* p, const char* lit) {
  uint32_t a, b;
  std::memcpy(&a, p, 4);
  std::memcpy(&b, lit, 4);
  return a == b;
}

#if defined(FLUXSCORE_SWAR_DIGITS)
// Eight bytes as loaded (little-endian): the top bit of each byte that is not a digit, exact up
// to and including the lowest such byte (see AllDigits8: nothing carries or borrows past it).
[[gnu::always_inline]] inline uint64_t NonDigits8(uint64_t x) {
  return ((x + 0x4646464646464646ULL) | (x - 0x3030303030303030ULL)) & 0x8080808080808080ULL;
}
#endif

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
#if defined(FLUXSCORE_SWAR_DIGITS)
    } else if (uint64_t x; e_ - p >= 8 && (std::memcpy(&x, p, 8), NonDigits8(x) != 0)) {
      // One to seven digits (the usual TTL) in one eight-byte step: the lowest byte with its top
      // bit set in NonDigits8 is the first that is not a digit (see Digits).
      const unsigned n = static_cast<unsigned>(__builtin_ctzll(NonDigits8(x)) >> 3);
      if (n == 0) return nullptr;
      const unsigned sh = 8 * (8 - n);  // 8..56: right-align the digits after '0's
      v = Digits8Value((x << sh) | (0x3030303030303030ULL >> (64 - sh)));
      q += n;
#endif
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

  // The usual number of a member the reader skips (ports, trans_id, qclass, Z): one to seven
  // digits without a leading zero, then ',', in one eight-byte step: the position of that ','.
  // nullptr for anything else (Number then decides).
  [[gnu::always_inline]] const char* ShortInt(const char* p) const {
#if defined(FLUXSCORE_SWAR_DIGITS)
    if (e_ - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      const uint64_t nd = NonDigits8(x);
      if (nd == 0) return nullptr;
      const unsigned n = static_cast<unsigned>(__builtin_ctzll(nd) >> 3);  // 0..7 digits
      if (n >= 1 && (n == 1 || *p != '0') && p[n] == ',') return p + n;
    }
#endif
    (void)p;
    return nullptr;
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

  // The usual line, read without the general grammar walk: no whitespace, `{`, then members
  // `"name":value` joined by single commas, `}` as the last byte, where each name and string
  // value is plain (no escapes, no control characters), each value is a string, a number, null
  // or (for members the reader does not use) true or false, and answers and TTLs are arrays of
  // strings and of numbers, or null. Member names are recognised by comparing the bytes at the
  // member with Zeek's names: first with all of them in Zeek's order (kLedZeekOrder, members may
  // be missing); from a member that is none of them on, with the next few of kZeekOrder, and
  // other names as Parse finds them. For each member the reader uses,
  // on_scalar(member, value) (or on_answer / ttl_fast + on_ttl for each array item) is called
  // with what Parse would have given it; a ts in Zeek's shape goes to on_ts(its value) instead
  // (ZeekTs). Returns false, possibly after some of those calls, on
  // anything else: the caller then undoes them and reads the line with Parse, which decides
  // (and words any error) as always.
  template <typename S, typename TS, typename A, typename TF, typename T>
  [[gnu::always_inline]] bool ParseFlat(std::string_view line, S&& on_scalar, TS&& on_ts, A&& on_answer,
                                        TF&& ttl_fast, T&& on_ttl) {
#if defined(__SSE2__)
    b_ = line.data();
    e_ = b_ + line.size();
    if (e_ - b_ < 16 || *b_ != '{') return false;
    // A plain string at p ('"'): its text, and p after it.
    auto string = [&](const char*& p, std::string_view& text) __attribute__((always_inline)) {
      const char* const q = FindSpecial(p + 1);
      if (q >= e_ || *q != '"') return false;
      text = std::string_view(p + 1, static_cast<size_t>(q - (p + 1)));
      p = q + 1;
      return true;
    };
    auto is_number_start = [](char c) { return (c >= '0' && c <= '9') || c == '-'; };
    // true, false or null at p: p after it.
    auto literal = [&](char c, const char*& p) __attribute__((always_inline)) {
      if (c == 'f' && e_ - p >= 5 && Same4(p, "fals") && p[4] == 'e') {
        p += 5;
      } else if (c == 't' && e_ - p >= 4 && Same4(p, "true")) {
        p += 4;
      } else if (c == 'n' && e_ - p >= 4 && Same4(p, "null")) {
        p += 4;
      } else {
        return false;
      }
      return true;
    };
    // The value of member m at p (after its name and ':'), handled as described above; p after it.
    // flag: the member is one where Zeek writes true or false (tried first); inside: p < e_ is
    // known (after a name compared with sixteen bytes of the line).
    auto value = [&](Member m, bool flag, bool inside, const char*& p) __attribute__((always_inline)) {
      if (!inside && p >= e_) return false;
      const char c = *p;
      if (m == kOther) {
        std::string_view text;
        if (flag && literal(c, p)) return true;
        if (c == '"') {
          if (!string(p, text)) return false;
        } else if (const char* const q = ShortInt(p); q != nullptr) {
          p = q;
        } else if (is_number_start(c)) {
          JsonValue v;
          p = Number(p, v);
          if (p == nullptr) return false;
        } else if (!literal(c, p)) {
          return false;
        }
      } else if (m == kAnswers || m == kTtls) {
        if (c != '[') {
          if (c != 'n' || e_ - p < 4 || !Same4(p, "null")) return false;
          p += 4;  // null: no answers (Parse skips it)
          return true;
        }
        ++p;
        if (p < e_ && *p == ']') {
          ++p;
        } else {
          for (;;) {
            if (p >= e_) return false;
            if (m == kAnswers) {
              JsonValue item;
              item.kind = kString;
              std::string_view text;  // (both views from the registers, as for scalars below)
              if (*p != '"' || !string(p, text)) return false;
              item.raw = text;
              item.str = text;
              on_answer(item);
            } else {
              const char* const q = ttl_fast(p);
              if (q != nullptr) {
                p = q;
              } else {
                if (!is_number_start(*p)) return false;
                JsonValue item;
                p = Number(p, item);
                if (p == nullptr) return false;
                on_ttl(item);
              }
            }
            if (p >= e_) return false;
            if (*p == ',') {
              ++p;
              continue;
            }
            if (*p != ']') return false;
            ++p;
            break;
          }
        }
      } else {
        if (m == kTs) {
          double ts;
          if (const char* const q = ZeekTs(p, ts)) {
            on_ts(ts);
            p = q;
            return true;
          }
        }
        JsonValue v;
        if (c == '"') {
          v.kind = kString;
          // (Both views from the registers: copying v.raw to v.str read back, 16 bytes at once,
          // what had just been stored as two words — a store-forwarding stall per string.)
          std::string_view text;
          if (!string(p, text)) return false;
          v.raw = text;
          v.str = text;
        } else if (is_number_start(c)) {
          p = Number(p, v);
          if (p == nullptr) return false;
        } else if (c == 'n' && e_ - p >= 4 && Same4(p, "null")) {
          p += 4;  // (unset: json_include_unset_fields=T writes an unanswered query's rcode so)
          v.kind = kNull;
        } else {
          return false;
        }
        on_scalar(m, v);
      }
      return true;
    };
    auto same = [](__m128i x, const ZeekName& z) __attribute__((always_inline)) {
      const unsigned eq = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_load_si128(reinterpret_cast<const __m128i*>(z.text)))));
      return (eq & z.mask) == z.mask;
    };
    const char* p = b_;
    size_t next = 0;  // the kZeekOrder entry expected next
    // First Zeek's members in Zeek's order, unrolled: for each entry of kLedZeekOrder, the
    // separator and name are compared with the bytes at p and, when they are there, the value
    // read, with the name, its mask and its member constants (no table, no dispatch on the
    // member); a missing member costs one compare. Then p is at the byte after the last value
    // read (at the '{' when there was none).
    auto zeek_member = [&]<size_t I>(std::integral_constant<size_t, I>) __attribute__((always_inline)) {
      constexpr const ZeekName& z = kLedZeekOrder.z[I];
      if (e_ - p < 16 || !same(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), z)) return true;
      p += z.len;
      next = I + 1;
      return value(z.member, z.flag, true, p);
    };
    bool read = true;
    [&]<size_t... I>(std::index_sequence<I...>) __attribute__((always_inline)) {
      ((read = zeek_member(std::integral_constant<size_t, I>{})) && ...);
    }(std::make_index_sequence<kZeekOrderSize>{});
    if (!read || p >= e_) return false;
    if (*p == '}') return p + 1 == e_;
    // A member that is none of them, or is out of their order, after the separator: the loop.
    if (*p != ',' && p != b_) return false;
    ++p;
    for (;;) {
      // The member's name, up to and including the ':' after it.
      Member m = kOther;
      bool known = false;
      if (e_ - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // The expected name first (the usual case), then the three after it.
        size_t k = next;
        if (k < kZeekOrderSize && !same(x, kZeekOrder[k])) {
          for (++k; k < next + 4 && k < kZeekOrderSize && !same(x, kZeekOrder[k]);) ++k;
          if (k == next + 4) k = kZeekOrderSize;
        }
        if (k < kZeekOrderSize) {
          const ZeekName& z = kZeekOrder[k];
          m = z.member;
          p += z.len;
          next = k + 1;
          known = true;
        }
      }
      if (!known) {
        std::string_view key;
        if (p >= e_ || *p != '"' || !string(p, key)) return false;
        if (p >= e_ || *p != ':') return false;
        ++p;
        m = MemberOf(key);
      }
      if (!value(m, false, false, p) || p >= e_) return false;
      if (*p == ',') {
        ++p;
        continue;
      }
      return *p == '}' && p + 1 == e_;
    }
#else
    (void)line, (void)on_scalar, (void)on_ts, (void)on_answer, (void)ttl_fast, (void)on_ttl;
    return false;
#endif
  }

  // The byte at p, '\0' at the end of the line.
  char At(const char* p) const { return p < e_ ? *p : '\0'; }
  // Whether n bytes from p are in the line.
  bool Readable(const char* p, size_t n) const { return e_ - p >= static_cast<ptrdiff_t>(n); }

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
    // x ^ 2 is at most 0x20 exactly for the control characters (0x00-0x1F, permuted among
    // themselves) and '"' (0x22 -> 0x20): one unsigned compare for both.
    const __m128i two = _mm_set1_epi8(2);
    const __m128i x20 = _mm_set1_epi8(0x20);
    const __m128i backslash = _mm_set1_epi8('\\');
    auto special = [&](const char* at) __attribute__((always_inline)) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      const __m128i y = _mm_xor_si128(x, two);
      const __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(y, x20), y), _mm_cmpeq_epi8(x, backslash));
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
    // bit set in m.
    while (e_ - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      const uint64_t m = NonDigits8(x);
      if (m != 0) return p + (__builtin_ctzll(m) >> 3);
      p += 8;
    }
#endif
    while (p < e_ && static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') <= 9) ++p;
    return p;
  }

  // A number at p in Zeek's time shape, "<1 to 13 digits>.<6 digits>": the end Number would give
  // it, with out the double ParseTs computes from its text (ParseDouble's first try,
  // ParseZeekDecimal, which also checks the six digits), in one pass; nullptr for anything else.
  [[gnu::always_inline]] const char* ZeekTs(const char* p, double& out) const {
    const char* const q = Digits(p);  // the '.'
    if (q == p || (*p == '0' && q != p + 1) || e_ - q < 8 || *q != '.' ||
        kNumberChars.is[static_cast<unsigned char>(q[7])])
      return nullptr;
    return ParseZeekDecimal(p, q + 7, out) ? q + 7 : nullptr;
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

// ParseCode past its inline case: plain digits directly; anything else as a double, as before.
[[gnu::noinline]] bool ParseCodeGeneral(std::string_view s, int32_t& out) {
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

// qtype and rcode: a number that is a whole value in [0, 65535]. One or two plain digits (the
// usual "0", "3", "1", "28") inline; the rest by ParseCodeGeneral.
[[gnu::always_inline]] inline bool ParseCode(std::string_view s, int32_t& out) {
  if (s.size() == 1 || s.size() == 2) {
    const unsigned d0 = static_cast<unsigned>(static_cast<unsigned char>(s[0]) - '0');
    const unsigned d1 = s.size() == 2 ? static_cast<unsigned>(static_cast<unsigned char>(s[1]) - '0') : 0;
    if (d0 <= 9 && d1 <= 9) {
      out = static_cast<int32_t>(s.size() == 2 ? d0 * 10 + d1 : d0);
      return true;
    }
  }
  return ParseCodeGeneral(s, out);
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

Status ReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  JsonLine json;
  AddrCache resolvers;  // id.resp_h holds a handful of values
  QuadMemo quads;       // the answers' dotted quads
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
  std::vector<uint32_t> ttls;  // the first n_ttls are the line's (stored by index: no push_back call)
  size_t n_ttls = 0;
  // The last TTL item of up to seven bytes that ttl_fast read whole, by its first eight bytes:
  // TTLs repeat in a line and from line to line ("600.0,600.0"), and WholeNumber reads no
  // further than the byte after the number, so the same bytes up to that one are the same TTL.
  struct {
    uint64_t word = 0, mask = 0;  // mask: the bytes of the number and the one after it (0: none)
    size_t len = 0;
    uint32_t value = 0;
    void Keep(uint64_t w, size_t n, uint32_t v) {
      word = w;
      mask = n == 7 ? ~uint64_t{0} : (uint64_t{1} << (8 * (n + 1))) - 1;
      len = n;
      value = v;
    }
  } last_ttl;
  std::vector<std::string> spare;  // buffers of answers dropped from rec.answers, for reuse
  std::string value_buf, query_buf, client_detail, ttl_detail;
  const bool want_data = sink.wants_answer_data();
  // The current line's state and the callbacks that fill it (made once, not for each line).
  bool have_ts, have_query, query_in_line, bad_client, bad_type, bad_ttl;
  std::string_view query;
  // The line's state before its first member (again after ParseFlat gave up part way).
  auto start_line = [&]() __attribute__((always_inline)) {
    have_ts = have_query = query_in_line = bad_client = bad_type = bad_ttl = false;
    query = {};
    client_detail.clear();
    ttl_detail.clear();
    rec.has_client = rec.has_resolver = false;
    rec.qtype = 0;
    rec.rcode = -1;
    n_answers = n_decoded = 0;
    n_ttls = 0;
  };
  auto add_answer = [&](const JsonValue& it) __attribute__((always_inline)) {
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
  auto add_ttl_value = [&](uint32_t t) __attribute__((always_inline)) {
    if (n_ttls == ttls.size()) ttls.resize(ttls.size() * 2 + 16);
    ttls[n_ttls++] = t;
  };
  auto add_ttl = [&](const JsonValue& it) {
    uint32_t t;
    if (it.kind != kNumber || !ParseJsonTtl(it.raw, t)) {
      if (!bad_ttl) ttl_detail.assign(it.raw);  // the first bad one
      bad_ttl = true;
      return;
    }
    add_ttl_value(t);
  };
  // The usual TTL item, "3600.0": read and taken at once (what add_ttl would do with it),
  // the same bytes as the last one (last_ttl) without reading them again.
  auto ttl_fast = [&](const char* p) __attribute__((always_inline)) -> const char* {
#if defined(FLUXSCORE_SWAR_DIGITS)
    uint64_t w = 0;
    const bool word = json.Readable(p, 8);
    if (word) {
      std::memcpy(&w, p, 8);
      if (last_ttl.mask != 0 && ((w ^ last_ttl.word) & last_ttl.mask) == 0) {
        add_ttl_value(last_ttl.value);
        return p + last_ttl.len;
      }
    }
#endif
    uint64_t t;
    const char* const q = json.WholeNumber(p, t);
    if (q == nullptr || t > 2147483647u) return nullptr;
    add_ttl_value(static_cast<uint32_t>(t));
#if defined(FLUXSCORE_SWAR_DIGITS)
    if (word && q - p < 8) last_ttl.Keep(w, static_cast<size_t>(q - p), static_cast<uint32_t>(t));
#endif
    return q;
  };
  // ts read by ZeekTs: what use_scalar would do with its text (ParseTs).
  auto use_ts = [&](double ts) __attribute__((always_inline)) {
    rec.ts = ts;
    have_ts = PlausibleTs(ts);
  };
  // A scalar member the reader uses, once its value is read. null is unset, as a missing member
  // is (Zeek writes unset fields as null with LogAscii::json_include_unset_fields=T), and as `-`
  // is in the TSV form.
  auto use_scalar = [&](Member m, const JsonValue& v) __attribute__((always_inline)) {
    if (v.kind == kNull) return;
    switch (m) {
      case kTs:
        if (v.kind == kNumber) have_ts = ParseJsonTs(v.raw, rec.ts);
        else if (v.kind == kString) have_ts = ParseIsoTime(v.str, rec.ts) && PlausibleTs(rec.ts);
        break;
      case kQuery:
        if (v.kind == kString) {
          have_query = true;
          query_in_line = !v.decoded;
          if (v.decoded) {
            query_buf.assign(v.str);
            query = query_buf;
          } else {
            query = std::string_view(v.str.data(), v.str.size());  // (two loads: see ParseFlat)
          }
        }
        break;
      case kOrigH: {
        // (A dotted quad is read inline exactly as IpAddr::Parse reads it.)
        if (v.kind == kString && ParseIp(v.str, rec.client)) {
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
    use_scalar(m, v);
    return p;
  };
  for (;;) {
    LineReader::Got got = LineReader::Got::kLine;
    if (!NextLogLineBuffered(lines, in, progress, &line)) {
      FLUXSCORE_ASSIGN_OR_RETURN(got, NextLogLine(lines, in, stats, progress, &line));
    }
    if (got == LineReader::Got::kEnd) break;
    if (got == LineReader::Got::kTooLong) continue;
    const SourcePos pos{in.name(), lines.line_no()};
    // Blank lines are skipped (a line starting with '{', the usual one, is not blank: no search).
    if ((line.empty() || line[0] != '{') && line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++stats.read;
    start_line();
    // The usual line by ParseFlat; anything else (and a line it gives up on, from the start)
    // by Parse.
    if (!json.ParseFlat(line, use_scalar, use_ts, add_answer, ttl_fast, add_ttl)) {
      start_line();
      if (!json.Parse(line, on_member)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "malformed JSON", json.err()));
        continue;
      }
    }
    if (!have_ts) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad ts"));
      continue;
    }
    if (!have_query || query.empty()) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "no query name"));
      continue;
    }
#if defined(__SSE2__)
    // (A name that is a view of the line has the rest of the line after it.)
    const bool short_name =
        query_in_line &&
        NormalizeShortName(query, static_cast<size_t>(line.data() + line.size() - query.data()), rec.qname);
#else
    const bool short_name = false;
#endif
    if (!short_name && !NormalizeName(query, rec.qname)) {
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
    if (n_answers != n_ttls) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "answers and TTLs differ in length",
          fmt::format("{} answers, {} TTLs", n_answers, n_ttls)));
      continue;
    }
    if (rec.answers.size() != n_answers) {
      if (want_data) {
        ResizeKeepingBuffers(rec.answers, n_answers, spare);
      } else {
        rec.answers.resize(n_answers);  // (the same as ResizeKeepingBuffers when every data is empty)
      }
    }
    auto answer = [&](size_t i) -> std::string_view {
      return answers[i].decoded >= 0 ? std::string_view(decoded[static_cast<size_t>(answers[i].decoded)])
                                     : answers[i].text;
    };
    size_t bad_answer = n_answers;
    for (size_t i = 0; i < n_answers && bad_answer == n_answers; ++i) {
      // (A sink that does not read Answer::data gets it empty: no copy of each answer's text.)
      Answer& out = rec.answers[i];
      const std::string_view data = answer(i);
      out.ttl = ttls[i];
      if (want_data) out.data.assign(data);
      if (!ClassifyAnswer(data, rec.qtype, out, quads)) bad_answer = i;
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

}  // namespace fluxscore::dns
