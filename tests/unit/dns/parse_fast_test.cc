// The fast paths of the text log readers against the straightforward code they replaced:
// IpAddr::Parse (hand-written dotted quad and inet_pton6 clone) against the former ParseV4 and
// inet_pton, ParseDouble/ParseTtl (SWAR decimals) against std::from_chars bit for bit,
// SplitPositions/SplitFast against repeated string_view::find, and InferAnswer against its
// former classification. Millions of random and adversarial inputs each.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ingest/common.h"
#include "fluxscore/dns/ip.h"

namespace fluxscore::dns {
namespace {

// ---- The former code, kept here as the reference. ----

bool SlowParseV4(std::string_view t, uint32_t& out) {
  if (t.size() < 7 || t.size() > 15) return false;
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    uint32_t x = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9' && i - start < 3) x = x * 10 + static_cast<uint32_t>(t[i++] - '0');
    if (i == start || x > 255 || (i - start > 1 && t[start] == '0')) return false;
    v = (v << 8) | x;
  }
  if (i != t.size()) return false;
  out = v;
  return true;
}

std::optional<IpAddr> SlowParse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    uint32_t v;
    if (!SlowParseV4(text, v)) return std::nullopt;
    return IpAddr::FromV4(v);
  }
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr a;
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(a.bytes.data(), &v6, 16);
  return a;
}

bool SlowParseDouble(std::string_view s, double& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && std::isfinite(out);
}

bool SlowParseTtl(std::string_view s, uint32_t& out) {
  double d;
  if (!SlowParseDouble(s, d)) return false;
  if (d < 0 || d > 2147483647.0 || d != std::floor(d)) return false;
  out = static_cast<uint32_t>(d);
  return true;
}

size_t SlowSplit(std::string_view line, char sep, std::vector<std::string_view>& out, size_t max) {
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

bool SlowInferAnswer(std::string_view data, uint16_t qtype, uint32_t ttl, Answer& a) {
  a.ttl = ttl;
  a.data.assign(data);
  if (auto ip = SlowParse(data)) {
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

// ---- Generators. ----

struct Gen {
  std::mt19937_64 rng;
  explicit Gen(uint64_t seed) : rng(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(rng() % n); }
  bool Chance(int percent) { return Below(100) < static_cast<size_t>(percent); }
  char From(std::string_view set) { return set[Below(set.size())]; }

  std::string Octet() {
    switch (Below(6)) {
      case 0: return std::to_string(Below(10));
      case 1: return std::to_string(Below(100));
      case 2: return std::to_string(Below(256));
      case 3: return std::to_string(250 + Below(10));  // around 255
      case 4: return std::string("0") + std::to_string(Below(100));  // leading zero
      default: return std::to_string(Below(1000));
    }
  }
  std::string V4() {
    std::string s = Octet();
    const size_t parts = Chance(90) ? 4 : 1 + Below(6);
    for (size_t i = 1; i < parts; ++i) s += "." + Octet();
    return s;
  }
  std::string V6() {
    uint8_t b[16];
    for (auto& x : b) x = Chance(40) ? 0 : static_cast<uint8_t>(rng());
    if (Chance(20)) {  // IPv4-mapped or -compatible: printed with a dotted quad
      std::memset(b, 0, 10);
      b[10] = b[11] = Chance(70) ? 0xff : 0;
    }
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, b, buf, sizeof buf);
    std::string s = buf;
    if (Chance(20))
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (Chance(10)) {  // spelled out without "::"
      s.clear();
      for (int i = 0; i < 8; ++i) {
        if (i) s += ':';
        char g[8];
        std::snprintf(g, sizeof g, Chance(50) ? "%x" : "%04x", (b[2 * i] << 8) | b[2 * i + 1]);
        s += g;
      }
    }
    if (Chance(10)) s = s.substr(0, s.rfind(':') + 1) + V4();  // embedded dotted quad
    return s;
  }
  std::string Mutate(std::string s) {
    static constexpr std::string_view kBytes("0123456789abcdefABCDEFgx:..::  \t-\0\xff", 36);
    const size_t edits = Below(4);
    for (size_t i = 0; i < edits; ++i) {
      const size_t at = s.empty() ? 0 : Below(s.size() + 1);
      switch (Below(3)) {
        case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), From(kBytes)); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        default: if (at < s.size()) s[at] = From(kBytes); break;
      }
    }
    return s;
  }
  std::string Random(std::string_view alphabet, size_t max_len) {
    std::string s(Below(max_len + 1), ' ');
    for (auto& c : s) c = From(alphabet);
    return s;
  }
  std::string Address() {
    switch (Below(8)) {
      case 0: return V4();
      case 1: return V6();
      case 2: return Mutate(V4());
      case 3: case 4: return Mutate(V6());
      case 5: return Random("0123456789.", 18);
      case 6: return Random(std::string_view("0123456789abcdefABCDEF:.\0", 25), 48);
      default: return Random("0123456789abcdef:.xyz-", 20);
    }
  }

  std::string Digits(size_t n) {
    std::string s(n, '0');
    for (auto& c : s) c = static_cast<char>('0' + Below(10));
    return s;
  }
  std::string Decimal() {
    switch (Below(10)) {
      case 0: return Digits(10) + "." + Digits(6);  // Zeek ts
      case 1: return Digits(1 + Below(13)) + "." + Digits(6);  // Zeek intervals, TTLs
      case 2: return Digits(1 + Below(6)) + ".000000";
      case 3: return Digits(Below(22)) + (Chance(70) ? "." : "") + Digits(Below(22));
      case 4: return Digits(1 + Below(20));
      case 5: return (Chance(50) ? "+" : "-") + Digits(1 + Below(8)) + "." + Digits(Below(8));
      case 6: return Digits(1 + Below(5)) + "e" + (Chance(50) ? "-" : "") + Digits(1 + Below(3));
      case 7: return "9007199254740" + Digits(3) + (Chance(50) ? "" : "." + Digits(Below(4)));
      case 8: return Mutate(Digits(1 + Below(13)) + "." + Digits(6));
      default: return Random("0123456789.+-eEinfa x", 22);
    }
  }
};

std::string Show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out;
}

// ---- Tests. ----

// FLUXSCORE_PARSE_FAST_SEED and FLUXSCORE_PARSE_FAST_SCALE (a multiplier of the counts) run
// other and longer random sequences by hand.
uint64_t Seed(uint64_t fixed) {
  const char* e = std::getenv("FLUXSCORE_PARSE_FAST_SEED");
  return e == nullptr ? fixed : fixed * 1000003 + std::strtoull(e, nullptr, 10);
}
int Count(int n) {
  const char* e = std::getenv("FLUXSCORE_PARSE_FAST_SCALE");
  return e == nullptr ? n : n * std::max(1, std::atoi(e));
}

TEST(ParseFastTest, IpAddrParseMatchesTheFormerParser) {
  Gen g(Seed(1));
  for (int i = 0; i < Count(1'500'000); ++i) {
    const std::string s = g.Address();
    const auto fast = IpAddr::Parse(s);
    const auto slow = SlowParse(s);
    ASSERT_EQ(fast.has_value(), slow.has_value()) << '"' << Show(s) << '"';
    if (fast) {
      ASSERT_EQ(*fast, *slow) << '"' << Show(s) << '"';
    }
  }
}

TEST(ParseFastTest, DottedQuadsMatchInetPton) {
  Gen g(Seed(2));
  for (int i = 0; i < Count(1'000'000); ++i) {
    std::string s = g.Chance(50) ? g.V4() : g.Mutate(g.V4());
    s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
    if (s.find(':') != std::string::npos) continue;
    in_addr v4;
    const bool want = inet_pton(AF_INET, s.c_str(), &v4) == 1;
    const auto got = IpAddr::Parse(s);
    ASSERT_EQ(got.has_value(), want) << '"' << Show(s) << '"';
    if (want) {
      ASSERT_EQ(0, std::memcmp(got->bytes.data() + 12, &v4, 4)) << s;
    }
  }
}

TEST(ParseFastTest, EdgeAddresses) {
  for (const char* s :
       {"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3",
        "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4 ", "1234.1.1.1", "1.2.3.255", "1.2.3.256",
        "::", "::1", "1::", ":::", "1:::2", "::ffff:1.2.3.4", "::ffff:1.2.3", "::1.2.3.4",
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "12345::", "1::2::3", ":1::", "1:",
        "::ffff:01.2.3.4", "::ffff:1a.2.3.4", "fe80::1%eth0", "2001:DB8::G", "2001:db8::/32",
        "0:0:0:0:0:0:0:0", "::0:0", "0::", "2001:db8:1f:a0::17", "2001:DB8:1F:A0::17",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1:2:3:4:5:6:7::8", "1:2:3:4::5:6:7",
        "1:2:3:4:5:6::7", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7", "1::2:3:4:5:6:7:8",
        "12345:1:2:3:4:5:6:7", "1:2:3:4:5:6:7:12345", "01234::", ":1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:", "::1:", ":::1", "1::2:", "a:b:c:d:e:f:0:1", "A:B:C:D:E:F:0:1"}) {
    const auto fast = IpAddr::Parse(s);
    const auto slow = SlowParse(s);
    ASSERT_EQ(fast.has_value(), slow.has_value()) << s;
    if (fast) {
      EXPECT_EQ(*fast, *slow) << s;
    }
  }
  // inet_pton reads up to a NUL byte; so does Parse.
  for (std::string_view s : {std::string_view("::1\0zz", 6), std::string_view("1:\0", 3),
                             std::string_view("::ffff:1.2.3.4\0", 15), std::string_view("1.2.3.4\0", 8)}) {
    const auto fast = IpAddr::Parse(s);
    const auto slow = SlowParse(s);
    ASSERT_EQ(fast.has_value(), slow.has_value()) << Show(s);
    if (fast) {
      EXPECT_EQ(*fast, *slow) << Show(s);
    }
  }
}

// IPv6 text of the shape PtonV6's fast path takes (hex groups, ':' and "::") and texts just off
// it: group counts around eight, groups of zero to five digits, "::" anywhere, once or twice,
// ':' at either end, upper case, a dotted quad or a zone id at the end; against inet_pton.
TEST(ParseFastTest, Ipv6GroupsMatchInetPton) {
  Gen g(Seed(7));
  static constexpr std::string_view kHexDigits = "0123456789abcdefABCDEF";
  for (int i = 0; i < Count(1'500'000); ++i) {
    const size_t groups = g.Below(11);
    const size_t gaps = g.Chance(20) ? 0 : g.Chance(90) ? 1 : 2;
    std::vector<std::string> parts;
    for (size_t k = 0; k < groups; ++k) {
      const size_t digits = g.Chance(3) ? (g.Chance(50) ? 0 : 5) : 1 + g.Below(4);
      std::string grp;
      for (size_t d = 0; d < digits; ++d) grp += g.Chance(60) ? g.From("01") : g.From(kHexDigits);
      parts.push_back(grp);
    }
    std::string s;
    std::vector<size_t> gap_at;
    for (size_t k = 0; k < gaps; ++k) gap_at.push_back(g.Below(groups + 1));
    for (size_t k = 0; k <= groups; ++k) {
      const bool gap = std::count(gap_at.begin(), gap_at.end(), k) > 0;
      if (gap) s += "::";
      if (k == groups) break;
      if (k > 0 && !gap) s += ':';
      s += parts[k];
    }
    if (g.Chance(3)) s = ':' + s;
    if (g.Chance(3)) s += ':';
    if (g.Chance(3)) s += g.Chance(50) ? "%eth0" : (s.empty() || s.back() == ':' ? "" : ":") + g.V4();
    if (g.Chance(10)) s = g.Mutate(s);
    const auto fast = IpAddr::Parse(s);
    const auto slow = SlowParse(s);
    ASSERT_EQ(fast.has_value(), slow.has_value()) << '"' << Show(s) << '"';
    if (fast) {
      ASSERT_EQ(*fast, *slow) << '"' << Show(s) << '"';
    }
  }
}

TEST(ParseFastTest, ParseDoubleIsBitIdenticalToFromChars) {
  Gen g(Seed(3));
  for (int i = 0; i < Count(2'000'000); ++i) {
    const std::string s = g.Decimal();
    double fast = -1, slow = -1;
    const bool f = ParseDouble(s, fast);
    const bool w = SlowParseDouble(s, slow);
    ASSERT_EQ(f, w) << '"' << Show(s) << '"';
    if (f) {
      ASSERT_EQ(0, std::memcmp(&fast, &slow, sizeof fast)) << '"' << s << "\": " << fast << " vs " << slow;
    }
    uint32_t ft = 7, st = 7;
    const bool tf = ParseTtl(s, ft);
    const bool ts = SlowParseTtl(s, st);
    ASSERT_EQ(tf, ts) << '"' << Show(s) << '"';
    if (tf) {
      ASSERT_EQ(ft, st) << s;
    }
  }
}

TEST(ParseFastTest, DecimalEdges) {
  for (const char* s :
       {"0", "0.0", "0.000000", "-0.000000", "+0.5", "+", "", ".", ".5", "5.", "1e3", "inf", "nan",
        "9007199254740992", "9007199254740993", "9007199254.740993", "9007199254.740992",
        "1700006412.345678", "9999999999999.999999", "99999999999999.999999", "0000000000000.000001",
        "2147483647.000000", "2147483648.000000", "2147483647.000001", "60.0000000000000000001",
        "12345678901234567890", "1234567890123456789", "00000000000000000001", "1.000000 ",
        " 1.000000", "1.00000a", "1a.000000", "1..000000", "123456789.12345", "4294967296.000000"}) {
    double fast = -1, slow = -1;
    const bool f = ParseDouble(s, fast);
    ASSERT_EQ(f, SlowParseDouble(s, slow)) << s;
    if (f) {
      EXPECT_EQ(0, std::memcmp(&fast, &slow, sizeof fast)) << s;
    }
    uint32_t ft = 0, st = 0;
    ASSERT_EQ(ParseTtl(s, ft), SlowParseTtl(s, st)) << s;
    EXPECT_EQ(ft, st) << s;
  }
}

TEST(ParseFastTest, SplittersMatchRepeatedFind) {
  Gen g(Seed(4));
  std::vector<std::string_view> slow, fast;
  std::vector<size_t> ends;
  for (int i = 0; i < Count(1'000'000); ++i) {
    const char sep = g.From(",\t|\\ ");
    std::string alphabet = "ab-.\\x";
    alphabet.push_back(sep);
    alphabet.push_back(sep);
    const size_t len = g.Chance(80) ? g.Below(40) : g.Below(400);
    const std::string line = g.Random(alphabet, len);
    const size_t max = g.Chance(50) ? 1 + g.Below(40) : (g.Chance(50) ? 0 : 4096);
    const size_t want = SlowSplit(line, sep, slow, max);
    ASSERT_EQ(SplitFast(line, sep, fast, max), want) << Show(line);
    ASSERT_EQ(fast, slow) << Show(line);
    ends.assign(max + 64, 0);
    bool backslash = false;
    const size_t got = SplitPositions(line, sep, ends.data(), max, &backslash);
    ASSERT_EQ(got, want) << Show(line) << " max " << max;
    if (got <= max) {
      ASSERT_EQ(backslash, line.find('\\') != std::string::npos) << Show(line);
      for (size_t k = 0; k < got; ++k) {
        const size_t b = k == 0 ? 0 : ends[k - 1] + 1;
        ASSERT_EQ(std::string_view(line).substr(b, ends[k] - b), slow[k]) << Show(line) << " field " << k;
      }
    }
  }
}

TEST(ParseFastTest, InferAnswerMatchesTheFormerClassification) {
  Gen g(Seed(5));
  static constexpr uint16_t kTypes[] = {0, kTypeA, kTypeAAAA, kTypeCNAME, kTypeMX, kTypeNS, 255, 99};
  for (int i = 0; i < Count(1'000'000); ++i) {
    std::string d;
    switch (g.Below(6)) {
      case 0: case 1: d = g.Address(); break;
      case 2: d = g.Random("abcdefgh.-xyz019", 30); break;
      case 3: d = g.Chance(50) ? "TXT " + g.Random("ab c", 10) : "<unknown type=" + g.Random("0123456789x", 7) + ">"; break;
      case 4: d = g.Mutate(g.Chance(50) ? "<unknown type=65>" : "TXT x"); break;
      default: d = g.Random(std::string_view("0123456789abcdefABCDEF:.g\0", 27), 20); break;
    }
    const uint16_t qtype = kTypes[g.Below(8)];
    Answer fast, slow;
    fast.addr = slow.addr = IpAddr::FromV4(0x01020304);  // stale values a reused Answer may hold
    fast.type = slow.type = 77;
    const bool f = InferAnswer(d, qtype, 60, fast);
    ASSERT_EQ(f, SlowInferAnswer(d, qtype, 60, slow)) << '"' << Show(d) << '"';
    EXPECT_EQ(fast.type, slow.type) << Show(d);
    EXPECT_EQ(fast.ttl, slow.ttl);
    EXPECT_EQ(fast.is_address, slow.is_address) << Show(d);
    EXPECT_EQ(fast.addr, slow.addr) << Show(d);
    EXPECT_EQ(fast.data, slow.data);
  }
}

}  // namespace
}  // namespace fluxscore::dns

namespace fluxscore::dns {
namespace {

// IpAddr::ToString writes IPv4 itself: the same text as inet_ntop for every byte value in every
// position, and for random addresses.
TEST(IpToStringFast, DottedQuadMatchesInetNtop) {
  auto ntop = [](uint32_t v) {
    in_addr a;
    a.s_addr = htonl(v);
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return std::string(buf);
  };
  for (uint32_t pos = 0; pos < 4; ++pos)
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t v = (b << (8 * pos)) | (pos == 0 ? 0x0a000000u : 7u);
      ASSERT_EQ(IpAddr::FromV4(v).ToString(), ntop(v)) << v;
    }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t v = static_cast<uint32_t>(rng());
    ASSERT_EQ(IpAddr::FromV4(v).ToString(), ntop(v)) << v;
  }
  EXPECT_EQ(IpAddr::FromV4(0).ToString(), "0.0.0.0");
  EXPECT_EQ(IpAddr::FromV4(0xffffffffu).ToString(), "255.255.255.255");
}

// IPv6 too: the text of inet_ntop (RFC 5952 compression, first of equal zero runs, ::a.b.c.d)
// for random addresses whose 16-bit groups are mostly zero, 0xffff or random.
TEST(IpToStringFast, Ipv6MatchesInetNtop) {
  std::mt19937_64 rng(9);
  int checked = 0;
  for (int i = 0; i < 400000; ++i) {
    IpAddr a;
    for (int g = 0; g < 8; ++g) {
      const unsigned kind = rng() % 8;
      const uint16_t v = kind < 4 ? 0 : kind == 4 ? 0xffff : kind == 5 ? static_cast<uint16_t>(rng() % 16)
                                                                    : static_cast<uint16_t>(rng());
      a.bytes[2 * g] = static_cast<uint8_t>(v >> 8);
      a.bytes[2 * g + 1] = static_cast<uint8_t>(v);
    }
    if (a.is_v4()) continue;  // written as a dotted quad (the test above)
    char buf[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf), nullptr);
    ASSERT_EQ(a.ToString(), std::string(buf));
    ++checked;
  }
  EXPECT_GT(checked, 300000);
  for (const char* text : {"::", "::1", "1::", "::1.2.3.4", "::0.1.0.0", "1:0:0:1::", "1::1:0:0:1",
                           "2001:db8::ff00:42:8329", "fe80::1:0:0:0", "::ffff:0:1"}) {
    auto ip = IpAddr::Parse(text);
    ASSERT_TRUE(ip) << text;
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, ip->bytes.data(), buf, sizeof buf);
    if (!ip->is_v4()) {
      EXPECT_EQ(ip->ToString(), std::string(buf)) << text;
    }
  }
}

}  // namespace
}  // namespace fluxscore::dns
