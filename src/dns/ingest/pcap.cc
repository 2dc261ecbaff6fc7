#include "fluxscore/dns/pcap.h"

#include <pcap/pcap.h>
#include <stdio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "dns/ingest/stream.h"
#include "dns/ingest/wire.h"

namespace fluxscore::dns {
namespace {

constexpr size_t kMaxFlows = 65536;  // TCP flows tracked at once (oldest evicted)
constexpr int kMaxVlanTags = 8;
constexpr int kMaxIp6Headers = 16;

// Kinds of skipped input (IngestStats::Skip).
constexpr std::string_view kNonDns = "non-DNS packets";
constexpr std::string_view kQueries = "DNS queries";
constexpr std::string_view kOtherOpcode = "DNS messages with an opcode other than QUERY";
constexpr std::string_view kTruncated = "truncated packet";
constexpr std::string_view kBadHeader = "malformed IP/UDP/TCP header";
constexpr std::string_view kFragments = "IP fragments (not reassembled)";
constexpr std::string_view kTcpControl = "TCP segments without data";
constexpr std::string_view kTcpPartial = "TCP segments without a complete DNS message";
constexpr std::string_view kTcpOutOfOrder = "TCP data out of order";
constexpr std::string_view kTcpRetransmit = "TCP retransmitted or late data";
constexpr std::string_view kTcpEvicted = "TCP flows evicted (flow table full)";
constexpr std::string_view kTcpUnfinished = "TCP streams ended inside a DNS message";

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint32_t Le32(const uint8_t* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}
// Appends n bytes (resize + memcpy: vector::insert of a byte range draws a false
// -Wstringop-overflow from GCC 12 at -O2).
void Append(std::vector<uint8_t>& v, const uint8_t* p, size_t n) {
  if (n == 0) return;
  const size_t at = v.size();
  v.resize(at + n);
  std::memcpy(v.data() + at, p, n);
}

inline bool IsDnsUdpPort(uint16_t p) { return p == 53 || p == 5353 || p == 5355; }

// The FILE* libpcap reads: a glibc cookie stream over the ByteStream.
struct Cookie {
  ByteStream* in;
  size_t chunk;  // largest read asked of the stream at once
  Status error;
};

// ByteStream::Read returns the bytes decoded before a damaged gzip stream's error, then the error.
constexpr size_t kGzipReadChunk = 1 << 16;

ssize_t CookieRead(void* c, char* buf, size_t size) {
  auto* cookie = static_cast<Cookie*>(c);
  Result<size_t> got = cookie->in->Read(buf, std::min(size, cookie->chunk));
  if (!got.ok()) {
    if (cookie->error.ok()) cookie->error = got.status();
    errno = EIO;
    return -1;
  }
  return static_cast<ssize_t>(*got);
}

int CookieClose(void*) { return 0; }  // the ByteStream belongs to the caller

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

// One direction of a TCP connection.
struct FlowKey {
  std::array<uint8_t, 16> src, dst;
  uint16_t sport, dport;
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const noexcept {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t{k.sport} << 16 | k.dport);
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t a, b;
      std::memcpy(&a, k.src.data() + i, 8);
      std::memcpy(&b, k.dst.data() + i, 8);
      h = (h ^ a) * 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 29;
      h = (h ^ b) * 0x94D049BB133111EBULL;
      h ^= h >> 32;
    }
    return static_cast<size_t>(h);
  }
};

enum class FlowKind : uint8_t { kUnknown, kDns, kNotDns };

struct Flow {
  uint32_t next_seq = 0;
  // Whether next_seq is at a message boundary or inside the buffered message. A flow first seen
  // mid-stream, or after a gap, waits for a segment that starts with a DNS message.
  bool synced = false;
  FlowKind kind = FlowKind::kUnknown;
  std::vector<uint8_t> buf;  // an incomplete length-prefixed message (< 65,537 bytes)
  std::list<FlowKey>::iterator lru;
};

enum class StartCheck { kNo, kMaybe, kYes };

class Reader {
 public:
  Reader(ByteStream& in, RecordSink& sink, IngestStats& stats)
      : in_(in), sink_(sink), stats_(stats) {}
  Status Run();

 private:
  Status OnPacket(const pcap_pkthdr& h, const uint8_t* p);
  Status OnEtherType(uint16_t type, const uint8_t* p, size_t n);
  Status OnIp(const uint8_t* p, size_t n);
  Status OnIp4(const uint8_t* p, size_t n);
  Status OnIp6(const uint8_t* p, size_t n);
  Status OnTransport(uint8_t proto, const uint8_t* p, size_t n, bool cut, bool first_fragment);
  Status OnUdp(const uint8_t* p, size_t n, bool cut, bool first_fragment);
  Status OnTcp(const uint8_t* p, size_t n, bool cut);
  Status OnTcpData(Flow& f, uint32_t seq, const uint8_t* data, size_t len);
  Status OnTcpMessage(Flow& f, const uint8_t* p, size_t n, int& handled);
  // A complete DNS message candidate. known: on a DNS port / in a DNS flow. Sets *is_dns (when
  // !known, a payload that does not parse is not DNS and is not counted here).
  Status OnMessage(const uint8_t* p, size_t n, bool known, bool* is_dns);
  Status Reject(std::string_view reason, std::string_view detail) {
    return stats_.Reject(SourcePos{in_.name(), packet_}, reason, detail);
  }
  void EraseFlow(std::unordered_map<FlowKey, Flow, FlowKeyHash>::iterator it);
  StartCheck LooksLikeMessageStart(const uint8_t* p, size_t n);

  ByteStream& in_;
  RecordSink& sink_;
  IngestStats& stats_;
  int dlt_ = 0;
  uint64_t packet_ = 0;
  double ts_ = 0;
  IpAddr src_, dst_;
  DnsMessage msg_;
  DnsRecord rec_;
  std::string err_;
  std::unordered_map<FlowKey, Flow, FlowKeyHash> flows_;
  std::list<FlowKey> lru_;  // least recently used first
};

bool SupportedLinkType(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      return true;
    default:
      return false;
  }
}

Status Reader::Run() {
  // Peeking settles whether the stream is gzip-compressed (the bytes stay in the stream).
  FLUXSCORE_ASSIGN_OR_RETURN(std::string_view head, in_.Peek(4));
  (void)head;
  Cookie cookie{&in_, in_.compressed() ? kGzipReadChunk : size_t{1} << 20, Status::Ok()};
  cookie_io_functions_t io{};
  io.read = CookieRead;
  io.close = CookieClose;
  FILE* f = fopencookie(&cookie, "r", io);
  if (f == nullptr)
    return Status::IoError(fmt::format("{}: cannot open: {}", in_.name(), std::strerror(errno)));
  setvbuf(f, nullptr, _IOFBF, 1 << 16);
  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = '\0';
  pcap_t* raw = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (raw == nullptr) {
    fclose(f);
    if (!cookie.error.ok()) return cookie.error;
    return Status::DataError(
        fmt::format("{}: not a pcap/pcapng capture: {}", in_.name(), errbuf));
  }
  std::unique_ptr<pcap_t, PcapCloser> pc(raw);  // closes f too
  dlt_ = pcap_datalink(raw);
  if (!SupportedLinkType(dlt_)) {
    const char* dname = pcap_datalink_val_to_name(dlt_);
    return Status::DataError(fmt::format("{}: unsupported link type {} ({})", in_.name(), dlt_,
                                         dname != nullptr ? dname : "unknown"));
  }
  for (;;) {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(raw, &h, &data);
    if (rc == 1) {
      ++packet_;
      FLUXSCORE_RETURN_IF_ERROR(OnPacket(*h, data));
      continue;
    }
    if (!cookie.error.ok())
      return Status::DataError(
          fmt::format("{} (reading packet {})", cookie.error.message(), packet_ + 1));
    if (rc == PCAP_ERROR_BREAK) break;  // end of the capture
    const std::string why = rc == PCAP_ERROR ? pcap_geterr(raw) : fmt::format("libpcap code {}", rc);
    return Status::DataError(fmt::format("{}: packet {}: corrupt or truncated capture: {}",
                                         in_.name(), packet_ + 1, why));
  }
  for (const auto& [key, flow] : flows_)
    if (!flow.buf.empty() && flow.kind != FlowKind::kNotDns) stats_.Skip(kTcpUnfinished);
  return Status::Ok();
}

Status Reader::OnPacket(const pcap_pkthdr& h, const uint8_t* p) {
  ts_ = static_cast<double>(h.ts.tv_sec) + static_cast<double>(h.ts.tv_usec) * 1e-9;
  size_t n = h.caplen;
  switch (dlt_) {
    case DLT_EN10MB:
      if (n < 14) break;
      return OnEtherType(Be16(p + 12), p + 14, n - 14);
    case DLT_LINUX_SLL:
      if (n < 16) break;
      return OnEtherType(Be16(p + 14), p + 16, n - 16);
    case DLT_LINUX_SLL2:
      if (n < 20) break;
      return OnEtherType(Be16(p), p + 20, n - 20);
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      return OnIp(p, n);
    case DLT_NULL:
    case DLT_LOOP: {
      if (n < 4) break;
      // DLT_NULL is in the byte order of the capturing host, DLT_LOOP in network order.
      const uint32_t be = Be32(p), le = Le32(p);
      auto is = [&](uint32_t af) { return be == af || le == af; };
      if (is(2)) return OnIp4(p + 4, n - 4);
      if (is(24) || is(28) || is(30)) return OnIp6(p + 4, n - 4);
      stats_.Skip(kNonDns);
      return Status::Ok();
    }
  }
  stats_.Skip(kTruncated);
  return Status::Ok();
}

Status Reader::OnEtherType(uint16_t type, const uint8_t* p, size_t n) {
  for (int tags = 0; (type == 0x8100 || type == 0x88A8 || type == 0x9100) && tags < kMaxVlanTags;
       ++tags) {
    if (n < 4) {
      stats_.Skip(kTruncated);
      return Status::Ok();
    }
    type = Be16(p + 2);
    p += 4;
    n -= 4;
  }
  if (type == 0x0800) return OnIp4(p, n);
  if (type == 0x86DD) return OnIp6(p, n);
  stats_.Skip(kNonDns);
  return Status::Ok();
}

Status Reader::OnIp(const uint8_t* p, size_t n) {
  if (n < 1) {
    stats_.Skip(kTruncated);
    return Status::Ok();
  }
  switch (p[0] >> 4) {
    case 4:
      return OnIp4(p, n);
    case 6:
      return OnIp6(p, n);
    default:
      stats_.Skip(kNonDns);
      return Status::Ok();
  }
}

Status Reader::OnIp4(const uint8_t* p, size_t n) {
  if (n < 20) {
    stats_.Skip(kTruncated);
    return Status::Ok();
  }
  const size_t ihl = size_t{p[0] & 0xFu} * 4;
  const size_t total = Be16(p + 2);
  if ((p[0] >> 4) != 4 || ihl < 20 || total < ihl) {
    stats_.Skip(kBadHeader);
    return Status::Ok();
  }
  if (ihl > n) {
    stats_.Skip(kTruncated);
    return Status::Ok();
  }
  const uint16_t frag = Be16(p + 6);
  if ((frag & 0x1FFF) != 0) {
    stats_.Skip(kFragments);
    return Status::Ok();
  }
  src_ = IpAddr::FromV4(Be32(p + 12));
  dst_ = IpAddr::FromV4(Be32(p + 16));
  const bool cut = total > n;  // cut short by the capture's snap length
  const size_t avail = cut ? n : total;  // drops link-layer padding
  return OnTransport(p[9], p + ihl, avail - ihl, cut, (frag & 0x2000) != 0);
}

Status Reader::OnIp6(const uint8_t* p, size_t n) {
  if (n < 40) {
    stats_.Skip(kTruncated);
    return Status::Ok();
  }
  if ((p[0] >> 4) != 6) {
    stats_.Skip(kBadHeader);
    return Status::Ok();
  }
  const size_t plen = Be16(p + 4);
  // Payload length 0 is a jumbogram (or nothing): take what was captured.
  const bool cut = plen > n - 40;
  const size_t end = (plen == 0 || cut) ? n : 40 + plen;
  std::memcpy(src_.bytes.data(), p + 8, 16);
  std::memcpy(dst_.bytes.data(), p + 24, 16);
  uint8_t next = p[6];
  size_t off = 40;
  bool first_fragment = false;
  for (int i = 0; i < kMaxIp6Headers; ++i) {
    size_t len;
    if (next == 0 || next == 43 || next == 60 || next == 51) {  // hop-by-hop, routing, dest, AH
      if (end - off < 2) {
        stats_.Skip(cut ? kTruncated : kBadHeader);
        return Status::Ok();
      }
      len = next == 51 ? (size_t{p[off + 1]} + 2) * 4 : (size_t{p[off + 1]} + 1) * 8;
    } else if (next == 44) {  // fragment
      if (end - off < 8) {
        stats_.Skip(cut ? kTruncated : kBadHeader);
        return Status::Ok();
      }
      const uint16_t fo = Be16(p + off + 2);
      if ((fo & 0xFFF8) != 0) {
        stats_.Skip(kFragments);
        return Status::Ok();
      }
      if ((fo & 1) != 0) first_fragment = true;  // else an atomic fragment: a whole packet
      len = 8;
    } else {
      return OnTransport(next, p + off, end - off, cut, first_fragment);
    }
    if (len > end - off) {
      stats_.Skip(cut ? kTruncated : kBadHeader);
      return Status::Ok();
    }
    next = p[off];
    off += len;
  }
  stats_.Skip(kBadHeader);  // too many extension headers
  return Status::Ok();
}

Status Reader::OnTransport(uint8_t proto, const uint8_t* p, size_t n, bool cut,
                           bool first_fragment) {
  if (proto == 17) return OnUdp(p, n, cut, first_fragment);
  if (proto == 6) {
    if (first_fragment) {
      stats_.Skip(kFragments);
      return Status::Ok();
    }
    return OnTcp(p, n, cut);
  }
  stats_.Skip(kNonDns);
  return Status::Ok();
}

Status Reader::OnUdp(const uint8_t* p, size_t n, bool cut, bool first_fragment) {
  if (n < 8) {
    stats_.Skip(cut || first_fragment ? kTruncated : kBadHeader);
    return Status::Ok();
  }
  const uint16_t sport = Be16(p), dport = Be16(p + 2);
  const size_t ulen = Be16(p + 4);
  const bool dns_port = IsDnsUdpPort(sport) || IsDnsUdpPort(dport);
  if (first_fragment) {
    // The rest of the datagram is in later fragments, which are not reassembled.
    if (!dns_port || n < 8 + 3) {
      stats_.Skip(kFragments);
    } else if ((p[8 + 2] & 0x80) == 0) {
      stats_.Skip(kQueries);
    } else {
      ++stats_.read;
      return Reject("fragmented DNS message", "IP fragments are not reassembled");
    }
    return Status::Ok();
  }
  if (ulen < 8) {
    stats_.Skip(kBadHeader);
    return Status::Ok();
  }
  if (ulen > n) {
    stats_.Skip(cut ? kTruncated : kBadHeader);
    return Status::Ok();
  }
  bool is_dns = false;
  FLUXSCORE_RETURN_IF_ERROR(OnMessage(p + 8, ulen - 8, dns_port, &is_dns));
  if (!is_dns) stats_.Skip(kNonDns);
  return Status::Ok();
}

Status Reader::OnMessage(const uint8_t* p, size_t n, bool known, bool* is_dns) {
  const bool ok = ParseDnsMessage(p, n, msg_, &err_);
  if (!known && (!ok || !PlausibleDnsMessage(p, n, msg_))) {
    *is_dns = false;
    return Status::Ok();
  }
  *is_dns = true;
  if (!ok) {
    if (n >= 3 && (p[2] & 0x80) == 0) {
      stats_.Skip(kQueries);
      return Status::Ok();
    }
    ++stats_.read;
    return Reject("malformed DNS message", err_);
  }
  if (!msg_.qr) {
    stats_.Skip(kQueries);
    return Status::Ok();
  }
  if (msg_.opcode != 0) {
    stats_.Skip(kOtherOpcode);
    return Status::Ok();
  }
  ++stats_.read;
  if (msg_.qdcount == 0) return Reject("response without a question", {});
  if (!NormalizeName(msg_.qname, rec_.qname)) return Reject("bad query name", msg_.qname);
  rec_.ts = ts_;
  rec_.has_client = rec_.has_resolver = true;
  rec_.resolver = src_;
  rec_.client = dst_;
  rec_.qtype = msg_.qtype;
  rec_.rcode = msg_.rcode;
  rec_.answers.resize(msg_.answers.size());
  for (size_t i = 0; i < msg_.answers.size(); ++i) {
    const DnsMessage::RR& rr = msg_.answers[i];
    Answer& a = rec_.answers[i];
    a.type = rr.type;
    a.ttl = rr.ttl;
    a.is_address = rr.is_address;
    a.addr = rr.addr;
    // The data of an address is IpAddr::ToString(). The parser's text is the same (dotted quad;
    // inet_ntop for AAAA) except for an IPv4-mapped AAAA, which IpAddr holds as IPv4.
    if (rr.is_address && rr.type != kTypeA && rr.addr.is_v4()) {
      a.data = rr.addr.ToString();
    } else {
      a.data = rr.data;
    }
  }
  ++stats_.used;
  sink_.Add(rec_);
  return Status::Ok();
}

void Reader::EraseFlow(std::unordered_map<FlowKey, Flow, FlowKeyHash>::iterator it) {
  lru_.erase(it->second.lru);
  flows_.erase(it);
}

StartCheck Reader::LooksLikeMessageStart(const uint8_t* p, size_t n) {
  if (n < 2) return StartCheck::kMaybe;
  const size_t len = Be16(p);
  if (len < 12) return StartCheck::kNo;
  if (n < 2 + 12) return StartCheck::kMaybe;
  const uint8_t* m = p + 2;
  if (Be16(m + 4) != 1) return StartCheck::kNo;  // qdcount
  if (n < 2 + len) return StartCheck::kYes;       // the header is plausible; the rest follows
  return ParseDnsMessage(m, len, msg_, nullptr) && PlausibleDnsMessage(m, len, msg_)
             ? StartCheck::kYes
             : StartCheck::kNo;
}

Status Reader::OnTcp(const uint8_t* p, size_t n, bool cut) {
  if (n < 20) {
    stats_.Skip(cut ? kTruncated : kBadHeader);
    return Status::Ok();
  }
  const size_t doff = static_cast<size_t>(p[12] >> 4) * 4;
  if (doff < 20) {
    stats_.Skip(kBadHeader);
    return Status::Ok();
  }
  if (doff > n) {
    stats_.Skip(cut ? kTruncated : kBadHeader);
    return Status::Ok();
  }
  const uint16_t sport = Be16(p), dport = Be16(p + 2);
  uint32_t seq = Be32(p + 4);
  const uint8_t flags = p[13];
  const bool fin = (flags & 0x01) != 0, syn = (flags & 0x02) != 0, rst = (flags & 0x04) != 0;
  const uint8_t* data = p + doff;
  const size_t len = n - doff;
  FlowKey key;
  key.src = src_.bytes;
  key.dst = dst_.bytes;
  key.sport = sport;
  key.dport = dport;
  auto it = flows_.find(key);
  if (rst) {
    if (it != flows_.end()) {
      if (!it->second.buf.empty() && it->second.kind != FlowKind::kNotDns)
        stats_.Skip(kTcpUnfinished);
      EraseFlow(it);
    }
    stats_.Skip(kTcpControl);
    return Status::Ok();
  }
  if (cut && len > 0) {
    // The segment's data is incomplete: the flow continues after a gap.
    stats_.Skip(kTruncated);
    return Status::Ok();
  }
  const FlowKind initial = sport == 53 || dport == 53 ? FlowKind::kDns : FlowKind::kUnknown;
  if (it == flows_.end()) {
    if (len == 0 && !syn) {
      stats_.Skip(kTcpControl);
      return Status::Ok();
    }
    if (flows_.size() >= kMaxFlows) {
      flows_.erase(lru_.front());
      lru_.pop_front();
      stats_.Skip(kTcpEvicted);
    }
    it = flows_.try_emplace(key).first;
    lru_.push_back(key);
    it->second.lru = std::prev(lru_.end());
    it->second.kind = initial;
    it->second.next_seq = seq;
    it->second.synced = false;
  } else {
    lru_.splice(lru_.end(), lru_, it->second.lru);
  }
  Flow& f = it->second;
  if (syn) {
    f.buf.clear();
    f.kind = initial;
    f.synced = true;
    ++seq;  // data (TCP Fast Open) starts after the SYN
    f.next_seq = seq;
  }
  if (len > 0) {
    FLUXSCORE_RETURN_IF_ERROR(OnTcpData(f, seq, data, len));
  } else {
    stats_.Skip(kTcpControl);
  }
  if (fin) {
    if (!f.buf.empty() && f.kind != FlowKind::kNotDns) stats_.Skip(kTcpUnfinished);
    EraseFlow(it);
  }
  return Status::Ok();
}

Status Reader::OnTcpData(Flow& f, uint32_t seq, const uint8_t* data, size_t len) {
  const uint32_t end_seq = seq + static_cast<uint32_t>(len);
  if (f.kind == FlowKind::kNotDns) {
    f.next_seq = end_seq;
    stats_.Skip(kNonDns);
    return Status::Ok();
  }
  const int32_t d = static_cast<int32_t>(seq - f.next_seq);
  if (!f.synced && d < 0) {
    // Late data of a flow that lost its place: resyncing on it would go backwards.
    stats_.Skip(kTcpOutOfOrder);
    return Status::Ok();
  }
  if (f.synced) {
    if (d < 0) {
      const uint32_t dup = static_cast<uint32_t>(-static_cast<int64_t>(d));
      if (dup >= len) {
        stats_.Skip(kTcpRetransmit);
        return Status::Ok();
      }
      data += dup;  // overlaps what was seen: keep the new part
      len -= dup;
    } else if (d > 0) {
      // Data is missing before this segment: what was buffered can never complete.
      if (!f.buf.empty()) stats_.Skip(kTcpOutOfOrder);
      f.buf.clear();
      f.synced = false;
    }
  }
  if (!f.synced || (f.kind == FlowKind::kUnknown && f.buf.empty())) {
    const StartCheck c = LooksLikeMessageStart(data, len);
    if (c == StartCheck::kNo || (!f.synced && c != StartCheck::kYes)) {
      f.next_seq = end_seq;
      f.synced = false;
      if (f.kind == FlowKind::kUnknown) {
        f.kind = FlowKind::kNotDns;
        stats_.Skip(kNonDns);
      } else {
        stats_.Skip(kTcpOutOfOrder);
      }
      return Status::Ok();
    }
    f.synced = true;
  }
  f.next_seq = end_seq;

  int handled = 0;
  if (!f.buf.empty()) {
    // Complete the buffered message first: length prefix, then body.
    if (f.buf.size() < 2) {
      const size_t take = std::min(2 - f.buf.size(), len);
      Append(f.buf, data, take);
      data += take;
      len -= take;
    }
    if (f.buf.size() >= 2) {
      const size_t want = 2 + size_t{Be16(f.buf.data())};
      const size_t take = std::min(want - f.buf.size(), len);
      Append(f.buf, data, take);
      data += take;
      len -= take;
      if (f.buf.size() == want) {
        FLUXSCORE_RETURN_IF_ERROR(OnTcpMessage(f, f.buf.data() + 2, want - 2, handled));
        f.buf.clear();
      }
    }
  }
  // Whole messages straight from the segment; the incomplete rest is buffered (the buffer then
  // holds less than 2 + 65,535 bytes).
  while (len >= 2 && f.kind != FlowKind::kNotDns) {
    const size_t mlen = Be16(data);
    if (len - 2 < mlen) break;
    FLUXSCORE_RETURN_IF_ERROR(OnTcpMessage(f, data + 2, mlen, handled));
    data += 2 + mlen;
    len -= 2 + mlen;
  }
  if (f.kind == FlowKind::kNotDns) {
    f.buf.clear();
    if (handled == 0) stats_.Skip(kNonDns);
    return Status::Ok();
  }
  Append(f.buf, data, len);
  if (handled == 0) stats_.Skip(kTcpPartial);
  return Status::Ok();
}

Status Reader::OnTcpMessage(Flow& f, const uint8_t* p, size_t n, int& handled) {
  if (f.kind == FlowKind::kNotDns) return Status::Ok();
  bool is_dns = false;
  FLUXSCORE_RETURN_IF_ERROR(OnMessage(p, n, f.kind == FlowKind::kDns, &is_dns));
  if (!is_dns) {
    f.kind = FlowKind::kNotDns;
    return Status::Ok();
  }
  f.kind = FlowKind::kDns;
  ++handled;
  return Status::Ok();
}

}  // namespace

Status ReadPcap(ByteStream& in, RecordSink& sink, IngestStats& stats) {
  Reader r(in, sink, stats);
  return r.Run();
}

}  // namespace fluxscore::dns
