// pcap/pcapng reader: captures built byte by byte in the test, plus one real capture of dnsmasq.
#include "fluxscore/dns/pcap.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ingest/stream.h"
#include "fluxscore/dns/record.h"
#include "../temp_files.h"

namespace fluxscore::dns {
namespace {

using Buf = std::vector<uint8_t>;

// ---- byte builders ----

struct Bytes {
  Buf b;
  Bytes& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Bytes& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Bytes& le16(uint16_t v) { return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8)); }
  Bytes& le32(uint32_t v) { return le16(static_cast<uint16_t>(v)).le16(static_cast<uint16_t>(v >> 16)); }
  Bytes& raw(const Buf& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& raw(std::initializer_list<uint8_t> v) {
    b.insert(b.end(), v);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Bytes& name(std::string_view dotted) {
    while (!dotted.empty()) {
      const size_t dot = dotted.find('.');
      const std::string_view l = dotted.substr(0, dot);
      u8(static_cast<uint8_t>(l.size()));
      b.insert(b.end(), l.begin(), l.end());
      if (dot == std::string_view::npos) break;
      dotted.remove_prefix(dot + 1);
    }
    return u8(0);
  }
  size_t size() const { return b.size(); }
};

// A response to `qname` A? with the given IPv4 answers (TTL ttl), names compressed.
Buf DnsResponse(std::string_view qname, const std::vector<std::array<uint8_t, 4>>& addrs,
                uint32_t ttl = 300, uint16_t id = 0x4242, uint16_t flags = 0x8180) {
  Bytes m;
  m.u16(id).u16(flags).u16(1).u16(static_cast<uint16_t>(addrs.size())).u16(0).u16(0);
  m.name(qname).u16(kTypeA).u16(1);
  for (const auto& a : addrs) m.u16(0xC00C).u16(kTypeA).u16(1).u32(ttl).u16(4).raw({a[0], a[1], a[2], a[3]});
  return m.b;
}

Buf DnsQuery(std::string_view qname, uint16_t qtype = kTypeA) {
  Bytes m;
  m.u16(0x4242).u16(0x0100).u16(1).u16(0).u16(0).u16(0).name(qname).u16(qtype).u16(1);
  return m.b;
}

Buf DnsAaaaResponse(std::string_view qname) {
  Bytes m;
  m.u16(1).u16(0x8180).u16(1).u16(1).u16(0).u16(0).name(qname).u16(kTypeAAAA).u16(1);
  m.u16(0xC00C).u16(kTypeAAAA).u16(1).u32(30).u16(16);
  m.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53});
  return m.b;
}

Buf Udp(uint16_t sport, uint16_t dport, const Buf& payload) {
  Bytes u;
  u.u16(sport).u16(dport).u16(static_cast<uint16_t>(8 + payload.size())).u16(0).raw(payload);
  return u.b;
}

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

Buf Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, const Buf& payload) {
  Bytes t;
  t.u16(sport).u16(dport).u32(seq).u32(0).u8(5 << 4).u8(flags).u16(65535).u16(0).u16(0);
  t.raw(payload);
  return t.b;
}

// Length-prefixed DNS-over-TCP message.
Buf Framed(const Buf& msg) {
  Bytes f;
  f.u16(static_cast<uint16_t>(msg.size())).raw(msg);
  return f.b;
}

Buf Ip4(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst, uint8_t proto, const Buf& payload,
        uint16_t frag = 0, int option_words = 0) {
  Bytes ip;
  ip.u8(static_cast<uint8_t>(0x40 | (5 + option_words))).u8(0);
  ip.u16(static_cast<uint16_t>(20 + 4 * option_words + payload.size()));
  ip.u16(1).u16(frag).u8(64).u8(proto).u16(0);
  ip.raw({src[0], src[1], src[2], src[3]}).raw({dst[0], dst[1], dst[2], dst[3]});
  for (int i = 0; i < option_words; ++i) ip.raw({1, 1, 1, 1});  // NOP options
  ip.raw(payload);
  return ip.b;
}

std::array<uint8_t, 16> V6(std::string_view text) {
  std::array<uint8_t, 16> a{};
  const auto ip = IpAddr::Parse(text);
  if (ip) a = ip->bytes;
  return a;
}

// IPv6 with a chain of extension headers (each 8 bytes of padding options) before `proto`.
Buf Ip6(std::string_view src, std::string_view dst, uint8_t proto, const Buf& payload,
        const std::vector<uint8_t>& ext = {}) {
  Bytes body;
  for (size_t i = 0; i < ext.size(); ++i) {
    const uint8_t next = i + 1 < ext.size() ? ext[i + 1] : proto;
    if (ext[i] == 44) {  // fragment header: offset 0, M=1 (a first fragment)
      body.u8(next).u8(0).u16(0x0001).u32(0x1234);
    } else {
      body.u8(next).u8(0).raw({1, 4, 0, 0, 0, 0});  // PadN
    }
  }
  body.raw(payload);
  Bytes ip;
  ip.u32(0x60000000).u16(static_cast<uint16_t>(body.size()));
  ip.u8(ext.empty() ? proto : ext[0]).u8(64);
  const auto s = V6(src), d = V6(dst);
  ip.raw(Buf(s.begin(), s.end())).raw(Buf(d.begin(), d.end())).raw(body.b);
  return ip.b;
}

Buf Ether(uint16_t ethertype, const Buf& payload, const std::vector<uint16_t>& tags = {}) {
  Bytes e;
  e.raw({2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2});
  for (size_t i = 0; i < tags.size(); ++i) e.u16(i == 0 ? 0x88A8 : 0x8100).u16(tags[i]);
  e.u16(ethertype).raw(payload);
  return e.b;
}

constexpr uint32_t kLinkEthernet = 1, kLinkNull = 0, kLinkRaw = 101, kLinkSll = 113,
                   kLinkSll2 = 276, kLinkIpv4 = 228, kLinkLoop = 108;

// A classic pcap file (little endian, or big endian), microsecond or nanosecond timestamps.
struct PcapFile {
  Bytes f;
  bool be;
  explicit PcapFile(uint32_t linktype, bool big_endian = false, bool nano = false) : be(big_endian) {
    u32(nano ? 0xA1B23C4D : 0xA1B2C3D4);
    u16(2);
    u16(4);
    u32(0);
    u32(0);
    u32(262144);
    u32(linktype);
  }
  void u16(uint16_t v) { be ? f.u16(v) : f.le16(v); }
  void u32(uint32_t v) { be ? f.u32(v) : f.le32(v); }
  PcapFile& Add(const Buf& frame, uint32_t sec = 1700000000, uint32_t frac = 250000) {
    return AddRaw(frame, sec, frac, static_cast<uint32_t>(frame.size()),
                  static_cast<uint32_t>(frame.size()));
  }
  PcapFile& AddRaw(const Buf& frame, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len) {
    u32(sec);
    u32(frac);
    u32(caplen);
    u32(len);
    f.raw(frame);
    return *this;
  }
};

// ---- files and the sink ----

std::string TempPath(const std::string& leaf) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return test::TempPath(std::string("pcap_") + info->name() + "_" + leaf);
}

std::string WriteFile(const std::string& leaf, const Buf& bytes) {
  const std::string path = TempPath(leaf);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::string WriteGzip(const std::string& leaf, const Buf& bytes) {
  const std::string path = TempPath(leaf);
  gzFile gz = gzopen(path.c_str(), "wb");
  EXPECT_NE(gz, nullptr);
  if (gz == nullptr) return path;
  EXPECT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(gz);
  return path;
}

struct Collect : RecordSink {
  std::vector<DnsRecord> records;
  void Add(const DnsRecord& r) override { records.push_back(r); }
};

Status ReadFile(const std::string& path, Collect& sink, IngestStats& stats) {
  ByteStream in;
  FLUXSCORE_RETURN_IF_ERROR(in.Open(path));
  return ReadPcap(in, sink, stats);
}

uint64_t Skipped(const IngestStats& s, const std::string& kind) {
  auto it = s.skipped.find(kind);
  return it == s.skipped.end() ? 0 : it->second;
}
uint64_t Rejected(const IngestStats& s, const std::string& kind) {
  auto it = s.rejected().find(kind);
  return it == s.rejected().end() ? 0 : it->second;
}

IpAddr Ip(std::string_view s) { return *IpAddr::Parse(s); }

const std::array<uint8_t, 4> kResolver{192, 0, 2, 53}, kClient{10, 0, 0, 1};

Buf UdpResponse4(const Buf& dns, uint16_t sport = 53, uint16_t dport = 40000) {
  return Ip4(kResolver, kClient, 17, Udp(sport, dport, dns));
}

void ExpectBalanced(const IngestStats& s) { EXPECT_EQ(s.read, s.used + s.rejected_total()); }

// ---- tests ----

TEST(PcapTest, EthernetWithStackedVlanTags) {
  PcapFile pcap(kLinkEthernet);
  const Buf resp = DnsResponse("WWW.Flux.Example.", {{{198, 51, 100, 1}}, {{203, 0, 113, 9}}}, 120);
  pcap.Add(Ether(0x0800, UdpResponse4(resp), {100, 200}), 1700000000, 250000);
  pcap.Add(Ether(0x0800, UdpResponse4(resp), {7}), 1700000001, 0);
  pcap.Add(Ether(0x0800, Ip4(kClient, kResolver, 17, Udp(40000, 53, DnsQuery("www.flux.example")))));
  pcap.Add(Ether(0x0806, Buf(28, 0)));  // ARP
  pcap.Add(Ether(0x0800, Ip4(kClient, kResolver, 1, Buf(8, 0))));  // ICMP
  Collect sink;
  IngestStats stats;
  const std::string path = WriteFile("cap.pcap", pcap.f.b);
  ASSERT_TRUE(ReadFile(path, sink, stats).ok());
  ASSERT_EQ(sink.records.size(), 2u);
  const DnsRecord& r = sink.records[0];
  EXPECT_DOUBLE_EQ(r.ts, 1700000000.25);
  EXPECT_TRUE(r.has_resolver);
  EXPECT_TRUE(r.has_client);
  EXPECT_EQ(r.resolver, Ip("192.0.2.53"));
  EXPECT_EQ(r.client, Ip("10.0.0.1"));
  EXPECT_EQ(r.qname, "www.flux.example");
  EXPECT_EQ(r.qtype, kTypeA);
  EXPECT_EQ(r.rcode, 0);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].type, kTypeA);
  EXPECT_EQ(r.answers[0].ttl, 120u);
  EXPECT_TRUE(r.answers[0].is_address);
  EXPECT_EQ(r.answers[0].addr, Ip("198.51.100.1"));
  EXPECT_EQ(r.answers[0].data, "198.51.100.1");
  EXPECT_EQ(r.answers[1].data, "203.0.113.9");
  EXPECT_DOUBLE_EQ(sink.records[1].ts, 1700000001.0);
  EXPECT_EQ(stats.read, 2u);
  EXPECT_EQ(stats.used, 2u);
  EXPECT_EQ(Skipped(stats, "DNS queries"), 1u);
  EXPECT_EQ(Skipped(stats, "non-DNS packets"), 2u);
}

TEST(PcapTest, BigEndianNanosecondPcap) {
  PcapFile pcap(kLinkEthernet, /*big_endian=*/true, /*nano=*/true);
  pcap.Add(Ether(0x0800, UdpResponse4(DnsResponse("a.example", {{{1, 2, 3, 4}}}))), 1700000000,
           123456789);
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("be.pcap", pcap.f.b), sink, stats).ok());
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_NEAR(sink.records[0].ts, 1700000000.123456789, 1e-6);
}

TEST(PcapTest, LinuxCookedV1AndV2) {
  const Buf ip = UdpResponse4(DnsResponse("sll.example", {{{10, 9, 8, 7}}}));
  Bytes sll;
  sll.u16(0).u16(1).u16(6).raw({2, 0, 0, 0, 0, 1, 0, 0}).u16(0x0800).raw(ip);
  PcapFile p1(kLinkSll);
  p1.Add(sll.b);
  Bytes sll2;
  sll2.u16(0x0800).u16(0).u32(1).u16(1).u8(0).u8(6).raw({2, 0, 0, 0, 0, 1, 0, 0}).raw(ip);
  PcapFile p2(kLinkSll2);
  p2.Add(sll2.b);
  for (const auto& [leaf, bytes] : {std::pair{"sll.pcap", p1.f.b}, std::pair{"sll2.pcap", p2.f.b}}) {
    Collect sink;
    IngestStats stats;
    const Status st = ReadFile(WriteFile(leaf, bytes), sink, stats);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(sink.records.size(), 1u) << leaf;
    EXPECT_EQ(sink.records[0].qname, "sll.example");
    EXPECT_EQ(sink.records[0].answers[0].data, "10.9.8.7");
  }
}

TEST(PcapTest, RawIpv4WithOptionsAndLinktypeIpv4) {
  const Buf ip = Ip4(kResolver, kClient, 17, Udp(53, 1234, DnsResponse("raw.example", {{{9, 9, 9, 9}}})),
                     0, /*option_words=*/2);
  PcapFile raw(kLinkRaw);
  raw.Add(ip);
  PcapFile v4(kLinkIpv4);
  v4.Add(ip);
  for (const auto& bytes : {raw.f.b, v4.f.b}) {
    Collect sink;
    IngestStats stats;
    ASSERT_TRUE(ReadFile(WriteFile("raw.pcap", bytes), sink, stats).ok());
    ASSERT_EQ(sink.records.size(), 1u);
    EXPECT_EQ(sink.records[0].answers[0].addr, Ip("9.9.9.9"));
  }
}

TEST(PcapTest, Ipv6WithExtensionHeaders) {
  PcapFile pcap(kLinkEthernet);
  const Buf dns = DnsAaaaResponse("v6.example");
  // Hop-by-hop and destination options before UDP.
  pcap.Add(Ether(0x86DD, Ip6("2001:db8::53", "2001:db8::1", 17, Udp(53, 5000, dns), {0, 60})));
  // A first fragment (fragment header with M=1): its datagram is incomplete.
  pcap.Add(Ether(0x86DD, Ip6("2001:db8::53", "2001:db8::1", 17, Udp(53, 5000, dns), {44})));
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("v6.pcap", pcap.f.b), sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(sink.records.size(), 1u);
  const DnsRecord& r = sink.records[0];
  EXPECT_EQ(r.resolver, Ip("2001:db8::53"));
  EXPECT_EQ(r.client, Ip("2001:db8::1"));
  EXPECT_EQ(r.qtype, kTypeAAAA);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_TRUE(r.answers[0].is_address);
  EXPECT_EQ(r.answers[0].data, "2001:db8::53");
  EXPECT_EQ(r.answers[0].ttl, 30u);
  EXPECT_EQ(Rejected(stats, "fragmented DNS message"), 1u);
  ExpectBalanced(stats);
}

TEST(PcapTest, Ipv4FragmentsAreCounted) {
  PcapFile pcap(kLinkRaw);
  const Buf udp = Udp(53, 4000, DnsResponse("frag.example", {{{1, 1, 1, 1}}}));
  pcap.Add(Ip4(kResolver, kClient, 17, udp, /*frag=*/0x2000));   // first fragment (MF)
  pcap.Add(Ip4(kResolver, kClient, 17, Buf(16, 0), /*frag=*/3));  // a later fragment
  pcap.Add(Ip4(kResolver, kClient, 17, udp, /*frag=*/0x4000));   // DF: a whole datagram
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("frag.pcap", pcap.f.b), sink, stats).ok());
  EXPECT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(Skipped(stats, "IP fragments (not reassembled)"), 1u);
  EXPECT_EQ(Rejected(stats, "fragmented DNS message"), 1u);
  EXPECT_EQ(stats.read, 2u);
  ExpectBalanced(stats);
}

TEST(PcapTest, BsdLoopback) {
  PcapFile null(kLinkNull);
  Bytes v4;
  v4.le32(2).raw(UdpResponse4(DnsResponse("lo.example", {{{127, 0, 0, 2}}})));
  null.Add(v4.b);
  Bytes v6;
  v6.le32(30).raw(Ip6("::1", "::1", 17, Udp(53, 999, DnsAaaaResponse("lo6.example"))));
  null.Add(v6.b);
  Bytes other;
  other.le32(7).zeros(20);
  null.Add(other.b);
  PcapFile loop(kLinkLoop);
  Bytes l4;
  l4.u32(2).raw(UdpResponse4(DnsResponse("lo.example", {{{127, 0, 0, 2}}})));
  loop.Add(l4.b);
  Bytes l6;
  l6.u32(24).raw(Ip6("::1", "::1", 17, Udp(53, 999, DnsAaaaResponse("lo6.example"))));
  loop.Add(l6.b);
  for (const auto& bytes : {null.f.b, loop.f.b}) {
    Collect sink;
    IngestStats stats;
    ASSERT_TRUE(ReadFile(WriteFile("lo.pcap", bytes), sink, stats).ok());
    ASSERT_EQ(sink.records.size(), 2u);
    EXPECT_EQ(sink.records[0].qname, "lo.example");
    EXPECT_EQ(sink.records[1].qname, "lo6.example");
  }
}

TEST(PcapTest, NonStandardUdpPortThatParses) {
  PcapFile pcap(kLinkRaw);
  pcap.Add(UdpResponse4(DnsResponse("odd.example", {{{5, 6, 7, 8}}}), 5300, 41000));
  pcap.Add(UdpResponse4(Buf{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!'}, 5300, 41000));
  pcap.Add(UdpResponse4(Buf(40, 0xAB), 9999, 41000));
  pcap.Add(Ip4(kClient, kResolver, 17, Udp(41000, 5300, DnsQuery("odd.example"))));
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("odd.pcap", pcap.f.b), sink, stats).ok());
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].qname, "odd.example");
  EXPECT_EQ(Skipped(stats, "non-DNS packets"), 2u);
  EXPECT_EQ(Skipped(stats, "DNS queries"), 1u);
}

TEST(PcapTest, RejectsUnusableResponsesOnDnsPorts) {
  PcapFile pcap(kLinkRaw);
  Buf bad = DnsResponse("bad.example", {{{1, 2, 3, 4}}});
  bad.resize(bad.size() - 2);  // answer cut short
  pcap.Add(UdpResponse4(bad));
  Bytes badname;  // the root as query name: NormalizeName refuses it
  badname.u16(1).u16(0x8180).u16(1).u16(0).u16(0).u16(0).u8(0).u16(1).u16(1);  // root qname
  pcap.Add(UdpResponse4(badname.b));
  Bytes noq;  // mDNS-style response without a question
  noq.u16(0).u16(0x8400).u16(0).u16(1).u16(0).u16(0).name("x.local").u16(1).u16(1).u32(120).u16(4);
  noq.raw({10, 0, 0, 1});
  pcap.Add(UdpResponse4(noq.b, 5353, 5353));
  Bytes notify;  // opcode NOTIFY response
  notify.u16(1).u16(0xA000).u16(1).u16(0).u16(0).u16(0).name("z.example").u16(6).u16(1);
  pcap.Add(UdpResponse4(notify.b));
  pcap.Add(UdpResponse4(DnsResponse("ok.example", {})));  // NXDOMAIN-like empty answer is fine
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("rej.pcap", pcap.f.b), sink, stats).ok());
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].qname, "ok.example");
  EXPECT_TRUE(sink.records[0].answers.empty());
  EXPECT_EQ(stats.read, 4u);
  EXPECT_EQ(Rejected(stats, "malformed DNS message"), 1u);
  EXPECT_EQ(Rejected(stats, "bad query name"), 1u);
  EXPECT_EQ(Rejected(stats, "response without a question"), 1u);
  EXPECT_EQ(Skipped(stats, "DNS messages with an opcode other than QUERY"), 1u);
  ExpectBalanced(stats);
  ASSERT_FALSE(stats.first_rejections().empty());
  EXPECT_NE(stats.first_rejections()[0].find("rej.pcap:1: malformed DNS message"), std::string::npos)
      << stats.first_rejections()[0];

  // Strict mode: the first rejection is the error, with file and packet number.
  Collect strict_sink;
  IngestStats strict(/*strict=*/true);
  const Status st = ReadFile(WriteFile("rej.pcap", pcap.f.b), strict_sink, strict);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rej.pcap:1: malformed DNS message"), std::string::npos) << st.message();
}

TEST(PcapTest, TruncatedPacketsAreCounted) {
  PcapFile pcap(kLinkEthernet);
  const Buf frame = Ether(0x0800, UdpResponse4(DnsResponse("t.example", {{{1, 2, 3, 4}}})));
  for (size_t cut : {size_t{5}, size_t{14 + 10}, size_t{14 + 20 + 4}, frame.size() - 3})
    pcap.AddRaw(Buf(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(cut)), 1, 0,
                static_cast<uint32_t>(cut), static_cast<uint32_t>(frame.size()));
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("trunc.pcap", pcap.f.b), sink, stats).ok());
  EXPECT_TRUE(sink.records.empty());
  EXPECT_EQ(Skipped(stats, "truncated packet"), 4u);
  EXPECT_EQ(stats.read, 0u);
}

TEST(PcapTest, TcpTwoResponsesInOneSegmentAndOneSplitAcrossThree) {
  PcapFile pcap(kLinkRaw);
  const auto s = kResolver, c = kClient;
  const Buf r1 = Framed(DnsResponse("one.example", {{{1, 0, 0, 1}}}));
  const Buf r2 = Framed(DnsResponse("two.example", {{{2, 0, 0, 2}}, {{2, 0, 0, 3}}}));
  const Buf r3 = Framed(DnsResponse("three.example", {{{3, 0, 0, 3}}, {{3, 0, 0, 4}}, {{3, 0, 0, 5}}}));
  uint32_t seq = 1000;
  pcap.Add(Ip4(c, s, 6, Tcp(40001, 53, 5000, kSyn, {})));
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq, kSyn | kAck, {})));
  ++seq;
  pcap.Add(Ip4(c, s, 6, Tcp(40001, 53, 5001, kAck | kPsh, Framed(DnsQuery("one.example")))));
  Buf both = r1;
  both.insert(both.end(), r2.begin(), r2.end());
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq, kAck | kPsh, both)));
  seq += static_cast<uint32_t>(both.size());
  // r3 in three pieces: the first byte of the length prefix, a middle part, the rest.
  const size_t cut1 = 1, cut2 = 20;
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq, kAck, Buf(r3.begin(), r3.begin() + cut1))));
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq + cut1, kAck, Buf(r3.begin() + cut1, r3.begin() + cut2))));
  // A retransmission of the middle part.
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq + cut1, kAck, Buf(r3.begin() + cut1, r3.begin() + cut2))));
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40001, seq + cut2, kAck | kPsh | kFin, Buf(r3.begin() + cut2, r3.end()))));
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("tcp.pcap", pcap.f.b), sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].qname, "one.example");
  EXPECT_EQ(sink.records[1].qname, "two.example");
  EXPECT_EQ(sink.records[1].answers.size(), 2u);
  EXPECT_EQ(sink.records[2].qname, "three.example");
  ASSERT_EQ(sink.records[2].answers.size(), 3u);
  EXPECT_EQ(sink.records[2].answers[2].data, "3.0.0.5");
  EXPECT_EQ(sink.records[2].resolver, Ip("192.0.2.53"));
  EXPECT_EQ(sink.records[2].client, Ip("10.0.0.1"));
  EXPECT_EQ(Skipped(stats, "DNS queries"), 1u);
  EXPECT_EQ(Skipped(stats, "TCP segments without data"), 2u);
  EXPECT_EQ(Skipped(stats, "TCP segments without a complete DNS message"), 2u);
  EXPECT_EQ(Skipped(stats, "TCP retransmitted or late data"), 1u);
  EXPECT_EQ(stats.used, 3u);
}

TEST(PcapTest, TcpOnOtherPortMidStreamAndOutOfOrder) {
  PcapFile pcap(kLinkRaw);
  const auto s = kResolver, c = kClient;
  const Buf r1 = Framed(DnsResponse("a.example", {{{1, 0, 0, 1}}}));
  const Buf r2 = Framed(DnsResponse("b.example", {{{1, 0, 0, 2}}}));
  const Buf r3 = Framed(DnsResponse("c.example", {{{1, 0, 0, 3}}}));
  // Port 8053, first seen mid-stream (no SYN): recognised by its first message.
  uint32_t seq = 7;
  pcap.Add(Ip4(s, c, 6, Tcp(8053, 40002, seq, kAck, r1)));
  seq += static_cast<uint32_t>(r1.size());
  // r2's first half, then a gap (its second half is missing), then r3.
  const size_t half = r2.size() / 2;
  pcap.Add(Ip4(s, c, 6, Tcp(8053, 40002, seq, kAck, Buf(r2.begin(), r2.begin() + half))));
  seq += static_cast<uint32_t>(r2.size());
  pcap.Add(Ip4(s, c, 6, Tcp(8053, 40002, seq, kAck, r3)));
  // The missing half of r2 arrives late, behind the place where the flow resynced: dropped.
  const uint32_t r2_seq = 7 + static_cast<uint32_t>(r1.size());
  pcap.Add(Ip4(s, c, 6, Tcp(8053, 40002, r2_seq + static_cast<uint32_t>(half), kAck,
                            Buf(r2.begin() + static_cast<ptrdiff_t>(half), r2.end()))));
  // A non-DNS TCP flow on another port, and a port-53 flow seen mid-message.
  pcap.Add(Ip4(s, c, 6, Tcp(8080, 40003, 1, kAck, Buf{'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', '2', '0', '0'})));
  pcap.Add(Ip4(s, c, 6, Tcp(8080, 40003, 13, kAck, Buf(100, 'x'))));
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40004, 1, kAck, Buf(r2.begin() + 5, r2.end()))));
  pcap.Add(Ip4(s, c, 6, Tcp(53, 40004, 1 + static_cast<uint32_t>(r2.size()) - 5, kRst, {})));
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("tcp2.pcap", pcap.f.b), sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].qname, "a.example");
  EXPECT_EQ(sink.records[1].qname, "c.example");
  // The lost first half of r2 and the port-53 segment seen mid-message.
  EXPECT_EQ(Skipped(stats, "TCP data out of order"), 2u);
  EXPECT_EQ(Skipped(stats, "TCP retransmitted or late data"), 1u);
  EXPECT_EQ(Skipped(stats, "non-DNS packets"), 2u);
  EXPECT_EQ(Skipped(stats, "TCP segments without a complete DNS message"), 1u);
  EXPECT_EQ(Skipped(stats, "TCP segments without data"), 1u);
  ExpectBalanced(stats);
}

TEST(PcapTest, TcpFlowTableEvictsOldest) {
  // 65,537 connections opened (SYN) and never closed: the table holds 65,536 flows.
  PcapFile pcap(kLinkRaw);
  const uint32_t flows = 65537;
  for (uint32_t i = 0; i < flows; ++i) {
    const std::array<uint8_t, 4> client{10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                                        static_cast<uint8_t>(i)};
    pcap.Add(Ip4(client, kResolver, 6, Tcp(40000, 53, i, kSyn, {})));
  }
  // One more flow (the server's direction of the first connection, seen mid-stream) evicts
  // another; its message is read.
  const Buf r = Framed(DnsResponse("evicted.example", {{{1, 2, 3, 4}}}));
  pcap.Add(Ip4(kResolver, {10, 0, 0, 0}, 6, Tcp(53, 40000, 100, kAck, r)));
  Collect sink;
  IngestStats stats;
  ASSERT_TRUE(ReadFile(WriteFile("many.pcap", pcap.f.b), sink, stats).ok());
  EXPECT_EQ(Skipped(stats, "TCP flows evicted (flow table full)"), 2u);
  EXPECT_EQ(Skipped(stats, "TCP segments without data"), flows);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].qname, "evicted.example");
}

TEST(PcapTest, GzipCompressedCapture) {
  PcapFile pcap(kLinkEthernet);
  for (int i = 0; i < 50; ++i)
    pcap.Add(Ether(0x0800, UdpResponse4(DnsResponse("gz.example", {{{10, 0, 0, static_cast<uint8_t>(i)}}}))),
             1700000000 + static_cast<uint32_t>(i), 0);
  Collect sink;
  IngestStats stats;
  const std::string path = WriteGzip("cap.pcap.gz", pcap.f.b);
  const Status st = ReadFile(path, sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(sink.records.size(), 50u);
  EXPECT_EQ(sink.records[49].answers[0].data, "10.0.0.49");

  // A gzip file cut short: the packets before the damage, then an error naming the file.
  std::ifstream f(path, std::ios::binary);
  Buf gz((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() * 2 / 3);
  Collect cut_sink;
  IngestStats cut_stats;
  const Status cut = ReadFile(WriteFile("cut.pcap.gz", gz), cut_sink, cut_stats);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.code(), Status::Code::kDataError);
  EXPECT_NE(cut.message().find("cut.pcap.gz"), std::string::npos) << cut.message();
  EXPECT_NE(cut.message().find("packet"), std::string::npos) << cut.message();
  EXPECT_GT(cut_sink.records.size(), 0u);
  EXPECT_LT(cut_sink.records.size(), 50u);
}

// pcapng: Section Header Block, Interface Description Block (nanosecond resolution),
// Enhanced Packet Blocks.
Buf Pcapng(uint16_t linktype, const std::vector<Buf>& frames, uint64_t ts_ns) {
  Bytes f;
  f.le32(0x0A0D0D0A).le32(28).le32(0x1A2B3C4D).le16(1).le16(0).le32(0xFFFFFFFF).le32(0xFFFFFFFF).le32(28);
  // IDB with option if_tsresol = 9 (10^-9) and opt_endofopt.
  f.le32(1).le32(32).le16(linktype).le16(0).le32(262144);
  f.le16(9).le16(1).u8(9).zeros(3).le16(0).le16(0).le32(32);
  for (const Buf& fr : frames) {
    const size_t pad = (4 - fr.size() % 4) % 4;
    const uint32_t len = static_cast<uint32_t>(32 + fr.size() + pad);
    f.le32(6).le32(len).le32(0).le32(static_cast<uint32_t>(ts_ns >> 32)).le32(static_cast<uint32_t>(ts_ns));
    f.le32(static_cast<uint32_t>(fr.size())).le32(static_cast<uint32_t>(fr.size())).raw(fr).zeros(pad);
    f.le32(len);
  }
  return f.b;
}

TEST(PcapTest, PcapngWithNanosecondTimestamps) {
  const Buf frame = Ether(0x0800, UdpResponse4(DnsResponse("ng.example", {{{4, 3, 2, 1}}})));
  const uint64_t ts_ns = 1700000000ULL * 1000000000ULL + 987654321ULL;
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("cap.pcapng", Pcapng(1, {frame, frame}, ts_ns)), sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].qname, "ng.example");
  EXPECT_NEAR(sink.records[0].ts, 1700000000.987654321, 1e-6);
}

TEST(PcapTest, CorruptPacketRecordAfterGoodPackets) {
  PcapFile pcap(kLinkEthernet);
  const Buf frame = Ether(0x0800, UdpResponse4(DnsResponse("c.example", {{{1, 2, 3, 4}}})));
  pcap.Add(frame).Add(frame);
  pcap.AddRaw(frame, 1, 0, 0x7FFFFFF0, 0x7FFFFFF0);  // caplen far beyond any snap length
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("corrupt.pcap", pcap.f.b), sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kDataError);
  EXPECT_NE(st.message().find("corrupt.pcap: packet 3:"), std::string::npos) << st.message();
  EXPECT_EQ(sink.records.size(), 2u);

  // Cut in the middle of the third packet's data.
  Buf cut = pcap.f.b;
  cut.resize(cut.size() - frame.size() / 2);
  Collect cut_sink;
  IngestStats cut_stats;
  const Status cst = ReadFile(WriteFile("cut.pcap", cut), cut_sink, cut_stats);
  ASSERT_FALSE(cst.ok());
  EXPECT_NE(cst.message().find("cut.pcap: packet 3:"), std::string::npos) << cst.message();
  EXPECT_EQ(cut_sink.records.size(), 2u);
}

TEST(PcapTest, NotACapture) {
  Collect sink;
  IngestStats stats;
  const std::string text = "ts,client,query\n1,2,3\n";
  const Status st = ReadFile(WriteFile("notes.csv", Buf(text.begin(), text.end())), sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kDataError);
  EXPECT_NE(st.message().find("notes.csv: not a pcap/pcapng capture: "), std::string::npos)
      << st.message();
  const Status empty = ReadFile(WriteFile("empty.pcap", {}), sink, stats);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("not a pcap/pcapng capture"), std::string::npos) << empty.message();
}

TEST(PcapTest, UnsupportedLinkType) {
  PcapFile pcap(105);  // IEEE 802.11
  pcap.Add(Buf(40, 0));
  Collect sink;
  IngestStats stats;
  const Status st = ReadFile(WriteFile("wifi.pcap", pcap.f.b), sink, stats);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("wifi.pcap: unsupported link type 105"), std::string::npos)
      << st.message();
}

TEST(PcapTest, RandomlyDamagedCapturesNeverCrash) {
  PcapFile pcap(kLinkEthernet);
  const Buf r = Framed(DnsResponse("f.example", {{{1, 2, 3, 4}}, {{5, 6, 7, 8}}}));
  pcap.Add(Ether(0x0800, UdpResponse4(DnsResponse("f.example", {{{1, 2, 3, 4}}})), {5}));
  pcap.Add(Ether(0x86DD, Ip6("2001:db8::53", "2001:db8::1", 17, Udp(53, 5000, DnsAaaaResponse("g.example")), {0})));
  pcap.Add(Ether(0x0800, Ip4(kResolver, kClient, 6, Tcp(53, 1000, 1, kAck, r))));
  pcap.Add(Ether(0x0800, Ip4(kResolver, kClient, 6, Tcp(53, 1000, 1 + static_cast<uint32_t>(r.size()), kAck, r))));
  const Buf base = pcap.f.b;
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    Buf b = base;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) b[24 + rng() % (b.size() - 24)] = static_cast<uint8_t>(rng());
    if (rng() % 5 == 0) b.resize(24 + rng() % (b.size() - 24));
    Collect sink;
    IngestStats stats;
    const Status st = ReadFile(WriteFile("fuzz.pcap", b), sink, stats);
    ExpectBalanced(stats);
    if (!st.ok()) {
      EXPECT_NE(st.message().find("fuzz.pcap"), std::string::npos) << st.message();
    }
  }
}

// The committed capture of dnsmasq answering flux.test.example with twelve A records
// (scripts/make-dnsmasq-capture.sh; tests/data/dns/README.md).
TEST(PcapTest, DnsmasqCaptureHasTwelveRotatingAddresses) {
  const std::string path = std::string(FLUXSCORE_SOURCE_DIR) + "/tests/data/dns/dnsmasq-12a.pcap";
  Collect sink;
  IngestStats stats(/*strict=*/true);
  const Status st = ReadFile(path, sink, stats);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::set<IpAddr> configured = {
      Ip("10.1.0.1"),     Ip("10.2.0.1"),      Ip("172.16.5.9"),  Ip("172.17.6.1"),
      Ip("192.168.7.3"),  Ip("198.18.1.1"),    Ip("198.19.2.2"),  Ip("203.0.113.7"),
      Ip("198.51.100.9"), Ip("192.0.2.44"),    Ip("100.64.3.3"),  Ip("100.65.4.4")};
  ASSERT_EQ(sink.records.size(), 25u);
  EXPECT_EQ(stats.read, 25u);
  EXPECT_EQ(stats.used, 25u);
  EXPECT_EQ(Skipped(stats, "DNS queries"), 25u);
  std::set<std::vector<IpAddr>> orders;
  std::vector<IpAddr> previous;
  for (const DnsRecord& r : sink.records) {
    EXPECT_EQ(r.qname, "flux.test.example");
    EXPECT_EQ(r.qtype, kTypeA);
    EXPECT_EQ(r.rcode, 0);
    EXPECT_EQ(r.resolver, Ip("127.0.0.1"));
    EXPECT_EQ(r.client, Ip("127.0.0.1"));
    ASSERT_EQ(r.answers.size(), 12u);
    std::set<IpAddr> got;
    std::vector<IpAddr> order;
    for (const Answer& a : r.answers) {
      EXPECT_EQ(a.type, kTypeA);
      EXPECT_EQ(a.ttl, 60u);
      EXPECT_TRUE(a.is_address);
      EXPECT_EQ(a.data, a.addr.ToString());
      got.insert(a.addr);
      order.push_back(a.addr);
    }
    EXPECT_EQ(got, configured);
    // dnsmasq round-robins: each answer is the previous one rotated left by one position (one
    // counter for UDP and TCP alike), so twelve queries go through every rotation.
    if (!previous.empty()) {
      for (size_t j = 0; j < order.size(); ++j)
        EXPECT_EQ(order[j], previous[(j + 1) % previous.size()]) << "answer " << j;
    }
    previous = order;
    orders.insert(order);
  }
  EXPECT_EQ(orders.size(), 12u);
}

}  // namespace
}  // namespace fluxscore::dns
