// DNS wire-format parser: messages built byte by byte.
#include "dns/ingest/wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/dns/record.h"

namespace fluxscore::dns {
namespace {

struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Bytes& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Bytes& raw(std::initializer_list<uint8_t> v) {
    b.insert(b.end(), v);
    return *this;
  }
  Bytes& bytes(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  // Uncompressed labels of a dotted name, with the root label.
  Bytes& name(std::string_view dotted) {
    labels(dotted);
    return u8(0);
  }
  // Labels without the root label (to be followed by a pointer).
  Bytes& labels(std::string_view dotted) {
    while (!dotted.empty()) {
      const size_t dot = dotted.find('.');
      const std::string_view l = dotted.substr(0, dot);
      u8(static_cast<uint8_t>(l.size())).bytes(l);
      if (dot == std::string_view::npos) break;
      dotted.remove_prefix(dot + 1);
    }
    return *this;
  }
  Bytes& ptr(uint16_t off) { return u16(static_cast<uint16_t>(0xC000 | off)); }
  Bytes& header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0,
                uint16_t ar = 0) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // RR header after the owner name.
  Bytes& rr(uint16_t type, uint32_t ttl, uint16_t rdlen) { return u16(type).u16(1).u32(ttl).u16(rdlen); }
  size_t size() const { return b.size(); }
};

bool Parse(const std::vector<uint8_t>& b, DnsMessage& m, std::string* err = nullptr) {
  return ParseDnsMessage(b.data(), b.size(), m, err);
}

// www.Example.com A? -> CNAME, A, AAAA, MX, TXT, all with compression pointers.
std::vector<uint8_t> FullResponse() {
  Bytes m;
  m.header(0xBEEF, 0x8180, 1, 5);
  m.name("www.Example.com").u16(kTypeA).u16(1);  // question name at 12
  // CNAME www.Example.com -> cdn.example.net
  m.ptr(12).rr(kTypeCNAME, 300, 0);
  const size_t rdlen_at = m.size() - 2;
  const size_t cname_target = m.size();
  m.labels("cdn").name("example.net");
  const uint16_t len = static_cast<uint16_t>(m.size() - cname_target);
  m.b[rdlen_at] = static_cast<uint8_t>(len >> 8);
  m.b[rdlen_at + 1] = static_cast<uint8_t>(len);
  // A cdn.example.net 192.0.2.7
  m.ptr(static_cast<uint16_t>(cname_target)).rr(kTypeA, 60, 4).raw({192, 0, 2, 7});
  // AAAA 2001:db8::1
  m.ptr(static_cast<uint16_t>(cname_target)).rr(kTypeAAAA, 61, 16);
  m.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  // MX 10 mail.example.com (mail + pointer to "Example.com" at offset 16)
  m.ptr(16).rr(kTypeMX, 3600, 2 + 5 + 2).u16(10).labels("mail").ptr(16);
  // TXT "hi"
  m.ptr(16).rr(kTypeTXT, 5, 3).u8(2).bytes("hi");
  return m.b;
}

TEST(WireTest, ParsesResponseWithCompression) {
  DnsMessage m;
  std::string err;
  const auto b = FullResponse();
  ASSERT_TRUE(Parse(b, m, &err)) << err;
  EXPECT_EQ(m.id, 0xBEEF);
  EXPECT_TRUE(m.qr);
  EXPECT_EQ(m.opcode, 0);
  EXPECT_EQ(m.rcode, 0);
  EXPECT_EQ(m.qname, "www.Example.com");
  EXPECT_EQ(m.qtype, kTypeA);
  EXPECT_EQ(m.qclass, 1);
  ASSERT_EQ(m.answers.size(), 5u);
  EXPECT_EQ(m.answers[0].name, "www.Example.com");
  EXPECT_EQ(m.answers[0].type, kTypeCNAME);
  EXPECT_EQ(m.answers[0].ttl, 300u);
  EXPECT_EQ(m.answers[0].data, "cdn.example.net");
  EXPECT_FALSE(m.answers[0].is_address);
  EXPECT_EQ(m.answers[1].name, "cdn.example.net");
  EXPECT_EQ(m.answers[1].data, "192.0.2.7");
  EXPECT_TRUE(m.answers[1].is_address);
  EXPECT_EQ(m.answers[1].addr, *IpAddr::Parse("192.0.2.7"));
  EXPECT_EQ(m.answers[2].type, kTypeAAAA);
  EXPECT_EQ(m.answers[2].data, "2001:db8::1");
  EXPECT_TRUE(m.answers[2].is_address);
  EXPECT_EQ(m.answers[2].addr, *IpAddr::Parse("2001:db8::1"));
  EXPECT_EQ(m.answers[3].type, kTypeMX);
  EXPECT_EQ(m.answers[3].name, "Example.com");
  EXPECT_EQ(m.answers[3].data, "mail.Example.com");
  EXPECT_EQ(m.answers[4].type, kTypeTXT);
  EXPECT_EQ(m.answers[4].data, "\\# 3 026869");
  EXPECT_EQ(m.answers_end, b.size());
  EXPECT_TRUE(PlausibleDnsMessage(b.data(), b.size(), m));

  // Reusing the message object gives the same result.
  ASSERT_TRUE(Parse(b, m, &err)) << err;
  EXPECT_EQ(m.answers.size(), 5u);
  EXPECT_EQ(m.answers[3].data, "mail.Example.com");
}

TEST(WireTest, EveryTruncationIsMalformedAndSafe) {
  const auto full = FullResponse();
  DnsMessage m;
  for (size_t k = 0; k < full.size(); ++k) {
    // An exact-size heap copy, so that AddressSanitizer sees any read past the end.
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(k));
    std::string err;
    EXPECT_FALSE(ParseDnsMessage(cut.empty() ? nullptr : cut.data(), cut.size(), m, &err))
        << "length " << k;
    EXPECT_FALSE(err.empty()) << "length " << k;
  }
}

TEST(WireTest, ForwardPointerIsMalformed) {
  Bytes m;
  m.header(1, 0x8180, 1, 0).ptr(14).name("a").u16(1).u16(1);
  DnsMessage msg;
  std::string err;
  EXPECT_FALSE(Parse(m.b, msg, &err));
  EXPECT_NE(err.find("backwards"), std::string::npos) << err;
}

TEST(WireTest, SelfPointerIsMalformed) {
  Bytes m;
  m.header(1, 0x8180, 1, 0).ptr(12).u16(1).u16(1);
  DnsMessage msg;
  std::string err;
  EXPECT_FALSE(Parse(m.b, msg, &err));
  EXPECT_NE(err.find("backwards"), std::string::npos) << err;
}

TEST(WireTest, ChainLoopIsMalformed) {
  // The answer's owner name: labels "x", "y", then a pointer back to "y" -- backwards from the
  // pointer, but into the run that holds it, so following it would loop for ever.
  Bytes m;
  m.header(1, 0x8180, 1, 1).name("q").u16(1).u16(1);
  const size_t x = m.size();
  m.labels("x.y").ptr(static_cast<uint16_t>(x + 2)).rr(kTypeA, 1, 4).raw({1, 2, 3, 4});
  DnsMessage msg;
  std::string err;
  EXPECT_FALSE(Parse(m.b, msg, &err));
  EXPECT_NE(err.find("backwards"), std::string::npos) << err;

  // Two names pointing into each other: the first points forward (to the second).
  Bytes t;
  t.header(1, 0x8180, 2, 0);
  t.labels("a").ptr(19).u16(1).u16(1);  // name at 12..15, type/class 16..19; 19 is forward
  t.labels("b").ptr(12).u16(1).u16(1);
  EXPECT_FALSE(Parse(t.b, msg, &err));
}

TEST(WireTest, PointerChainLengthIsCapped) {
  // 200 questions: the first is "end", each next one a pointer to the previous pointer.
  Bytes m;
  const int q = 200;
  m.header(1, 0x8180, q, 0).name("end").u16(1).u16(1);
  uint16_t prev = 12;
  for (int i = 1; i < q; ++i) {
    const auto at = static_cast<uint16_t>(m.size());
    m.ptr(prev).u16(1).u16(1);
    prev = at;
  }
  DnsMessage msg;
  std::string err;
  EXPECT_FALSE(Parse(m.b, msg, &err));
  EXPECT_NE(err.find("too many compression pointers"), std::string::npos) << err;

  // The same with kMaxNameJumps questions parses: a chain of 127 jumps is fine.
  Bytes ok;
  ok.header(1, 0x8180, kMaxNameJumps, 0).name("end").u16(1).u16(1);
  prev = 12;
  for (int i = 1; i < kMaxNameJumps; ++i) {
    const auto at = static_cast<uint16_t>(ok.size());
    ok.ptr(prev).u16(1).u16(1);
    prev = at;
  }
  EXPECT_TRUE(Parse(ok.b, msg, &err)) << err;
}

TEST(WireTest, LabelAndNameLimits) {
  DnsMessage msg;
  std::string err;
  // A length byte of 64 has the 0x40 bits: an (unsupported) extended label type.
  Bytes l64;
  l64.header(1, 0x8180, 1, 0).u8(64).bytes(std::string(64, 'a')).u8(0).u16(1).u16(1);
  EXPECT_FALSE(Parse(l64.b, msg, &err));
  // 63 is the longest label.
  Bytes l63;
  l63.header(1, 0x8180, 1, 0).u8(63).bytes(std::string(63, 'a')).u8(0).u16(1).u16(1);
  EXPECT_TRUE(Parse(l63.b, msg, &err)) << err;
  EXPECT_EQ(msg.qname, std::string(63, 'a'));
  // 255 wire bytes: 3 x 63-byte labels + one 61-byte label + root = 3*64 + 62 + 1 = 255.
  Bytes n255;
  n255.header(1, 0x8180, 1, 0);
  for (int i = 0; i < 3; ++i) n255.u8(63).bytes(std::string(63, 'b'));
  n255.u8(61).bytes(std::string(61, 'c')).u8(0).u16(1).u16(1);
  EXPECT_TRUE(Parse(n255.b, msg, &err)) << err;
  // 256 wire bytes.
  Bytes n256;
  n256.header(1, 0x8180, 1, 0);
  for (int i = 0; i < 3; ++i) n256.u8(63).bytes(std::string(63, 'b'));
  n256.u8(62).bytes(std::string(62, 'c')).u8(0).u16(1).u16(1);
  EXPECT_FALSE(Parse(n256.b, msg, &err));
  EXPECT_NE(err.find("255"), std::string::npos) << err;
  // Compression does not get around the limit: the long suffix repeated through a pointer.
  Bytes viaptr;
  viaptr.header(1, 0x8180, 2, 0);
  for (int i = 0; i < 3; ++i) viaptr.u8(63).bytes(std::string(63, 'b'));
  viaptr.u8(0).u16(1).u16(1);
  viaptr.u8(63).bytes(std::string(63, 'd')).ptr(12).u16(1).u16(1);
  EXPECT_FALSE(Parse(viaptr.b, msg, &err));
}

TEST(WireTest, EscapesUnprintableBytesAndDots) {
  Bytes m;
  m.header(7, 0x8180, 1, 0).u8(8).raw({'a', '.', 'b', ' ', 'c', 0xff, '\\', 0x01}).name("Com");
  m.u16(1).u16(1);
  DnsMessage msg;
  std::string err;
  ASSERT_TRUE(Parse(m.b, msg, &err)) << err;
  EXPECT_EQ(msg.qname, "a\\046b\\032c\\255\\092\\001.Com");
}

TEST(WireTest, RootAndNoQuestion) {
  DnsMessage msg;
  std::string err;
  Bytes root;
  root.header(1, 0x8180, 1, 0).u8(0).u16(kTypeNS).u16(1);
  ASSERT_TRUE(Parse(root.b, msg, &err)) << err;
  EXPECT_EQ(msg.qname, "");
  EXPECT_EQ(msg.qtype, kTypeNS);
  Bytes none;
  none.header(1, 0x8400, 0, 1).name("x.local").rr(kTypeA, 120, 4).raw({10, 0, 0, 1});
  ASSERT_TRUE(Parse(none.b, msg, &err)) << err;
  EXPECT_EQ(msg.qdcount, 0);
  EXPECT_EQ(msg.qname, "");
  EXPECT_EQ(msg.qtype, 0);
  ASSERT_EQ(msg.answers.size(), 1u);
  EXPECT_EQ(msg.answers[0].data, "10.0.0.1");
  EXPECT_FALSE(PlausibleDnsMessage(none.b.data(), none.size(), msg));  // no question
}

TEST(WireTest, AddressLengthMustMatch) {
  DnsMessage msg;
  std::string err;
  Bytes a5;
  a5.header(1, 0x8180, 1, 1).name("a.b").u16(1).u16(1).ptr(12).rr(kTypeA, 1, 5).raw({1, 2, 3, 4, 5});
  EXPECT_FALSE(Parse(a5.b, msg, &err));
  EXPECT_NE(err.find("A record"), std::string::npos) << err;
  Bytes aaaa4;
  aaaa4.header(1, 0x8180, 1, 1).name("a.b").u16(28).u16(1).ptr(12).rr(kTypeAAAA, 1, 4).raw({1, 2, 3, 4});
  EXPECT_FALSE(Parse(aaaa4.b, msg, &err));
  EXPECT_NE(err.find("AAAA"), std::string::npos) << err;
}

TEST(WireTest, OtherRecordData) {
  DnsMessage msg;
  std::string err;
  Bytes m;
  m.header(1, 0x8183, 1, 3).name("a.b").u16(1).u16(1);
  m.ptr(12).rr(99, 1, 0);                                // empty rdata of an unknown type
  m.ptr(12).rr(kTypePTR, 1, 2).ptr(12);                  // PTR to a.b
  m.ptr(12).rr(kTypeNS, 1, 3).u8(1).bytes("n").u8(0);    // NS n
  ASSERT_TRUE(Parse(m.b, msg, &err)) << err;
  EXPECT_EQ(msg.rcode, 3);
  ASSERT_EQ(msg.answers.size(), 3u);
  EXPECT_EQ(msg.answers[0].data, "\\# 0");
  EXPECT_EQ(msg.answers[1].data, "a.b");
  EXPECT_EQ(msg.answers[2].data, "n");

  // A CNAME whose name ends before its rdata does.
  Bytes c;
  c.header(1, 0x8180, 1, 1).name("a.b").u16(1).u16(1).ptr(12).rr(kTypeCNAME, 1, 4).ptr(12).u16(0);
  EXPECT_FALSE(Parse(c.b, msg, &err));
  // An MX whose exchange runs past its rdata.
  Bytes mx;
  mx.header(1, 0x8180, 1, 1).name("a.b").u16(1).u16(1).ptr(12).rr(kTypeMX, 1, 3).u16(5).name("zz");
  EXPECT_FALSE(Parse(mx.b, msg, &err));
}

TEST(WireTest, PlausibleNeedsExactEnd) {
  auto b = FullResponse();
  DnsMessage msg;
  ASSERT_TRUE(Parse(b, msg));
  EXPECT_TRUE(PlausibleDnsMessage(b.data(), b.size(), msg));
  b.push_back(0);
  ASSERT_TRUE(Parse(b, msg));  // trailing bytes are not read by the parser
  EXPECT_FALSE(PlausibleDnsMessage(b.data(), b.size(), msg));
}

TEST(WireTest, RandomMutationsNeverCrash) {
  const auto base = FullResponse();
  std::mt19937 rng(12345);
  DnsMessage msg;
  std::string err;
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b = base;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    std::vector<uint8_t> exact(b);  // exact-size heap buffer
    if (ParseDnsMessage(exact.data(), exact.size(), msg, &err)) {
      ++parsed;
      PlausibleDnsMessage(exact.data(), exact.size(), msg);
    }
  }
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b(12 + rng() % 100);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    if (ParseDnsMessage(b.data(), b.size(), msg, &err)) PlausibleDnsMessage(b.data(), b.size(), msg);
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace fluxscore::dns
