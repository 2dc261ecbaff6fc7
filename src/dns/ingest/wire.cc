#include "dns/ingest/wire.h"

#include <arpa/inet.h>

#include <cstring>

#include "fluxscore/dns/record.h"

namespace fluxscore::dns {
namespace {

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Longest text a name can become: at most 253 label bytes, each up to 4 characters (\DDD), plus
// the dots between at most 127 labels.
constexpr size_t kMaxNameText = 253 * 4 + 127;

// Reads the (possibly compressed) name at p[pos]. On success advances pos past the name's bytes
// in place (up to and including the first pointer or the root label), stores the text in *out
// when out is not null, and returns nullptr; otherwise returns the reason.
const char* ReadName(const uint8_t* p, size_t n, size_t& pos, std::string* out) {
  char buf[kMaxNameText + 8];
  size_t len = 0;
  size_t cur = pos;
  size_t seg_start = pos;  // start of the label run being read: pointers must go before it
  size_t wire = 1;         // uncompressed length, counting the root label
  int jumps = 0;
  bool jumped = false;
  for (;;) {
    if (cur >= n) return "name runs past the end of the message";
    const uint8_t c = p[cur];
    if (c == 0) {
      if (!jumped) pos = cur + 1;
      break;
    }
    const uint8_t kind = c & 0xC0;
    if (kind == 0xC0) {
      if (n - cur < 2) return "compression pointer runs past the end of the message";
      const size_t target = (static_cast<size_t>(c & 0x3F) << 8) | p[cur + 1];
      if (target >= seg_start) return "compression pointer does not point backwards";
      if (++jumps > kMaxNameJumps) return "too many compression pointers";
      if (!jumped) {
        pos = cur + 2;
        jumped = true;
      }
      cur = seg_start = target;
      continue;
    }
    if (kind != 0) return "unsupported label type";
    wire += size_t{c} + 1;
    if (wire > 255) return "name longer than 255 bytes";
    if (size_t{c} >= n - cur) return "label runs past the end of the message";
    if (out != nullptr) {
      if (len > 0) buf[len++] = '.';
      const uint8_t* l = p + cur + 1;
      for (size_t i = 0; i < c; ++i) {
        const uint8_t b = l[i];
        if (b > 0x20 && b < 0x7f && b != '.' && b != '\\') {
          buf[len++] = static_cast<char>(b);
        } else {
          buf[len++] = '\\';
          buf[len++] = static_cast<char>('0' + b / 100);
          buf[len++] = static_cast<char>('0' + (b / 10) % 10);
          buf[len++] = static_cast<char>('0' + b % 10);
        }
      }
    }
    cur += size_t{c} + 1;
  }
  if (out != nullptr) out->assign(buf, len);
  return nullptr;
}

void FormatV4(const uint8_t* a, std::string& out) {
  char buf[16];
  size_t len = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) buf[len++] = '.';
    const uint8_t b = a[i];
    if (b >= 100) buf[len++] = static_cast<char>('0' + b / 100);
    if (b >= 10) buf[len++] = static_cast<char>('0' + (b / 10) % 10);
    buf[len++] = static_cast<char>('0' + b % 10);
  }
  out.assign(buf, len);
}

void FormatUnknown(const uint8_t* d, size_t n, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.assign("\\# ");
  out += std::to_string(n);
  if (n == 0) return;
  out += ' ';
  const size_t at = out.size();
  out.resize(at + 2 * n);
  for (size_t i = 0; i < n; ++i) {
    out[at + 2 * i] = kHex[d[i] >> 4];
    out[at + 2 * i + 1] = kHex[d[i] & 15];
  }
}

bool Fail(std::string* error, const char* section, const char* why) {
  if (error != nullptr) {
    error->assign(section);
    error->append(why);
  }
  return false;
}

}  // namespace

bool ParseDnsMessage(const uint8_t* p, size_t n, DnsMessage& out, std::string* error) {
  if (n < 12) return Fail(error, "", "shorter than the 12-byte DNS header");
  out.id = Be16(p);
  const uint16_t flags = Be16(p + 2);
  out.qr = (flags & 0x8000) != 0;
  out.opcode = static_cast<uint8_t>((flags >> 11) & 0xF);
  out.tc = (flags & 0x0200) != 0;
  out.rcode = static_cast<uint8_t>(flags & 0xF);
  out.qdcount = Be16(p + 4);
  out.ancount = Be16(p + 6);
  out.nscount = Be16(p + 8);
  out.arcount = Be16(p + 10);
  out.qname.clear();
  out.qtype = out.qclass = 0;
  size_t pos = 12;
  for (unsigned i = 0; i < out.qdcount; ++i) {
    if (const char* why = ReadName(p, n, pos, i == 0 ? &out.qname : nullptr))
      return Fail(error, "question: ", why);
    if (n - pos < 4) return Fail(error, "question: ", "type/class run past the end of the message");
    if (i == 0) {
      out.qtype = Be16(p + pos);
      out.qclass = Be16(p + pos + 2);
    }
    pos += 4;
  }
  size_t count = 0;
  for (unsigned i = 0; i < out.ancount; ++i) {
    DnsMessage::RR& rr = count < out.answers.size() ? out.answers[count] : out.answers.emplace_back();
    ++count;
    if (const char* why = ReadName(p, n, pos, &rr.name)) return Fail(error, "answer: ", why);
    if (n - pos < 10) return Fail(error, "answer: ", "record header runs past the end of the message");
    rr.type = Be16(p + pos);
    rr.cls = Be16(p + pos + 2);
    rr.ttl = Be32(p + pos + 4);
    const size_t rdlen = Be16(p + pos + 8);
    pos += 10;
    if (rdlen > n - pos) return Fail(error, "answer: ", "record data runs past the end of the message");
    const uint8_t* rd = p + pos;
    const size_t rdend = pos + rdlen;
    rr.is_address = false;
    rr.addr = IpAddr{};
    switch (rr.type) {
      case kTypeA:
        if (rdlen != 4) return Fail(error, "answer: ", "A record data is not 4 bytes");
        FormatV4(rd, rr.data);
        rr.is_address = true;
        rr.addr = IpAddr::FromV4(Be32(rd));
        break;
      case kTypeAAAA: {
        if (rdlen != 16) return Fail(error, "answer: ", "AAAA record data is not 16 bytes");
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, rd, buf, sizeof buf);
        rr.data.assign(buf);
        rr.is_address = true;
        std::memcpy(rr.addr.bytes.data(), rd, 16);
        break;
      }
      case kTypeCNAME:
      case kTypeNS:
      case kTypePTR:
      case kTypeMX: {
        size_t q = pos;
        if (rr.type == kTypeMX) {
          if (rdlen < 3) return Fail(error, "answer: ", "MX record data too short");
          q += 2;
        }
        if (const char* why = ReadName(p, n, q, &rr.data)) return Fail(error, "answer data: ", why);
        if (q != rdend) return Fail(error, "answer: ", "name does not match the record data length");
        break;
      }
      default:
        FormatUnknown(rd, rdlen, rr.data);
        break;
    }
    pos = rdend;
  }
  out.answers.resize(count);
  out.answers_end = pos;
  return true;
}

bool PlausibleDnsMessage(const uint8_t* p, size_t n, const DnsMessage& m) {
  if (m.qdcount != 1 || m.answers_end > n) return false;
  size_t pos = m.answers_end;
  const unsigned rest = unsigned{m.nscount} + m.arcount;
  for (unsigned i = 0; i < rest; ++i) {
    if (ReadName(p, n, pos, nullptr) != nullptr) return false;
    if (n - pos < 10) return false;
    const size_t rdlen = Be16(p + pos + 8);
    pos += 10;
    if (rdlen > n - pos) return false;
    pos += rdlen;
  }
  return pos == n;
}

}  // namespace fluxscore::dns
