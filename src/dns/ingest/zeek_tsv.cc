// Zeek dns.log in its TSV form: `#`-header lines (`#separator`, `#set_separator`,
// `#empty_field`, `#unset_field`, `#fields`, ...) then tab-separated records. Fields are found
// by name from `#fields`, so extra or reordered columns are fine; a new header block (files
// concatenated with cat) starts over.
#include <fmt/format.h>

#include <array>
#include <string>
#include <vector>

#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"

namespace fluxscore::dns {
namespace {

// Zeek writes bytes it must not print literally as \xNN.
std::string_view Unescape(std::string_view s, std::string& buf) {
  if (s.find("\\x") == std::string_view::npos) return s;
  buf.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      const int h = HexDigit(s[i + 2]);
      const int l = HexDigit(s[i + 3]);
      if (h >= 0 && l >= 0) {
        buf.push_back(static_cast<char>(h * 16 + l));
        i += 3;
        continue;
      }
    }
    buf.push_back(s[i]);
  }
  return buf;
}

enum Field { kTs, kOrigH, kRespH, kQuery, kQtype, kRcode, kAnswers, kTtls, kNumFields };
constexpr std::array<std::string_view, kNumFields> kFieldNames = {
    "ts", "id.orig_h", "id.resp_h", "query", "qtype", "rcode", "answers", "TTLs"};

struct Header {
  char sep = '\t';
  std::string set_sep = ",";
  std::string empty = "(empty)";
  std::string unset = "-";
  bool have_fields = false;
  size_t num_fields = 0;
  std::array<int, kNumFields> index{};  // column of each field, -1 when absent
};

// Splits on one separator character into at most `max` pieces; returns the number of pieces
// (more than max means too many).
size_t Split(std::string_view line, char sep, std::vector<std::string_view>& out, size_t max) {
  out.clear();
  size_t start = 0;
  for (;;) {
    const size_t p = line.find(sep, start);
    if (out.size() == max) return max + 1;
    if (p == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out.size();
    }
    out.push_back(line.substr(start, p - start));
    start = p + 1;
  }
}

Status HeaderLine(std::string_view line, Header& h, SourcePos pos, IngestStats& stats) {
  // "#separator \x09" uses a space; the other header lines use the separator.
  if (line.substr(0, 11) == "#separator ") {
    std::string buf;
    std::string_view v = Unescape(line.substr(11), buf);
    if (v.size() != 1) return Status::DataError(fmt::format("{}:{}: unsupported #separator", pos.file, pos.line));
    h = Header();
    h.sep = v[0];
    return Status::Ok();
  }
  const size_t p = line.find(h.sep);
  const std::string_view key = line.substr(0, p);
  const std::string_view value = p == std::string_view::npos ? std::string_view() : line.substr(p + 1);
  std::string buf;
  if (key == "#set_separator") {
    h.set_sep = std::string(Unescape(value, buf));
  } else if (key == "#empty_field") {
    h.empty = std::string(Unescape(value, buf));
  } else if (key == "#unset_field") {
    h.unset = std::string(Unescape(value, buf));
  } else if (key == "#fields") {
    std::vector<std::string_view> names;
    Split(value, h.sep, names, 4096);
    h.index.fill(-1);
    for (size_t i = 0; i < names.size(); ++i)
      for (size_t f = 0; f < kNumFields; ++f)
        if (names[i] == kFieldNames[f]) h.index[f] = static_cast<int>(i);
    h.num_fields = names.size();
    if (h.index[kTs] < 0 || h.index[kQuery] < 0)
      return Status::DataError(fmt::format("{}:{}: #fields has no `ts` or no `query`: not a dns.log",
                                           pos.file, pos.line));
    h.have_fields = true;
  } else {
    stats.Skip("header lines");
  }
  return Status::Ok();
}

}  // namespace

Status ReadZeekTsv(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  Header h;
  h.index.fill(-1);
  std::vector<std::string_view> cols, answers, ttls;
  std::string ubuf, abuf;
  DnsRecord rec;
  std::string_view line;
  for (;;) {
    FLUXSCORE_ASSIGN_OR_RETURN(LineReader::Got got, NextLogLine(lines, in, stats, progress, &line));
    if (got == LineReader::Got::kEnd) break;
    if (got == LineReader::Got::kTooLong) continue;
    const SourcePos pos{in.name(), lines.line_no()};
    if (line.empty()) continue;
    if (line[0] == '#') {
      FLUXSCORE_RETURN_IF_ERROR(HeaderLine(line, h, pos, stats));
      continue;
    }
    ++stats.read;
    if (!h.have_fields) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "record before a #fields header"));
      continue;
    }
    if (lines.last_unterminated()) {
      // The last line of a file cut off mid-write: it may be incomplete.
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "truncated last line", line));
      continue;
    }
    const size_t n = Split(line, h.sep, cols, h.num_fields);
    if (n != h.num_fields) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "wrong field count",
          n > h.num_fields ? fmt::format("more than {} fields", h.num_fields)
                           : fmt::format("{} fields, #fields names {}", n, h.num_fields)));
      continue;
    }
    auto get = [&](Field f) -> std::string_view {
      const int i = h.index[f];
      if (i < 0) return {};
      std::string_view v = cols[static_cast<size_t>(i)];
      return v == h.unset ? std::string_view() : v;
    };
    if (!ParseDouble(get(kTs), rec.ts)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad ts", get(kTs)));
      continue;
    }
    const std::string_view q = get(kQuery);
    if (q.empty() || q == h.empty) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "no query name"));
      continue;
    }
    if (!NormalizeName(Unescape(q, ubuf), rec.qname)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad query name", q));
      continue;
    }
    rec.has_client = false;
    if (std::string_view c = get(kOrigH); !c.empty()) {
      auto ip = IpAddr::Parse(c);
      if (!ip) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad client address", c));
        continue;
      }
      rec.client = *ip;
      rec.has_client = true;
    }
    rec.has_resolver = false;
    if (std::string_view r = get(kRespH); !r.empty()) {
      if (auto ip = IpAddr::Parse(r)) {
        rec.resolver = *ip;
        rec.has_resolver = true;
      }
    }
    uint32_t v = 0;
    rec.qtype = 0;
    if (std::string_view t = get(kQtype); !t.empty()) {
      if (!ParseU32(t, v) || v > 65535) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad qtype", t));
        continue;
      }
      rec.qtype = static_cast<uint16_t>(v);
    }
    rec.rcode = -1;
    if (std::string_view t = get(kRcode); !t.empty()) {
      if (!ParseU32(t, v) || v > 65535) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad rcode", t));
        continue;
      }
      rec.rcode = static_cast<int32_t>(v);
    }
    std::string_view a = get(kAnswers), t = get(kTtls);
    if (a == h.empty) a = {};
    if (t == h.empty) t = {};
    answers.clear();
    ttls.clear();
    const char ss = h.set_sep.size() == 1 ? h.set_sep[0] : ',';
    if (!a.empty()) Split(a, ss, answers, 1 << 20);
    if (!t.empty()) Split(t, ss, ttls, 1 << 20);
    if (answers.size() != ttls.size()) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "answers and TTLs differ in length",
          fmt::format("{} answers, {} TTLs", answers.size(), ttls.size())));
      continue;
    }
    rec.answers.resize(answers.size());
    bool bad = false;
    for (size_t i = 0; i < answers.size(); ++i) {
      uint32_t ttl;
      if (!ParseTtl(ttls[i], ttl)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", ttls[i]));
        bad = true;
        break;
      }
      if (!InferAnswer(Unescape(answers[i], abuf), rec.qtype, ttl, rec.answers[i])) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad address answer", answers[i]));
        bad = true;
        break;
      }
    }
    if (bad) continue;
    ++stats.used;
    sink.Add(rec);
  }
  return Status::Ok();
}

}  // namespace fluxscore::dns
