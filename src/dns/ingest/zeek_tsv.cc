// Zeek dns.log in its TSV form: `#`-header lines (`#separator`, `#set_separator`,
// `#empty_field`, `#unset_field`, `#fields`, ...) then tab-separated records. Fields are found
// by name from `#fields`, so extra or reordered columns are fine; a new header block (files
// concatenated with cat) starts over.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
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

size_t SplitAllGrowing(std::string_view s, char sep, std::vector<size_t>& ends) {
  if (ends.size() < 128) ends.resize(128);
  for (;;) {
    bool backslash;
    const size_t max = ends.size() - 64;
    const size_t n = SplitPositions(s, sep, ends.data(), max, &backslash);
    if (n <= max) return n;
    ends.resize(2 * ends.size());
  }
}

// The pieces of `s` split on `sep` (any number): boundaries as SplitPositions; `ends` grows as
// needed. Returns the number of pieces.
inline size_t SplitAll(std::string_view s, char sep, std::vector<size_t>& ends) {
  bool backslash;
  if (ends.size() >= 128) {  // the common case, inline
    const size_t max = ends.size() - 64;
    const size_t n = SplitPositions(s, sep, ends.data(), max, &backslash);
    if (n <= max) return n;
  }
  return SplitAllGrowing(s, sep, ends);
}

// Piece i of s split at `ends` (as SplitPositions leaves them).
std::string_view Piece(std::string_view s, const std::vector<size_t>& ends, size_t i) {
  const size_t begin = i == 0 ? 0 : ends[i - 1] + 1;
  return std::string_view(s.data() + begin, ends[i] - begin);
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
    SplitFast(value, h.sep, names, 4096);
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
  std::vector<size_t> ends;  // field boundaries of the current line
  std::vector<size_t> a_ends, t_ends;  // piece boundaries of the answers and TTLs
  AddrCache resolvers;
  std::vector<std::string> spare;  // buffers of answers dropped from rec.answers, for reuse
  std::string ubuf, abuf;
  DnsRecord rec;
  std::string_view line;
  for (;;) {
    LineReader::Got got = LineReader::Got::kLine;
    if (!NextLogLineBuffered(lines, in, progress, &line)) {
      FLUXSCORE_ASSIGN_OR_RETURN(got, NextLogLine(lines, in, stats, progress, &line));
    }
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
    if (ends.size() < h.num_fields + 64) ends.resize(h.num_fields + 64);
    bool backslash = true;
    const size_t n = SplitPositions(line, h.sep, ends.data(), h.num_fields, &backslash);
    if (n != h.num_fields) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "wrong field count",
          n > h.num_fields ? fmt::format("more than {} fields", h.num_fields)
                           : fmt::format("{} fields, #fields names {}", n, h.num_fields)));
      continue;
    }
    // A line without a backslash has no \xNN escapes: its fields are used as they are.
    auto unescape = [backslash](std::string_view v, std::string& buf) {
      return backslash ? Unescape(v, buf) : v;
    };
    const std::string_view unset = h.unset;
    auto get = [&](Field f) -> std::string_view {
      const int i = h.index[f];
      if (i < 0) return {};
      const size_t begin = i == 0 ? 0 : ends[static_cast<size_t>(i) - 1] + 1;
      std::string_view v(line.data() + begin, ends[static_cast<size_t>(i)] - begin);
      // (The first byte first: most fields differ from the unset mark there, without a memcmp.)
      const bool is_unset = v.size() == unset.size() && (v.empty() || v[0] == unset[0]) && v == unset;
      return is_unset ? std::string_view() : v;
    };
    if (!ParseTs(get(kTs), rec.ts)) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad ts", get(kTs)));
      continue;
    }
    const std::string_view q = get(kQuery);
    if (q.empty() || q == h.empty) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "no query name"));
      continue;
    }
    if (!NormalizeName(unescape(q, ubuf), rec.qname)) {
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
      if (auto ip = resolvers.Parse(r)) {
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
    const char ss = h.set_sep.size() == 1 ? h.set_sep[0] : ',';
    // Pieces beyond 2^20 are dropped (a 1 MiB line cannot have that many).
    const size_t na = a.empty() ? 0 : std::min<size_t>(SplitAll(a, ss, a_ends), 1 << 20);
    const size_t nt = t.empty() ? 0 : std::min<size_t>(SplitAll(t, ss, t_ends), 1 << 20);
    if (na != nt) {
      FLUXSCORE_RETURN_IF_ERROR(stats.Reject(
          pos, "answers and TTLs differ in length",
          fmt::format("{} answers, {} TTLs", na, nt)));
      continue;
    }
    if (rec.answers.size() != na) ResizeKeepingBuffers(rec.answers, na, spare);
    bool bad = false;
    for (size_t i = 0; i < na; ++i) {
      const std::string_view ans = Piece(a, a_ends, i), ttl_text = Piece(t, t_ends, i);
      uint32_t ttl;
      if (!ParseTtl(ttl_text, ttl)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", ttl_text));
        bad = true;
        break;
      }
      if (!InferAnswer(unescape(ans, abuf), rec.qtype, ttl, rec.answers[i])) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad address answer", ans));
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
