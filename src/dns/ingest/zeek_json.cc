// Zeek dns.log as JSON lines (LogAscii::use_json=T): one flat object per line; unset fields are
// omitted; `ts` is epoch seconds or an ISO 8601 string (JSON::TS_ISO8601).
#include <fmt/format.h>

#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "common/civil.h"
#include "common/utf8.h"
#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"

namespace fluxscore::dns {
namespace {

// A minimal JSON reader for one object per line: top-level keys with string, number, bool,
// null or array-of-scalar values; nested objects/arrays are skipped.
class JsonLine {
 public:
  enum Kind { kNone, kString, kNumber, kBool, kNull, kArray, kObject };
  struct Value {
    Kind kind = kNone;
    std::string_view raw;      // number text, or the string's text when it had no escapes
    std::string text;          // decoded string (when escapes were present)
    bool has_text = false;
    std::vector<Value> items;  // kArray: scalar items
    std::string_view str() const { return has_text ? std::string_view(text) : raw; }
  };

  // Parses `line`; calls on_key(key, value) for each top-level member. Returns an error
  // message, empty on success.
  template <typename F>
  std::string Parse(std::string_view line, F&& on_key) {
    s_ = line;
    i_ = 0;
    Ws();
    if (!Eat('{')) return "not a JSON object";
    Ws();
    if (Eat('}')) return Tail();
    std::string key_buf;
    for (;;) {
      Ws();
      Value k;
      if (Peek() != '"') return At("expected a member name");
      if (auto e = String(k); !e.empty()) return e;
      key_buf.assign(k.str());
      Ws();
      if (!Eat(':')) return At("expected ':'");
      Ws();
      Value& v = scratch_;
      v.items.clear();
      v.has_text = false;
      if (auto e = Any(v, 0); !e.empty()) return e;
      on_key(std::string_view(key_buf), v);
      Ws();
      if (Eat(',')) continue;
      if (Eat('}')) return Tail();
      return At("expected ',' or '}'");
    }
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  std::string At(std::string_view what) const { return fmt::format("{} at column {}", what, i_ + 1); }
  std::string Tail() {
    Ws();
    return i_ == s_.size() ? std::string() : At("text after the object");
  }

  bool Hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = HexDigit(s_[i_ + static_cast<size_t>(k)]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }

  std::string String(Value& v) {
    ++i_;  // opening quote
    const size_t start = i_;
    v.kind = kString;
    // Fast path: no escapes.
    while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\') {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) return At("control character in a string");
      ++i_;
    }
    if (i_ >= s_.size()) return At("unterminated string");
    if (s_[i_] == '"') {
      v.raw = s_.substr(start, i_ - start);
      v.has_text = false;
      ++i_;
      return {};
    }
    v.text.assign(s_.substr(start, i_ - start));
    v.has_text = true;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return {};
      }
      if (static_cast<unsigned char>(c) < 0x20) return At("control character in a string");
      if (c != '\\') {
        v.text.push_back(c);
        ++i_;
        continue;
      }
      ++i_;
      const char e = Peek();
      ++i_;
      switch (e) {
        case '"': v.text.push_back('"'); break;
        case '\\': v.text.push_back('\\'); break;
        case '/': v.text.push_back('/'); break;
        case 'b': v.text.push_back('\b'); break;
        case 'f': v.text.push_back('\f'); break;
        case 'n': v.text.push_back('\n'); break;
        case 'r': v.text.push_back('\r'); break;
        case 't': v.text.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(cp)) return At("bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!(Eat('\\') && Eat('u') && Hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF))
              return At("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return At("unpaired surrogate");
          }
          EncodeUtf8(static_cast<int32_t>(cp), v.text);
          break;
        }
        default: return At("bad escape");
      }
    }
    return At("unterminated string");
  }

  std::string Any(Value& v, int depth) {
    if (depth > 64) return At("nesting too deep");
    const char c = Peek();
    if (c == '"') return String(v);
    if (c == '{' || (c == '[' && depth > 0)) {
      // Skipped composite (nested object, or an array inside an array).
      v.kind = c == '{' ? kObject : kArray;
      const char close = c == '{' ? '}' : ']';
      ++i_;
      Ws();
      if (Eat(close)) return {};
      for (;;) {
        Ws();
        Value tmp;
        if (c == '{') {
          if (Peek() != '"') return At("expected a member name");
          if (auto e = String(tmp); !e.empty()) return e;
          Ws();
          if (!Eat(':')) return At("expected ':'");
          Ws();
        }
        if (auto e = Any(tmp, depth + 1); !e.empty()) return e;
        Ws();
        if (Eat(',')) continue;
        if (Eat(close)) return {};
        return At("expected ',' or a closing bracket");
      }
    }
    if (c == '[') {
      v.kind = kArray;
      ++i_;
      Ws();
      if (Eat(']')) return {};
      for (;;) {
        Ws();
        v.items.emplace_back();
        if (auto e = Any(v.items.back(), depth + 1); !e.empty()) return e;
        Ws();
        if (Eat(',')) continue;
        if (Eat(']')) return {};
        return At("expected ',' or ']'");
      }
    }
    if (s_.substr(i_, 4) == "true" || s_.substr(i_, 5) == "false") {
      v.kind = kBool;
      v.raw = s_.substr(i_, s_[i_] == 't' ? 4 : 5);
      i_ += v.raw.size();
      return {};
    }
    if (s_.substr(i_, 4) == "null") {
      v.kind = kNull;
      i_ += 4;
      return {};
    }
    const size_t start = i_;
    if (Peek() == '-') ++i_;
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    if (i_ == start) return At("unexpected character");
    v.kind = kNumber;
    v.raw = s_.substr(start, i_ - start);
    if (!JsonNumber(v.raw)) return At("bad number");
    return {};
  }

  // JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? (checked without
  // converting: the fields that are used are converted, and range-checked, later).
  static bool JsonNumber(std::string_view t) {
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

  std::string_view s_;
  size_t i_ = 0;
  Value scratch_;
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

}  // namespace

Status ReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  JsonLine json;
  DnsRecord rec;
  std::string_view line;
  std::vector<std::string> answers;  // reused: strings keep their capacity across lines
  size_t n_answers = 0;
  std::vector<double> ttls;
  std::string query, bad_detail;
  std::vector<std::string_view> ttl_raw;
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
    query.clear();
    bad_detail.clear();
    rec.has_client = rec.has_resolver = false;
    rec.qtype = 0;
    rec.rcode = -1;
    n_answers = 0;
    ttls.clear();
    std::string err = json.Parse(line, [&](std::string_view key, const JsonLine::Value& v) {
      if (key == "ts") {
        if (v.kind == JsonLine::kNumber) have_ts = ParseTs(v.raw, rec.ts);
        else if (v.kind == JsonLine::kString) have_ts = ParseIsoTime(v.str(), rec.ts) && PlausibleTs(rec.ts);
      } else if (key == "query") {
        if (v.kind == JsonLine::kString) {
          have_query = true;
          query.assign(v.str());
        }
      } else if (key == "id.orig_h") {
        auto ip = v.kind == JsonLine::kString ? IpAddr::Parse(v.str()) : std::nullopt;
        if (ip) {
          rec.client = *ip;
          rec.has_client = true;
        } else {
          bad_client = true;
          bad_detail.assign(v.kind == JsonLine::kString ? v.str() : std::string_view("not a string"));
        }
      } else if (key == "id.resp_h") {
        auto ip = v.kind == JsonLine::kString ? IpAddr::Parse(v.str()) : std::nullopt;
        if (ip) {
          rec.resolver = *ip;
          rec.has_resolver = true;
        }
      } else if (key == "qtype" || key == "rcode") {
        double d;
        if (v.kind != JsonLine::kNumber || !ParseDouble(v.raw, d) || d < 0 || d > 65535 ||
            d != static_cast<double>(static_cast<int>(d))) {
          bad_type = true;
          return;
        }
        if (key == "qtype") rec.qtype = static_cast<uint16_t>(d);
        else rec.rcode = static_cast<int32_t>(d);
      } else if (key == "answers") {
        if (v.kind != JsonLine::kArray) return;
        for (const auto& it : v.items) {
          if (n_answers == answers.size()) answers.emplace_back();
          answers[n_answers++].assign(it.str());
        }
      } else if (key == "TTLs") {
        if (v.kind != JsonLine::kArray) return;
        for (const auto& it : v.items) {
          uint32_t t;
          if (it.kind != JsonLine::kNumber || !ParseTtl(it.raw, t)) {
            bad_ttl = true;
            bad_detail.assign(it.raw);
            continue;
          }
          ttls.push_back(t);
        }
      }
    });
    if (!err.empty()) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "malformed JSON", err));
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
    rec.answers.resize(n_answers);
    size_t bad_answer = n_answers;
    for (size_t i = 0; i < n_answers && bad_answer == n_answers; ++i)
      if (!InferAnswer(answers[i], rec.qtype, static_cast<uint32_t>(ttls[i]), rec.answers[i]))
        bad_answer = i;
    if (bad_answer < n_answers) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad address answer", answers[bad_answer]));
      continue;
    }
    ++stats.used;
    sink.Add(rec);
  }
  return Status::Ok();
}

}  // namespace fluxscore::dns
