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

// A cursor over one line with the JSON grammar the reader accepts. Errors are kept in err()
// as "<what> at column <n>" (n: 1-based, the byte where parsing stopped).
class JsonCursor {
 public:
  void Reset(std::string_view s) {
    b_ = s.data();
    n_ = s.size();
    i_ = 0;
  }
  const std::string& err() const { return err_; }

  char Peek() const { return i_ < n_ ? b_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  void Ws() {
    while (i_ < n_ && (b_[i_] == ' ' || b_[i_] == '\t' || b_[i_] == '\r' || b_[i_] == '\n')) ++i_;
  }
  bool Fail(std::string_view what) {
    err_ = fmt::format("{} at column {}", what, i_ + 1);
    return false;
  }
  bool FailNoColumn(std::string_view what) {
    err_.assign(what);
    return false;
  }
  // After the object: only whitespace may follow.
  bool Tail() {
    Ws();
    return i_ == n_ || Fail("text after the object");
  }

  // A string at '"'. Its text without escapes is a view of the line (v.raw and v.str); with
  // escapes, v.raw is empty and v.str is the decoded text in *buf, or empty when buf is null
  // (the escapes are then only checked).
  bool String(JsonValue& v, std::string* buf) {
    ++i_;  // opening quote
    const size_t start = i_;
    v.kind = kString;
    i_ = FindSpecial(start);
    if (i_ >= n_) return Fail("unterminated string");
    const unsigned char c = static_cast<unsigned char>(b_[i_]);
    if (c == '"') {
      v.raw = v.str = std::string_view(b_ + start, i_ - start);
      v.decoded = false;
      ++i_;
      return true;
    }
    if (c < 0x20) return Fail("control character in a string");
    return Escaped(v, start, buf);
  }

  // A number or a literal (true, false, null): a value that is not a string, object or array.
  bool Scalar(JsonValue& v) {
    const size_t left = n_ - i_;
    const char* const p = b_ + i_;
    if ((left >= 4 && std::memcmp(p, "true", 4) == 0) || (left >= 5 && std::memcmp(p, "false", 5) == 0)) {
      v.kind = kBool;
      v.raw = v.str = std::string_view(p, *p == 't' ? 4 : 5);
      i_ += v.raw.size();
      return true;
    }
    if (left >= 4 && std::memcmp(p, "null", 4) == 0) {
      v.kind = kNull;
      v.raw = v.str = {};
      i_ += 4;
      return true;
    }
    return Number(v);
  }

  // Any value at `depth` (0: a member of the line's object), checked and skipped.
  bool Skip(int depth) {
    if (depth > 64) return Fail("nesting too deep");
    const char c = Peek();
    JsonValue v;
    if (c == '"') return String(v, nullptr);
    if (c == '{' || (c == '[' && depth > 0)) return SkipComposite(c, depth);
    if (c == '[') return Array([](const JsonValue&) {}, nullptr);
    return Scalar(v);
  }

  // A nested object, or an array inside an array, at its opening bracket: checked and skipped.
  bool SkipComposite(char c, int depth) {
    const char close = c == '{' ? '}' : ']';
    ++i_;
    Ws();
    if (Eat(close)) return true;
    for (;;) {
      Ws();
      if (c == '{') {
        if (Peek() != '"') return Fail("expected a member name");
        JsonValue k;
        if (!String(k, nullptr)) return false;
        Ws();
        if (!Eat(':')) return Fail("expected ':'");
        Ws();
      }
      if (!Skip(depth + 1)) return false;
      Ws();
      if (Eat(',')) continue;
      if (Eat(close)) return true;
      return Fail("expected ',' or a closing bracket");
    }
  }

  // An array that is a member's value, at '[': on_item(value) for each item (strings decoded
  // into *buf when buf is not null; nested objects and arrays skipped, with only their kind).
  template <typename F>
  bool Array(F&& on_item, std::string* buf) {
    ++i_;
    Ws();
    if (Eat(']')) return true;
    for (;;) {
      Ws();
      JsonValue item;
      const char c = Peek();
      if (c == '"') {
        if (!String(item, buf)) return false;
      } else if (c == '{' || c == '[') {
        item.kind = c == '{' ? kObject : kArray;
        if (!SkipComposite(c, 1)) return false;
      } else if (!Scalar(item)) {
        return false;
      }
      on_item(item);
      Ws();
      if (Eat(',')) continue;
      if (Eat(']')) return true;
      return Fail("expected ',' or ']'");
    }
  }

 private:
  // The first byte at or after j that ends the plain part of a string: '"', '\\' or a control
  // character; n_ when there is none. Sixteen bytes at a time where SSE2 is there.
  size_t FindSpecial(size_t j) const {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i c1f = _mm_set1_epi8(0x1F);
    for (; j + 16 <= n_; j += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b_ + j));
      const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x));  // x <= 0x1F
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(m));
      if (mask != 0) return j + static_cast<size_t>(__builtin_ctz(mask));
    }
#endif
    for (; j < n_; ++j) {
      const unsigned char c = static_cast<unsigned char>(b_[j]);
      if (c == '"' || c == '\\' || c < 0x20) return j;
    }
    return n_;
  }

  bool Hex4(uint32_t& v) {
    if (i_ + 4 > n_) return false;
    v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int h = HexDigit(b_[i_ + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }

  // The rest of a string from its first backslash (at i_), decoded into *buf when not null.
  bool Escaped(JsonValue& v, size_t start, std::string* buf) {
    v.raw = {};
    v.decoded = buf != nullptr;
    if (buf != nullptr) buf->assign(b_ + start, i_ - start);
    while (i_ < n_) {
      const char c = b_[i_];
      if (c == '"') {
        ++i_;
        v.str = buf != nullptr ? std::string_view(*buf) : std::string_view();
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        // A run of plain bytes, up to the next quote, backslash or control character.
        const size_t e = FindSpecial(i_);
        if (buf != nullptr) buf->append(b_ + i_, e - i_);
        i_ = e;
        continue;
      }
      ++i_;
      const char e = Peek();
      ++i_;  // (past the end when the backslash is the last byte: a bad escape)
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
          if (!Hex4(cp)) return Fail("bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!(Eat('\\') && Eat('u') && Hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF))
              return Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail("unpaired surrogate");
          }
          if (buf != nullptr) EncodeUtf8(static_cast<int32_t>(cp), *buf);
          continue;
        }
        default: return Fail("bad escape");
      }
      if (buf != nullptr) buf->push_back(out);
    }
    return Fail("unterminated string");
  }

  // A number at i_: the longest run of number bytes (a leading '-' included), then JSON's
  // grammar on it. The usual case, a well-formed number followed by a byte that cannot be part
  // of one, is read in one go.
  bool Number(JsonValue& v) {
    const size_t start = i_;
    size_t j = start;
    auto digits = [&]() {
      const size_t d = j;
      while (j < n_ && static_cast<unsigned>(static_cast<unsigned char>(b_[j]) - '0') <= 9) ++j;
      return j > d;
    };
    bool ok = true;
    if (j < n_ && b_[j] == '-') ++j;
    if (j < n_ && b_[j] == '0') {
      ++j;
    } else {
      ok = digits();
    }
    if (ok && j < n_ && b_[j] == '.') {
      ++j;
      ok = digits();
    }
    if (ok && j < n_ && (b_[j] == 'e' || b_[j] == 'E')) {
      ++j;
      if (j < n_ && (b_[j] == '+' || b_[j] == '-')) ++j;
      ok = digits();
    }
    if (!ok || (j < n_ && kNumberChars.is[static_cast<unsigned char>(b_[j])])) {
      // Not a well-formed number up to a byte that ends the token: the token as a whole.
      j = start;
      while (j < n_ && kNumberChars.is[static_cast<unsigned char>(b_[j])]) ++j;
      i_ = j;
      if (j == start) return Fail("unexpected character");
      v.kind = kNumber;
      v.raw = v.str = std::string_view(b_ + start, j - start);
      if (!JsonNumber(v.raw)) return Fail("bad number");
      return true;
    }
    i_ = j;
    v.kind = kNumber;
    v.raw = v.str = std::string_view(b_ + start, j - start);
    return true;
  }

  const char* b_ = nullptr;
  size_t n_ = 0;
  size_t i_ = 0;
  std::string err_;
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

Status ReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  JsonCursor json;
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
  std::string key_buf, value_buf, query_buf, bad_detail;
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
    bad_detail.clear();
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
        bad_ttl = true;
        bad_detail.assign(it.raw);
        return;
      }
      ttls.push_back(t);
    };
    // The line's object, member by member; each member's value is used as soon as it is read.
    auto parse = [&]() -> bool {
      json.Reset(line);
      json.Ws();
      if (!json.Eat('{')) return json.FailNoColumn("not a JSON object");
      json.Ws();
      if (json.Eat('}')) return json.Tail();
      for (;;) {
        json.Ws();
        if (json.Peek() != '"') return json.Fail("expected a member name");
        JsonValue k;
        if (!json.String(k, &key_buf)) return false;
        const Member m = MemberOf(k.str);
        json.Ws();
        if (!json.Eat(':')) return json.Fail("expected ':'");
        json.Ws();
        JsonValue v;
        const char c = json.Peek();
        switch (m) {
          case kOther:
            if (!json.Skip(0)) return false;
            break;
          case kAnswers:
            if (c == '[') {
              if (!json.Array(add_answer, &value_buf)) return false;
            } else if (!json.Skip(0)) {
              return false;
            }
            break;
          case kTtls:
            if (c == '[') {
              if (!json.Array(add_ttl, nullptr)) return false;
            } else if (!json.Skip(0)) {
              return false;
            }
            break;
          default:
            // A scalar member the reader uses (an object or array there: checked and skipped).
            if (c == '"') {
              if (!json.String(v, &value_buf)) return false;
            } else if (c == '{' || c == '[') {
              if (!json.Skip(0)) return false;
              v.kind = c == '{' ? kObject : kArray;
            } else if (!json.Scalar(v)) {
              return false;
            }
            switch (m) {
              case kTs:
                if (v.kind == kNumber) have_ts = ParseTs(v.raw, rec.ts);
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
                  bad_detail.assign(v.kind == kString ? v.str : std::string_view("not a string"));
                }
                break;
              }
              case kRespH: {
                auto ip = v.kind == kString ? IpAddr::Parse(v.str) : std::nullopt;
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
        }
        json.Ws();
        if (json.Eat(',')) continue;
        if (json.Eat('}')) return json.Tail();
        return json.Fail("expected ',' or '}'");
      }
    };
    if (!parse()) {
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
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad client address", bad_detail));
      continue;
    }
    if (bad_type) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad qtype or rcode"));
      continue;
    }
    if (bad_ttl) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", bad_detail));
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
    for (size_t i = 0; i < n_answers && bad_answer == n_answers; ++i)
      if (!InferAnswer(answer(i), rec.qtype, ttls[i], rec.answers[i])) bad_answer = i;
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
