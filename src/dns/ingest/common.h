// Small parsing helpers shared by the text log readers.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "fluxscore/dns/record.h"

namespace fluxscore::dns {

inline int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool ParseDouble(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && std::isfinite(out);
}

inline bool ParseU32(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// A TTL as logged: whole seconds, possibly written with a fraction of zeros ("60.000000"), at
// most 2^31 - 1 (RFC 2181 section 8).
inline bool ParseTtl(std::string_view s, uint32_t& out) {
  double d;
  if (!ParseDouble(s, d)) return false;
  if (d < 0 || d > 2147483647.0 || d != std::floor(d)) return false;
  out = static_cast<uint32_t>(d);
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

inline bool InferAnswer(std::string_view data, uint16_t qtype, uint32_t ttl, Answer& a) {
  a.ttl = ttl;
  a.data.assign(data);
  if (auto ip = IpAddr::Parse(data)) {
    a.is_address = true;
    a.addr = *ip;
    a.type = ip->is_v4() ? kTypeA : kTypeAAAA;
    return true;
  }
  if (LooksLikeAddress(data)) return false;
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

}  // namespace fluxscore::dns
