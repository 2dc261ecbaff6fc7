// gamelinux/passivedns log lines: ts||client||server||class||query||type||answer||ttl||count,
// one line per resource record. Consecutive lines with the same timestamp, client and server
// are the records of one response and become one DnsRecord (its query name is the first line's
// owner name). A line whose answer is NXDOMAIN is a response with rcode 3 and no answers.
#include <fmt/format.h>

#include <array>
#include <string>

#include "dns/ingest/common.h"
#include "dns/ingest/readers.h"

namespace fluxscore::dns {
namespace {

uint16_t TypeNumber(std::string_view t) {
  static constexpr std::pair<std::string_view, uint16_t> kTypes[] = {
      {"A", 1},     {"NS", 2},    {"CNAME", 5}, {"SOA", 6},   {"PTR", 12},  {"MX", 15},
      {"TXT", 16},  {"AAAA", 28}, {"SRV", 33},  {"NAPTR", 35}, {"DNAME", 39}, {"DS", 43},
      {"RRSIG", 46}, {"DNSKEY", 48}, {"HTTPS", 65}, {"SVCB", 64}, {"CAA", 257}, {"ANY", 255}};
  for (const auto& [name, num] : kTypes)
    if (t == name) return num;
  if (t.substr(0, 4) == "TYPE") {
    uint32_t v;
    if (ParseU32(t.substr(4), v) && v <= 65535) return static_cast<uint16_t>(v);
  }
  return 0;
}

struct Pending {
  bool active = false;  // a response is being assembled
  bool dead = false;    // the response with this key was rejected: skip its other lines
  std::string ts, client, server;  // the grouping key, as text
  SourcePos pos;
  DnsRecord rec;
  bool type_from_cname = false;
};

}  // namespace

Status ReadPassiveDns(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress) {
  LineReader lines(in);
  std::string_view line;
  Pending cur;
  std::array<std::string_view, 9> f;
  auto flush = [&]() {
    if (!cur.active) return;
    cur.active = false;
    ++stats.used;
    sink.Add(cur.rec);
  };
  for (;;) {
    FLUXSCORE_ASSIGN_OR_RETURN(LineReader::Got got, NextLogLine(lines, in, stats, progress, &line));
    if (got == LineReader::Got::kEnd) break;
    if (got == LineReader::Got::kTooLong) {
      flush();
      continue;
    }
    const SourcePos pos{in.name(), lines.line_no()};
    if (line.empty()) continue;
    if (line[0] == '#') {
      stats.Skip("comment lines");
      continue;
    }
    size_t n = 0, start = 0;
    bool too_many = false;
    for (;;) {
      const size_t p = line.find("||", start);
      if (n == f.size()) {
        too_many = true;
        break;
      }
      if (p == std::string_view::npos) {
        f[n++] = line.substr(start);
        break;
      }
      f[n++] = line.substr(start, p - start);
      start = p + 2;
    }
    // A response is counted as read at its first line; its other lines join it.
    const bool same = (cur.active || cur.dead) && n >= 3 && f[0] == cur.ts && f[1] == cur.client &&
                      f[2] == cur.server;
    if (same && cur.dead) {
      stats.Skip("lines of rejected responses");
      continue;
    }
    if (!same) {
      flush();
      ++stats.read;
      cur.dead = false;
      if (n >= 3) {
        cur.ts.assign(f[0]);
        cur.client.assign(f[1]);
        cur.server.assign(f[2]);
      } else {
        cur.ts.clear();
      }
    }
    // One bad line rejects its whole response.
    auto reject = [&](std::string_view reason, std::string_view detail = {}) -> Status {
      cur.active = false;
      cur.dead = n >= 3;
      return stats.Reject(pos, reason, detail);
    };
    if (too_many || n != 9) {
      FLUXSCORE_RETURN_IF_ERROR(reject("wrong field count", too_many ? "more than 9 fields"
                                                                      : fmt::format("{} fields", n)));
      continue;
    }
    uint32_t ttl = 0;
    if (!ParseTtl(f[7], ttl)) {
      FLUXSCORE_RETURN_IF_ERROR(reject("bad TTL", f[7]));
      continue;
    }
    uint32_t count = 0;
    if (!ParseU32(f[8], count)) {
      FLUXSCORE_RETURN_IF_ERROR(reject("bad count", f[8]));
      continue;
    }
    const uint16_t type = TypeNumber(f[5]);
    if (!same) {
      DnsRecord& r = cur.rec;
      if (!ParseTs(f[0], r.ts)) {
        FLUXSCORE_RETURN_IF_ERROR(reject("bad ts", f[0]));
        continue;
      }
      auto c = IpAddr::Parse(f[1]);
      if (!c) {
        FLUXSCORE_RETURN_IF_ERROR(reject("bad client address", f[1]));
        continue;
      }
      r.client = *c;
      r.has_client = true;
      auto s = IpAddr::Parse(f[2]);
      r.has_resolver = s.has_value();
      if (s) r.resolver = *s;
      if (!NormalizeName(f[4], r.qname)) {
        FLUXSCORE_RETURN_IF_ERROR(reject("bad query name", f[4]));
        continue;
      }
      r.answers.clear();
      r.rcode = 0;
      r.qtype = type;
      cur.type_from_cname = type == kTypeCNAME;
      cur.active = true;
    } else if (cur.type_from_cname && type != kTypeCNAME) {
      cur.rec.qtype = type;  // the query asked for what the CNAME chain ends in
      cur.type_from_cname = false;
    }
    if (f[6] == "NXDOMAIN") {
      cur.rec.rcode = 3;
      continue;
    }
    Answer a;
    a.type = type;
    a.ttl = ttl;
    a.data.assign(f[6]);
    if (type == kTypeA || type == kTypeAAAA) {
      auto ip = IpAddr::Parse(f[6]);
      if (!ip || ip->is_v4() != (type == kTypeA)) {
        FLUXSCORE_RETURN_IF_ERROR(reject("bad address answer", f[6]));
        continue;
      }
      a.is_address = true;
      a.addr = *ip;
      a.data = ip->ToString();
    } else if (!a.data.empty() && a.data.back() == '.') {
      a.data.pop_back();
    }
    cur.rec.answers.push_back(std::move(a));
  }
  flush();
  return Status::Ok();
}

}  // namespace fluxscore::dns
