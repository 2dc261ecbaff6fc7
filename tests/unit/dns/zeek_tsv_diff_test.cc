// The Zeek TSV reader against the reader it replaced, kept here as it was (with the helpers it
// used whose code has changed since: ParseTtl, InferAnswer): the same records, field for field
// (answer data too when the sink wants it, empty when it does not), the same counts, rejection
// reasons and texts, and the same errors, on generated logs of good, odd and damaged lines under
// varied headers. FLUXSCORE_TSV_DIFF_ROUNDS=<n> runs more rounds (the default is quick).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"
#include "reader_diff.h"

namespace fluxscore::dns {
namespace {

// ---- The former reader (src/dns/ingest/zeek_tsv.cc before it scanned each line once). ----

// A TTL as logged: whole seconds, possibly written with a fraction of zeros ("60.000000"), at
// most 2^31 - 1 (RFC 2181 section 8).
bool RefParseTtl(std::string_view s, uint32_t& out) {
  // Fast path, the usual shapes "60" and "60.000000": the integer digits, no division.
  const size_t n = s.size();
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

bool RefInferAnswer(std::string_view data, uint16_t qtype, uint32_t ttl, Answer& a) {
  a.ttl = ttl;
  a.data.assign(data);
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
    static constexpr uint8_t kV4Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    a.type = std::memcmp(ip->bytes.data(), kV4Prefix, 12) == 0 ? kTypeA : kTypeAAAA;  // is_v4()
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

Status RefReadZeekTsv(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
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
      if (!RefParseTtl(ttl_text, ttl)) {
        FLUXSCORE_RETURN_IF_ERROR(stats.Reject(pos, "bad TTL", ttl_text));
        bad = true;
        break;
      }
      if (!RefInferAnswer(unescape(ans, abuf), rec.qtype, ttl, rec.answers[i])) {
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


// ---- END_OF_REFERENCE ----

using reader_diff::Collect;
using reader_diff::TempPath;

struct Gen : reader_diff::Rng {
  using Rng::Rng;

  std::string Bytes(size_t max) {
    static const std::string alphabet =
        std::string("\t\\x,|:.-0123456789abcdefABCDEFghz ()#<>=TX") + '\0' + "\x7f\x80\xc3\xa9\xff\r";
    std::string s;
    const size_t n = Below(max + 1);
    for (size_t i = 0; i < n; ++i) s += alphabet[Below(alphabet.size())];
    return s;
  }
  std::string V4() {
    // Often the one before it with another last part (the reader remembers the first three
    // parts of the last dotted quad it accepted), good or bad.
    if (!last_v4_.empty() && Chance(30)) {
      const size_t dot = last_v4_.rfind('.');
      if (dot != std::string::npos) {
        const std::string last = Chance(70) ? std::to_string(Below(256))
                                            : Pick(std::array{"0", "00", "01", "256", "999", "1234", "", "x",
                                                              "1.", "25 ", "255", "9", "10", "2550"});
        return last_v4_.substr(0, dot + 1) + last;
      }
    }
    last_v4_ = NewV4();
    return last_v4_;
  }
  std::string last_v4_;
  std::string NewV4() {
    std::string s;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) s += '.';
      switch (Chance(85) ? 7 : Below(8)) {
        case 0: s += std::to_string(Below(10)); break;
        case 1: s += std::to_string(250 + Below(10)); break;  // around 255
        case 2: s += "0" + std::to_string(Below(10)); break;  // leading zero
        case 3: if (Chance(20)) s += std::to_string(Below(1000)); else s += std::to_string(Below(256)); break;
        default: s += std::to_string(Below(256)); break;
      }
    }
    if (Chance(3)) s.insert(Below(s.size() + 1), Pick(std::array{".", "x", " ", "\\x41", "", "1"}));
    return s;
  }
  std::string V6() {
    static const std::array<const char*, 12> forms = {
        "2001:db8::1", "fd00:5ee::54", "::", "::1", "::ffff:1.2.3.4", "2606:4700:3036::6815:e323",
        "2001:db8::1::2", "2001:DB8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "::1.2.3.4",
        "fe80::1%eth0"};
    std::string s = forms[Below(forms.size())];
    if (Chance(5)) s[Below(s.size())] = "0g:.\0"[Below(5)];
    return s;
  }
  std::string Name() {
    static const std::array<const char*, 10> words = {"www", "Example", "COM", "cdn", "a6895", "b",
                                                      "akamai", "net", "x--y", "1password"};
    std::string s;
    const size_t labels = 1 + Below(5);
    for (size_t i = 0; i < labels; ++i) {
      if (i > 0) s += '.';
      s += words[Below(words.size())];
    }
    if (Chance(10)) s += '.';
    if (Chance(3)) s.insert(Below(s.size() + 1), Pick(std::array{"\\x41", "\\x2c", "\\x09", "\\xZZ", "\\", "\xc3\xa9", "\xff", " ", "..", "\\x00"}));
    if (Chance(5)) {
      // Around 32 bytes (the reader's in-place path takes names of 1 to 32 bytes, after one
      // trailing dot): letters of both cases, digits, dots (empty labels among them), and now
      // and then a byte no name may hold.
      static const std::string chars = "abcxyzABCXYZ019-_.";
      s.clear();
      const size_t len = 1 + Below(40);
      for (size_t i = 0; i < len; ++i) s += chars[Below(chars.size())];
      if (Chance(20)) s[Below(s.size())] = "\x7f\x80 \x21\x7e\xc3"[Below(6)];
      if (Chance(20)) s += '.';
    }
    if (Chance(1)) s = std::string(64 + Below(3), 'a') + ".com";
    if (Chance(1)) s = std::string(250 + Below(8), 'a');
    return s;
  }
  std::string Answer() {
    switch (Below(16)) {
      case 0: case 1: case 2: case 3: case 12: case 13: case 14: case 15: return V4();
      case 4: return V6();
      case 5: case 6: return Name();
      case 7: return Pick(std::array{"TXT hello", "TXT 11 hello\\x2cworld", "<unknown type=99>",
                                     "<unknown type=x>", "<unknown type=99999>", "<unknown type=", "TXT"});
      case 8: return Pick(std::array{"999.1.1.1", "1.2.3", "abc", "dead:beef", "12", "", "-", "(empty)",
                                     "1.2.3.4\\x00", "1.2.3.4.5", "ff", ":"});
      case 9: return std::string("1.2.3.4") + '\0' + "x";
      case 10: return std::string("2001:db8::1") + '\0' + (Chance(50) ? "zz" : "");
      default: return Bytes(12);
    }
  }
  std::string Ttl() {
    // Often the TTL before it again (the reader remembers the last TTL text it accepted), good
    // or bad.
    if (!last_ttl_.empty() && Chance(30)) return last_ttl_;
    last_ttl_ = NewTtl();
    return last_ttl_;
  }
  std::string last_ttl_;
  std::string NewTtl() {
    switch (Chance(90) ? 0 : Below(10)) {
      case 0: case 1: case 2: return std::to_string(Below(100000)) + ".000000";
      case 3: return std::to_string(Below(100000));
      case 4: return Pick(std::array{"2147483647", "2147483648", "2147483647.000000", "2147483648.000000",
                                     "0", "0.000000", "00000000300.000000", "99999999999.000000", "4294967296"});
      case 5: return Pick(std::array{"1.5", "-5", "6e1", "60.0", "60.", ".5", "+60", "60.000001", "",
                                     "-", "1e10", "inf", "nan", "0x10", " 60", "60.0000000"});
      case 6: return std::to_string(Below(100)) + "." + std::to_string(Below(1000000));
      default: return std::to_string(Below(1000)) + ".000000";
    }
  }
  // Two lists, usually of the same length.
  std::pair<std::string, std::string> AnswersAndTtls(const std::string& sep) {
    size_t n = Chance(10) ? 0 : 1 + Below(5);
    if (Chance(1)) n = 100 + Below(300);  // a long list
    if (Chance(5)) n = 8 + Below(30);     // a list over several 64-byte windows
    size_t nt = n;
    if (Chance(5)) nt = Below(6);
    std::string a, t;
    for (size_t i = 0; i < n; ++i) a += (i ? sep : "") + Answer();
    for (size_t i = 0; i < nt; ++i) t += (i ? sep : "") + Ttl();
    if (n == 0 && Chance(60)) a = Pick(std::array{"(empty)", "-", "", "(EMPTY)"});
    if (nt == 0 && Chance(60)) t = Pick(std::array{"(empty)", "-", "", "(EMPTY)"});
    return {a, t};
  }
  std::string Code() {
    switch (Chance(90) ? 0 : Below(6)) {
      case 0: return Pick(std::array{"1", "28", "5", "16", "255", "0", "3", "2"});
      case 1: return Pick(std::array{"65535", "65536", "00001", "000001", "99999", "4294967295",
                                     "4294967296", "-1", "+1", "", "-", " 1", "1a", "x", "(empty)"});
      default: return std::to_string(Below(40));
    }
  }
  std::string Ts() {
    switch (Chance(90) ? 9 : Below(10)) {
      case 0: return Pick(std::array{"1e50", "-", "", "(empty)", "abc", "+5", " 1", "1700000000.",
                                     ".5", "nan", "inf", "1099511627776", "-1099511627775.5",
                                     "1700000000.1234567", "17000000000000000000000.000000", "0x10"});
      case 1: return std::to_string(1700000000 + Below(1000));
      case 2: return std::to_string(Below(100000)) + "." + std::to_string(Below(1000));
      default: return std::to_string(1700000000 + Below(100000)) + "." + fmt::format("{:06}", Below(1000000));
    }
  }
};

// One generated header block: the fields, their order, the separators and marks.
struct Layout {
  char sep = '\t';
  std::string set_sep = ",";
  std::string empty = "(empty)";
  std::string unset = "-";
  std::vector<std::string> fields;
};

const std::vector<std::string> kStdFields = {
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query",
    "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z",
    "answers", "TTLs", "rejected"};

std::string Escape(char c) { return fmt::format("\\x{:02x}", static_cast<unsigned char>(c)); }

std::string HeaderText(Gen& g, Layout& l) {
  l = Layout();
  l.fields = kStdFields;
  if (g.Chance(30)) {
    switch (g.Below(6)) {
      case 0: std::shuffle(l.fields.begin(), l.fields.end(), g.rng); break;
      case 1: l.fields.erase(l.fields.begin() + static_cast<long>(1 + g.Below(l.fields.size() - 1))); break;
      case 2: l.fields.insert(l.fields.begin() + static_cast<long>(g.Below(l.fields.size() + 1)), "extra"); break;
      case 3: l.fields = {"ts", "query", "answers", "TTLs"}; break;
      case 4: l.fields = {"query", "ts"}; break;
      default: l.fields.push_back("query"); break;  // a repeated name: the last one counts
    }
  }
  std::string h;
  if (g.Chance(80)) {
    if (g.Chance(15)) l.sep = "|,; "[g.Below(4)];
    h += "#separator " + Escape(l.sep) + "\n";
  }
  const std::string s(1, l.sep);
  if (g.Chance(90)) {
    if (g.Chance(15)) l.set_sep = g.Pick(std::array{"|", ";", ",,", "", "\\x2c", "\\x09", ":"});
    h += "#set_separator" + s + l.set_sep + "\n";
    if (l.set_sep == "\\x2c") l.set_sep = ",";
    if (l.set_sep == "\\x09") l.set_sep = "\t";
  }
  if (g.Chance(90)) {
    if (g.Chance(10)) l.empty = g.Pick(std::array{"", "-", "EMPTY", "(empty)x"});
    h += "#empty_field" + s + l.empty + "\n";
  }
  if (g.Chance(90)) {
    if (g.Chance(10)) l.unset = g.Pick(std::array{"", "(empty)", "NA", "--"});
    h += "#unset_field" + s + l.unset + "\n";
  }
  h += "#path" + s + "dns\n";
  if (g.Chance(2)) h += "#fields" + s + "uid" + s + "query\n";  // not a dns.log: an error
  h += "#fields";
  for (const std::string& f : l.fields) h += s + f;
  h += "\n#types" + s + "time\n";
  return h;
}

std::string LineText(Gen& g, const Layout& l) {
  // The list separator used in the answers and TTLs: the header's when it is one byte.
  const std::string ls = l.set_sep.size() == 1 ? l.set_sep : ",";
  auto [answers, ttls] = g.AnswersAndTtls(g.Chance(3) ? std::string(",") : ls);
  std::vector<std::string> cols;
  for (const std::string& f : l.fields) {
    std::string v;
    if (f == "ts") v = g.Ts();
    else if (f == "id.orig_h") v = g.Chance(80) ? g.V4() : g.Chance(70) ? g.V6() : g.Answer();
    else if (f == "id.resp_h") v = g.Chance(80) ? g.Pick(std::array{"10.0.0.54", "fd00:5ee::54", "8.8.8.8", "1.1.1.1", "10.0.0.1"}) : g.Answer();
    else if (f == "query") v = g.Chance(97) ? g.Name() : g.Pick(std::array{"", "-", "(empty)", "."});
    else if (f == "qtype" || f == "rcode") v = g.Code();
    else if (f == "answers") v = answers;
    else if (f == "TTLs") v = ttls;
    else v = g.Chance(90) ? g.Pick(std::array{"CZVEBR4wEfaPEYZ8tM", "53", "udp", "F", "T", "0.043184", "C_INTERNET"}) : g.Bytes(6);
    if (g.Chance(2)) v = g.Chance(50) ? l.unset : l.empty;
    cols.push_back(v);
  }
  std::string line;
  for (size_t i = 0; i < cols.size(); ++i) line += (i ? std::string(1, l.sep) : "") + cols[i];
  // Damage: bytes changed, inserted or removed (separators and backslashes among them).
  if (g.Chance(8)) {
    const size_t edits = 1 + g.Below(4);
    for (size_t e = 0; e < edits && !line.empty(); ++e) {
      const size_t at = g.Below(line.size());
      switch (g.Below(5)) {
        case 0: line[at] = g.Bytes(1).empty() ? l.sep : g.Bytes(1)[0]; break;
        case 1: line.erase(at, 1 + g.Below(10)); break;
        case 2: line.insert(at, g.Bytes(4)); break;
        case 3: line.insert(at, std::string(1, l.sep)); break;
        default: line.insert(at, Escape(static_cast<char>(g.Below(256)))); break;
      }
    }
  }
  if (g.Chance(1)) line += '\r';
  if (g.Chance(1)) line = g.Chance(50) ? "" : "#" + g.Bytes(10);
  return line;
}

// Whether the two runs gave the same records, counts, messages and status.
void ExpectSame(const std::string& path, bool strict, bool want_data) {
  reader_diff::ExpectSameRun(
      [](ByteStream& in, RecordSink& sink, IngestStats& stats) { return RefReadZeekTsv(in, sink, stats, nullptr); },
      [](ByteStream& in, RecordSink& sink, IngestStats& stats) { return ReadZeekTsv(in, sink, stats, nullptr); },
      path, strict, want_data, 1000, "FLUXSCORE_TSV_DIFF_VERBOSE");
}

int Rounds(int quick) { return reader_diff::Rounds("FLUXSCORE_TSV_DIFF_ROUNDS", quick); }

TEST(ZeekTsvDiffTest, GeneratedLogsMatchTheFormerReader) {
  const int rounds = Rounds(24);
  for (int round = 0; round < rounds; ++round) {
    Gen g(0x75e7 + static_cast<uint64_t>(round));
    Layout l;
    std::string log;
    const size_t blocks = 1 + g.Below(3);
    for (size_t b = 0; b < blocks; ++b) {
      if (b > 0 || g.Chance(97)) log += HeaderText(g, l);
      const size_t lines = 1000 + g.Below(5000);
      for (size_t i = 0; i < lines; ++i) log += LineText(g, l) + "\n";
    }
    if (g.Chance(50)) log += LineText(g, l);  // unterminated
    const std::string path = TempPath("tsvdiff.log");
    std::ofstream(path, std::ios::binary) << log;
    for (const bool want : {true, false}) ExpectSame(path, false, want);
    if (round % 4 == 0) ExpectSame(path, true, true);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round << ": log kept in " << path;
      return;
    }
  }
}

// Lines around the scan's block edges: every length from 1 to 200 bytes, separators and list
// separators at every position, against the former reader.
TEST(ZeekTsvDiffTest, EveryLineLengthAndSeparatorPosition) {
  std::string log =
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
      "#fields\tts\tquery\tanswers\tTTLs\n";
  Gen g(7);
  for (size_t len = 1; len <= 200; ++len) {
    for (int v = 0; v < 12; ++v) {
      std::string ans, ttl;
      while (ans.size() + 30 < len) {
        if (!ans.empty()) ans += ',';
        ans += g.V4();
        if (!ttl.empty()) ttl += ',';
        ttl += g.Ttl();
      }
      std::string line = "1.5\tq.example\t" + ans + "\t" + ttl;
      while (line.size() < len) line += g.Chance(20) ? "," : "0";
      line.resize(len);
      if (v % 3 == 1) line[g.Below(len)] = '\t';
      if (v % 3 == 2) line[g.Below(len)] = ',';
      log += line + "\n";
    }
  }
  const std::string path = TempPath("tsvedges.log");
  std::ofstream(path, std::ios::binary) << log;
  for (const bool want : {true, false}) ExpectSame(path, false, want);
}

// The lists' pieces end at the set separators the scan found inside their fields: lines with set
// separators in the other fields too (before, between and after the lists, at a field's first
// and last byte), the lists in either order, empty pieces, long lists, and a set separator that
// is the field separator itself, against the former reader.
TEST(ZeekTsvDiffTest, SetSeparatorsInsideAndOutsideTheLists) {
  Gen g(11);
  std::string log;
  for (const char* ss : {",", "|", "\\x09"}) {
    for (const bool ttls_first : {false, true}) {
      // (A tab: the lists of a line with the right field count hold one piece each, and the
      // scan's set separators are the field ends.)
      const bool tab = std::string(ss) == "\\x09";
      const std::string set_sep = tab ? "\t" : ss;
      const int odd = tab ? 0 : 10;  // percent of lines with separators in odd places
      log += "#separator \\x09\n#set_separator\t" + std::string(ss) + "\n#empty_field\t(empty)\n#unset_field\t-\n";
      log += ttls_first ? "#fields\tuid\tts\tTTLs\tquery\tanswers\trejected\n"
                        : "#fields\tuid\tts\tanswers\tquery\tTTLs\trejected\n";
      for (int i = 0; i < 400; ++i) {
        size_t n = g.Below(tab ? 2 : 6);
        if (!tab && g.Chance(10)) n = 8 + g.Below(40);
        std::string a, t;
        for (size_t k = 0; k < n; ++k) {
          a += (k ? set_sep : "") + (g.Chance(90) ? g.V4() : g.Answer());
          t += (k ? set_sep : "") + g.Ttl();
        }
        if (g.Chance(odd)) a = set_sep + a;  // a separator first: an empty first piece
        if (g.Chance(odd)) t += set_sep;     // one last: an empty last piece
        if (g.Chance(odd / 2)) a = set_sep;
        auto other = [&] {
          std::string o = g.Chance(50) ? "C1x" : g.Bytes(5);
          if (g.Chance(3 * odd)) o = set_sep + o;
          if (g.Chance(3 * odd)) o += set_sep;
          if (g.Chance(2 * odd)) o.insert(g.Below(o.size() + 1), set_sep + set_sep);
          return o;
        };
        const std::string ts = g.Ts(), q = g.Name();
        std::vector<std::string> cols =
            ttls_first ? std::vector<std::string>{other(), ts, t, q + (g.Chance(2 * odd) ? set_sep : ""), a, other()}
                       : std::vector<std::string>{other(), ts, a, q + (g.Chance(2 * odd) ? set_sep : ""), t, other()};
        std::string line;
        for (size_t c = 0; c < cols.size(); ++c) line += (c ? "\t" : "") + cols[c];
        log += line + "\n";
      }
    }
  }
  const std::string path = TempPath("tsvsets.log");
  std::ofstream(path, std::ios::binary) << log;
  for (const bool want : {true, false}) ExpectSame(path, false, want);
  ExpectSame(path, true, true);
}

}  // namespace
}  // namespace fluxscore::dns
