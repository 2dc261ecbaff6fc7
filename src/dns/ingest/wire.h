// A safe DNS wire-format (RFC 1035) message parser: header, first question, answer section.
//
// Every read is bounds-checked; compressed names must point strictly backwards (before the start
// of the label run that holds the pointer) and may take at most kMaxNameJumps jumps, so no input
// can loop. Names come out as dotted text without the trailing dot (the root is ""), with bytes
// that are not printable ASCII, space, '.' and '\' inside a label written as \DDD (decimal, as
// dig and zone files do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fluxscore/dns/ip.h"

namespace fluxscore::dns {

inline constexpr int kMaxNameJumps = 128;

struct DnsMessage {
  uint16_t id = 0;
  bool qr = false;      // response
  uint8_t opcode = 0;
  uint8_t rcode = 0;    // header RCODE (4 bits; EDNS extended bits are not applied)
  bool tc = false;      // truncated (TC bit)
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;    // first question's name ("" when qdcount is 0)
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  struct RR {
    std::string name;
    uint16_t type = 0, cls = 0;
    uint32_t ttl = 0;
    // A: dotted quad; AAAA: inet_ntop text; CNAME/NS/PTR: the name; MX: the exchange name;
    // anything else: RFC 3597 "\# <len> <HEX>".
    std::string data;
    bool is_address = false;  // A with 4 bytes or AAAA with 16 bytes of rdata
    IpAddr addr;              // when is_address
  };
  std::vector<RR> answers;
  size_t answers_end = 0;  // offset just past the answer section
};

// Parses header, question section (the first question is kept, the others are stepped over)
// and answer section of the message p[0, n). Authority and additional sections are not read.
// Returns false on a malformed message, with a short reason in *error (when error is not null).
// `out` is reused: its strings keep their capacity between calls.
bool ParseDnsMessage(const uint8_t* p, size_t n, DnsMessage& out, std::string* error);

// Stricter test for payloads that are not on a DNS port: one question, and the authority and
// additional sections are well-formed and end exactly at n. `m` is the result of a successful
// ParseDnsMessage(p, n, m, ...).
bool PlausibleDnsMessage(const uint8_t* p, size_t n, const DnsMessage& m);

}  // namespace fluxscore::dns
