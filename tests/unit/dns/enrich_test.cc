// IP -> ASN / country enrichment: range CSV, prefix tables, MaxMind DB, gzip, overlap rule.
#include "fluxscore/dns/enrich.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fluxscore::dns {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(FLUXSCORE_SOURCE_DIR) + "/tests/data/ipdb/" + name;
}

IpAddr Ip(const char* text) {
  auto a = IpAddr::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddr{});
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A scratch folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "enrich_test_XXXXXX";
    char* d = mkdtemp(tmpl.data());
    EXPECT_NE(d, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::ofstream f(p, std::ios::binary);
    f << content;
    return p;
  }
  std::string WriteGz(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    gzFile gz = gzopen(p.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    EXPECT_EQ(gzwrite(gz, content.data(), static_cast<unsigned>(content.size())),
              static_cast<int>(content.size()));
    gzclose(gz);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ASN of an address, or -1 when unknown.
int64_t AsnOf(const Enricher& e, const char* ip) {
  auto h = e.Asn(Ip(ip));
  return h ? static_cast<int64_t>(h->asn) : -1;
}

std::string CountryOf(const Enricher& e, const char* ip) {
  auto c = e.Country(Ip(ip));
  return c ? std::string(*c) : "-";
}

Status LoadAsn(const std::string& path) {
  Enricher e;
  return e.AddAsnSource(path);
}

Status LoadCountry(const std::string& path) {
  Enricher e;
  return e.AddCountrySource(path);
}

Enricher MustAsn(const std::string& path) {
  Enricher e;
  Status st = e.AddAsnSource(path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return e;
}

Enricher MustCountry(const std::string& path) {
  Enricher e;
  Status st = e.AddCountrySource(path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return e;
}

// ---- Range CSV -----------------------------------------------------------------------------

TEST(EnrichCsv, Ipv4LookupsWithOrganisation) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  EXPECT_TRUE(e.has_asn());
  EXPECT_FALSE(e.has_country());
  auto h = e.Asn(Ip("1.1.1.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 13335u);
  EXPECT_EQ(h->org, "Cloudflare, Inc.");  // quoted comma
  h = e.Asn(Ip("8.8.8.8"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 15169u);
  EXPECT_EQ(h->org, "Google LLC");
  h = e.Asn(Ip("10.0.0.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->org, "Wide \"Private\" Net");  // "" escapes
  h = e.Asn(Ip("10.2.0.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 64515u);
  EXPECT_EQ(h->org, "");  // empty organisation
}

TEST(EnrichCsv, RangeBoundaries) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  EXPECT_EQ(AsnOf(e, "1.1.1.0"), 13335);    // first address
  EXPECT_EQ(AsnOf(e, "1.1.1.255"), 13335);  // last address
  EXPECT_EQ(AsnOf(e, "1.1.2.0"), -1);       // one beyond
  EXPECT_EQ(AsnOf(e, "1.1.0.255"), -1);     // one before
  EXPECT_EQ(AsnOf(e, "0.0.0.0"), -1);
  EXPECT_EQ(AsnOf(e, "255.255.255.255"), 65000);
  EXPECT_EQ(AsnOf(e, "255.255.254.255"), -1);
  EXPECT_EQ(AsnOf(e, "::"), -1);
  EXPECT_EQ(AsnOf(e, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65001);
  EXPECT_EQ(AsnOf(e, "ffff:fffe:ffff:ffff:ffff:ffff:ffff:ffff"), -1);
}

TEST(EnrichCsv, NestedRangesGreatestContainingStartWins) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  EXPECT_EQ(AsnOf(e, "10.0.0.0"), 64512);
  EXPECT_EQ(AsnOf(e, "10.1.0.0"), 64513);  // later, narrower range inside the wide one
  EXPECT_EQ(AsnOf(e, "10.1.2.7"), 64514);  // nested twice
  EXPECT_EQ(AsnOf(e, "10.1.2.255"), 64514);
  EXPECT_EQ(AsnOf(e, "10.1.3.0"), 64513);  // after the narrowest: back to the middle one
  EXPECT_EQ(AsnOf(e, "10.1.255.255"), 64513);
  EXPECT_EQ(AsnOf(e, "10.3.0.0"), 64512);  // after the narrow ones: back to the wide one
  EXPECT_EQ(AsnOf(e, "10.255.255.255"), 64512);
  EXPECT_EQ(AsnOf(e, "11.0.0.0"), -1);
}

TEST(EnrichCsv, PartialOverlapGreaterStartWins) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  EXPECT_EQ(AsnOf(e, "20.0.0.127"), 100);
  EXPECT_EQ(AsnOf(e, "20.0.0.128"), 200);
  EXPECT_EQ(AsnOf(e, "20.0.0.255"), 200);
  EXPECT_EQ(AsnOf(e, "20.0.1.255"), 200);
  EXPECT_EQ(AsnOf(e, "20.0.2.0"), -1);
}

TEST(EnrichCsv, EqualStartsNarrowerWins) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  EXPECT_EQ(AsnOf(e, "30.0.0.0"), 301);
  EXPECT_EQ(AsnOf(e, "30.0.0.255"), 301);
  EXPECT_EQ(AsnOf(e, "30.0.1.0"), 300);
}

TEST(EnrichCsv, FileOrderDoesNotMatter) {
  Enricher e = MustAsn(Fixture("asn.csv"));  // 40.0.5.0/24 is listed before 40.0.0.0/8
  EXPECT_EQ(AsnOf(e, "40.0.4.255"), 400);
  EXPECT_EQ(AsnOf(e, "40.0.5.0"), 401);
  EXPECT_EQ(AsnOf(e, "40.0.5.255"), 401);
  EXPECT_EQ(AsnOf(e, "40.0.6.0"), 400);
}

TEST(EnrichCsv, IdenticalRangesEarlierLineWins) {
  TempDir d;
  Enricher e =
      MustAsn(d.Write("dup.csv", "5.0.0.0,5.0.0.255,1,first\n5.0.0.0,5.0.0.255,2,second\n"));
  auto h = e.Asn(Ip("5.0.0.9"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 1u);
  EXPECT_EQ(h->org, "first");
}

TEST(EnrichCsv, Ipv6Lookups) {
  Enricher e = MustAsn(Fixture("asn.csv"));
  auto h = e.Asn(Ip("2001:4860:4860::8888"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 15169u);
  EXPECT_EQ(h->org, "Google LLC");
  EXPECT_EQ(AsnOf(e, "2001:db8::"), 64496);
  EXPECT_EQ(AsnOf(e, "2001:db8:0:ffff:ffff:ffff:ffff:ffff"), 64496);
  EXPECT_EQ(AsnOf(e, "2001:db8:1::"), 64497);
  EXPECT_EQ(AsnOf(e, "2001:db8:1:ffff:ffff:ffff:ffff:ffff"), 64497);
  EXPECT_EQ(AsnOf(e, "2001:db8:2::"), 64496);
  EXPECT_EQ(AsnOf(e, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 64496);
  EXPECT_EQ(AsnOf(e, "2001:db9::"), -1);
  EXPECT_EQ(AsnOf(e, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), -1);
  EXPECT_EQ(AsnOf(e, "2a00:1450:4001:81c::200e"), 15169);
  // IPv4-compatible ::a.b.c.d is an IPv6 address, not the IPv4 one.
  EXPECT_EQ(AsnOf(e, "::1.1.1.1"), -1);
  // IPv4-mapped text is the IPv4 address.
  EXPECT_EQ(AsnOf(e, "::ffff:1.1.1.1"), 13335);
}

TEST(EnrichCsv, IntegerVariants) {
  TempDir d;
  // asn-ipv4-num: integers below 2^32 are IPv4.
  Enricher v4 = MustAsn(d.Write("v4num.csv", "16843008,16843263,13335,\"Cloudflare, Inc.\"\n"));
  EXPECT_EQ(AsnOf(v4, "1.1.1.1"), 13335);
  EXPECT_EQ(AsnOf(v4, "::1.1.1.1"), -1);
  // asn-ipv6-num: 128-bit integers; then small integers in the same file are IPv6 too.
  Enricher v6 = MustAsn(d.Write(
      "v6num.csv",
      "42541956101370907050197289607612071936,42541956180599069564461627201156022271,15169,Google "
      "LLC\n0,255,7,Tiny\n"));
  EXPECT_EQ(AsnOf(v6, "2001:4860:4860::8888"), 15169);
  EXPECT_EQ(AsnOf(v6, "2001:4861::"), -1);
  EXPECT_EQ(AsnOf(v6, "::5"), 7);
  EXPECT_EQ(AsnOf(v6, "0.0.0.5"), -1);
  // Overflowing 128 bits is an error.
  Status st = LoadAsn(d.Write("big.csv", "1,999999999999999999999999999999999999999999,1,x\n"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("big.csv:1:"), std::string::npos) << st.message();
}

TEST(EnrichCsv, RangesAcrossTheIpv4Block) {
  // Ranges written as IPv6 text may cover the IPv4-mapped block ::ffff:0:0/96.
  TempDir d;
  Enricher e = MustAsn(d.Write("cross.csv",
                               "::fffe:ffff:ff00,::ffff:0:ff,1,low edge\n"
                               "::ffff:ffff:ff00,::1:0:0:ff,2,high edge\n"
                               "::,::1:0:0:ffff:ffff,3,all of it\n"
                               "5.0.0.0,5.0.0.255,4,inside\n"));
  EXPECT_EQ(AsnOf(e, "::fffe:ffff:feff"), 3);
  EXPECT_EQ(AsnOf(e, "::fffe:ffff:ff00"), 1);
  EXPECT_EQ(AsnOf(e, "0.0.0.0"), 1);
  EXPECT_EQ(AsnOf(e, "0.0.0.255"), 1);
  EXPECT_EQ(AsnOf(e, "0.0.1.0"), 3);
  EXPECT_EQ(AsnOf(e, "5.0.0.1"), 4);
  EXPECT_EQ(AsnOf(e, "255.255.254.255"), 3);
  EXPECT_EQ(AsnOf(e, "255.255.255.0"), 2);
  EXPECT_EQ(AsnOf(e, "::1:0:0:0"), 2);
  EXPECT_EQ(AsnOf(e, "::1:0:0:ff"), 2);
  EXPECT_EQ(AsnOf(e, "::1:0:0:100"), 3);
  EXPECT_EQ(AsnOf(e, "::1:0:0:ffff:ffff"), 3);
  EXPECT_EQ(AsnOf(e, "::1:0:1:0:0"), -1);
}

TEST(EnrichCsv, HeaderBlankLinesAndCrlf) {
  TempDir d;
  Enricher e = MustAsn(
      d.Write("crlf.csv", "\r\nip_start,ip_end,asn,name\r\n\r\n1.2.3.0,1.2.3.255,42,Org\r\n  \n"));
  auto h = e.Asn(Ip("1.2.3.4"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 42u);
  EXPECT_EQ(h->org, "Org");
  // A UTF-8 byte order mark does not turn the first data line into a "header".
  EXPECT_EQ(AsnOf(MustAsn(d.Write("bom.csv",
                                  "\xEF\xBB\xBF"
                                  "1.2.3.0,1.2.3.255,42,Org\n")),
                  "1.2.3.4"),
            42);
  // A mistyped address on the first line is an error, not a header.
  Status typo =
      LoadAsn(d.Write("typo.csv", "1.2.3.O,1.2.3.255,42,Org\n1.2.4.0,1.2.4.255,42,Org\n"));
  EXPECT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("typo.csv:1: bad range start"), std::string::npos)
      << typo.message();
  // A header is only allowed as the first line.
  Status st = LoadAsn(d.Write("late.csv", "1.2.3.0,1.2.3.255,42,Org\nip_start,ip_end,asn,name\n"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("late.csv:2:"), std::string::npos) << st.message();
}

TEST(EnrichCsv, MalformedLinesNameFileAndLine) {
  TempDir d;
  struct Case {
    const char* line;
    const char* want;  // part of the message
  };
  const Case cases[] = {
      {"1.2.3.0,1.2.3.255,notanumber,X", "bad ASN"},
      {"1.2.3.0,1.2.3.255,4294967296,X", "bad ASN"},
      {"1.2.3.0,1.2.3.255", "expected 3 or 4"},
      {"1.2.3.0,1.2.3.255,1,a,b", "expected 3 or 4"},
      {"1.2.3.0,1.2.3.256,1,X", "bad range end"},
      {"1.2.3.0,01.2.3.255,1,X", "bad range end"},
      {"1.2.3.0,1.2.3.255,1,\"unterminated", "unterminated"},
      {"1.2.3.0,1.2.3.255,1,\"Org\"junk", "after closing quote"},
      {"1.2.3.0,16909311,1,X", "both be addresses or both be integers"},
      {"1.2.3.x,1.2.3.255,1,X", "bad range start"},
  };
  for (const Case& c : cases) {
    const std::string p = d.Write("bad.csv", std::string("9.9.9.0,9.9.9.255,1,ok\n\n") + c.line +
                                                 "\n9.9.8.0,9.9.8.255,1,ok\n");
    Status st = LoadAsn(p);
    ASSERT_FALSE(st.ok()) << c.line;
    EXPECT_EQ(st.code(), Status::Code::kDataError);
    EXPECT_NE(st.message().find(p + ":3: "), std::string::npos) << c.line << " -> " << st.message();
    EXPECT_NE(st.message().find(c.want), std::string::npos) << c.line << " -> " << st.message();
  }
}

TEST(EnrichCsv, StartAfterEndIsAnError) {
  TempDir d;
  const std::string p =
      d.Write("rev.csv", "1.0.0.0,1.0.0.255,1,ok\n2.0.0.255,2.0.0.0,2,reversed\n");
  Status st = LoadAsn(p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p + ":2: "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("after its end"), std::string::npos) << st.message();
  st = LoadAsn(d.Write("rev6.csv", "2001:db8::1,2001:db8::,1,x\n"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rev6.csv:1:"), std::string::npos) << st.message();
}

TEST(EnrichCsv, GzipCompressed) {
  TempDir d;
  Enricher e = MustAsn(d.WriteGz("asn.csv.gz", ReadFile(Fixture("asn.csv"))));
  auto h = e.Asn(Ip("1.1.1.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->org, "Cloudflare, Inc.");
  EXPECT_EQ(AsnOf(e, "10.1.3.0"), 64513);
  EXPECT_EQ(AsnOf(e, "2001:db8:1::1"), 64497);
  EXPECT_NE(e.Describe().find("gzip"), std::string::npos) << e.Describe();
  // A cut-off gzip file is an error, not a silently shorter table.
  const std::string gz = ReadFile(d.path() + "/asn.csv.gz");
  Status st = LoadAsn(d.Write("cut.csv.gz", gz.substr(0, gz.size() / 2)));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cut.csv.gz"), std::string::npos) << st.message();
}

TEST(EnrichCsv, Country) {
  Enricher e = MustCountry(Fixture("country.csv"));
  EXPECT_TRUE(e.has_country());
  EXPECT_FALSE(e.has_asn());
  EXPECT_EQ(CountryOf(e, "1.0.0.1"), "AU");
  EXPECT_EQ(CountryOf(e, "1.1.1.1"), "AU");  // "au" in the file: upper-cased
  EXPECT_EQ(CountryOf(e, "8.8.8.8"), "US");
  EXPECT_EQ(CountryOf(e, "10.0.0.1"), "DE");
  EXPECT_EQ(CountryOf(e, "10.1.0.1"), "FR");
  EXPECT_EQ(CountryOf(e, "10.2.0.1"), "DE");
  EXPECT_EQ(CountryOf(e, "9.9.9.9"), "-");
  EXPECT_EQ(CountryOf(e, "2001:4860:4860::8888"), "US");
  EXPECT_EQ(CountryOf(e, "2001:db8:1::1"), "BE");
  EXPECT_EQ(CountryOf(e, "2001:db8:2::1"), "NL");
  EXPECT_FALSE(e.Asn(Ip("8.8.8.8")));

  TempDir d;
  for (const char* bad : {"USA", "U", "1A", ""}) {
    const std::string p = d.Write("c.csv", std::string("1.0.0.0,1.0.0.255,") + bad + "\n");
    Status st = LoadCountry(p);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find(p + ":1: bad country code"), std::string::npos) << st.message();
  }
  Status st = LoadCountry(d.Write("c4.csv", "1.0.0.0,1.0.0.255,US,extra\n"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("c4.csv:1: expected 3"), std::string::npos) << st.message();
}

// ---- Prefix tables -------------------------------------------------------------------------

TEST(EnrichPrefix, LongestPrefixMatch) {
  Enricher e = MustAsn(Fixture("prefix.tsv"));
  EXPECT_EQ(AsnOf(e, "1.0.0.0"), 13335);
  EXPECT_EQ(AsnOf(e, "1.0.0.255"), 13335);
  EXPECT_EQ(AsnOf(e, "1.0.1.0"), -1);
  EXPECT_EQ(AsnOf(e, "8.8.8.8"), 15169);
  EXPECT_EQ(AsnOf(e, "8.8.9.1"), 3356);
  EXPECT_EQ(AsnOf(e, "8.9.0.0"), 3356);
  EXPECT_EQ(AsnOf(e, "8.255.255.255"), 3356);
  EXPECT_EQ(AsnOf(e, "9.0.0.0"), -1);
  EXPECT_EQ(AsnOf(e, "10.1.2.3"), 64513);  // "AS64513"
  EXPECT_EQ(AsnOf(e, "10.2.0.0"), 64512);
  EXPECT_EQ(AsnOf(e, "2001:4860:4860::8888"), 15169);
  EXPECT_EQ(AsnOf(e, "2001:db8:1::1"), 64497);
  EXPECT_EQ(AsnOf(e, "2001:db8:2::1"), 64496);
  EXPECT_EQ(AsnOf(e, "2001:db9::"), -1);
  auto h = e.Asn(Ip("8.8.8.8"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->org, "");
  EXPECT_NE(e.Describe().find("prefix table"), std::string::npos) << e.Describe();
}

TEST(EnrichPrefix, GzipCompressed) {
  TempDir d;
  Enricher e = MustAsn(d.WriteGz("ipasn_20240101.dat.gz", ReadFile(Fixture("prefix.tsv"))));
  EXPECT_EQ(AsnOf(e, "8.8.8.8"), 15169);
  EXPECT_EQ(AsnOf(e, "2001:db8:1::1"), 64497);
}

TEST(EnrichPrefix, MalformedLinesNameFileAndLine) {
  TempDir d;
  struct Case {
    const char* line;
    const char* want;
  };
  const Case cases[] = {
      {"1.2.3.0/33\t1", "bad prefix length"},
      {"1.2.3.0/\t1", "bad prefix length"},
      {"2001:db8::/129\t1", "bad prefix length"},
      {"1.2.3.4/24\t1", "host bits set"},
      {"2001:db8::1/64\t1", "host bits set"},
      {"1.2.3.0/24", "two whitespace-separated fields"},
      {"1.2.3.0/24\t1\textra", "two whitespace-separated fields"},
      {"1.2.3.0/24\tASx", "bad ASN"},
      {"1.2.3/24\t1", "bad prefix address"},
      {"1.2.3.0\t1", "bad prefix"},
  };
  for (const Case& c : cases) {
    const std::string p =
        d.Write("bad.dat", std::string("; comment\n9.9.9.0/24\t1\n") + c.line + "\n");
    Status st = LoadAsn(p);
    ASSERT_FALSE(st.ok()) << c.line;
    EXPECT_NE(st.message().find(p + ":3: "), std::string::npos) << c.line << " -> " << st.message();
    EXPECT_NE(st.message().find(c.want), std::string::npos) << c.line << " -> " << st.message();
  }
}

TEST(EnrichPrefix, CountryValues) {
  TempDir d;
  Enricher e = MustCountry(d.Write("cc.tsv", "1.0.0.0/8 au\n1.1.0.0/16 NZ\n2001:db8::/32\tNL\n"));
  EXPECT_EQ(CountryOf(e, "1.2.3.4"), "AU");
  EXPECT_EQ(CountryOf(e, "1.1.3.4"), "NZ");
  EXPECT_EQ(CountryOf(e, "2001:db8::1"), "NL");
}

// ---- MaxMind DB ----------------------------------------------------------------------------

TEST(EnrichMmdb, AsnIpv4AndIpv6) {
  Enricher e = MustAsn(Fixture("asn.mmdb"));
  auto h = e.Asn(Ip("1.1.1.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 13335u);
  EXPECT_EQ(h->org, "Cloudflare, Inc.");
  EXPECT_EQ(AsnOf(e, "8.8.8.8"), 15169);
  EXPECT_EQ(AsnOf(e, "8.8.8.255"), 15169);
  EXPECT_EQ(AsnOf(e, "8.8.9.0"), -1);
  EXPECT_EQ(AsnOf(e, "10.1.2.3"), 64513);
  EXPECT_EQ(AsnOf(e, "10.2.0.1"), 64512);
  EXPECT_EQ(AsnOf(e, "3.3.3.3"), -1);
  EXPECT_EQ(AsnOf(e, "9.9.9.9"), -1);  // a record without ASN keys is no match
  h = e.Asn(Ip("100.64.0.1"));         // ASN without organisation
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 4200000000u);
  EXPECT_EQ(h->org, "");
  h = e.Asn(Ip("2001:4860:4860::8888"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->asn, 15169u);
  EXPECT_EQ(h->org, "Google LLC");
  EXPECT_EQ(AsnOf(e, "2001:db8:1::5"), 64497);
  EXPECT_EQ(AsnOf(e, "2001:db8:2::5"), 64496);
  EXPECT_EQ(AsnOf(e, "2a00:1450:4001:81c::200e"), 15169);
  EXPECT_EQ(AsnOf(e, "2001:db9::"), -1);
  EXPECT_NE(e.Describe().find("MaxMind DB 'GeoLite2-ASN', IPv6, 28-bit"), std::string::npos)
      << e.Describe();
}

TEST(EnrichMmdb, Ipv4MappedAddressesUseTheIpv4Subtree) {
  // The fixture has no ::ffff:0:0/96 alias (like ip-location-db's databases): libmaxminddb
  // finds nothing for ::ffff:1.1.1.1 looked up as IPv6, so IPv4 must be looked up as IPv4.
  Enricher e = MustAsn(Fixture("asn.mmdb"));
  EXPECT_EQ(AsnOf(e, "::ffff:1.1.1.1"), 13335);
  EXPECT_EQ(AsnOf(e, "::ffff:8.8.8.8"), 15169);
}

TEST(EnrichMmdb, CountryLayouts) {
  Enricher e = MustCountry(Fixture("country.mmdb"));
  EXPECT_EQ(CountryOf(e, "1.1.1.1"), "AU");  // country/iso_code before registered_country
  EXPECT_EQ(CountryOf(e, "8.8.8.8"), "US");  // registered_country/iso_code
  EXPECT_EQ(CountryOf(e, "9.9.9.9"), "CH");  // country_code, upper-cased
  EXPECT_EQ(CountryOf(e, "10.1.0.1"), "FR");
  EXPECT_EQ(CountryOf(e, "10.2.0.1"), "DE");
  EXPECT_EQ(CountryOf(e, "192.0.2.1"), "-");     // no iso_code anywhere
  EXPECT_EQ(CountryOf(e, "198.51.100.1"), "-");  // not a two-letter code
  EXPECT_EQ(CountryOf(e, "3.3.3.3"), "-");
  EXPECT_EQ(CountryOf(e, "2001:4860:4860::8888"), "US");
  EXPECT_EQ(CountryOf(e, "2a00:1450::1"), "IE");
  EXPECT_EQ(CountryOf(e, "2001:db8::1"), "-");
  EXPECT_FALSE(e.Asn(Ip("1.1.1.1")));
}

// Countries are cached by data record: answers from the cache (later rounds, any order) are
// those of the first lookups, including "no country" records; two databases do not mix.
TEST(EnrichMmdb, CountryCacheGivesTheFirstAnswers) {
  Enricher e = MustCountry(Fixture("country.mmdb"));
  Enricher v4 = MustCountry(Fixture("country-v4.mmdb"));
  std::vector<const char*> ips = {"1.1.1.1", "8.8.8.8", "9.9.9.9", "10.1.0.1", "10.2.0.1",
                                  "192.0.2.1", "198.51.100.1", "3.3.3.3", "2001:4860:4860::8888",
                                  "2a00:1450::1", "2001:db8::1", "1.1.2.1"};
  std::vector<std::string> want, want_v4;
  for (const char* ip : ips) {
    want.push_back(CountryOf(e, ip));
    want_v4.push_back(CountryOf(v4, ip));
  }
  EXPECT_EQ(want[0], "AU");
  EXPECT_EQ(want[5], "-");
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> order(ips.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) {
      ASSERT_EQ(CountryOf(e, ips[i]), want[i]) << ips[i];
      ASSERT_EQ(CountryOf(v4, ips[i]), want_v4[i]) << ips[i];
    }
  }
}

// Nested networks of every size around and inside /16 and /24 blocks: each answer from one
// long-lived Enricher (its country cache per data record warm), in any order, equals the answer of
// a fresh one, and the merged table's (Lookup).
TEST(EnrichMmdb, NestedNetworksWarmColdAndMerged) {
  const std::string db = Fixture("country-nested.mmdb");
  std::vector<std::string> ips;
  for (int i = 0; i < 256; ++i) ips.push_back(fmt::format("10.2.4.{}", i));   // /25, /32, rest
  for (int i = 0; i < 256; i += 5) ips.push_back(fmt::format("10.2.3.{}", i)); // a whole /24
  for (int i = 0; i < 256; i += 3) ips.push_back(fmt::format("10.2.{}.9", i));  // around it
  for (int i = 0; i < 40; ++i) ips.push_back(fmt::format("10.3.{}.1", i));      // a /20 edge
  for (int i = 120; i < 136; ++i) ips.push_back(fmt::format("10.4.{}.200", i)); // a /17 edge
  for (int i = 0; i < 256; i += 17) ips.push_back(fmt::format("10.{}.0.1", i)); // /8, /16
  for (int i = 0; i < 12; ++i) ips.push_back(fmt::format("172.16.{}.77", i));  // /12, /24, /23
  for (int i = 0; i < 8; ++i) ips.push_back(fmt::format("172.{}.1.1", 14 + i));
  for (const char* ip : {"11.0.0.1", "11.0.255.255", "11.1.0.0", "12.0.0.1", "0.0.0.0",
                         "255.255.255.255", "2001:db8::1", "2001:db9::1"})
    ips.push_back(ip);
  std::vector<std::string> cold;
  for (const std::string& ip : ips) {
    Enricher fresh = MustCountry(db);
    cold.push_back(CountryOf(fresh, ip.c_str()));
  }
  // Spot checks against the spec (tests/data/ipdb/country-nested.mmdb.tsv).
  auto cold_of = [&](const std::string& ip) {
    return cold[static_cast<size_t>(std::find(ips.begin(), ips.end(), ip) - ips.begin())];
  };
  EXPECT_EQ(cold_of("10.2.4.7"), "PT");
  EXPECT_EQ(cold_of("10.2.4.8"), "DE");
  EXPECT_EQ(cold_of("10.2.4.128"), "ES");
  EXPECT_EQ(cold_of("10.2.3.0"), "IT");
  EXPECT_EQ(cold_of("10.3.15.1"), "NL");
  EXPECT_EQ(cold_of("10.3.16.1"), "DE");
  EXPECT_EQ(cold_of("10.4.127.200"), "BE");
  EXPECT_EQ(cold_of("10.4.128.200"), "DE");
  EXPECT_EQ(cold_of("172.16.5.77"), "CH");
  EXPECT_EQ(cold_of("172.16.7.77"), "LU");
  EXPECT_EQ(cold_of("172.16.8.77"), "AT");
  EXPECT_EQ(cold_of("11.0.0.1"), "-");  // a record without a code
  EXPECT_EQ(cold_of("12.0.0.1"), "-");  // no network
  std::mt19937 rng(11);
  std::vector<size_t> order(ips.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < 6; ++round) {
    Enricher warm = MustCountry(db);  // each round fills its caches in another order
    std::shuffle(order.begin(), order.end(), rng);
    for (int pass = 0; pass < 2; ++pass)
      for (size_t i : order) {
        ASSERT_EQ(CountryOf(warm, ips[i].c_str()), cold[i]) << ips[i];
        const IpInfo info = warm.Lookup(Ip(ips[i].c_str()));
        ASSERT_EQ(info.has_country ? std::string(info.country) : "-", cold[i]) << ips[i];
      }
  }
}

TEST(EnrichMmdb, Ipv4OnlyDatabase) {
  Enricher e = MustCountry(Fixture("country-v4.mmdb"));
  EXPECT_EQ(CountryOf(e, "8.8.8.8"), "US");
  EXPECT_EQ(CountryOf(e, "1.1.1.1"), "AU");
  EXPECT_EQ(CountryOf(e, "1.1.2.1"), "-");
  EXPECT_EQ(CountryOf(e, "2001:4860:4860::8888"), "-");  // IPv6 in an IPv4 database
  EXPECT_NE(e.Describe().find("IPv4, 32-bit"), std::string::npos) << e.Describe();
}

TEST(EnrichMmdb, OrganisationOutlivesLookupAndMove) {
  Enricher e = MustAsn(Fixture("asn.mmdb"));
  ASSERT_TRUE(e.AddAsnSource(Fixture("asn.csv")).ok());
  std::string_view mmdb_org = e.Asn(Ip("1.1.1.1"))->org;
  std::string_view nested_org = e.Asn(Ip("10.1.2.3"))->org;  // from the mmdb (first source)
  std::string_view csv_only = e.Asn(Ip("20.0.0.1"))->org;
  for (int i = 0; i < 1000; ++i)
    (void)e.Asn(IpAddr::FromV4(static_cast<uint32_t>(i) * 2654435761u));
  Enricher moved = std::move(e);
  for (int i = 0; i < 1000; ++i) (void)moved.Asn(IpAddr::FromV4(static_cast<uint32_t>(i) * 40503u));
  EXPECT_EQ(mmdb_org, "Cloudflare, Inc.");
  EXPECT_EQ(nested_org, "Narrow Net");
  EXPECT_EQ(csv_only, "Partial A");
}

TEST(EnrichMmdb, CorruptDatabaseIsAnError) {
  TempDir d;
  std::string bytes = ReadFile(Fixture("asn.mmdb"));
  // Keep the marker and metadata but claim far more nodes than the file holds.
  std::string bad = std::string(64, '\x01') + bytes.substr(bytes.rfind("\xAB\xCD\xEFMaxMind.com"));
  const std::string p = d.Write("bad.mmdb", bad);
  Status st = LoadAsn(p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p + ": cannot open MaxMind DB:"), std::string::npos) << st.message();
}

// ---- Sources, errors, concurrency ------------------------------------------------------------

TEST(Enrich, SourcesInOrderFirstMatchWins) {
  TempDir d;
  const std::string csv =
      d.Write("extra.csv", "9.9.9.0,9.9.9.255,19281,Quad9\n1.1.1.0,1.1.1.255,1,One\n");
  Enricher a;
  ASSERT_TRUE(a.AddAsnSource(Fixture("asn.mmdb")).ok());
  ASSERT_TRUE(a.AddAsnSource(csv).ok());
  EXPECT_EQ(AsnOf(a, "1.1.1.1"), 13335);
  EXPECT_EQ(AsnOf(a, "9.9.9.9"), 19281);  // the mmdb record has no ASN: the next source answers
  Enricher b;
  ASSERT_TRUE(b.AddAsnSource(csv).ok());
  ASSERT_TRUE(b.AddAsnSource(Fixture("asn.mmdb")).ok());
  EXPECT_EQ(AsnOf(b, "1.1.1.1"), 1);
  EXPECT_EQ(AsnOf(b, "8.8.8.8"), 15169);
  const std::string desc = b.Describe();
  EXPECT_EQ(std::count(desc.begin(), desc.end(), '\n'), 3) << desc;  // two sources, the merged table
  EXPECT_LT(desc.find("range CSV"), desc.find("MaxMind DB")) << desc;
  EXPECT_NE(desc.find("IPv4 answers of all sources merged: "), std::string::npos) << desc;
}

// Lookup's merged IPv4 table against the sources themselves (Asn, Country): every network edge
// of the fixtures (from their texts: ranges, prefixes, MaxMind DB specs) and its neighbours, and
// random addresses, for several mixes and orders of sources, MaxMind DBs of both IP versions.
TEST(Enrich, LookupMatchesAsnAndCountry) {
  std::vector<uint32_t> probes = {0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  const std::regex v4(R"((\d+)\.(\d+)\.(\d+)\.(\d+)(/(\d+))?)");
  for (const char* f : {"asn.csv", "asn.mmdb.tsv", "country.csv", "country.mmdb.tsv",
                        "country-nested.mmdb.tsv", "country-v4.mmdb.tsv", "prefix.tsv"}) {
    const std::string text = ReadFile(Fixture(f));
    for (std::sregex_iterator it(text.begin(), text.end(), v4), end; it != end; ++it) {
      const std::smatch& m = *it;
      uint32_t a = 0;
      for (int i = 1; i <= 4; ++i) a = (a << 8) | static_cast<uint32_t>(std::stoul(m[i].str()) & 255);
      const int len = m[6].matched ? std::stoi(m[6].str()) : 32;
      const uint32_t host = len >= 32 ? 0 : static_cast<uint32_t>((uint64_t{1} << (32 - len)) - 1);
      for (const uint32_t edge : {a & ~host, a | host})
        for (const int64_t delta : {-1, 0, 1}) probes.push_back(static_cast<uint32_t>(edge + delta));
    }
  }
  ASSERT_GT(probes.size(), 150u);
  std::mt19937 rng(21);
  for (int i = 0; i < 20000; ++i) probes.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t a = 0x0A000000; a < 0x0A060000; a += 61) probes.push_back(a);  // 10.0/14 and on

  // Sources that disagree with the fixtures where they overlap them: the order decides.
  TempDir d;
  const std::string other_asn =
      d.Write("other-asn.csv", "1.1.1.0,1.1.1.127,7,Seven\n10.0.0.0,10.3.255.255,8,Eight\n");
  const std::string other_cc = d.Write("other-cc.csv", "8.8.0.0,8.8.255.255,NL\n10.2.0.0,10.2.255.255,SE\n");
  probes.insert(probes.end(), {0x01010180, 0x0103ffff, 0x0A040000, 0x0808ffff, 0x0A030000});
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> mixes = {
      {{"asn.mmdb", "asn.csv", "prefix.tsv", other_asn}, {"country.mmdb", "country-nested.mmdb", "country.csv", other_cc}},
      {{other_asn, "prefix.tsv", "asn.csv", "asn.mmdb"}, {other_cc, "country-v4.mmdb", "country.mmdb"}},
      {{"asn.csv"}, {}},
      {{}, {"country-nested.mmdb"}},
  };
  for (const auto& [asn, country] : mixes) {
    Enricher e;
    auto path = [](const std::string& f) { return f.find('/') == std::string::npos ? Fixture(f) : f; };
    for (const std::string& f : asn) ASSERT_TRUE(e.AddAsnSource(path(f)).ok()) << f;
    for (const std::string& f : country) ASSERT_TRUE(e.AddCountrySource(path(f)).ok()) << f;
    for (const uint32_t a : probes) {
      const IpAddr ip = IpAddr::FromV4(a);
      const IpInfo info = e.Lookup(ip);
      const auto want_asn = e.Asn(ip);
      const auto want_cc = e.Country(ip);
      ASSERT_EQ(info.has_asn, want_asn.has_value()) << ip.ToString() << " " << asn.size();
      if (want_asn) {
        ASSERT_EQ(info.asn, want_asn->asn) << ip.ToString();
      }
      ASSERT_EQ(info.has_country, want_cc.has_value()) << ip.ToString();
      if (want_cc) {
        ASSERT_EQ(info.country, *want_cc) << ip.ToString();
      }
    }
    for (const char* ip6 : {"2001:4860:4860::8888", "2001:db8::1", "2001:db8:1::1", "::1"}) {
      const IpInfo info = e.Lookup(Ip(ip6));  // not in the merged table: asks the sources
      EXPECT_EQ(info.has_asn, e.Asn(Ip(ip6)).has_value()) << ip6;
      EXPECT_EQ(info.has_country, e.Country(Ip(ip6)).has_value()) << ip6;
    }
  }
}

TEST(Enrich, NoSources) {
  Enricher e;
  EXPECT_FALSE(e.has_asn());
  EXPECT_FALSE(e.has_country());
  EXPECT_FALSE(e.Asn(Ip("8.8.8.8")));
  EXPECT_FALSE(e.Country(Ip("8.8.8.8")));
  EXPECT_EQ(e.Describe(), "");
}

TEST(Enrich, MissingFile) {
  const std::string p = Fixture("does-not-exist.csv");
  Status st = LoadAsn(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find(p + ": cannot open: No such file or directory"), std::string::npos)
      << st.message();
  Enricher e;
  EXPECT_FALSE(e.AddAsnSource(p).ok());
  EXPECT_FALSE(e.has_asn());  // a failed source is not added
}

TEST(Enrich, DirectoryIsAnError) {
  TempDir d;
  Status st = LoadCountry(d.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("is a directory"), std::string::npos) << st.message();
}

TEST(Enrich, BinaryFileThatIsNotMmdb) {
  TempDir d;
  std::string junk;
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) junk.push_back(static_cast<char>(rng() & 0xff));
  junk[10] = '\0';
  const std::string p = d.Write("random.mmdb", junk);
  Status st = LoadAsn(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find(p + ": not a MaxMind DB (no metadata marker)"), std::string::npos)
      << st.message();
}

TEST(Enrich, EmptyFileIsAnError) {
  TempDir d;
  for (const char* content : {"", "\n\n", "start,end,asn,org\n"}) {
    Status st = LoadAsn(d.Write("empty.csv", content));
    ASSERT_FALSE(st.ok()) << content;
    EXPECT_NE(st.message().find("empty.csv: no entries"), std::string::npos) << st.message();
  }
  Status st = LoadAsn(d.Write("comments.dat", "; only\n# comments\n"));
  EXPECT_FALSE(st.ok());
}

TEST(Enrich, ConcurrentLookups) {
  Enricher e;
  ASSERT_TRUE(e.AddAsnSource(Fixture("asn.csv")).ok());
  ASSERT_TRUE(e.AddAsnSource(Fixture("asn.mmdb")).ok());
  ASSERT_TRUE(e.AddCountrySource(Fixture("country.mmdb")).ok());
  ASSERT_TRUE(e.AddCountrySource(Fixture("country.csv")).ok());
  std::vector<IpAddr> addrs;
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    addrs.push_back(IpAddr::FromV4(static_cast<uint32_t>(rng() % 64) << 24 | (rng() & 0x3ffff)));
    IpAddr v6 = Ip("2001:db8::");
    v6.bytes[5] = static_cast<uint8_t>(rng() & 3);
    addrs.push_back(v6);
  }
  std::vector<std::string> want;
  for (const IpAddr& a : addrs) {
    auto h = e.Asn(a);
    auto c = e.Country(a);
    want.push_back((h ? std::to_string(h->asn) + std::string(h->org) : "-") + "/" +
                   (c ? std::string(*c) : "-"));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < addrs.size(); ++i) {
          auto h = e.Asn(addrs[i]);
          auto c = e.Country(addrs[i]);
          const std::string got = (h ? std::to_string(h->asn) + std::string(h->org) : "-") + "/" +
                                  (c ? std::string(*c) : "-");
          if (got != want[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// The flattened table against the rule applied literally, on dense random overlaps in four
// windows: IPv4, both edges of the IPv4-mapped block, and IPv6.
TEST(Enrich, RandomOverlapsMatchTheRule) {
  struct R {
    U128 start, end;
    uint32_t line;
  };
  const U128 v4base = U128{0xffff} << 32;
  const U128 windows[] = {v4base + (uint32_t{50} << 24), v4base - 2048, v4base + 0xffffffffu - 2048,
                          Ip("2001:db8::").ToU128()};
  constexpr uint32_t kWindow = 4096;
  std::mt19937_64 rng(12345);
  std::vector<R> ranges;
  std::string csv;
  uint32_t line = 0;
  for (int i = 0; i < 400; ++i) {
    const U128 w = windows[rng() % 4];
    U128 s = w + rng() % kWindow;
    const uint64_t len = (rng() % 4 == 0) ? rng() % 2000 : rng() % 64;
    U128 e = s + len;
    if (i > 0 && rng() % 10 == 0) {  // an exact duplicate of an earlier range
      const R& prev = ranges[rng() % ranges.size()];
      s = prev.start;
      e = prev.end;
    }
    ++line;
    ranges.push_back({s, e, line});
    csv += IpAddr::FromU128(s).ToString() + "," + IpAddr::FromU128(e).ToString() + "," +
           std::to_string(line) + ",o" + std::to_string(line) + "\n";
  }
  TempDir d;
  Enricher en = MustAsn(d.Write("random.csv", csv));
  int checked = 0;
  for (const U128 w : windows) {
    for (U128 x = w - 64; x < w + kWindow + 2200; ++x) {
      const R* best = nullptr;
      for (const R& r : ranges) {
        if (r.start > x || r.end < x) continue;
        if (best == nullptr || r.start > best->start ||
            (r.start == best->start &&
             (r.end < best->end || (r.end == best->end && r.line < best->line))))
          best = &r;
      }
      auto h = en.Asn(IpAddr::FromU128(x));
      const int64_t got = h ? static_cast<int64_t>(h->asn) : -1;
      const int64_t want = best ? static_cast<int64_t>(best->line) : -1;
      ASSERT_EQ(got, want) << IpAddr::FromU128(x).ToString();
      if (h) {
        ASSERT_EQ(h->org, fmt::format("o{}", h->asn));
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20000);
}

// ---- Real data (scripts/fetch-ipdata.sh), skipped when absent -----------------------------------

TEST(EnrichRealData, IpLocationDb) {
  const std::string dir = std::string(FLUXSCORE_SOURCE_DIR) + "/data/ipdb/";
  const std::string v4 = dir + "asn-ipv4.csv", v6 = dir + "asn-ipv6.csv",
                    cc = dir + "iptoasn-country.mmdb";
  if (access(v4.c_str(), R_OK) != 0 || access(v6.c_str(), R_OK) != 0 ||
      access(cc.c_str(), R_OK) != 0)
    GTEST_SKIP() << "no real data in data/ipdb/ (run scripts/fetch-ipdata.sh)";
  using Clock = std::chrono::steady_clock;
  Enricher e;
  auto t0 = Clock::now();
  ASSERT_TRUE(e.AddAsnSource(v4).ok());
  const double load_v4 = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(e.AddAsnSource(v6).ok());
  ASSERT_TRUE(e.AddCountrySource(cc).ok());
  std::cout << e.Describe() << "asn-ipv4.csv load: " << load_v4 << " s\n";

  auto google4 = e.Asn(Ip("8.8.8.8"));
  auto cf = e.Asn(Ip("1.1.1.1"));
  auto google6 = e.Asn(Ip("2001:4860:4860::8888"));
  ASSERT_TRUE(google4 && cf && google6);
  EXPECT_EQ(google4->asn, 15169u);
  EXPECT_EQ(cf->asn, 13335u);
  EXPECT_EQ(google6->asn, 15169u);
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"}) {
    auto h = e.Asn(Ip(ip));
    auto c = e.Country(Ip(ip));
    std::cout << ip << ": AS" << h->asn << " \"" << h->org << "\" country "
              << (c ? std::string(*c) : "-") << "\n";
    EXPECT_TRUE(c.has_value()) << ip;
  }

  std::vector<IpAddr> addrs;
  std::mt19937 rng(3);
  for (int i = 0; i < (1 << 16); ++i) addrs.push_back(IpAddr::FromV4(static_cast<uint32_t>(rng())));
  uint64_t found = 0;
  const int kRounds = 30;
  t0 = Clock::now();
  for (int r = 0; r < kRounds; ++r)
    for (const IpAddr& a : addrs) found += e.Asn(a).has_value();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "random IPv4 ASN lookups: " << (kRounds * addrs.size()) / secs / 1e6 << " M/s ("
            << found * 100.0 / (kRounds * addrs.size()) << "% known)\n";
}

}  // namespace
}  // namespace fluxscore::dns
